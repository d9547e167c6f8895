package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccRolloutPlanDataSource_ShowsThePlanWithoutRunningIt: the data source
// computes the same plan the resource would, at the lower bound, and the
// cluster is untouched.
func TestAccRolloutPlanDataSource_ShowsThePlanWithoutRunningIt(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	images := uploadOnly(sim, map[string]string{"v1_1": sim.bundle("1.1", []string{"1.0"})})
	addr := "data.appliance_rollout_plan.next"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: images},
			{
				Config: images + `data "appliance_rollout_plan" "next" {
  cluster = "demo"
  version = "1.1"
}
output "steps" { value = data.appliance_rollout_plan.next.steps }`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("order"), knownvalue.StringExact("primary_first")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("waves"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("lower_bound"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("rollback"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("from_version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("steps"), knownvalue.ListSizeExact(12)),
					afterApply(func() error {
						for _, n := range sim.cluster("demo").Nodes {
							if n.Active.Version != "1.0" {
								return fmt.Errorf("a data source changed %s to %s", n.Name, n.Active.Version)
							}
						}
						return nil
					}),
				},
			},
		},
	})
}
