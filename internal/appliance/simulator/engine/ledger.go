package engine

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Outage kinds in the ledger.
const (
	OutageHAGroup  = "ha_group"
	OutageResource = "resource"
)

// resourceServed reports whether a resource has a serving node: online (or
// moving, when the source keeps serving until the target takes over) on a
// node that serves.
func resourceServed(c *appliance.Cluster, r appliance.Resource) bool {
	if r.State != appliance.ResourceOnline && r.State != appliance.ResourceMoving {
		return false
	}
	n := c.Node(r.CurrentNode)
	return n != nil && n.State.Serving()
}

// updateAvailability opens and closes ledger intervals so that the ledger
// says, at simulated instant at, exactly which HA groups are below their
// minimum and which resources have no serving node. It runs after every
// change of node or resource state.
func updateAvailability(cs *ClusterState, at time.Time) {
	c := &cs.Cluster
	out := map[string]bool{}
	for _, g := range c.HAGroups {
		serving := 0
		for _, m := range g.Members {
			if n := c.Node(m); n != nil && n.State.Serving() {
				serving++
			}
		}
		if serving < g.MinAvailable {
			out[OutageHAGroup+"/"+g.Name] = true
		}
	}
	for _, r := range c.Resources {
		if !resourceServed(c, r) {
			out[OutageResource+"/"+r.Name] = true
		}
	}
	open := map[string]bool{}
	kept := cs.Outages[:0]
	for _, o := range cs.Outages {
		key := o.Kind + "/" + o.Subject
		if o.End == nil {
			if !out[key] {
				end := at
				o.End = &end
			} else {
				open[key] = true
			}
		}
		if o.End != nil && !o.End.After(o.Start) {
			continue // opened and closed at the same instant: no outage at all
		}
		kept = append(kept, o)
	}
	cs.Outages = kept
	add := func(kind, subject string) {
		if out[kind+"/"+subject] && !open[kind+"/"+subject] {
			cs.Outages = append(cs.Outages, api.Outage{
				Cluster: c.Name, Kind: kind, Subject: subject, Start: at, Declared: cs.Window != nil,
			})
		}
	}
	// In snapshot order, so that the ledger reads the same way every time.
	for _, g := range c.HAGroups {
		add(OutageHAGroup, g.Name)
	}
	for _, r := range c.Resources {
		add(OutageResource, r.Name)
	}
}

// SetWindow opens (reason != "") or closes a declared offline window at
// at. Open outages are split at the boundary, so that exactly the part
// inside the window is Declared.
func SetWindow(cs *ClusterState, at time.Time, reason string) {
	for i := range cs.Outages {
		if cs.Outages[i].End == nil {
			end := at
			cs.Outages[i].End = &end
		}
	}
	if reason == "" {
		cs.Window = nil
	} else {
		cs.Window = &DeclaredWindow{Reason: reason, Start: at}
	}
	cs.Cluster.MaintenanceWindow = reason == "maintenance"
	updateAvailability(cs, at)
}

// UpdateHealth recomputes what the cluster reports of itself: the members
// it counts (S22) and its health verdict.
func UpdateHealth(cs *ClusterState) {
	c := &cs.Cluster
	members := 0
	healthy := true
	for _, n := range c.Nodes {
		ni := cs.Internal(n.Name)
		if n.State != appliance.NodeDown && !ni.NotJoined {
			members++
		}
		if n.State != appliance.NodeRunning || !n.Healthy {
			healthy = false
		}
	}
	c.ReportedMembers = members
	if members < len(c.Nodes) {
		healthy = false
	}
	for _, r := range c.Resources {
		if r.State != appliance.ResourceOnline {
			healthy = false
		}
	}
	c.Healthy = healthy
	updateRollout(cs)
}
