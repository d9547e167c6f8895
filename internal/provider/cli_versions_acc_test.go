package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Tests of what the provider does on a CLI that lacks a feature it offers.
// make test runs the acceptance tests on Terraform 1.11 and on OpenTofu
// 1.10, which has no write-only attributes.

// TestAccSoftwareImage_ProxyWOWithoutWriteOnlySupportFailsPlan: on a CLI
// without write-only attributes (Terraform before 1.11, OpenTofu 1.10),
// proxy_wo is refused when the configuration is validated, naming the
// attribute and the CLI version it needs, before anything reaches the
// cluster. (The framework refuses it: such a CLI would otherwise keep the
// value in the plan and the state.) On a CLI that has them,
// TestAccSoftwareImage_ProxyIsWriteOnlyAndNeverInState runs instead.
func TestAccSoftwareImage_ProxyWOWithoutWriteOnlySupportFailsPlan(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster          = "demo"
  source_url       = "%s/site/bundles/1.1.tar"
  sha256           = %q
  proxy_wo         = "http://ops:pr0xy-s3cret-pa55@127.0.0.1:9"
  proxy_wo_version = 1
  stage            = false
}
`, sim.server.URL(), sim.siteSHA256("1.1"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{skipWithWriteOnlyAttributes{}},
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)WriteOnly Attribute Not Allowed.*proxy_wo.*Terraform 1\.11`),
		}},
	})
	sim.expectNoImages("demo")
}

// skipWithWriteOnlyAttributes skips a test on a CLI that has write-only
// attributes: Terraform 1.11 or later. (OpenTofu 1.10 reports itself as
// 1.10; tfversion has no "skip at or above" check.)
type skipWithWriteOnlyAttributes struct{}

func (skipWithWriteOnlyAttributes) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if !req.TerraformVersion.Core().LessThan(tfversion.Version1_11_0) {
		resp.Skip = fmt.Sprintf("CLI version %s has write-only attributes: TestAccSoftwareImage_ProxyIsWriteOnlyAndNeverInState runs instead", req.TerraformVersion)
	}
}
