package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func TestAccFunctions_CompareAndCompatible(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		// Provider-defined functions came with Terraform 1.8.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []resource.TestStep{
			{
				Config: sim.providerConfig() + `
output "newer"  { value = provider::appliance::compare_versions("6.10", "6.9") }
output "same"   { value = provider::appliance::compare_versions("6.5", "6.5.0") }
output "sp"     { value = provider::appliance::compare_versions("6.5 SP8", "6.5.2") }
output "compat" { value = provider::appliance::compatible("6.5.2", "6.5 SP8") }
output "incompat" { value = provider::appliance::compatible("6.5", "6.6") }
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("newer", knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownOutputValue("same", knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownOutputValue("sp", knownvalue.Int64Exact(-1)),
					statecheck.ExpectKnownOutputValue("compat", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("incompat", knownvalue.Bool(false)),
				},
			},
			{
				Config:      sim.providerConfig() + `output "bad" { value = provider::appliance::compare_versions("six", "6.5") }`,
				ExpectError: regexp.MustCompile(`malformed version "six"`),
			},
		},
	})
}
