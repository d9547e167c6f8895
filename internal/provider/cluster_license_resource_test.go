package provider

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const licenseAddr = "appliance_cluster_license.v6_5"

func licenseConfig(sim *testSim, cluster, series string) string {
	return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_cluster_license" "v6_5" {
  cluster = %q
  series  = %q
}
`, cluster, series)
}

// expectLicenses fails unless the cluster lists exactly want, in any order.
func (s *testSim) expectLicenses(cluster string, want ...string) error {
	got := slices.Clone(s.cluster(cluster).Licenses)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("cluster %s holds licences %v, want %v", cluster, got, want)
	}
	return nil
}

// TestAccClusterLicense_InstallsImportsRefusesUnknownClusterMissingLicenceAndMalformedIDsAndIsForgottenNotUninstalled
// follows one licence on the NetWare cluster:
//   - a licence for a cluster the endpoint does not manage is refused by
//     terraform plan, naming where to find the clusters it does manage; a
//     malformed series too; neither installs anything;
//   - creating the resource installs the licence on the cluster;
//   - importing "cluster/series" reads the same state back; importing a
//     licence the cluster does not hold fails instead of inventing it, and
//     a malformed import ID names the form it takes;
//   - removed from the configuration, it is forgotten and stays installed
//     (the API cannot uninstall one).
func TestAccClusterLicense_InstallsImportsRefusesUnknownClusterMissingLicenceAndMalformedIDsAndIsForgottenNotUninstalled(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "netware")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:             licenseConfig(sim, "nope", "6.5"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ExpectError:        regexp.MustCompile(`(?s)no cluster named "nope"`),
			},
			{
				Config:             licenseConfig(sim, "ncs", "6.5.2"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ExpectError:        regexp.MustCompile(`(?s)must be a release series MAJOR\.MINOR`),
			},
			{
				PreConfig: func() {
					if err := sim.expectLicenses("ncs", "6.0"); err != nil {
						t.Fatalf("after the refused plans: %v", err)
					}
				},
				Config: licenseConfig(sim, "ncs", "6.5"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(licenseAddr, tfjsonpath.New("id"), knownvalue.StringExact("ncs/6.5")),
					afterApply(func() error { return sim.expectLicenses("ncs", "6.0", "6.5") }),
				},
			},
			{
				ResourceName:      licenseAddr,
				ImportState:       true,
				ImportStateId:     "ncs/6.5",
				ImportStateVerify: true,
			},
			{
				ResourceName:  licenseAddr,
				ImportState:   true,
				ImportStateId: "ncs/7.1",
				ExpectError:   regexp.MustCompile(`(?i)cannot import non-existent remote object`),
			},
			{
				ResourceName:  licenseAddr,
				ImportState:   true,
				ImportStateId: "ncs",
				ExpectError:   regexp.MustCompile(`expected CLUSTER/SERIES, e.g. ncs/6.5`),
			},
			{
				// Removed from the configuration: forgotten, not uninstalled.
				Config:           sim.providerConfig(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{afterApply(func() error { return sim.expectLicenses("ncs", "6.0", "6.5") })}},
			},
		},
	})
}

// TestAccClusterLicense_S10_RollingUpgradeDependsOnIt: with the licence
// declared next to the upgrade (depends_on), the NetWare cluster's rolling
// upgrade is planned in full at the first plan, not refused for want of the
// 6.5 licences, and one apply installs the licence and then rolls every
// node. Without the licence resource the same upgrade is refused.
func TestAccClusterLicense_S10_RollingUpgradeDependsOnIt(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "netware")
	bundle := sim.bundle("6.5", []string{"6.0"})
	upgrade := clusterUpgradeConfig(sim, "ncs", bundle, "  depends_on = [appliance_cluster_license.v6_5]")
	unlicensed := clusterUpgradeConfig(sim, "ncs", bundle, "")
	license := `
resource "appliance_cluster_license" "v6_5" {
  cluster = "ncs"
  series  = "6.5"
}
`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      unlicensed,
				ExpectError: regexp.MustCompile(`(?s)not licensed for 6\.5.*install the 6\.5 cluster licenses first.*appliance_cluster_license`),
			},
			{
				Config: upgrade + license,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(licenseAddr, plancheck.ResourceActionCreate),
					expectRolloutPlan(activeVersionAddr, func(lines []string) error {
						return inOrder(lines, []string{"activate nw1"}, []string{"activate nw4"}, []string{"finalize"})
					}),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("version"), knownvalue.StringExact("6.5")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), knownvalue.MapExact(map[string]knownvalue.Check{
						"nw1": knownvalue.StringExact("6.5"), "nw2": knownvalue.StringExact("6.5"),
						"nw3": knownvalue.StringExact("6.5"), "nw4": knownvalue.StringExact("6.5"),
					})),
					afterApply(func() error {
						if err := sim.expectLicenses("ncs", "6.0", "6.5"); err != nil {
							return err
						}
						return sim.expectNoOutage("ncs")
					}),
				},
			},
		},
	})
}
