package provider

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// siteSHA256 asks the simulator's download site for a bundle's checksum,
// as an operator copies it from a vendor's download page.
func (s *testSim) siteSHA256(version string) string {
	s.t.Helper()
	resp, err := http.Get(s.server.URL() + "/site/bundles/" + version + ".tar.sha256")
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("download site: HTTP %d %s", resp.StatusCode, b)
	}
	return strings.Fields(string(b))[0]
}

func downloadConfig(sim *testSim, version, sum string) string {
	return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster    = "demo"
  source_url = "%s/site/bundles/%s.tar"
  sha256     = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
}
`, sim.server.URL(), version, sum)
}

// TestAccSoftwareImage_S1_ClusterDownloadsByURL: the cluster fetches the
// image itself; its manifest is known only after the download, so the
// rollout is computed at apply (and said so), and the cluster ends on it.
func TestAccSoftwareImage_S1_ClusterDownloadsByURL(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: downloadConfig(sim, "1.1", sim.siteSHA256("1.1")),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(activeVersionAddr, tfjsonpath.New("rollout_plan")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"), knownvalue.ListSizeExact(4)),
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				// The image, downloaded and staged earlier in the same apply,
				// left the rollout its 8 activation steps: the recorded plan
				// is what the rollout ran, not the staging it found done.
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollout_plan"), knownvalue.ListSizeExact(8)),
			},
		}},
	})
}

// TestAccSoftwareImage_S1_S6_DownloadWithWrongChecksumFails: a download
// whose bytes do not match sha256 is refused and leaves no image behind.
func TestAccSoftwareImage_S1_S6_DownloadWithWrongChecksumFails(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      downloadConfig(sim, "1.1", strings.Repeat("0", 64)),
			ExpectError: regexp.MustCompile(`(?is)sha256`),
		}},
	})
	sim.expectNoImages("demo")
}

// TestAccSoftwareImage_DriftAlternateOverwrittenOutOfBand: someone stages
// another image into n2's alternate partition by hand; the plan shows n2
// missing from staged_nodes and the apply stages the image there again.
func TestAccSoftwareImage_DriftAlternateOverwrittenOutOfBand(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}
`, sim.bundle("1.1", []string{"1.0"}))
	other := sim.bundle("1.2", []string{"1.0"})
	all := knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("n1"), knownvalue.StringExact("n2"), knownvalue.StringExact("n3"), knownvalue.StringExact("n4")})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					ctx := t.Context()
					img, err := sim.client.UploadImage(ctx, "demo", other)
					if err != nil {
						t.Fatal(err)
					}
					task, err := sim.client.Stage(ctx, "demo", "n2", img.ID, "")
					if err == nil {
						task, err = sim.client.WaitTask(ctx, task.ID)
					}
					if err != nil || task.State != "succeeded" {
						t.Fatalf("staging 1.2 on n2 by hand: %v %+v", err, task)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"), all),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"), all),
				},
				Check: func(*terraform.State) error {
					if v := sim.cluster("demo").Node("n2").Alternate.Version; v != "1.1" {
						return fmt.Errorf("n2's alternate holds %s after the apply, want 1.1", v)
					}
					return nil
				},
			},
		},
	})
}

// TestAccSoftwareImage_S1_FailedDownloadCanBeRetried: a download that failed
// once (a corrupt transfer) succeeds on the next apply; the first attempt's
// failure is not replayed.
func TestAccSoftwareImage_S1_FailedDownloadCanBeRetried(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := downloadConfig(sim, "1.1", sim.siteSHA256("1.1"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					if _, err := sim.control.InjectFault(t.Context(), api.Fault{Kind: api.FaultCorruptDownload, Cluster: "demo", Count: 1}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)corrupt`),
			},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
			},
		},
	})
}

// TestAccSoftwareImage_ImportThenConfigureIsNoReplacement: an image whose
// version is already active, imported with an import block and declared
// with its source_file, is updated in place (the source is recorded), never
// replaced nor refused as "not newer"; nothing is left to do afterwards.
func TestAccSoftwareImage_ImportThenConfigureIsNoReplacement(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	p := sim.bundle("1.1", []string{"1.0"})
	sim.upgradeByHand("demo", p)
	images, err := sim.client.ListImages(t.Context(), "demo")
	if err != nil || len(images) != 1 {
		t.Fatalf("setup: images %v, %v", images, err)
	}
	cfg := sim.providerConfig() + fmt.Sprintf(`
import {
  to = appliance_software_image.next
  id = "demo/%s"
}
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}`, images[0].ID, p)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		// Import blocks came with Terraform 1.5.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_5_0)},
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionUpdate),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("id"), knownvalue.StringExact(images[0].ID)),
			},
		}},
	})
}
