package engine

import (
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// Cluster-wide administrative changes: licences (S10), supercluster
// membership (S23) and maintenance windows (S25). Each answers at once.

// AddLicense installs the licence of a series (reduced to major.minor);
// a licence already installed is no change.
func (t *Tx) AddLicense(cs *ClusterState, series string) error {
	if _, err := rules.Parse(series); err != nil {
		return BadRequest("series: %v", err)
	}
	series = SeriesOf(series)
	for _, l := range cs.Cluster.Licenses {
		if rules.Same(l, series) {
			return nil
		}
	}
	cs.Cluster.Licenses = append(cs.Cluster.Licenses, series)
	t.St.Event(cs, t.Now, EventCluster, "", "license for the %s series installed", series)
	t.Dirty = true
	return nil
}

// SetSupercluster makes the cluster join the named supercluster ("" to
// leave it). All clusters of a supercluster must run compatible versions
// (S23): a cluster with mixed versions, or one incompatible with a member,
// cannot join.
func (t *Tx) SetSupercluster(cs *ClusterState, name string) error {
	name = strings.TrimSpace(name)
	if name != "" {
		mine, ok := uniformVersion(&cs.Cluster)
		if !ok {
			return Unprocessable(api.CodePreconditionFailed, "cluster %s runs mixed versions (%s): it cannot join a supercluster", cs.Cluster.Name, VersionsText(&cs.Cluster))
		}
		for _, o := range t.St.Clusters {
			if o == cs || o.Cluster.Supercluster != name {
				continue
			}
			for _, n := range o.Cluster.Nodes {
				if !compatible(n.Active.Version, mine) {
					return Unprocessable(api.CodePreconditionFailed,
						"cluster %s runs %s, which is not compatible with %s on cluster %s of supercluster %s (S23: only patch releases are compatible)",
						cs.Cluster.Name, mine, n.Active.Version, o.Cluster.Name, name)
				}
			}
		}
	}
	if cs.Cluster.Supercluster == name {
		return nil
	}
	old := cs.Cluster.Supercluster
	cs.Cluster.Supercluster = name
	if name == "" {
		t.St.Event(cs, t.Now, EventCluster, "", "cluster left supercluster %s", old)
	} else {
		t.St.Event(cs, t.Now, EventCluster, "", "cluster joined supercluster %s", name)
	}
	t.Dirty = true
	return nil
}

// SetMaintenance opens or closes the cluster's declared maintenance
// window (S25): outages inside it are declared, not undeclared.
func (t *Tx) SetMaintenance(cs *ClusterState, open bool) {
	switch {
	case open && cs.Window == nil:
		SetWindow(cs, t.Now, "maintenance")
		t.St.Event(cs, t.Now, EventCluster, "", "maintenance window opened")
		t.Dirty = true
	case !open && cs.Window != nil:
		SetWindow(cs, t.Now, "")
		t.St.Event(cs, t.Now, EventCluster, "", "maintenance window closed")
		t.Dirty = true
	}
}

// ArmFault validates and arms a fault, recording it in the events of
// every cluster it applies to.
func (t *Tx) ArmFault(f api.Fault) (api.Fault, error) {
	if err := ValidateFault(f); err != nil {
		return api.Fault{}, BadRequest("%v", err)
	}
	if f.Cluster != "" && t.St.Cluster(f.Cluster) == nil {
		return api.Fault{}, Unprocessable(api.CodeInvalidRequest, "no cluster %q", f.Cluster)
	}
	if f.Node != "" {
		found := false
		for _, cs := range t.St.Clusters {
			if (f.Cluster == "" || cs.Cluster.Name == f.Cluster) && cs.Cluster.Node(f.Node) != nil {
				found = true
			}
		}
		if !found {
			return api.Fault{}, Unprocessable(api.CodeInvalidRequest, "no node %q", f.Node)
		}
	}
	f = t.St.AddFault(f)
	for _, cs := range t.St.Clusters {
		if f.Cluster == "" || f.Cluster == cs.Cluster.Name {
			t.St.Event(cs, t.Now, EventFault, f.Node, "fault %s armed: %s", f.ID, f.Kind)
		}
	}
	t.Dirty = true
	return f, nil
}

// DisarmFault removes one fault.
func (t *Tx) DisarmFault(id string) error {
	for i, f := range t.St.Faults {
		if f.ID == id {
			t.St.Faults = append(t.St.Faults[:i:i], t.St.Faults[i+1:]...)
			t.Dirty = true
			return nil
		}
	}
	return NotFound("no fault %q", id)
}

// ClearFaults removes every fault.
func (t *Tx) ClearFaults() {
	if len(t.St.Faults) > 0 {
		t.St.Faults = nil
		t.Dirty = true
	}
}
