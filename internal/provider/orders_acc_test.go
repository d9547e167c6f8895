package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// clusterUpgradeConfig stages the bundle on cluster and activates it there.
func clusterUpgradeConfig(sim *testSim, cluster, bundlePath, extra string) string {
	return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = %[1]q
  source_file = %[2]q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = %[1]q
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
%[3]s
}
`, cluster, bundlePath, extra)
}

// stepIndex returns the index of the first line that contains all of parts, or -1.
func stepIndex(lines []string, parts ...string) int {
	for i, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return i
		}
	}
	return -1
}

// inOrder fails unless each step (given as parts of its line) exists and
// comes after the one before.
func inOrder(lines []string, steps ...[]string) error {
	last := -1
	for _, parts := range steps {
		i := stepIndex(lines, parts...)
		if i < 0 {
			return fmt.Errorf("no step %q", strings.Join(parts, " "))
		}
		if i <= last {
			return fmt.Errorf("step %q (line %d) comes before the step that must precede it (line %d)", strings.Join(parts, " "), i+1, last+1)
		}
		last = i
	}
	return nil
}

// TestAccClusterActiveVersion_S13_StandbyFirstThenPromotion: on an Oracle
// VCA the standby management node is updated first, promoted to master,
// and only then the old master is updated; it comes back as standby.
func TestAccClusterActiveVersion_S13_StandbyFirstThenPromotion(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "master-standby")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: clusterUpgradeConfig(sim, "vca", sim.bundle("1.1", []string{"1.0"}), ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				expectRolloutPlan(activeVersionAddr, func(lines []string) error {
					return inOrder(lines,
						[]string{"activate mgmt2"}, []string{"await_healthy mgmt2"},
						[]string{"promote mgmt2"}, []string{"activate mgmt1"})
				}),
			}},
			Check: func(*terraform.State) error {
				c := sim.cluster("vca")
				if r := c.Node("mgmt2").Role; r != "master" {
					return fmt.Errorf("mgmt2 is %s after the rollout, want master", r)
				}
				if r := c.Node("mgmt1").Role; r != "standby" {
					return fmt.Errorf("mgmt1 is %s after the rollout, want standby", r)
				}
				return sim.expectNoOutage("vca")
			},
		}},
	})
}

// TestAccClusterActiveVersion_S14_S17_ActiveFirstThenSettle: on an Image
// Streamer pair the active appliance updates first, the standby only once
// the active is healthy, and the plan waits for the cluster to re-form.
func TestAccClusterActiveVersion_S14_S17_ActiveFirstThenSettle(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "active-standby")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: clusterUpgradeConfig(sim, "streamer", sim.bundleWith("1.1", []string{"1.0"}, "os", "storage"), ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				expectRolloutPlan(activeVersionAddr, func(lines []string) error {
					return inOrder(lines,
						[]string{"activate is1"}, []string{"await_healthy is1"},
						[]string{"activate is2"}, []string{"settle"})
				}),
			}},
			Check: func(*terraform.State) error {
				c := sim.cluster("streamer")
				for _, n := range c.Nodes {
					if n.Active.Components["storage"] != "1.1" {
						return fmt.Errorf("%s storage component is %q, want 1.1", n.Name, n.Active.Components["storage"])
					}
				}
				return sim.expectNoOutage("streamer")
			},
		}},
	})
}

// TestAccClusterActiveVersion_S10_S15_S16_RollingWithFailoverAndFinalize:
// a NetWare cluster first refuses the plan for want of 6.5 licenses (S10);
// once they are installed, each node's resources fail over before it
// reboots and fail back after (S15), and finalize runs once at the end
// (S16). The ledger shows no outage outside the declared finalize window.
func TestAccClusterActiveVersion_S10_S15_S16_RollingWithFailoverAndFinalize(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "netware")
	cfg := clusterUpgradeConfig(sim, "ncs", sim.bundle("6.5", []string{"6.0"}), "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)licen[cs]e.*6\.5`),
			},
			{
				PreConfig: func() { sim.installLicense("ncs", "6.5") },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectRolloutPlan(activeVersionAddr, func(lines []string) error {
						if err := inOrder(lines,
							[]string{"move_resource POOL1 nw1 ->"}, []string{"activate nw1"},
							[]string{"await_healthy nw1"}, []string{"fail_back POOL1", "-> nw1"}); err != nil {
							return err
						}
						if err := inOrder(lines, []string{"activate nw4"}, []string{"finalize"}); err != nil {
							return err
						}
						if i := stepIndex(lines, "finalize"); i != len(lines)-1 && stepIndex(lines[i+1:], "activate") >= 0 {
							return fmt.Errorf("finalize must come after the last activation")
						}
						return nil
					}),
				}},
				Check: func(*terraform.State) error {
					c := sim.cluster("ncs")
					for _, r := range c.Resources {
						if r.CurrentNode != r.PreferredNode || r.State != "online" {
							return fmt.Errorf("resource %s is %s on %s after the rollout, want online on %s", r.Name, r.State, r.CurrentNode, r.PreferredNode)
						}
					}
					return sim.expectNoOutage("ncs")
				},
			},
		},
	})
}

// bundleWith builds a bundle with the named components.
func (s *testSim) bundleWith(version string, supportedFrom []string, components ...string) string {
	s.t.Helper()
	p := s.bundle(version, supportedFrom)
	spec := bundleSpec(version, supportedFrom, components)
	if _, err := buildBundle(p, spec); err != nil {
		s.t.Fatalf("building bundle %s: %v", version, err)
	}
	return p
}

// installLicense installs a license for series through the simulator's API,
// as an operator would with iManager.
func (s *testSim) installLicense(cluster, series string) {
	s.t.Helper()
	if _, err := s.client.InstallLicense(context.Background(), cluster, series); err != nil {
		s.t.Fatalf("installing license: %v", err)
	}
}

// TestAccClusterActiveVersion_S23_S24_SuperclusterCompatibility: in a
// supercluster a patch release rolls one cluster at a time (S24), while a
// minor release is refused at plan time, naming the two strategies that
// work (S25, S26).
func TestAccClusterActiveVersion_S23_S24_SuperclusterCompatibility(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "supercluster")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      clusterUpgradeConfig(sim, "dma1", sim.bundle("1.1", []string{"1.0"}), ""),
				ExpectError: regexp.MustCompile(`(?s)supercluster sc1 with dma2 \(1\.0\), dma3 \(1\.0\).*S23.*S25.*S26`),
			},
			{
				Config: clusterUpgradeConfig(sim, "dma1", sim.bundle("1.0.1", []string{"1.0"}), ""),
				Check: func(*terraform.State) error {
					for _, n := range sim.cluster("dma1").Nodes {
						if n.Active.Version != "1.0.1" {
							return fmt.Errorf("%s runs %s, want the patch 1.0.1", n.Name, n.Active.Version)
						}
					}
					if v := sim.cluster("dma2").Nodes[0].Active.Version; v != "1.0" {
						return fmt.Errorf("dma2 was touched: %s", v)
					}
					return sim.expectNoOutage("dma1")
				},
			},
		},
	})
}

// TestAccClusterActiveVersion_S16_FinalizeAfterInterruptedRollout: every
// node already runs 6.5 (activated by hand, as if a rollout stopped just
// before its end), but the shared media were never finalized: the plan is
// finalize alone, and the apply runs it, bringing the pools back home.
func TestAccClusterActiveVersion_S16_FinalizeAfterInterruptedRollout(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "netware")
	sim.installLicense("ncs", "6.5")
	sim.upgradeByHand("ncs", sim.bundle("6.5", []string{"6.0"}))
	if c := sim.cluster("ncs"); c.FinalizedVersion != "6.0" {
		t.Fatalf("setup: finalized_version is %q, want 6.0", c.FinalizedVersion)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: sim.providerConfig() + `
resource "appliance_cluster_active_version" "demo" {
  cluster = "ncs"
  version = "6.5"
}`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				expectOnlyStep(activeVersionAddr, "finalize cluster at 6.5"),
			}},
			Check: func(*terraform.State) error {
				c := sim.cluster("ncs")
				if c.FinalizedVersion != "6.5" {
					return fmt.Errorf("finalized_version is %q after the apply, want 6.5", c.FinalizedVersion)
				}
				for _, r := range c.Resources {
					if r.State != "online" || r.CurrentNode != r.PreferredNode {
						return fmt.Errorf("resource %s is %s on %q, want online on %s", r.Name, r.State, r.CurrentNode, r.PreferredNode)
					}
				}
				return nil
			},
		}},
	})
}
