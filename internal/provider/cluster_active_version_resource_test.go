package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

const activeVersionAddr = "appliance_cluster_active_version.demo"

// upgradeConfig stages the bundle and activates its version on cluster demo.
func upgradeConfig(sim *testSim, bundlePath, extra string) string {
	return sim.providerConfig() + upgradeResources(bundlePath, extra)
}

// upgradeResources are upgradeConfig's resources, for any provider block.
func upgradeResources(bundlePath, extra string) string {
	return fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
%s
}
`, bundlePath, extra)
}

// declaredAt rewrites an upgradeConfig to declare the cluster at version, as
// an operator's configuration stands before the upgrade is written.
func declaredAt(cfg, version string) string {
	return strings.Replace(cfg, "version  = appliance_software_image.next.version", fmt.Sprintf("version  = %q", version), 1)
}

func allNodes(version string) knownvalue.Check {
	return knownvalue.MapExact(map[string]knownvalue.Check{
		"n1": knownvalue.StringExact(version), "n2": knownvalue.StringExact(version),
		"n3": knownvalue.StringExact(version), "n4": knownvalue.StringExact(version),
	})
}

// TestAccClusterActiveVersion_S11_S12_PrimaryFirstWithHA is the walking
// skeleton end to end: stage and activate 1.0 -> 1.1 on the primary-ha
// cluster, with the rollout shown at plan time, primary first, HA partners
// never together, no outage in the simulator's ledger, an empty plan after
// apply, and import of both resources.
func TestAccClusterActiveVersion_S11_S12_PrimaryFirstWithHA(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionCreate),
						expectRolloutPlan(activeVersionAddr, checkPrimaryFirstHA),
						plancheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
						plancheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("version"), knownvalue.StringExact("1.1")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollback_available"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("staged_nodes"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("n1"), knownvalue.StringExact("n2"), knownvalue.StringExact("n3"), knownvalue.StringExact("n4")})),
					statecheck.ExpectKnownValue("appliance_software_image.next", tfjsonpath.New("components"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("os")})),
				},
				Check: func(*terraform.State) error {
					if err := sim.expectNoOutage("demo"); err != nil {
						return err
					}
					return sim.expectActivationOrder("demo", [][]string{{"n1"}, {"n2", "n3"}, {"n4"}})
				},
			},
			{
				// A second plan with the same configuration changes nothing.
				Config:   cfg,
				PlanOnly: true,
			},
			{
				ResourceName:      "appliance_software_image.next",
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return "demo/" + s.RootModule().Resources["appliance_software_image.next"].Primary.ID, nil
				},
				// source_file is where the bundle came from: the cluster cannot know it.
				ImportStateVerifyIgnore: []string{"source_file"},
			},
			{
				ResourceName:                         activeVersionAddr,
				ImportState:                          true,
				ImportStateVerify:                    true,
				ImportStateId:                        "demo",
				ImportStateVerifyIdentifierAttribute: "cluster",
				// image_id and rollout_plan describe how the version was reached, not what runs.
				ImportStateVerifyIgnore: []string{"image_id", "rollout_plan", "rollout_steps"},
			},
		},
	})
}

// TestAccClusterActiveVersion_DriftOutOfBandActivation: a node rolled back
// by hand through the appliance's API shows in the next plan, as a rollout
// of that node alone, and the apply repairs it.
func TestAccClusterActiveVersion_DriftOutOfBandActivation(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					// An operator boots n2's alternate partition (1.0) by hand.
					sim.activateOutOfBand("demo", "n2")
					if v := sim.cluster("demo").Node("n2").Active.Version; v != "1.0" {
						t.Fatalf("out-of-band activation left n2 on %s, want 1.0", v)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							w := activationWaves(lines)
							if len(w) != 1 || w["n2"] == 0 {
								return fmt.Errorf("want n2 alone activated, got %v", w)
							}
							return nil
						}),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
			},
		},
	})
}

// TestAccSoftwareImage_S6_CorruptBundleFailsPlan: a damaged bundle is
// refused at plan time with a message naming the damage, and nothing
// reaches the cluster.
func TestAccSoftwareImage_S6_CorruptBundleFailsPlan(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	p := sim.bundle("1.1", []string{"1.0"})
	corruptFile(t, p)

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      upgradeConfig(sim, p, ""),
			ExpectError: regexp.MustCompile(`(?s)corrupt image bundle.*sha256.*S6`),
		}},
	})
	sim.expectNoImages("demo")
}

// TestAccSoftwareImage_S7_SameVersionFailsPlan: an image of the version the
// cluster already runs is refused at plan time, naming both versions.
func TestAccSoftwareImage_S7_SameVersionFailsPlan(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      upgradeConfig(sim, sim.bundle("1.0", []string{"0.9"}), ""),
			ExpectError: regexp.MustCompile(`(?s)image 1.0 is not newer than what cluster demo runs \(1.0 on every node\)`),
		}},
	})
	sim.expectNoImages("demo")
}

// TestAccSoftwareImage_S8_UnsupportedPathFailsPlan: an image that does not
// update from the running version is refused at plan time.
func TestAccSoftwareImage_S8_UnsupportedPathFailsPlan(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      upgradeConfig(sim, sim.bundle("1.2", []string{"1.1"}), ""),
			ExpectError: regexp.MustCompile(`(?s)image 1.2 does not support updating from.*n1 \(1.0\).*updates from 1.1 only`),
		}},
	})
	sim.expectNoImages("demo")
}

func (s *testSim) expectNoImages(cluster string) {
	s.t.Helper()
	imgs, err := s.client.ListImages(context.Background(), cluster)
	if err != nil {
		s.t.Fatalf("listing images: %v", err)
	}
	if len(imgs) != 0 {
		s.t.Fatalf("a refused image reached the cluster: %+v", imgs)
	}
}

// activateOutOfBand boots a node's alternate partition through the API, as
// an operator acting by hand would.
func (s *testSim) activateOutOfBand(cluster, node string) {
	s.t.Helper()
	ctx := context.Background()
	task, err := s.client.Activate(ctx, cluster, node, api.ActivateRequest{}, "")
	if err != nil {
		s.t.Fatalf("activating %s out of band: %v", node, err)
	}
	if task, err = s.client.WaitTask(ctx, task.ID); err != nil || task.State != api.TaskSucceeded {
		s.t.Fatalf("out-of-band activation of %s: %v %+v", node, err, task)
	}
}

// expectActivationOrder reads the simulator's event log and checks that the
// nodes rebooted in the given waves: every node of a wave after every node
// of the wave before.
func (s *testSim) expectActivationOrder(cluster string, waves [][]string) error {
	events, err := s.client.Events(context.Background(), cluster, 0)
	if err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	started := map[string]int{} // node -> index of its first reboot event
	back := map[string]int{}    // node -> index of its return
	for i, e := range events {
		if e.Node == "" {
			continue
		}
		msg := strings.ToLower(e.Kind + " " + e.Message)
		if _, ok := started[e.Node]; !ok && strings.Contains(msg, "reboot") {
			started[e.Node] = i
		}
		if strings.Contains(msg, "swap") || strings.Contains(msg, "came back") || strings.Contains(msg, "running") {
			back[e.Node] = i
		}
	}
	for wi := 1; wi < len(waves); wi++ {
		for _, prev := range waves[wi-1] {
			for _, n := range waves[wi] {
				sb, ok1 := back[prev]
				sn, ok2 := started[n]
				if !ok1 || !ok2 {
					return fmt.Errorf("event log lacks the reboot of %s or the return of %s: %+v", n, prev, events)
				}
				if sn < sb {
					return fmt.Errorf("%s started rebooting (event %d) before %s was back (event %d)", n, sn, prev, sb)
				}
			}
		}
	}
	return nil
}

// TestAccClusterActiveVersion_S18_S20_FailedActivationRevertsAndResumes: n3
// fails to boot 1.1. The apply stops with an error that names the step and
// the version of every node; n3 is back on 1.0 (auto-revert) and n4 was
// never touched; the state records the mixed cluster. Once the fault is
// gone, the next plan holds only what is left, and the apply finishes it.
func TestAccClusterActiveVersion_S18_S20_FailedActivationRevertsAndResumes(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	cfg := upgradeConfig(sim, img, "")
	atOneZero := declaredAt(cfg, "1.0")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: atOneZero},
			{
				PreConfig: func() {
					if _, err := sim.control.InjectFault(context.Background(), api.Fault{Kind: api.FaultBootFailure, Cluster: "demo", Node: "n3", Count: 1}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)rollout stopped at step \d+ \(wave 2: activate n3.*boot_failed.*1\.0 on n3, n4.*1\.1 on n1, n2`),
			},
			{
				// The refreshed state shows the mixed cluster: the plan is an
				// update that touches n3 and n4 only.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionUpdate),
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							w := activationWaves(lines)
							if _, ok := w["n1"]; ok || len(w) != 2 {
								return fmt.Errorf("want only n3 and n4 activated, got %v", w)
							}
							if w["n3"] == w["n4"] {
								return fmt.Errorf("S12: partners n3 and n4 share wave %d", w["n3"])
							}
							return nil
						}),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
				Check: func(*terraform.State) error { return sim.expectNoOutage("demo") },
			},
		},
	})
}

// TestAccClusterActiveVersion_LeaseHeldByAnotherRollout: while another
// rollout holds the cluster's lease, apply touches no node and says who
// holds it; once the lease is released the same configuration applies.
func TestAccClusterActiveVersion_LeaseHeldByAnotherRollout(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	var leaseID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					l, err := sim.client.AcquireLease(context.Background(), "demo", api.LeaseRequest{Owner: "change-window-bot", OperationKey: "other", TTLSeconds: 600})
					if err != nil {
						t.Fatal(err)
					}
					leaseID = l.ID
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)taking the rollout lease on cluster demo.*leased by\s+change-window-bot`),
			},
			{
				PreConfig: func() {
					for _, n := range sim.cluster("demo").Nodes {
						if n.Active.Version != "1.0" {
							t.Fatalf("%s was activated while another rollout held the lease", n.Name)
						}
					}
					if err := sim.client.ReleaseLease(context.Background(), "demo", leaseID); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
			},
		},
	})
}

// TestAccClusterActiveVersion_InterruptedApplyResumes: the apply is cut off
// by its timeout while n3 reboots slowly. The lease is given back at once,
// and once n3 is back the next apply finishes the rollout without touching
// a node twice.
func TestAccClusterActiveVersion_InterruptedApplyResumes(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	cfg := upgradeConfig(sim, img, "")
	atOneZero := declaredAt(cfg, "1.0")
	hurried := upgradeConfig(sim, img, "  timeouts {\n    update = \"1s\"\n  }")
	ctx := context.Background()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: atOneZero},
			{
				PreConfig: func() {
					// n3 takes 200 times longer to reboot: 3 s of wall time.
					if _, err := sim.control.InjectFault(ctx, api.Fault{Kind: api.FaultSlow, Cluster: "demo", Node: "n3", Factor: 200}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      hurried,
				ExpectError: regexp.MustCompile(`(?s)rollout stopped at step \d+ \(wave 2: (activate|await_healthy) n[23].*context deadline exceeded.*timeout \(1s\) ran out.*apply again`),
			},
			{
				PreConfig: func() {
					// The interrupted apply gave the lease back: another holder gets it.
					l, err := sim.client.AcquireLease(ctx, "demo", api.LeaseRequest{Owner: "probe", OperationKey: "probe", TTLSeconds: 60})
					if err != nil {
						t.Fatalf("the interrupted apply kept the lease: %v", err)
					}
					if err := sim.client.ReleaseLease(ctx, "demo", l.ID); err != nil {
						t.Fatal(err)
					}
					if err := sim.control.ClearFaults(ctx); err != nil {
						t.Fatal(err)
					}
					sim.waitRunning("demo", "n3", 20*time.Second)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							w := activationWaves(lines)
							for _, done := range []string{"n1", "n2", "n3"} {
								if _, ok := w[done]; ok {
									return fmt.Errorf("%s is already on 1.1 but the plan activates it again: %v", done, w)
								}
							}
							if _, ok := w["n4"]; !ok {
								return fmt.Errorf("n4 is left to do but not in the plan: %v", w)
							}
							return nil
						}),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error { return sim.expectNoOutage("demo") },
					// The recorded plan is what this apply ran: n4 alone, no
					// staging (every node already held 1.1), nothing done earlier.
					resource.TestCheckResourceAttr(activeVersionAddr, "rollout_plan.#", "2"),
					resource.TestMatchResourceAttr(activeVersionAddr, "rollout_plan.0", regexp.MustCompile(`^1\. wave 1: activate n4 -> 1\.1`)),
					resource.TestMatchResourceAttr(activeVersionAddr, "rollout_plan.1", regexp.MustCompile(`^2\. wave 1: await_healthy n4`)),
					resource.TestCheckResourceAttr(activeVersionAddr, "rollout_steps.#", "2"),
					resource.TestCheckResourceAttr(activeVersionAddr, "rollout_steps.0.kind", "activate"),
					resource.TestCheckResourceAttr(activeVersionAddr, "rollout_steps.0.node", "n4"),
				),
			},
		},
	})
}

// waitRunning polls until node is back, running and healthy.
func (s *testSim) waitRunning(cluster, node string, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		n := s.cluster(cluster).Node(node)
		if n.State == "running" && n.Healthy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s did not come back within %s", node, limit)
}

// TestAccClusterActiveVersion_VersionSpellingsAreOneRelease: "1.1.0" in the
// configuration and "1.1" in the image's manifest are the same release: the
// plan and the state agree, and nothing is left to do afterwards.
func TestAccClusterActiveVersion_VersionSpellingsAreOneRelease(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := declaredAt(upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), ""), "1.1.0")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("version"), knownvalue.StringExact("1.1.0")),
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
			},
		}},
	})
}

// TestAccClusterActiveVersion_SecondUpgradeKeepsEarlierImageQuiet: after
// 1.0 -> 1.1, the operator adds a 1.2 image and moves the version on. The
// 1.1 image, still declared, is not staged again (no node needs it), 1.1
// becomes the rollback target, and a final plan is empty.
func TestAccClusterActiveVersion_SecondUpgradeKeepsEarlierImageQuiet(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	first := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	second := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_software_image" "after" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.after.version
  image_id = appliance_software_image.after.id
}
`, sim.bundle("1.1", []string{"1.0"}), sim.bundle("1.2", []string{"1.1"}))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: first},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("appliance_software_image.next", plancheck.ResourceActionNoop),
						plancheck.ExpectResourceAction("appliance_software_image.after", plancheck.ResourceActionCreate),
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionUpdate),
						expectRolloutPlan(activeVersionAddr, checkPrimaryFirstHA),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.2")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.1")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollback_available"), knownvalue.Bool(true)),
				},
				Check: func(*terraform.State) error { return sim.expectNoOutage("demo") },
			},
		},
	})
}

// TestAccClusterActiveVersion_StrategyChangeWhileImageStages: an update
// that changes only the strategy, applied together with an image that is
// staged first, must not promise previous_version values the staging then
// changes ("inconsistent result").
func TestAccClusterActiveVersion_StrategyChangeWhileImageStages(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	declared := sim.providerConfig() + `
resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.0"
}`
	withImage := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}
resource "appliance_cluster_active_version" "demo" {
  cluster    = "demo"
  version    = "1.0"
  strategy   = { min_healthy_time = "1s" }
  depends_on = [appliance_software_image.next]
}`, sim.bundle("1.1", []string{"1.0"}))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: declared},
			{
				Config: withImage,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.1")),
					// As documented: what the alternate partitions hold and can boot.
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollback_available"), knownvalue.Bool(true)),
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}
