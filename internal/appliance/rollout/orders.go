package rollout

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// phase is a set of nodes that activate in waves of their own: a later
// phase starts only when every node of the earlier one is healthy again.
// Role orders are phases: S11 the primary, then the rest; S13 the standby,
// then the master, then the compute nodes; S14 the active, then the rest.
type phase struct {
	name  string // short reason shown on the activate steps
	nodes []int  // nodes to activate, in snapshot order
}

// phaseRoles lists, per order, the roles that go first, one phase each; all
// other nodes form the last phase.
func phaseRoles(o Order) []appliance.Role {
	switch o {
	case OrderPrimaryFirst:
		return []appliance.Role{appliance.RolePrimary}
	case OrderStandbyFirst:
		return []appliance.Role{appliance.RoleStandby, appliance.RoleMaster}
	case OrderActiveFirst:
		return []appliance.Role{appliance.RoleActive}
	}
	return nil
}

// phaseName is the reason given for activating a node of a leading role.
func phaseName(o Order, r appliance.Role) string {
	switch {
	case o == OrderPrimaryFirst && r == appliance.RolePrimary:
		return "primary first"
	case o == OrderStandbyFirst && r == appliance.RoleStandby:
		return "standby first"
	case o == OrderStandbyFirst && r == appliance.RoleMaster:
		return "master after its standby"
	case o == OrderActiveFirst && r == appliance.RoleActive:
		return "active first"
	}
	return ""
}

// phases splits the nodes that need the target into the order's phases;
// empty phases are dropped, so a resumed rollout picks up where it stopped.
func (in *input) phases() []phase {
	roles := phaseRoles(in.set.order)
	out := make([]phase, len(roles)+1)
	rank := make(map[appliance.Role]int, len(roles))
	for k, r := range roles {
		rank[r] = k
		out[k].name = phaseName(in.set.order, r)
	}
	last := len(roles)
	key := make([]int, len(in.nodes))
	for i, n := range in.nodes {
		key[i] = -1
		if !n.needs {
			continue
		}
		k, ok := rank[n.role]
		if !ok {
			k = last
		}
		key[i] = k
	}
	for k, nodes := range groupBy(key, len(out)) {
		out[k].nodes = nodes
	}
	kept := out[:0]
	for _, p := range out {
		if len(p.nodes) > 0 {
			kept = append(kept, p)
		}
	}
	return kept
}

// phaseRank returns, per node, the index of its role's phase in the order
// (independent of which phases are empty), for the safety proof.
func phaseRank(o Order, role appliance.Role) int {
	for k, r := range phaseRoles(o) {
		if r == role {
			return k
		}
	}
	return len(phaseRoles(o))
}
