package rollout

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

func TestCompute_S12_HAPartnersNeverTogether(t *testing.T) {
	// Six members with no roles, pairs (a1,a2), (b1,b2) and a triple that
	// must keep one member: without a cap everything but HA allows one wave.
	c := &appliance.Cluster{Name: "ha", HAEnabled: true, Nodes: []appliance.Node{
		node("a1", appliance.RoleMember, "a", "1.0", ""), node("a2", appliance.RoleMember, "a", "1.0", ""),
		node("b1", appliance.RoleMember, "b", "1.0", ""), node("b2", appliance.RoleMember, "b", "1.0", ""),
		node("c1", appliance.RoleMember, "c", "1.0", ""), node("c2", appliance.RoleMember, "c", "1.0", ""),
		node("c3", appliance.RoleMember, "c", "1.0", ""), node("solo", appliance.RoleMember, "", "1.0", ""),
	}, HAGroups: []appliance.HAGroup{
		{Name: "a", Members: []string{"a1", "a2"}, MinAvailable: 1},
		{Name: "b", Members: []string{"b1", "b2"}, MinAvailable: 1},
		{Name: "c", Members: []string{"c1", "c2", "c3"}, MinAvailable: 1},
	}}
	// Explicit primary_first on a cluster without primary: the S12 part alone.
	p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderPrimaryFirst}})
	if p.Waves != 2 || p.LowerBound != 2 {
		t.Fatalf("waves %d bound %d, want 2 (pairs need 2, the triple with min 1 needs ceil(3/2)=2)\n%s", p.Waves, p.LowerBound, lines(p))
	}
	group := map[string]string{"a1": "a", "a2": "a", "b1": "b", "b2": "b", "c1": "c", "c2": "c", "c3": "c"}
	for w, nodes := range wavesOf(p) {
		per := map[string]int{}
		for _, n := range nodes {
			if g := group[n]; g != "" {
				per[g]++
			}
		}
		if per["a"] > 1 || per["b"] > 1 || per["c"] > 2 {
			t.Errorf("wave %d takes down %v: %v", w, nodes, per)
		}
	}

	// HA mode defaults to the cluster's HA state (S12): off, one wave.
	c.HAEnabled = false
	if p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderPrimaryFirst}}); p.Waves != 1 {
		t.Errorf("HA disabled: %d waves, want 1", p.Waves)
	}
	on := true
	if p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderPrimaryFirst, HAMode: &on}}); p.Waves != 2 {
		t.Errorf("ha_mode forced on: %d waves, want 2", p.Waves)
	}
}

func TestCompute_S13_StandbyFirstPromotion(t *testing.T) {
	p := mustCompute(t, Request{Cluster: vca(), Target: manifest("2.1", "2.0"), Policy: Policy{MaxUnavailable: "2"}})
	if p.Order != OrderStandbyFirst {
		t.Fatalf("auto resolved to %s, want standby_first", p.Order)
	}
	idx := map[string]int{}
	for i, s := range p.Steps {
		idx[string(s.Kind)+" "+s.Node] = i
	}
	if !(idx["await_healthy mgmt2"] < idx["promote mgmt2"] && idx["promote mgmt2"] < idx["activate mgmt1"]) { //nolint:staticcheck // QF1001: "not a < b < c" reads better than its De Morgan form
		t.Errorf("want standby mgmt2 healthy, then promoted, then master mgmt1 activated:\n%s", lines(p))
	}
	for _, cn := range []string{"cn1", "cn2", "cn3"} {
		if idx["activate "+cn] < idx["await_healthy mgmt1"] {
			t.Errorf("compute node %s activated before the old master is back:\n%s", cn, lines(p))
		}
	}
	if p.Waves != 4 || p.LowerBound != 4 {
		t.Errorf("waves %d bound %d, want 4: standby, master, then 3 compute nodes 2 at a time", p.Waves, p.LowerBound)
	}

	// Resumed after the promotion: mgmt2 is master on 2.1, mgmt1 is the
	// standby on 2.0. No second promotion; mgmt1 goes first as the standby.
	c := vca()
	c.Nodes[0].Role, c.Nodes[1].Role = appliance.RoleStandby, appliance.RoleMaster
	c.Nodes[1].Active.Version, c.Nodes[1].Alternate.Version = "2.1", "2.0"
	p = mustCompute(t, Request{Cluster: c, Target: manifest("2.1", "2.0")})
	for _, s := range p.Steps {
		if s.Kind == StepPromote || s.Node == "mgmt2" {
			t.Errorf("resumed plan touches the new master: %s", s)
		}
	}
	if got := wavesOf(p)[1]; len(got) != 1 || got[0] != "mgmt1" {
		t.Errorf("wave 1 = %v, want the standby mgmt1 alone", got)
	}
}

func TestCompute_S14_ActiveFirst(t *testing.T) {
	req := goldenCases()["active_first_streamer"]
	p := mustCompute(t, req)
	w := wavesOf(p)
	if p.Order != OrderActiveFirst || len(w) != 2 || w[1][0] != "isa" || w[2][0] != "isb" {
		t.Fatalf("want isa alone, then isb: %v\n%s", w, lines(p))
	}
	if !strings.Contains(p.Steps[2].Reason, "with storage") {
		t.Errorf("the active's activation should say storage updates with it (S14): %s", p.Steps[2])
	}
	// Even with HA off and no cap the standby waits for the active.
	off := false
	c := streamer()
	p = mustCompute(t, Request{Cluster: c, Target: manifest("4.1", "4.0"), Policy: Policy{HAMode: &off}})
	if len(wavesOf(p)) != 2 {
		t.Errorf("standby must wait for the active even with HA off:\n%s", lines(p))
	}
}

func TestCompute_S15_RollingFailoverFailback(t *testing.T) {
	p := mustCompute(t, Request{Cluster: netware(), Target: manifest("6.5 SP8", "6.5")})
	if p.Order != OrderRolling || p.Waves != 3 {
		t.Fatalf("order %s waves %d, want rolling in 3", p.Order, p.Waves)
	}
	// Each resource leaves its node before the node reboots and returns after.
	for _, r := range []struct{ res, node string }{{"pool1", "s1"}, {"vol2", "s2"}, {"share3", "s3"}} {
		move, act, await, back := -1, -1, -1, -1
		for i, s := range p.Steps {
			switch {
			case s.Kind == StepMoveResource && s.Resource == r.res && s.From == r.node:
				move = i
			case s.Kind == StepActivate && s.Node == r.node:
				act = i
			case s.Kind == StepAwaitHealthy && s.Node == r.node:
				await = i
			case s.Kind == StepFailBack && s.Resource == r.res && s.To == r.node:
				back = i
			}
		}
		if !(move >= 0 && move < act && act < await && await < back) { //nolint:staticcheck // QF1001: "not 0 <= a < b < c < d" reads better than its De Morgan form
			t.Errorf("%s on %s: move %d activate %d await %d fail back %d\n%s", r.res, r.node, move, act, await, back, lines(p))
		}
	}
	// vol2 may only run on s2 and s3: its move must go to s3.
	for _, s := range p.Steps {
		if s.Kind == StepMoveResource && s.Resource == "vol2" && s.To != "s3" {
			t.Errorf("vol2 moved to %s, which it does not allow", s.To)
		}
	}
	// max_unavailable 2 of 3 nodes: vol2 {s2,s3} and share3 {s1,s3} must
	// still be split, so two waves, and the bound agrees.
	p = mustCompute(t, Request{Cluster: netware(), Target: manifest("6.5 SP8", "6.5"), Policy: Policy{MaxUnavailable: "2"}})
	if p.Waves != 2 || p.LowerBound != 2 {
		t.Errorf("max_unavailable 2: %d waves (bound %d), want 2\n%s", p.Waves, p.LowerBound, lines(p))
	}
}

func TestCompute_S16_Finalize(t *testing.T) {
	p := mustCompute(t, Request{Cluster: netware(), Target: manifest("6.5 SP8", "6.5")})
	last := p.Steps[len(p.Steps)-1]
	if last.Kind != StepFinalize || !last.Offline || last.Version != "6.5 SP8" || !strings.Contains(last.Reason, "pool1") {
		t.Errorf("last step %+v, want an offline finalize naming the shared-storage resource", last)
	}
	c := netware()
	c.NeedsFinalize = false
	for _, s := range mustCompute(t, Request{Cluster: c, Target: manifest("6.5 SP8", "6.5")}).Steps {
		if s.Kind == StepFinalize {
			t.Errorf("finalize without NeedsFinalize: %s", s)
		}
	}
}

func TestCompute_S17_Settle(t *testing.T) {
	p := mustCompute(t, Request{Cluster: streamer(), Target: manifest("4.1", "4.0")})
	last := p.Steps[len(p.Steps)-1]
	if last.Kind != StepSettle || !strings.Contains(last.Reason, "45m0s") {
		t.Errorf("last step %s, want settle of the cluster's 45m", last)
	}
	p = mustCompute(t, Request{Cluster: streamer(), Target: manifest("4.1", "4.0"), Policy: Policy{SettleTime: time.Hour}})
	if last := p.Steps[len(p.Steps)-1]; !strings.Contains(last.Reason, "1h0m0s") {
		t.Errorf("settle_time override ignored: %s", last)
	}
	for _, s := range mustCompute(t, Request{Cluster: avere4(), Target: manifest("1.1", "1.0")}).Steps {
		if s.Kind == StepSettle {
			t.Errorf("settle on a cluster that needs none: %s", s)
		}
	}
}

func TestCompute_S21_Rollback(t *testing.T) {
	c := avere4()
	for i := range c.Nodes {
		c.Nodes[i].Active.Version, c.Nodes[i].Alternate.Version = "1.1", "1.0"
		c.Nodes[i].Alternate.Bootable = true
	}
	c.Nodes[3].Active.Version, c.Nodes[3].Alternate.Version = "1.0", "1.1" // already back
	p := mustCompute(t, Request{Cluster: c, Target: manifest("1.0", "0.9")})
	if !p.Rollback || p.ToVersion != "1.0" {
		t.Fatalf("rollback %v to %s", p.Rollback, p.ToVersion)
	}
	var acts []string
	for _, s := range p.Steps {
		if s.Kind == StepStage {
			t.Errorf("a rollback stages nothing: %s", s)
		}
		if s.Kind == StepActivate {
			acts = append(acts, s.Node)
		}
	}
	if fmt.Sprint(acts) != "[n1 n2 n3]" {
		t.Errorf("activated %v, want n1 n2 n3 (n4 is already back on 1.0)", acts)
	}
}

func TestCompute_ResumeSkipsDoneNodes(t *testing.T) {
	c := avere4()
	c.Nodes[0].Active.Version, c.Nodes[0].Alternate.Version = "1.1", "1.0"     // n1 done
	c.Nodes[2].Alternate = appliance.Partition{Version: "1.1", Bootable: true} // n3 staged
	p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0")})
	wantLines(t, p, `
1. wave 0: stage n2 -> 1.1
2. wave 0: stage n4 -> 1.1
3. wave 1: activate n2 -> 1.1 (after the primary)
4. wave 1: activate n3 -> 1.1 (after the primary)
5. wave 1: await_healthy n2
6. wave 1: await_healthy n3
7. wave 2: activate n4 -> 1.1 (after HA partner n3 in wave 1)
8. wave 2: await_healthy n4
`)
	// Everything done: an empty plan, not an error, so a finished apply is idempotent.
	for i := range c.Nodes {
		c.Nodes[i].Active.Version = "1.1"
	}
	p = mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0")})
	if len(p.Steps) != 0 || p.Waves != 0 {
		t.Errorf("nothing to do, got %d steps", len(p.Steps))
	}
}

func TestResolveOrder_Auto(t *testing.T) {
	for _, tc := range []struct {
		c    *appliance.Cluster
		want Order
	}{{avere4(), OrderPrimaryFirst}, {vca(), OrderStandbyFirst}, {streamer(), OrderActiveFirst}, {netware(), OrderRolling}} {
		if got := ResolveOrder(tc.c, OrderAuto); got != tc.want {
			t.Errorf("%s: auto -> %s, want %s", tc.c.Name, got, tc.want)
		}
		if got := ResolveOrder(tc.c, OrderRolling); got != OrderRolling {
			t.Errorf("explicit order overridden: %s", got)
		}
	}
}

func TestCompute_MaxUnavailable(t *testing.T) {
	c := &appliance.Cluster{Name: "flat"}
	for i := 1; i <= 10; i++ {
		c.Nodes = append(c.Nodes, node(fmt.Sprintf("m%02d", i), appliance.RoleMember, "", "1.0", ""))
	}
	for _, tc := range []struct {
		max   string
		waves int
	}{{"", 10}, {"1", 10}, {"3", 4}, {"25%", 5}, {"100%", 1}, {"5%", 10}} {
		p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderRolling, MaxUnavailable: tc.max}})
		if p.Waves != tc.waves || p.LowerBound != tc.waves {
			t.Errorf("max_unavailable %q: %d waves (bound %d), want %d", tc.max, p.Waves, p.LowerBound, tc.waves)
		}
	}
	// A node already down counts against the cap.
	c.Nodes[9].State, c.Nodes[9].Healthy, c.Nodes[9].Active.Version = appliance.NodeDown, false, "1.1"
	if p := mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderRolling, MaxUnavailable: "4"}}); p.Waves != 3 {
		t.Errorf("9 nodes, 4 allowed, 1 already down: %d waves, want 3", p.Waves)
	}
}

func TestParseMaxUnavailable(t *testing.T) {
	for _, tc := range []struct {
		in    string
		nodes int
		want  int
		bad   bool
	}{{"", 5, 0, false}, {"2", 5, 2, false}, {" 3 ", 5, 3, false}, {"25%", 8, 2, false}, {"10%", 4, 1, false},
		{"100%", 7, 7, false}, {"0", 5, 0, true}, {"-1", 5, 0, true}, {"0%", 5, 0, true}, {"101%", 5, 0, true},
		{"two", 5, 0, true}, {"2.5", 5, 0, true}, {"%", 5, 0, true}} {
		got, err := ParseMaxUnavailable(tc.in, tc.nodes)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseMaxUnavailable(%q, %d) = %d, %v; want %d, error %v", tc.in, tc.nodes, got, err, tc.want, tc.bad)
		}
	}
}

func TestCompute_FailoverOffWarns(t *testing.T) {
	off := false
	p := mustCompute(t, Request{Cluster: netware(), Target: manifest("6.5 SP8", "6.5"), Policy: Policy{FailoverResources: &off}})
	for _, s := range p.Steps {
		if s.Kind == StepMoveResource || s.Kind == StepFailBack {
			t.Errorf("failover_resources off, yet %s", s)
		}
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "pool1, vol2, share3 will be offline") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

// TestCompute_ExactBoundBeyondSimpleRules: three resources allowed on
// {a,b}, {b,c}, {a,c} form an odd cycle: the simple bound says 2, the true
// optimum is 3, and the planner must prove it and say so.
func TestCompute_ExactBoundBeyondSimpleRules(t *testing.T) {
	c := &appliance.Cluster{Name: "tri", Nodes: []appliance.Node{
		node("a", appliance.RoleMember, "", "1.0", ""), node("b", appliance.RoleMember, "", "1.0", ""), node("c", appliance.RoleMember, "", "1.0", ""),
	}, Resources: []appliance.Resource{
		{Name: "ab", CurrentNode: "a", PreferredNode: "a", AllowedNodes: []string{"a", "b"}, State: appliance.ResourceOnline},
		{Name: "bc", CurrentNode: "b", PreferredNode: "b", AllowedNodes: []string{"b", "c"}, State: appliance.ResourceOnline},
		{Name: "ca", CurrentNode: "c", PreferredNode: "c", AllowedNodes: []string{"c", "a"}, State: appliance.ResourceOnline},
	}}
	req := Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderRolling, MaxUnavailable: "100%"}}
	p := mustCompute(t, req)
	if p.Waves != 3 || p.LowerBound != 3 || bruteOptimum(req) != 3 {
		t.Errorf("waves %d bound %d brute %d, want 3\n%s", p.Waves, p.LowerBound, bruteOptimum(req), lines(p))
	}
}

func TestCompute_AlreadyStagedSkipsStage(t *testing.T) {
	c := avere4()
	for i := range c.Nodes {
		c.Nodes[i].Alternate = appliance.Partition{Version: "1.1", Bootable: true}
	}
	c.Nodes[1].Alternate.Bootable = false // written but unbootable: stage again
	var staged []string
	for _, s := range mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0")}).Steps {
		if s.Kind == StepStage {
			staged = append(staged, s.Node)
		}
	}
	if fmt.Sprint(staged) != "[n2]" {
		t.Errorf("staged %v, want only n2", staged)
	}
}
