package provider

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

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
				},
				Check: func(*terraform.State) error { return sim.expectNoOutage("demo") },
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
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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
