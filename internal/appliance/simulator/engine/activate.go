package engine

import (
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// Activation and revert requests: what the appliance refuses before a
// node reboots (S9, S10, S11, S13, S14, S23), and how a revert boots.

// checkActivationOrder enforces what the appliances themselves enforce
// when a node moves to a newer version: licenses (S10) and the role order
// of S11, S13 and S14. Rollbacks (to an older version) are not constrained.
func checkActivationOrder(cs *ClusterState, n *appliance.Node) *api.Error {
	c := &cs.Cluster
	target := n.Alternate.Version
	if !older(n.Active.Version, target) {
		// An unreadable version cannot be ordered, and a rollback is not
		// constrained: no order rule refuses either.
		return nil
	}
	series := SeriesOf(target)
	if len(c.Licenses) > 0 && len(c.Nodes) >= c.LicenseMinNodes {
		licensed := false
		for _, l := range c.Licenses {
			if SeriesOf(l) == series {
				licensed = true
			}
		}
		if !licensed {
			e := Unprocessable(api.CodePreconditionFailed,
				"cluster %s has %d nodes and no license for the %s series: install the %s licenses before upgrading (installed: %s)",
				c.Name, len(c.Nodes), series, series, strings.Join(c.Licenses, ", "))
			e.Details = map[string]any{"required_license": series, "licenses": c.Licenses}
			return e
		}
	}
	ahead := func(other *appliance.Node, rule, why string) *api.Error {
		if other == nil {
			return nil
		}
		if older(other.Active.Version, target) {
			return Unprocessable(api.CodePreconditionFailed, "%s %s must run %s before node %s activates it (%s: %s)",
				other.Role, other.Name, n.Alternate.Version, n.Name, rule, why)
		}
		return nil
	}
	switch n.Role {
	case appliance.RoleSecondary:
		return ahead(primaryOf(c), "S11", "the primary activates first, the others fetch the package from it")
	case appliance.RoleStandby:
		return ahead(nodeWithRole(c, appliance.RoleActive, n.Name), "S14", "the standby updates only after the active succeeded")
	case appliance.RoleMaster:
		return ahead(nodeWithRole(c, appliance.RoleStandby, n.Name), "S13", "the standby management node is updated first")
	}
	return nil
}

// StartActivate reboots a node into its alternate partition.
func (st *State) StartActivate(cs *ClusterState, n *appliance.Node, req api.ActivateRequest, now time.Time) (*TaskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	if !n.State.Serving() {
		return nil, Conflict("node %s is %s: revert it or wait until it serves again", n.Name, n.State)
	}
	ni := cs.Internal(n.Name)
	if n.Alternate.Version == "" {
		return nil, Unprocessable(api.CodeNotStaged, "node %s has nothing staged in its alternate partition", n.Name)
	}
	if !n.Alternate.Bootable {
		return nil, Unprocessable(api.CodeNotStaged,
			"the alternate partition of node %s (%s) cannot be booted: the active image %s has irreversible features (%s)",
			n.Name, n.Alternate.Version, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "))
	}
	if req.ExpectVersion != "" && !rules.Same(req.ExpectVersion, n.Alternate.Version) {
		return nil, Conflict("node %s has %s in its alternate partition, not the expected %s", n.Name, n.Alternate.Version, req.ExpectVersion)
	}
	if e := checkActivationOrder(cs, n); e != nil {
		return nil, e
	}
	if e := st.checkSupercluster(cs, n.Alternate.Version); e != nil {
		return nil, e
	}
	t := st.NewTask(cs, TaskActivate, n.Name, now)
	t.Node, t.AutoRevert, t.Phase = n.Name, req.AutoRevert, PhaseSwap
	t.ImageID = n.Alternate.ImageID
	t.Fault = st.bootFault(cs.Cluster.Name, n.Name)
	t.Factor = st.slowFactor(cs.Cluster.Name, n.Name)
	if t.Fault != "" {
		st.Event(cs, now, EventFault, n.Name, "injected fault %s strikes the activation of node %s", t.Fault, n.Name)
	}
	st.reboot(cs, n, t, now, "node %s reboots into its alternate partition (%s)", n.Name, n.Alternate.Version)
	return t, nil
}

// StartRevert boots the other partition back (S21, manual back-out), or,
// on a node left down by a failed boot, boots its unchanged active partition.
func (st *State) StartRevert(cs *ClusterState, n *appliance.Node, now time.Time) (*TaskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	ni := cs.Internal(n.Name)
	t := func(phase string) *TaskState {
		t := st.NewTask(cs, TaskRevert, n.Name, now)
		t.Node, t.Phase = n.Name, phase
		t.Factor = st.slowFactor(cs.Cluster.Name, n.Name)
		if _, ok := st.TakeFault(api.FaultRevertFailure, cs.Cluster.Name, n.Name); ok {
			t.Fault = api.FaultRevertFailure
			st.Event(cs, now, EventFault, n.Name, "injected fault %s strikes the revert of node %s", t.Fault, n.Name)
		}
		return t
	}
	if n.State == appliance.NodeDown && ni.FailedBoot {
		tk := t(PhaseSame)
		st.reboot(cs, n, tk, now, "node %s reboots into its active partition (%s) after a failed boot", n.Name, n.Active.Version)
		return tk, nil
	}
	if !n.State.Serving() {
		return nil, Conflict("node %s is %s: it cannot revert now", n.Name, n.State)
	}
	if n.Alternate.Version == "" {
		return nil, Unprocessable(api.CodeNotStaged, "node %s has no previous image in its alternate partition to roll back to", n.Name)
	}
	if !n.Alternate.Bootable {
		e := Unprocessable(api.CodeIrreversibleFeature,
			"node %s cannot roll back to %s: %s has irreversible features (%s); going back needs a re-image",
			n.Name, n.Alternate.Version, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "))
		e.Details = map[string]any{"irreversible_features": ni.ActiveIrreversible}
		return nil, e
	}
	tk := t(PhaseSwap)
	st.reboot(cs, n, tk, now, "node %s rolls back: reboots into its alternate partition (%s)", n.Name, n.Alternate.Version)
	return tk, nil
}

// checkSupercluster refuses to activate, in a cluster that belongs to a
// supercluster, a version incompatible with another member cluster (S23):
// the cluster must leave first (S26), unless a maintenance window is open,
// in which all clusters are upgraded together (S25).
func (st *State) checkSupercluster(cs *ClusterState, version string) *api.Error {
	name := cs.Cluster.Supercluster
	if name == "" || cs.Window != nil {
		return nil
	}
	for _, o := range st.Clusters {
		if o == cs || o.Cluster.Supercluster != name {
			continue
		}
		for _, n := range o.Cluster.Nodes {
			if !compatible(n.Active.Version, version) {
				return Unprocessable(api.CodePreconditionFailed,
					"%s is not compatible with %s on cluster %s of supercluster %s (S23: only patch releases are compatible): leave the supercluster first, or open a maintenance window on every cluster",
					version, n.Active.Version, o.Cluster.Name, name)
			}
		}
	}
	return nil
}
