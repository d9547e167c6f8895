package rollout

import (
	"fmt"
	"sort"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// ProveRemaining checks the steps still to run against the cluster as it is
// now. The plan was proven once, on the snapshot it was computed from; the
// cluster may have changed since (a partner that crashed between waves, a
// resource that failed over by itself), and the executor calls this before
// every batch so that it stops instead of rebooting the last serving member
// of an HA group or the node that hosts a resource alone.
//
// It replays the steps on the snapshot: an activation whose post-condition
// already holds changes nothing, any other takes its node out of service
// until its await_healthy step; moves put resources where they go. A
// violation is a *SafetyViolation naming the step (its index in p.Steps),
// the node and the rule. The rules are the plan's own: HA groups only when
// it keeps HA (not inside a maintenance window), resources only when it
// moves them.
func ProveRemaining(c *appliance.Cluster, p *Plan, from int) error {
	steps := p.Steps[from:]
	up := make(map[string]bool, len(c.Nodes))
	state := make(map[string]appliance.NodeState, len(c.Nodes))
	for _, n := range c.Nodes {
		up[n.Name] = n.State.Serving()
		state[n.Name] = n.State
	}
	groupsOf := map[string][]*appliance.HAGroup{}
	for i := range c.HAGroups {
		if !p.KeepsHA {
			break
		}
		g := &c.HAGroups[i]
		for _, m := range g.Members {
			groupsOf[m] = append(groupsOf[m], g)
		}
	}
	where := map[string]string{} // online resource -> node hosting it
	for _, r := range c.Resources {
		if p.MovesResources && r.State == appliance.ResourceOnline && r.CurrentNode != "" {
			where[r.Name] = r.CurrentNode
		}
	}
	for i, s := range steps {
		fail := func(format string, args ...any) error {
			return &SafetyViolation{StepIndex: from + i, Step: s, Constraint: fmt.Sprintf(format, args...)}
		}
		switch s.Kind {
		case StepActivate:
			n := c.Node(s.Node)
			if n == nil {
				return fail("node %s is no longer in the cluster", s.Node)
			}
			if appliance.SameVersion(n.Active.Version, s.Version) {
				continue // already done: it takes nothing down
			}
			up[s.Node] = false
			for _, g := range groupsOf[s.Node] {
				serving, out := 0, []string{}
				for _, m := range g.Members {
					if up[m] {
						serving++
					} else if m != s.Node {
						out = append(out, fmt.Sprintf("%s is %s", m, describeState(state[m], up[m])))
					}
				}
				if serving < g.MinAvailable {
					sort.Strings(out)
					return fail("HA group %s would have %d of its %d members serving, below its minimum of %d (HA partners never down together): %s",
						g.Name, serving, len(g.Members), g.MinAvailable, strings.Join(out, ", "))
				}
			}
			for _, r := range appliance.SortedKeys(where) {
				if where[r] == s.Node {
					return fail("resource %s would have no serving node: it is on %s, which reboots, and was not moved off", r, s.Node)
				}
			}
		case StepAwaitHealthy:
			up[s.Node] = true
			state[s.Node] = appliance.NodeRunning
		case StepMoveResource, StepFailBack:
			if _, online := where[s.Resource]; !online {
				continue // offline or already moving: the executor's own checks decide
			}
			if !up[s.To] {
				return fail("resource %s would move to %s, which is %s", s.Resource, s.To, describeState(state[s.To], false))
			}
			where[s.Resource] = s.To
		}
	}
	return nil
}

func describeState(s appliance.NodeState, up bool) string {
	if up {
		return "serving"
	}
	switch s {
	case appliance.NodeRunning, appliance.NodeSettling:
		return "rebooting earlier in this plan"
	case appliance.NodeRebooting:
		return "rebooting"
	}
	return string(s) + " (out of band)"
}
