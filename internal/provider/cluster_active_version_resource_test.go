package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// declaredAt rewrites an upgradeConfig to declare the cluster at version, as
// an operator's configuration stands before the upgrade is written.
func declaredAt(cfg, version string) string {
	return strings.Replace(cfg, "version  = appliance_software_image.next.version", fmt.Sprintf("version  = %q", version), 1)
}

// TestAccClusterActiveVersion_S11_S12_S21_PrimaryFirstWithHAThenImportDriftRepairAndRollback
// is the walking skeleton end to end: stage and activate 1.0 -> 1.1 on the
// primary-ha cluster, with the rollout shown at plan time, primary first,
// HA partners never together, no outage in the simulator's ledger, an
// empty plan after apply, and import of both resources. Then drift: a node
// rolled back by hand through the appliance's API shows in the next plan,
// as a rollout of that node alone, and the apply repairs it. Last, S21:
// version set back to 1.0 is a rollback to the alternate partitions,
// activating every node without staging, primary first.
func TestAccClusterActiveVersion_S11_S12_S21_PrimaryFirstWithHAThenImportDriftRepairAndRollback(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	cfg := upgradeConfig(sim, img, "")
	rollback := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.0"
}
`, img)

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
					afterApply(func() error {
						if err := sim.expectNoOutage("demo"); err != nil {
							return err
						}
						return sim.expectActivationOrder("demo", [][]string{{"n1"}, {"n2", "n3"}, {"n4"}})
					}),
				},
				// The next plans with the same configuration (terraform-plugin-
				// testing runs two after every apply) change nothing.
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
			{
				// Drift: a node rolled back by hand through the appliance's API
				// shows in the next plan, as a rollout of that node alone, and
				// the apply repairs it.
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
			{
				// S21: setting version back to 1.0 is a rollback to the
				// alternate partition: the plan activates every node without
				// staging, and the nodes run 1.0 again.
				Config: rollback,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionUpdate),
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							for _, l := range lines {
								if regexp.MustCompile(`: stage `).MatchString(l) {
									return fmt.Errorf("a rollback stages nothing, got %q", l)
								}
							}
							if w := activationWaves(lines); len(w) != 4 {
								return fmt.Errorf("want all 4 nodes activated, got %v", w)
							}
							for _, l := range lines {
								if strings.Contains(l, ": activate ") {
									return fmt.Errorf("a rollback's activation is not labelled as one: %q", l)
								}
							}
							return checkPrimaryFirstHA(lines)
						}),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.0")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.1")),
					afterApply(func() error { return sim.expectNoOutage("demo") }),
				},
			},
		},
	})
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
					afterApply(func() error { return sim.expectNoOutage("demo") }),
				},
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

// TestAccClusterActiveVersion_PlanLeavesTheRolloutUnknownWhileAnotherOperationHoldsTheLease:
// another state's apply is rolling the cluster to the same version (it
// staged every node and holds the lease) when this configuration is
// planned, and it activates n1 between this plan and Terraform's final
// plan at apply. The plan leaves the rollout unknown instead of showing
// steps that the final plan would contradict, so the apply is not stopped
// by "Provider produced inconsistent final plan" but refused by the lease,
// naming its holder, and touches no node.
func TestAccClusterActiveVersion_PlanLeavesTheRolloutUnknownWhileAnotherOperationHoldsTheLease(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	bundle := sim.bundle("1.1", []string{"1.0"})
	var leaseID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			PreConfig: func() {
				ctx := context.Background()
				img, err := sim.client.UploadImage(ctx, "demo", bundle)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range sim.cluster("demo").Nodes {
					task, err := sim.client.Stage(ctx, "demo", n.Name, img.ID, "")
					if err == nil {
						_, err = sim.client.WaitTask(ctx, task.ID)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				l, err := sim.client.AcquireLease(ctx, "demo", api.LeaseRequest{Owner: "team-b-apply", OperationKey: "rollout demo -> 1.1 (team b)", TTLSeconds: 600})
				if err != nil {
					t.Fatal(err)
				}
				leaseID = l.ID
			},
			Config: upgradeConfig(sim, bundle, ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(activeVersionAddr, tfjsonpath.New("rollout_plan")),
					plancheck.ExpectUnknownValue(activeVersionAddr, tfjsonpath.New("rollout_steps")),
					plancheck.ExpectUnknownValue(activeVersionAddr, tfjsonpath.New("node_versions")),
					// The other operation moves on before this apply's final plan.
					planCheckFunc(func() {
						ctx := context.Background()
						task, err := sim.client.WithLease(leaseID).Activate(ctx, "demo", "n1", api.ActivateRequest{}, "")
						if err == nil {
							_, err = sim.client.WaitTask(ctx, task.ID)
						}
						if err != nil {
							t.Fatalf("the other operation activating n1: %v", err)
						}
						sim.waitRunning("demo", "n1", 10*time.Second)
					}),
				},
			},
			ExpectError: regexp.MustCompile(`(?s)taking the rollout lease on cluster demo.*leased by\s+team-b-apply`),
		}, {
			PreConfig: func() {
				for _, n := range sim.cluster("demo").Nodes {
					if want := map[bool]string{true: "1.1", false: "1.0"}[n.Name == "n1"]; n.Active.Version != want {
						t.Errorf("%s runs %s, want %s: the refused apply touched it", n.Name, n.Active.Version, want)
					}
				}
				if err := sim.client.ReleaseLease(context.Background(), "demo", leaseID); err != nil {
					t.Fatal(err)
				}
			},
			// Once the other operation is done, the rollout shows again.
			Config: upgradeConfig(sim, bundle, ""),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					expectRolloutPlan(activeVersionAddr, func(lines []string) error {
						if stepIndex(lines, "activate n1") >= 0 || stepIndex(lines, "activate n2") < 0 {
							return fmt.Errorf("want n2..n4 activated and n1 (already on 1.1) left out:\n%s", strings.Join(lines, "\n"))
						}
						return nil
					}),
				},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
			},
		}},
	})
}

// planCheckFunc runs f as a plan check: a test's way to act between
// terraform plan and the apply of that plan.
type planCheckFunc func()

func (f planCheckFunc) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	f()
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

// TestAccClusterActiveVersion_VersionSpellingsAreOneReleaseAndASecondUpgradeKeepsTheEarlierImageQuiet:
// "1.1.0" in the configuration and "1.1" in the image's manifest are the
// same release: the plan and the state agree, and nothing is left to do
// after the upgrade 1.0 -> 1.1. Then the operator adds a 1.2 image and
// moves the version on. The 1.1 image, still declared, is not staged again
// (no node needs it), 1.1 becomes the rollback target, and a final plan is
// empty.
func TestAccClusterActiveVersion_VersionSpellingsAreOneReleaseAndASecondUpgradeKeepsTheEarlierImageQuiet(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	first := declaredAt(upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), ""), "1.1.0")
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
			{
				Config: first,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("version"), knownvalue.StringExact("1.1.0")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
				},
			},
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
					afterApply(func() error { return sim.expectNoOutage("demo") }),
				},
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

// startSimOfPresets starts one simulator holding the clusters of every
// preset named (each preset's clusters have names of their own), so that
// one configuration, and one test case, can upgrade them side by side.
func startSimOfPresets(t *testing.T, presets ...string) *testSim {
	t.Helper()
	var all engine.Topology
	for _, p := range presets {
		topo, err := engine.Preset(p)
		if err != nil {
			t.Fatal(err)
		}
		all.Clusters = append(all.Clusters, topo.Clusters...)
	}
	raw, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "topology.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return startSimWith(t, simulator.Options{TopologyFile: file})
}

// namedUpgrade stages bundlePath on cluster and activates it there, both
// resources named after the cluster: appliance_software_image.<cluster>
// and appliance_cluster_active_version.<cluster>.
func namedUpgrade(cluster, bundlePath, extra string) string {
	return fmt.Sprintf(`
resource "appliance_software_image" %[1]q {
  cluster     = %[1]q
  source_file = %[2]q
}

resource "appliance_cluster_active_version" %[1]q {
  cluster  = %[1]q
  version  = appliance_software_image.%[1]s.version
  image_id = appliance_software_image.%[1]s.id
%[3]s}
`, cluster, bundlePath, extra)
}

// TestAccClusterActiveVersion_S10_S13_S14_S15_S16_S17_S23_S24_EachClusterTypeRollsInItsOwnOrder
// upgrades four clusters of four kinds, one simulator holding them all, in
// one apply; each rollout is planned and checked on its own cluster:
//   - S23, S24: in supercluster sc1 a minor release of dma1 is refused at
//     plan time, naming the two strategies that work (S25, S26); a patch
//     release then upgrades dma1 alone, leaving dma2 untouched;
//   - S10: the NetWare cluster ncs first refuses the plan for want of 6.5
//     licenses; once they are installed, each node's resources fail over
//     before it reboots and fail back after (S15), and finalize runs once at
//     the end (S16);
//   - S13: on the Oracle VCA vca the standby management node is updated
//     first, promoted to master, and only then the old master is updated;
//     it comes back as standby;
//   - S14, S17: on the Image Streamer pair streamer the active appliance
//     updates first, the standby only once the active is healthy, and the
//     plan waits for the cluster to re-form.
//
// Every ledger shows no outage outside declared windows.
func TestAccClusterActiveVersion_S10_S13_S14_S15_S16_S17_S23_S24_EachClusterTypeRollsInItsOwnOrder(t *testing.T) {
	testAccPreCheck(t)
	sim := startSimOfPresets(t, "supercluster", "netware", "master-standby", "active-standby")
	// The streamer's image has a storage component; sim.bundle names a
	// bundle by its version, so it moves to a name of its own.
	streamerImg := filepath.Join(sim.dir, "streamer-1.1.bundle")
	if err := os.Rename(sim.bundleWith("1.1", []string{"1.0"}, "os", "storage"), streamerImg); err != nil {
		t.Fatal(err)
	}
	minor := sim.bundle("1.1", []string{"1.0"})
	ncs := namedUpgrade("ncs", sim.bundle("6.5", []string{"6.0"}), "")
	addr := func(cluster string) string { return "appliance_cluster_active_version." + cluster }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      sim.providerConfig() + namedUpgrade("dma1", minor, ""),
				ExpectError: regexp.MustCompile(`(?s)supercluster sc1 with dma2 \(1\.0\), dma3 \(1\.0\).*S23.*S25.*S26`),
			},
			{
				Config:      sim.providerConfig() + ncs,
				ExpectError: regexp.MustCompile(`(?s)licen[cs]e.*6\.5`),
			},
			{
				PreConfig: func() { sim.installLicense("ncs", "6.5") },
				Config: sim.providerConfig() + ncs + namedUpgrade("dma1", sim.bundle("1.0.1", []string{"1.0"}), "") +
					namedUpgrade("vca", minor, "") + namedUpgrade("streamer", streamerImg, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectRolloutPlan(addr("ncs"), func(lines []string) error {
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
						expectRolloutPlan(addr("vca"), func(lines []string) error {
							return inOrder(lines,
								[]string{"activate mgmt2"}, []string{"await_healthy mgmt2"},
								[]string{"promote mgmt2"}, []string{"activate mgmt1"})
						}),
						expectRolloutPlan(addr("streamer"), func(lines []string) error {
							return inOrder(lines,
								[]string{"activate is1"}, []string{"await_healthy is1"},
								[]string{"activate is2"}, []string{"settle"})
						}),
					},
					PostApplyPreRefresh: []plancheck.PlanCheck{
						afterApply(func() error {
							for _, n := range sim.cluster("dma1").Nodes {
								if n.Active.Version != "1.0.1" {
									return fmt.Errorf("%s runs %s, want the patch 1.0.1", n.Name, n.Active.Version)
								}
							}
							if v := sim.cluster("dma2").Nodes[0].Active.Version; v != "1.0" {
								return fmt.Errorf("dma2 was touched: %s", v)
							}
							return sim.expectNoOutage("dma1")
						}),
						afterApply(func() error {
							c := sim.cluster("ncs")
							for _, r := range c.Resources {
								if r.CurrentNode != r.PreferredNode || r.State != "online" {
									return fmt.Errorf("resource %s is %s on %s after the rollout, want online on %s", r.Name, r.State, r.CurrentNode, r.PreferredNode)
								}
							}
							return sim.expectNoOutage("ncs")
						}),
						afterApply(func() error {
							c := sim.cluster("vca")
							if r := c.Node("mgmt2").Role; r != "master" {
								return fmt.Errorf("mgmt2 is %s after the rollout, want master", r)
							}
							if r := c.Node("mgmt1").Role; r != "standby" {
								return fmt.Errorf("mgmt1 is %s after the rollout, want standby", r)
							}
							return sim.expectNoOutage("vca")
						}),
						afterApply(func() error {
							c := sim.cluster("streamer")
							for _, n := range c.Nodes {
								if n.Active.Components["storage"] != "1.1" {
									return fmt.Errorf("%s storage component is %q, want 1.1", n.Name, n.Active.Components["storage"])
								}
							}
							return sim.expectNoOutage("streamer")
						}),
					},
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

// TestAccClusterActiveVersion_S16_S26_AnInterruptedRolloutResumesWithFinalizeOrTheRejoinAlone:
// two rollouts stopped just before their end, on two clusters of one
// simulator, are each resumed with what is left, in one apply:
//   - S16: every node of the NetWare cluster ncs already runs 6.5 (activated
//     by hand), but the shared media were never finalized: the plan is
//     finalize alone, and the apply runs it, bringing the pools back home;
//   - S26: an incremental upgrade of supercluster sc1 stopped after every
//     cluster was upgraded and moved to the new supercluster, before they
//     rejoined sc1: the plan is the rejoin alone.
func TestAccClusterActiveVersion_S16_S26_AnInterruptedRolloutResumesWithFinalizeOrTheRejoinAlone(t *testing.T) {
	testAccPreCheck(t)
	sim := startSimOfPresets(t, "netware", "supercluster")
	sim.installLicense("ncs", "6.5")
	sim.upgradeByHand("ncs", sim.bundle("6.5", []string{"6.0"}))
	if c := sim.cluster("ncs"); c.FinalizedVersion != "6.0" {
		t.Fatalf("setup: finalized_version is %q, want 6.0", c.FinalizedVersion)
	}
	b := sim.bundle("1.1", []string{"1.0"})
	for _, c := range []string{"dma1", "dma2", "dma3"} {
		if _, err := sim.client.SetSupercluster(t.Context(), c, ""); err != nil {
			t.Fatal(err)
		}
		sim.upgradeByHand(c, b)
		if _, err := sim.client.SetSupercluster(t.Context(), c, "sc1@1.1"); err != nil {
			t.Fatal(err)
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: sim.providerConfig() + `
resource "appliance_cluster_active_version" "ncs" {
  cluster = "ncs"
  version = "6.5"
}

resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = "1.1"
  strategy     = "incremental"
}`,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					expectOnlyStep("appliance_cluster_active_version.ncs", "finalize cluster at 6.5"),
					expectOnlyStep(superAddr, "dma1, dma2, dma3: rejoin supercluster sc1 on 1.1"),
				},
				PostApplyPreRefresh: []plancheck.PlanCheck{
					afterApply(func() error {
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
					}),
					afterApply(func() error {
						for _, c := range []string{"dma1", "dma2", "dma3"} {
							if sc := sim.cluster(c).Supercluster; sc != "sc1" {
								return fmt.Errorf("%s is in %q, want sc1", c, sc)
							}
						}
						return nil
					}),
				},
			},
		}},
	})
}

// TestAccClusterActiveVersion_RewordedReasonsAndRenumberedWavesStillApply:
// the plan recomputed at apply is compared with the plan shown as data
// (kind, node, version, resource), so a reason worded differently and waves
// numbered differently are not a change of plan; a step the plan did not
// show is, and nothing is touched.
func TestAccClusterActiveVersion_RewordedReasonsAndRenumberedWavesStillApply(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	cfg := upgradeConfig(sim, img, "")
	t.Cleanup(func() { recomputedPlanHook = nil })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: declaredAt(cfg, "1.0")},
			{
				PreConfig: func() {
					recomputedPlanHook = func(p *rollout.Plan) {
						for i := range p.Steps {
							p.Steps[i].Reason = "worded otherwise at apply"
							p.Steps[i].Wave += 10
						}
						// And a step the plan did not show.
						p.Steps = append(p.Steps, rollout.Step{Wave: 99, Kind: rollout.StepActivate, Node: "n9", Version: "1.1"})
					}
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)the cluster changed since the plan was made.*activate n9.*Nothing was\s+changed`),
			},
			{
				PreConfig: func() {
					if n := sim.activations("demo"); len(n) != 0 {
						t.Fatalf("a refused apply activated %v", n)
					}
					recomputedPlanHook = func(p *rollout.Plan) {
						for i := range p.Steps {
							p.Steps[i].Reason = "worded otherwise at apply"
							p.Steps[i].Wave += 10
						}
					}
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
					afterApply(func() error { return sim.expectNoOutage("demo") }),
				},
			},
		},
	})
}

// TestAccClusterActiveVersion_PartnerDownBetweenWavesStopsBeforeItsPartnerReboots:
// n4 goes down out of band while n1, the first wave, reboots. Its partner n3
// is in the next wave: the executor proves the rest of the plan on the
// cluster as it is before that wave, stops naming n3 and the rule, and
// reboots neither n2 nor n3; the ledger shows no outage.
func TestAccClusterActiveVersion_PartnerDownBetweenWavesStopsBeforeItsPartnerReboots(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	// min_healthy_time is measured on the simulator's clock (x6000): 6h
	// simulated keep wave 2 waiting about 3.6 s of wall time after n1 is
	// back, the moment n4 goes down. The test runs alone: a loaded
	// machine must not let wave 2 start before the crash.
	cfg := upgradeConfig(sim, img, "  strategy = {\n    min_healthy_time = \"6h\"\n  }")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: declaredAt(cfg, "1.0")},
			{
				PreConfig: func() {
					// The watcher stops once it has taken n4 down or the test
					// ends; its bound only keeps it from outliving a test that
					// fails early. 60 s was too short on a machine at load 40-60,
					// where the plan and staging before n1's activation took longer.
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					go func() {
						defer cancel()
						sim.crashWhenActive(ctx, "demo", "n1", "1.1", "n4")
					}()
					t.Cleanup(cancel)
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)activate n3.*stopped before this step: HA group \S+ would have 0 of its 2\s+members serving.*n4 is`),
			},
		},
	})
	got := sim.activations("demo")
	if strings.Join(got, ",") != "n1,n4" {
		t.Fatalf("activations %v: want n1 (the first wave) and n4 (out of band) only", got)
	}
	if err := sim.expectNoOutage("demo"); err != nil {
		t.Fatal(err)
	}
}

// crashWhenActive waits until node runs version, then takes partner down out
// of band: it reboots it under the rollout's own lease (an operator's
// console would not ask) with a fault that keeps it from coming back.
func (s *testSim) crashWhenActive(ctx context.Context, cluster, node, version, partner string) {
	for ctx.Err() == nil {
		if n := s.cluster(cluster).Node(node); n != nil && n.Active.Version == version {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return
	}
	if _, err := s.control.InjectFault(ctx, api.Fault{Kind: api.FaultNeverReturns, Cluster: cluster, Node: partner, Count: 1}); err != nil {
		s.t.Errorf("fault: %v", err)
		return
	}
	lease := s.leaseID(cluster)
	if _, err := s.client.WithLease(lease).Activate(ctx, cluster, partner, api.ActivateRequest{}, ""); err != nil {
		s.t.Errorf("taking %s down: %v", partner, err)
	}
}

// leaseID reads the current lease of a cluster from the simulator's state
// file: only a test may look there.
func (s *testSim) leaseID(cluster string) string {
	raw, err := os.ReadFile(filepath.Join(s.dir, "sim.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	re := regexp.MustCompile(`"id":\s*"(lease-[^"]+)"`)
	if m := re.FindSubmatch(raw); m != nil {
		return string(m[1])
	}
	s.t.Fatalf("no lease of %s in the simulator's state", cluster)
	return ""
}

// activations lists, in order, the nodes the simulator rebooted.
func (s *testSim) activations(cluster string) []string {
	events, err := s.client.Events(context.Background(), cluster, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range events {
		if e.Kind == "node_state" && e.Node != "" && !seen[e.Node] && strings.Contains(strings.ToLower(e.Message), "reboot") {
			seen[e.Node] = true
			out = append(out, e.Node)
		}
	}
	return out
}

// TestAccClusterActiveVersion_S9_IrreversibleFeatureBlocksRollback: once an
// image with an irreversible feature is active, asking for the previous
// version fails at plan time and says why.
func TestAccClusterActiveVersion_S9_IrreversibleFeatureBlocksRollback(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"}, "dedup-v2-on-disk-format")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: upgradeConfig(sim, img, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollback_available"), knownvalue.Bool(false)),
				},
			},
			{
				Config: sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}
resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.0"
}
`, img),
				ExpectError: regexp.MustCompile(`(?s)dedup-v2-on-disk-format`),
			},
		},
	})
}

// TestAccClusterActiveVersion_BadStrategyFailsValidation: every malformed
// strategy value is refused before anything is read or changed, naming the
// attribute and the accepted form.
func TestAccClusterActiveVersion_BadStrategyFailsValidation(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	withStrategy := func(s string) string {
		return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = "1.0"
  strategy = { %s }
}`, s)
	}
	cases := []struct{ strategy, want string }{
		{`order = "sideways"`, `(?s)strategy.order.*value must be one of`},
		{`max_unavailable = "150%"`, `(?s)strategy.max_unavailable.*percentage such as 25%`},
		{`max_unavailable = "0"`, `(?s)strategy.max_unavailable.*whole number such as 2`},
		{`min_healthy_time = "soon"`, `(?s)Invalid Time Duration String Value.*"2h45m".*Given Value: soon`},
		{`min_healthy_time = "-5s"`, `(?s)Invalid duration.*"-5s" must not be negative`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: withStrategy(c.strategy), PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	steps = append(steps, resource.TestStep{
		Config: sim.providerConfig() + `
resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "one.two"
}`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Invalid version.*malformed version "one.two".*6\.5\s+SP8`),
	})
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}

func bundleSpec(version string, supportedFrom, components []string) bundle.Spec {
	spec := bundle.Spec{Version: version, SupportedFrom: supportedFrom, Description: "test image " + version}
	for _, c := range components {
		spec.Components = append(spec.Components, bundle.ComponentSpec{Name: c, Size: 16 << 10})
	}
	return spec
}

func buildBundle(path string, spec bundle.Spec) (*appliance.Manifest, error) {
	return bundle.BuildFile(path, spec)
}

// TestAccClusterActiveVersion_PlanMadeWhileANodeRebootsStillAppliesOnceItIsBack:
// a crashed apply left the primary n1 rebooting into 1.1. The plan is made
// while it reboots (the simulator's clock stands still until the plan is
// made); by the time Terraform plans again at apply (with the saved plan),
// n1 is back on 1.1 and the nodes no longer run one version. Every value
// the first plan knew must be what the final plan computes (previous_version
// among them), or Terraform stops the apply with "Provider produced
// inconsistent final plan".
func TestAccClusterActiveVersion_PlanMadeWhileANodeRebootsStillAppliesOnceItIsBack(t *testing.T) {
	testAccPreCheck(t)
	clock := newPausableClock(6000)
	sim := startSimWithClock(t, "primary-ha", clock)
	img := sim.bundle("1.1", []string{"1.0"})
	cfg := upgradeConfig(sim, img, "")
	ctx := context.Background()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: declaredAt(cfg, "1.0")},
			{
				PreConfig: func() {
					// n1 is left rebooting, as by an apply killed just
					// after it asked for the activation, and stays so
					// until the plan has been made.
					clock.pause()
					if _, err := sim.client.Activate(ctx, "demo", "n1", api.ActivateRequest{}, ""); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							defer clock.resume()
							if n := sim.cluster("demo").Node("n1"); n.State != appliance.NodeRebooting {
								return fmt.Errorf("the plan was to be made while n1 reboots, but n1 is %s", n.State)
							}
							if _, again := activationWaves(lines)["n1"]; again {
								return fmt.Errorf("n1 is rebooting into 1.1 but the plan activates it again: %v", lines)
							}
							return nil
						}),
						// Between this plan and the apply, n1 comes back.
						waitRunningCheck{sim: sim, cluster: "demo", node: "n1"},
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.0")),
				},
			},
		},
	})
}

// waitRunningCheck is a plan check that waits for a node to be back: it
// plays time passing between a plan and its apply.
type waitRunningCheck struct {
	sim           *testSim
	cluster, node string
}

func (c waitRunningCheck) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	c.sim.waitRunning(c.cluster, c.node, 30*time.Second)
}

// pausableClock is the simulator's scaled wall clock with a pause: while
// paused, simulated time stands still and nothing the simulator schedules
// falls due.
type pausableClock struct {
	mu      sync.Mutex
	scale   float64
	base    time.Time // simulated time at the last resume
	resumed time.Time // wall time of the last resume
	paused  bool
}

func newPausableClock(scale float64) *pausableClock {
	now := time.Now()
	return &pausableClock{scale: scale, base: now.UTC(), resumed: now}
}

func (c *pausableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.resumed)) * c.scale))
}

func (c *pausableClock) pause() {
	now := c.Now()
	c.mu.Lock()
	c.base, c.paused = now, true
	c.mu.Unlock()
}

func (c *pausableClock) resume() {
	c.mu.Lock()
	c.resumed, c.paused = time.Now(), false
	c.mu.Unlock()
}

// TestClusterActiveVersion_CtrlCDuringARolloutIsOneClearError: Ctrl-C
// while the primary reboots ends the apply with one error that says where
// the rollout stopped and how to go on, not the "context canceled" of the
// request the cancellation cut short; the state records what the nodes run.
func TestClusterActiveVersion_CtrlCDuringARolloutIsOneClearError(t *testing.T) {
	sim := startSim(t, "primary-ha")
	ctx := context.Background()
	img, err := sim.client.UploadImage(ctx, "demo", sim.bundle("1.1", []string{"1.0"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1", "n2", "n3", "n4"} { // the primary first: the others fetch from it
		task, err := sim.client.Stage(ctx, "demo", n, img.ID, "")
		if err == nil {
			task, err = sim.client.WaitTask(ctx, task.ID)
		}
		if err != nil || task.State != api.TaskSucceeded {
			t.Fatalf("staging %s: %v %+v", n, err, task)
		}
	}
	// n1's reboot takes minutes of wall time: the Ctrl-C lands in it.
	if _, err := sim.control.InjectFault(ctx, api.Fault{Kind: api.FaultSlow, Cluster: "demo", Node: "n1", Factor: 20000}); err != nil {
		t.Fatal(err)
	}
	r := &clusterActiveVersionResource{data: newProviderData(mgmtapi.New(sim.client), "test")}
	plan := clusterActiveVersionModel{
		Cluster: types.StringValue("demo"), Version: newVersionValue("1.1"), ImageID: types.StringValue(img.ID),
		RolloutPlan: types.ListUnknown(types.StringType), RolloutSteps: types.ListUnknown(stepObjectType),
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for actx.Err() == nil {
			if c, err := sim.client.GetCluster(ctx, "demo"); err == nil && c.Node("n1").State == appliance.NodeRebooting {
				cancel() // Ctrl-C
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var st recordedState
	var diags diag.Diagnostics
	r.apply(actx, plan, time.Hour, &st, &diags)

	if diags.ErrorsCount() != 1 {
		t.Fatalf("%d errors, want one: %v", diags.ErrorsCount(), diags.Errors())
	}
	e := diags.Errors()[0]
	if e.Summary() != "Rollout interrupted on cluster demo" {
		t.Errorf("summary %q, want the rollout interrupted", e.Summary())
	}
	for _, want := range []string{"interrupted at step", "activate n1 -> 1.1", "The cluster now runs 1.0 on n1, n2, n3, n4", "Run terraform apply again"} {
		if !strings.Contains(e.Detail(), want) {
			t.Errorf("detail %q does not say %q", e.Detail(), want)
		}
	}
	if strings.Contains(e.Detail(), "context canceled") {
		t.Errorf("detail %q still carries the cancelled request", e.Detail())
	}
	if m, ok := st.val.(*clusterActiveVersionModel); !ok || m.Version.ValueString() != "1.0" {
		t.Errorf("state %+v, want the version the cluster runs (1.0)", st.val)
	}
}

// recordedState is a stateSetter that keeps what was set.
type recordedState struct{ val any }

func (s *recordedState) Set(_ context.Context, val any) diag.Diagnostics {
	s.val = val
	return nil
}
