package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const superAddr = "appliance_supercluster_version.sc1"

// superclusterConfig stages the bundle on every cluster of supercluster sc1
// and declares the version with the given strategy.
func superclusterConfig(sim *testSim, bundlePath, version, strategy string) string {
	strategyLine := ""
	if strategy != "" {
		strategyLine = fmt.Sprintf("  strategy = %q\n", strategy)
	}
	// One image per cluster, written out: the test harness's state shim
	// cannot index for_each instances.
	cfg := sim.providerConfig()
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		cfg += fmt.Sprintf("resource \"appliance_software_image\" %q {\n  cluster     = %q\n  source_file = %q\n}\n", c, c, bundlePath)
	}
	return cfg + fmt.Sprintf(`
resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = %q
%s  images = {
    dma1 = appliance_software_image.dma1.id
    dma2 = appliance_software_image.dma2.id
    dma3 = appliance_software_image.dma3.id
  }
}
`, version, strategyLine)
}

func allClusters(version string) knownvalue.Check {
	return knownvalue.MapExact(map[string]knownvalue.Check{
		"dma1": knownvalue.StringExact(version), "dma2": knownvalue.StringExact(version), "dma3": knownvalue.StringExact(version),
	})
}

// clusterSpan returns the first and last plan line of a cluster.
func clusterSpan(lines []string, cluster string) (first, last int) {
	first, last = -1, -1
	for i, l := range lines {
		if strings.Contains(l, " "+cluster+": ") {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// expectSuperclusterHome checks every cluster runs version, is back in sc1,
// and no undeclared outage happened.
func (s *testSim) expectSuperclusterHome(version string) error {
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		snap := s.cluster(c)
		if snap.Supercluster != "sc1" {
			return fmt.Errorf("%s is in supercluster %q after the upgrade, want sc1", c, snap.Supercluster)
		}
		for _, n := range snap.Nodes {
			if n.Active.Version != version {
				return fmt.Errorf("%s/%s runs %s, want %s", c, n.Name, n.Active.Version, version)
			}
		}
		if err := s.expectNoOutage(c); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	return nil
}

// TestAccSuperclusterVersion_S23_S24_PatchRollsOneClusterAtATime: a patch
// release rolls the clusters one after another, each keeping its HA pair up;
// a minor release with the default strategy is refused at plan time and the
// message names the two strategies that work.
func TestAccSuperclusterVersion_S23_S24_PatchRollsOneClusterAtATime(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "supercluster")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      superclusterConfig(sim, sim.bundle("1.1", []string{"1.0"}), "1.1", ""),
				ExpectError: regexp.MustCompile(`(?s)1\.1 is not compatible with dma1 \(1\.0\), dma2 \(1\.0\), dma3 \(1\.0\).*maintenance_window.*service unavailable.*incremental.*reduced\s+capacity`),
			},
			{
				Config: superclusterConfig(sim, sim.bundle("1.0.1", []string{"1.0"}), "1.0.1", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectRolloutPlan(superAddr, func(lines []string) error {
							_, end1 := clusterSpan(lines, "dma1")
							start2, end2 := clusterSpan(lines, "dma2")
							start3, _ := clusterSpan(lines, "dma3")
							if end1 < 0 || start2 < 0 || start3 < 0 || !(end1 < start2 && end2 < start3) { //nolint:staticcheck // QF1001: "not a < b and c < d" reads better than its De Morgan form
								return fmt.Errorf("S24: clusters must roll one after another")
							}
							return nil
						}),
						plancheck.ExpectKnownValue(superAddr, tfjsonpath.New("expected_unavailability"), knownvalue.StringRegexp(regexp.MustCompile(`^none`))),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(superAddr, tfjsonpath.New("cluster_versions"), allClusters("1.0.1")),
					afterApply(func() error { return sim.expectSuperclusterHome("1.0.1") }),
				},
			},
			{
				ResourceName:                         superAddr,
				ImportState:                          true,
				ImportStateVerify:                    true,
				ImportStateId:                        "sc1",
				ImportStateVerifyIdentifierAttribute: "supercluster",
				ImportStateVerifyIgnore:              []string{"images", "rollout_plan", "rollout_steps", "expected_unavailability", "strategy"},
			},
		},
	})
}

// TestAccSuperclusterVersion_S25_MaintenanceWindow: every cluster goes down
// inside a declared window and is upgraded together; the ledger shows only
// declared outages.
func TestAccSuperclusterVersion_S25_MaintenanceWindow(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "supercluster")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: superclusterConfig(sim, sim.bundle("1.1", []string{"1.0"}), "1.1", "maintenance_window"),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					expectRolloutPlan(superAddr, func(lines []string) error {
						if !strings.Contains(lines[0], "open the maintenance window on dma1, dma2, dma3") ||
							!strings.Contains(lines[len(lines)-1], "close the maintenance window") {
							return fmt.Errorf("S25: the plan must open the window first and close it last")
						}
						// In the window both nodes of a pair go at once.
						w := map[string]string{}
						for _, l := range lines {
							if m := regexp.MustCompile(`(dma\d): wave (\d+): activate (\S+)`).FindStringSubmatch(l); m != nil {
								w[m[3]] = m[2]
							}
						}
						if w["s1-a"] != w["s1-b"] {
							return fmt.Errorf("in a maintenance window the pair s1-a/s1-b should reboot together: %v", w)
						}
						return nil
					}),
					plancheck.ExpectKnownValue(superAddr, tfjsonpath.New("expected_unavailability"), knownvalue.StringRegexp(regexp.MustCompile(`whole supercluster`))),
				},
				PostApplyPreRefresh: []plancheck.PlanCheck{afterApply(func() error {
					if err := sim.expectSuperclusterHome("1.1"); err != nil {
						return err
					}
					for _, c := range []string{"dma1", "dma2", "dma3"} {
						events, err := sim.client.Events(t.Context(), c, 0)
						if err != nil {
							return err
						}
						var window []string
						for _, e := range events {
							if strings.Contains(e.Message, "maintenance window") {
								window = append(window, e.Message)
							}
						}
						if len(window) != 2 || !strings.Contains(window[0], "opened") || !strings.Contains(window[1], "closed") {
							return fmt.Errorf("%s: want the window opened then closed, got %q", c, window)
						}
					}
					return nil
				})},
			},
		}},
	})
}

// TestAccSuperclusterVersion_S26_IncrementalLeaveUpgradeJoin: each cluster
// leaves sc1, upgrades with its HA pair kept up, and joins the new
// supercluster; at the end all are back in sc1 on the new version, with no
// outage at any time.
func TestAccSuperclusterVersion_S26_IncrementalLeaveUpgradeJoin(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "supercluster")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: superclusterConfig(sim, sim.bundle("1.1", []string{"1.0"}), "1.1", "incremental"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				expectRolloutPlan(superAddr, func(lines []string) error {
					return inOrder(lines,
						[]string{"dma1: leave supercluster sc1"}, []string{"dma1: wave 1: activate"},
						[]string{"dma1: join supercluster sc1@1.1"}, []string{"dma2: leave supercluster sc1"},
						[]string{"dma3: join supercluster sc1@1.1"}, []string{"rejoin supercluster sc1 on 1.1"})
				}),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(superAddr, tfjsonpath.New("cluster_versions"), allClusters("1.1")),
				afterApply(func() error { return sim.expectSuperclusterHome("1.1") }),
			},
		}},
	})
}

// TestAccSuperclusterVersion_S25_ClosesAWindowLeftOpen: the clusters were
// upgraded inside a maintenance window that an interrupted apply left open:
// the plan closes it, and nothing else.
func TestAccSuperclusterVersion_S25_ClosesAWindowLeftOpen(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "supercluster")
	b := sim.bundle("1.1", []string{"1.0"})
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		if _, err := sim.client.SetMaintenance(t.Context(), c, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		sim.upgradeByHand(c, b)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: sim.providerConfig() + `
resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = "1.1"
  strategy     = "maintenance_window"
}`,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					expectOnlyStep(superAddr, "close the maintenance window on dma1, dma2, dma3"),
				},
				PostApplyPreRefresh: []plancheck.PlanCheck{afterApply(func() error {
					for _, c := range []string{"dma1", "dma2", "dma3"} {
						if sim.cluster(c).MaintenanceWindow {
							return fmt.Errorf("%s: the maintenance window is still open", c)
						}
					}
					return nil
				})},
			},
		}},
	})
}
