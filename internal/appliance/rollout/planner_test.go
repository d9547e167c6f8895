package rollout

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

func TestCompute_S11_PrimaryFirst(t *testing.T) {
	p := mustCompute(t, Request{Cluster: avere4(), Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderAuto}})
	if p.Order != OrderPrimaryFirst || p.FromVersion != "1.0" || p.ToVersion != "1.1" || p.Rollback {
		t.Errorf("plan header %+v", p)
	}
	if p.Waves != 3 || p.LowerBound != 3 {
		t.Errorf("waves %d bound %d, want 3 and 3", p.Waves, p.LowerBound)
	}
	wantLines(t, p, `
1. wave 0: stage n1 -> 1.1
2. wave 0: stage n2 -> 1.1
3. wave 0: stage n3 -> 1.1
4. wave 0: stage n4 -> 1.1
5. wave 1: activate n1 -> 1.1 (primary first)
6. wave 1: await_healthy n1
7. wave 2: activate n2 -> 1.1 (after HA partner n1 in wave 1)
8. wave 2: activate n3 -> 1.1 (after the primary)
9. wave 2: await_healthy n2
10. wave 2: await_healthy n3
11. wave 3: activate n4 -> 1.1 (after HA partner n3 in wave 2)
12. wave 3: await_healthy n4
`)
}

// TestCompute_PureAndDeterministic: the planner neither mutates its input
// nor varies its output, so `terraform plan` shows the same plan every time.
func TestCompute_PureAndDeterministic(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for c := 0; c < 300; c++ {
		req := genRequest(rng, genOptions{maxNodes: 30, maxResources: 10, failures: true})
		before, _ := json.Marshal(req.Cluster)
		p1, err1 := Compute(req)
		p2, err2 := Compute(req)
		if after, _ := json.Marshal(req.Cluster); string(after) != string(before) {
			t.Fatalf("case %d: Compute mutated the snapshot", c)
		}
		if fmt.Sprint(err1) != fmt.Sprint(err2) || !reflect.DeepEqual(p1, p2) {
			t.Fatalf("case %d: two runs differ:\n%v %v\n%v %v", c, p1, err1, p2, err2)
		}
	}
}

// TestCompute_S16_FinalizeResumedAfterInterruption: every node runs the
// target but the cluster reports finalize ran for the old version: the plan
// is the finalize alone, not empty; once finalized, it is empty. A rollback
// never finalizes backwards.
func TestCompute_S16_FinalizeResumedAfterInterruption(t *testing.T) {
	c := &appliance.Cluster{
		Name: "ncs", NeedsFinalize: true, FinalizedVersion: "6.0", HAEnabled: true, Healthy: true, ReportedMembers: 2,
		Nodes: []appliance.Node{
			{Name: "a", Role: appliance.RoleMember, State: appliance.NodeRunning, Healthy: true,
				Active: appliance.Partition{Version: "6.5", Bootable: true}, Alternate: appliance.Partition{Version: "6.0", Bootable: true}},
			{Name: "b", Role: appliance.RoleMember, State: appliance.NodeRunning, Healthy: true,
				Active: appliance.Partition{Version: "6.5", Bootable: true}, Alternate: appliance.Partition{Version: "6.0", Bootable: true}},
		},
	}
	target := &appliance.Manifest{Version: "6.5", SupportedFrom: []string{"6.0"},
		Components: []appliance.Component{{Name: "os", Payload: "payloads/os", SHA256: strings.Repeat("ab", 32), Size: 1}}}
	p, err := Compute(Request{Cluster: c, Target: target, Policy: Policy{Order: OrderRolling}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Kind != StepFinalize || p.Steps[0].Version != "6.5" {
		t.Fatalf("want finalize 6.5 alone, got %v", p.Lines())
	}
	c.FinalizedVersion = "6.5"
	if p, err = Compute(Request{Cluster: c, Target: target, Policy: Policy{Order: OrderRolling}}); err != nil || len(p.Steps) != 0 {
		t.Fatalf("finalized cluster: want no steps, got %v, %v", p, err)
	}
}
