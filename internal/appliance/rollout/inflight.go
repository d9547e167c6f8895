package rollout

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// AssumeInFlight returns the snapshot as it will be once the reboots under
// way have finished: a node that is rebooting or settling into version (its
// alternate holds it, bootable, or it already runs it) is shown running it,
// healthy. An apply interrupted mid-wave (a crash, a kill -9) leaves such
// nodes behind; the next plan continues after them instead of refusing to
// plan until they are back, and the apply waits for them (executor.AwaitInFlight)
// and proves the plan again on what they really came back as. Nodes
// rebooting for any other reason are left as they are: the planner then
// says to wait for them.
func AssumeInFlight(c *appliance.Cluster, version string) *appliance.Cluster {
	var out *appliance.Cluster
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.State != appliance.NodeRebooting && n.State != appliance.NodeSettling {
			continue
		}
		intoAlternate := n.Alternate.Bootable && appliance.SameVersion(n.Alternate.Version, version) && !appliance.SameVersion(n.Active.Version, version)
		if !intoAlternate && !appliance.SameVersion(n.Active.Version, version) {
			continue
		}
		if out == nil {
			out = c.Clone()
		}
		m := &out.Nodes[i]
		if intoAlternate {
			m.Active, m.Alternate = m.Alternate, m.Active
		}
		m.State, m.Healthy = appliance.NodeRunning, true
	}
	if out == nil {
		return c
	}
	out.Healthy = true
	out.ReportedMembers = len(out.Nodes)
	return out
}

// InFlight lists the nodes that are rebooting or settling.
func InFlight(c *appliance.Cluster) []string {
	var out []string
	for _, n := range c.Nodes {
		if n.State == appliance.NodeRebooting || n.State == appliance.NodeSettling {
			out = append(out, n.Name)
		}
	}
	return out
}
