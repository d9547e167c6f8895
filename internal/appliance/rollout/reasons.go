package rollout

import (
	"fmt"
	"strconv"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// activateReason gives the activation of node i just added a reason that
// says briefly why the node is in this wave.
func (e *emitter) activateReason(i, w int) {
	if r := e.activateReasonText(i, w); r != "" {
		e.steps[len(e.steps)-1].Reason = r
	}
}

// activateReasonText is the activation's reason, or "" when it was written
// into the emitter's text (one per HA partner: 50,000 strings of their own
// at 100,000 nodes).
func (e *emitter) activateReasonText(i, w int) string {
	in := e.in
	n := in.nodes[i]
	if name := phaseName(in.set.order, n.role); name != "" {
		if n.role == appliance.RoleActive && in.req.Target.HasComponent(appliance.ComponentStorage) {
			return name + ", with storage"
		}
		return name
	}
	if in.set.order == OrderActiveFirst && n.role == appliance.RoleStandby {
		return "standby after the active is healthy" // S14
	}
	if g := n.group; g >= 0 {
		best, bestWave := -1, 0
		for _, m := range in.groups[g].members {
			if m != i && e.wave[m] > 0 && e.wave[m] < w && e.wave[m] > bestWave {
				best, bestWave = m, e.wave[m]
			}
		}
		if best >= 0 {
			e.reason("after HA partner ", in.nodes[best].name, " in wave ", strconv.Itoa(bestWave))
			return ""
		}
	}
	switch in.set.order {
	case OrderPrimaryFirst:
		return "after the primary"
	case OrderStandbyFirst:
		return "after the master"
	case OrderActiveFirst:
		return "after the active"
	}
	if in.limit > 0 {
		if e.rolling == "" {
			e.rolling = fmt.Sprintf("rolling, %d at a time", in.limit)
		}
		return e.rolling
	}
	return "rolling"
}

// healthGate renders the policy's health gate for the await steps.
func (in *input) healthGate() string {
	p := in.req.Policy
	switch {
	case p.MinHealthyTime > 0 && p.HealthyDeadline > 0:
		return fmt.Sprintf("healthy for %s, deadline %s", p.MinHealthyTime, p.HealthyDeadline)
	case p.MinHealthyTime > 0:
		return fmt.Sprintf("healthy for %s", p.MinHealthyTime)
	case p.HealthyDeadline > 0:
		return fmt.Sprintf("deadline %s", p.HealthyDeadline)
	}
	return ""
}

// failoverWarning tells the operator which resources go down with their
// node when failover_resources is off.
func (in *input) failoverWarning() []string {
	if in.set.failover {
		return nil
	}
	var names []string
	for _, r := range in.res {
		if r.online && in.nodes[r.cur].needs {
			names = append(names, r.name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("failover_resources is off: %s will be offline while their nodes reboot", listNames(names))}
}
