package engine

import (
	"fmt"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// updateRollout fills the cluster's update status (S11: "update status
// shows each node's progress"): the newest version present on any node
// (active, staged or being staged), how many nodes run it, and what is
// under way. Nil when every node runs the newest version and nothing moves.
func updateRollout(cs *ClusterState) {
	c := &cs.Cluster
	targetS := ""
	consider := func(s string) {
		if _, err := rules.Parse(s); err == nil && (targetS == "" || older(targetS, s)) {
			targetS = s
		}
	}
	var steps []string
	for _, n := range c.Nodes {
		consider(n.Active.Version)
		if n.Alternate.Bootable {
			consider(n.Alternate.Version)
		}
		if n.Staging != "" {
			if im := cs.Image(n.Staging); im != nil {
				consider(im.Manifest.Version)
			}
			steps = append(steps, n.Name+" staging")
		}
		switch n.State {
		case appliance.NodeRebooting, appliance.NodeSettling, appliance.NodeDown:
			steps = append(steps, fmt.Sprintf("%s %s", n.Name, n.State))
		}
	}
	done := 0
	for _, n := range c.Nodes {
		if rules.Same(n.Active.Version, targetS) {
			done++
		}
	}
	if done == len(c.Nodes) && len(steps) == 0 {
		c.Rollout = nil
		return
	}
	r := &appliance.RolloutStatus{TargetVersion: targetS, Step: strings.Join(steps, "; "), Done: done, Total: len(c.Nodes)}
	if cs.Lease != nil {
		r.Owner = cs.Lease.Owner
	}
	c.Rollout = r
}
