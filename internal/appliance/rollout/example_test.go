package rollout_test

import (
	"fmt"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// The 4-node primary cluster (S11, S12): n1 primary, HA pairs (n1,n2) and
// (n3,n4). The primary goes alone; n2 can go as soon as n1 is back, with
// n3; n4 waits for its partner.
func ExampleCompute() {
	n := func(name string, role appliance.Role, group string) appliance.Node {
		return appliance.Node{Name: name, Role: role, HAGroup: group, State: appliance.NodeRunning, Healthy: true,
			Active: appliance.Partition{Version: "1.0", Bootable: true}}
	}
	cluster := &appliance.Cluster{Name: "avere", HAEnabled: true,
		Nodes: []appliance.Node{
			n("n1", appliance.RolePrimary, "p1"), n("n2", appliance.RoleSecondary, "p1"),
			n("n3", appliance.RoleSecondary, "p2"), n("n4", appliance.RoleSecondary, "p2"),
		},
		HAGroups: []appliance.HAGroup{
			{Name: "p1", Members: []string{"n1", "n2"}, MinAvailable: 1},
			{Name: "p2", Members: []string{"n3", "n4"}, MinAvailable: 1},
		}}
	target := &appliance.Manifest{Version: "1.1", SupportedFrom: []string{"1.0"},
		Components: []appliance.Component{{Name: "os", Payload: "os.img", Size: 1,
			SHA256: "0000000000000000000000000000000000000000000000000000000000000000"}}}

	plan, err := rollout.Compute(rollout.Request{Cluster: cluster, Target: target, Policy: rollout.Policy{Order: rollout.OrderAuto}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s, %d waves (lower bound %d)\n", plan.Order, plan.Waves, plan.LowerBound)
	for _, l := range plan.Lines() {
		fmt.Println(l)
	}
	// Output:
	// primary_first, 3 waves (lower bound 3)
	// 1. wave 0: stage n1 -> 1.1
	// 2. wave 0: stage n2 -> 1.1
	// 3. wave 0: stage n3 -> 1.1
	// 4. wave 0: stage n4 -> 1.1
	// 5. wave 1: activate n1 -> 1.1 (primary first)
	// 6. wave 1: await_healthy n1
	// 7. wave 2: activate n2 -> 1.1 (after HA partner n1 in wave 1)
	// 8. wave 2: activate n3 -> 1.1 (after the primary)
	// 9. wave 2: await_healthy n2
	// 10. wave 2: await_healthy n3
	// 11. wave 3: activate n4 -> 1.1 (after HA partner n3 in wave 2)
	// 12. wave 3: await_healthy n4
}
