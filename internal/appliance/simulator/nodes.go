package simulator

import (
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Node operations: the state machine of stage, activate and revert.

// Phases of a reboot task.
const (
	phaseSwap    = "swap"    // booting the alternate partition: partitions swap on success
	phaseSame    = "same"    // booting the active partition again (recovery of a failed boot)
	phaseRevert  = "revert"  // the automatic revert after a failed activation
	phaseRunning = "running" // generic
)

// busy refuses an operation on a node that a task owns.
func busy(cs *clusterState, node string) *api.Error {
	if id := cs.internal(node).Task; id != "" {
		return conflict("node %s is busy with task %s", node, id)
	}
	return nil
}

// primaryOf returns the primary node of a primary cluster, or nil.
func primaryOf(c *appliance.Cluster) *appliance.Node {
	for i := range c.Nodes {
		if c.Nodes[i].Role == appliance.RolePrimary {
			return &c.Nodes[i]
		}
	}
	return nil
}

// nodeWithRole returns the first node with role, other than skip, or nil.
func nodeWithRole(c *appliance.Cluster, role appliance.Role, skip string) *appliance.Node {
	for i := range c.Nodes {
		if c.Nodes[i].Role == role && c.Nodes[i].Name != skip {
			return &c.Nodes[i]
		}
	}
	return nil
}

// checkUpgrade refuses an image that is not newer than the node's running
// version (S7) or does not support updating from it (S8).
func checkUpgrade(n *appliance.Node, m *appliance.Manifest) *api.Error {
	running, err := appliance.ParseVersion(n.Active.Version)
	if err != nil {
		return nil // a node with no readable version takes anything
	}
	if !running.Less(m.ParsedVersion()) {
		return unprocessable(api.CodeVersionNotNewer,
			"image version %s is not newer than version %s running on node %s: going back to an older version needs a re-image, not an update",
			m.Version, n.Active.Version, n.Name)
	}
	if !m.Supports(running) {
		e := unprocessable(api.CodeUnsupportedPath,
			"image %s does not support updating node %s from %s: it supports updating from %s",
			m.Version, n.Name, n.Active.Version, strings.Join(m.SupportedFrom, ", "))
		e.Details = map[string]any{"supported_from": m.SupportedFrom, "running": n.Active.Version}
		return e
	}
	return nil
}

// startStage writes an image into a node's alternate partition (S3, S4,
// S5). The node keeps serving; the alternate is unusable while written.
func (st *State) startStage(cs *clusterState, n *appliance.Node, im *imageRecord, now time.Time) (*taskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	if !n.State.Serving() {
		return nil, conflict("node %s is %s: it cannot stage now", n.Name, n.State)
	}
	if e := checkUpgrade(n, &im.Manifest); e != nil {
		return nil, e
	}
	t := st.newTask(cs, TaskStage, n.Name, now)
	t.Node, t.ImageID = n.Name, im.ID
	if n.Alternate.ImageID == im.ID && n.Alternate.Bootable {
		// Already there: staging again would only wipe it and write it back.
		st.succeed(cs, t, now, map[string]string{"image_id": im.ID, "version": im.Manifest.Version, "already": "true"})
		return t, nil
	}
	ni := cs.internal(n.Name)
	ni.Task = t.ID
	n.Alternate = appliance.Partition{} // being overwritten: no longer a rollback target
	ni.AlternateIrreversible = nil
	n.Staging = im.ID
	if p := primaryOf(&cs.Cluster); p != nil && p.Name != n.Name {
		st.event(cs, now, EventStageStarted, n.Name, "node %s fetches the package %s (%s) from primary %s and writes it to its alternate partition", n.Name, im.ID, im.Manifest.Version, p.Name)
	} else {
		st.event(cs, now, EventStageStarted, n.Name, "node %s writes image %s (%s) to its alternate partition; it keeps serving", n.Name, im.ID, im.Manifest.Version)
	}
	st.schedule(scaled(now, cs.Config.StageSeconds, st.slowFactor(cs.Cluster.Name, n.Name)), actStageDone, t, "", n.Name)
	return t, nil
}

func (st *State) stageDone(cs *clusterState, t *taskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.internal(t.Node)
	ni.Task = ""
	n.Staging = ""
	im := cs.image(t.ImageID)
	if im == nil {
		st.fail(cs, t, at, api.CodeNotFound, "image %s was deleted while it was being staged", t.ImageID)
		return
	}
	comps := map[string]string{}
	for _, c := range im.Manifest.Components {
		comps[c.Name] = im.Manifest.Version
	}
	n.Alternate = appliance.Partition{
		Version: im.Manifest.Version, ImageID: im.ID, Bootable: true,
		Components: comps, Description: im.Manifest.Description,
	}
	ni.AlternateIrreversible = append([]string(nil), im.Manifest.IrreversibleFeatures...)
	st.event(cs, at, EventImageStaged, n.Name, "node %s: alternate partition holds %s (%s)", n.Name, im.Manifest.Version, strings.Join(im.Manifest.ComponentNames(), ", "))
	st.succeed(cs, t, at, map[string]string{"image_id": im.ID, "version": im.Manifest.Version})
}

// seriesOf is the "major.minor" series of a version, as licenses name it.
func seriesOf(v appliance.Version) string {
	return appliance.Version{Major: v.Major, Minor: v.Minor}.String()
}

// checkActivationOrder enforces what the appliances themselves enforce
// when a node moves to a newer version: licenses (S10) and the role order
// of S11, S13 and S14. Rollbacks (to an older version) are not constrained.
func checkActivationOrder(cs *clusterState, n *appliance.Node) *api.Error {
	c := &cs.Cluster
	target, err := appliance.ParseVersion(n.Alternate.Version)
	if err != nil {
		return nil
	}
	running, err := appliance.ParseVersion(n.Active.Version)
	if err != nil || !running.Less(target) {
		return nil
	}
	if len(c.Licenses) > 0 && len(c.Nodes) >= c.LicenseMinNodes {
		licensed := false
		for _, l := range c.Licenses {
			if lv, err := appliance.ParseVersion(l); err == nil && lv.Major == target.Major && lv.Minor == target.Minor {
				licensed = true
			}
		}
		if !licensed {
			e := unprocessable(api.CodePreconditionFailed,
				"cluster %s has %d nodes and no license for the %s series: install the %s licenses before upgrading (installed: %s)",
				c.Name, len(c.Nodes), seriesOf(target), seriesOf(target), strings.Join(c.Licenses, ", "))
			e.Details = map[string]any{"required_license": seriesOf(target), "licenses": c.Licenses}
			return e
		}
	}
	ahead := func(other *appliance.Node, rule, why string) *api.Error {
		if other == nil {
			return nil
		}
		ov, err := appliance.ParseVersion(other.Active.Version)
		if err == nil && ov.Less(target) {
			return unprocessable(api.CodePreconditionFailed, "%s %s must run %s before node %s activates it (%s: %s)",
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

// startActivate reboots a node into its alternate partition.
func (st *State) startActivate(cs *clusterState, n *appliance.Node, req api.ActivateRequest, now time.Time) (*taskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	if !n.State.Serving() {
		return nil, conflict("node %s is %s: revert it or wait until it serves again", n.Name, n.State)
	}
	ni := cs.internal(n.Name)
	if n.Alternate.Version == "" {
		return nil, unprocessable(api.CodeNotStaged, "node %s has nothing staged in its alternate partition", n.Name)
	}
	if !n.Alternate.Bootable {
		return nil, unprocessable(api.CodeNotStaged,
			"the alternate partition of node %s (%s) cannot be booted: the active image %s has irreversible features (%s)",
			n.Name, n.Alternate.Version, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "))
	}
	if req.ExpectVersion != "" && !appliance.SameVersion(req.ExpectVersion, n.Alternate.Version) {
		return nil, conflict("node %s has %s in its alternate partition, not the expected %s", n.Name, n.Alternate.Version, req.ExpectVersion)
	}
	if e := checkActivationOrder(cs, n); e != nil {
		return nil, e
	}
	if e := st.checkSupercluster(cs, n.Alternate.Version); e != nil {
		return nil, e
	}
	t := st.newTask(cs, TaskActivate, n.Name, now)
	t.Node, t.AutoRevert, t.Phase = n.Name, req.AutoRevert, phaseSwap
	t.ImageID = n.Alternate.ImageID
	t.Fault = st.bootFault(cs.Cluster.Name, n.Name)
	t.Factor = st.slowFactor(cs.Cluster.Name, n.Name)
	if t.Fault != "" {
		st.event(cs, now, EventFault, n.Name, "injected fault %s strikes the activation of node %s", t.Fault, n.Name)
	}
	st.reboot(cs, n, t, now, "node %s reboots into its alternate partition (%s)", n.Name, n.Alternate.Version)
	return t, nil
}

// startRevert boots the other partition back (S21, manual back-out), or,
// on a node left down by a failed boot, boots its unchanged active partition.
func (st *State) startRevert(cs *clusterState, n *appliance.Node, now time.Time) (*taskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	ni := cs.internal(n.Name)
	t := func(phase string) *taskState {
		t := st.newTask(cs, TaskRevert, n.Name, now)
		t.Node, t.Phase = n.Name, phase
		t.Factor = st.slowFactor(cs.Cluster.Name, n.Name)
		return t
	}
	if n.State == appliance.NodeDown && ni.FailedBoot {
		tk := t(phaseSame)
		st.reboot(cs, n, tk, now, "node %s reboots into its active partition (%s) after a failed boot", n.Name, n.Active.Version)
		return tk, nil
	}
	if !n.State.Serving() {
		return nil, conflict("node %s is %s: it cannot revert now", n.Name, n.State)
	}
	if n.Alternate.Version == "" {
		return nil, unprocessable(api.CodeNotStaged, "node %s has no previous image in its alternate partition to roll back to", n.Name)
	}
	if !n.Alternate.Bootable {
		e := unprocessable(api.CodeIrreversibleFeature,
			"node %s cannot roll back to %s: %s has irreversible features (%s); going back needs a re-image",
			n.Name, n.Alternate.Version, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "))
		e.Details = map[string]any{"irreversible_features": ni.ActiveIrreversible}
		return nil, e
	}
	tk := t(phaseSwap)
	st.reboot(cs, n, tk, now, "node %s rolls back: reboots into its alternate partition (%s)", n.Name, n.Alternate.Version)
	return tk, nil
}

// reboot takes a node down for its reboot and arms the timer that ends it.
func (st *State) reboot(cs *clusterState, n *appliance.Node, t *taskState, now time.Time, format string, args ...any) {
	ni := cs.internal(n.Name)
	ni.Task = t.ID
	ni.FailedBoot = false
	ni.NotJoined = false // a reboot is the node's chance to rejoin (S22)
	n.State, n.Healthy, n.HealthySince = appliance.NodeRebooting, false, nil
	st.event(cs, now, EventNodeState, n.Name, format, args...)
	reboot := cs.Config.RebootSeconds
	if t.Fault == api.FaultNeverReturns {
		// The node never comes back; the appliance gives up after three
		// reboot times (S22: detected, not reported as success).
		st.schedule(scaled(now, 3*reboot, t.Factor), actNodeTimeout, t, "", n.Name)
		return
	}
	st.schedule(scaled(now, reboot, t.Factor), actBootDone, t, "", n.Name)
}

// swapPartitions makes the alternate partition active and the active one
// alternate; an active image with irreversible features makes the previous
// one unbootable (S9).
func swapPartitions(cs *clusterState, n *appliance.Node) {
	ni := cs.internal(n.Name)
	n.Active, n.Alternate = n.Alternate, n.Active
	ni.ActiveIrreversible, ni.AlternateIrreversible = ni.AlternateIrreversible, ni.ActiveIrreversible
	n.Active.Bootable = true
	if len(ni.ActiveIrreversible) > 0 && n.Alternate.Version != "" {
		n.Alternate.Bootable = false
	}
}

// comeBack puts a node back in service at at: settling first when the
// cluster re-forms after an update (S17), then running and healthy.
func (st *State) comeBack(cs *clusterState, n *appliance.Node, at time.Time, factor float64, settle bool) {
	if settle && cs.Cluster.SettleSeconds > 0 {
		n.State, n.Healthy = appliance.NodeSettling, false
		st.event(cs, at, EventNodeState, n.Name, "node %s is back on %s and settling: the cluster re-forms", n.Name, n.Active.Version)
		st.schedule(scaled(at, cs.Cluster.SettleSeconds, factor), actSettleDone, nil, cs.Cluster.Name, n.Name)
		return
	}
	since := at
	n.State, n.Healthy, n.HealthySince = appliance.NodeRunning, true, &since
	st.event(cs, at, EventNodeState, n.Name, "node %s is running %s", n.Name, n.Active.Version)
}

func (st *State) settleDone(cs *clusterState, node string, at time.Time) {
	n := cs.Cluster.Node(node)
	if n == nil || n.State != appliance.NodeSettling {
		return
	}
	since := at
	n.State, n.Healthy, n.HealthySince = appliance.NodeRunning, true, &since
	st.event(cs, at, EventNodeState, n.Name, "node %s has settled and is healthy on %s", n.Name, n.Active.Version)
}

// bootDone ends a reboot: what the node comes back on depends on the fault.
func (st *State) bootDone(cs *clusterState, t *taskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.internal(t.Node)
	old, target := n.Active.Version, n.Alternate.Version
	if t.Phase == phaseSame {
		ni.Task = ""
		st.comeBack(cs, n, at, t.Factor, false)
		st.succeed(cs, t, at, map[string]string{"version": n.Active.Version})
		return
	}
	switch t.Fault {
	case api.FaultBootFailure, api.FaultStorageFailure:
		code, what := api.CodeBootFailed, "failed to boot "+target
		if t.Fault == api.FaultStorageFailure {
			code, what = api.CodeStorageUpdateFailed, "booted "+target+" but its storage update failed"
		}
		// A storage failure is reverted by the appliance itself, with the
		// node (S19); a boot failure only when the request asked for it.
		if t.AutoRevert || t.Fault == api.FaultStorageFailure {
			st.event(cs, at, EventNodeState, n.Name, "node %s %s; reverting node and storage to %s", n.Name, what, old)
			t.Phase, t.Result = phaseRevert, map[string]string{"code": code, "what": what}
			st.schedule(scaled(at, cs.Config.RebootSeconds, t.Factor), actRevertDone, t, "", n.Name)
			return
		}
		ni.Task, ni.FailedBoot = "", true
		n.State, n.Healthy = appliance.NodeDown, false
		st.event(cs, at, EventNodeState, n.Name, "node %s %s and is down (no auto-revert): revert it to boot %s again", n.Name, what, old)
		st.fail(cs, t, at, code, "node %s %s; it is down on no partition (auto_revert off)", n.Name, what)
	case api.FaultReturnsOld:
		ni.Task = ""
		st.comeBack(cs, n, at, t.Factor, false)
		st.fail(cs, t, at, api.CodeWrongVersionAfterBoot, "node %s came back on %s instead of %s", n.Name, old, target)
	default:
		ni.Task = ""
		swapPartitions(cs, n)
		st.event(cs, at, EventPartitionSwap, n.Name, "node %s: active partition now %s, alternate %s", n.Name, n.Active.Version, n.Alternate.Version)
		if !n.Alternate.Bootable && n.Alternate.Version != "" {
			st.event(cs, at, EventPartitionSwap, n.Name, "node %s: %s has irreversible features (%s): %s can no longer be booted", n.Name, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "), n.Alternate.Version)
		}
		st.comeBack(cs, n, at, t.Factor, true)
		if t.Fault == api.FaultFewerMembers {
			ni.NotJoined = true
			st.event(cs, at, EventCluster, n.Name, "node %s is up but has not rejoined: the cluster reports fewer members", n.Name)
		}
		st.succeed(cs, t, at, map[string]string{"version": n.Active.Version, "previous_version": n.Alternate.Version})
	}
}

// revertDone ends the automatic revert of a failed activation (S18, S19):
// the node runs its old partition again, and the task fails.
func (st *State) revertDone(cs *clusterState, t *taskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	cs.internal(t.Node).Task = ""
	code, what := t.Result["code"], t.Result["what"]
	t.Result = map[string]string{"reverted": "true", "version": n.Active.Version}
	st.comeBack(cs, n, at, t.Factor, false)
	st.fail(cs, t, at, code, "node %s %s; it reverted to %s", n.Name, what, n.Active.Version)
	t.Error.Details = map[string]any{"reverted": true, "version": n.Active.Version}
}

// nodeTimeout gives up on a node that never came back (S22).
func (st *State) nodeTimeout(cs *clusterState, t *taskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.internal(t.Node)
	ni.Task, ni.FailedBoot = "", true
	n.State, n.Healthy = appliance.NodeDown, false
	st.event(cs, at, EventNodeState, n.Name, "node %s did not come back within %ds", n.Name, 3*cs.Config.RebootSeconds)
	st.fail(cs, t, at, api.CodeNodeTimeout, "node %s did not come back after its reboot into %s", n.Name, n.Alternate.Version)
}

// checkSupercluster refuses to activate, in a cluster that belongs to a
// supercluster, a version incompatible with another member cluster (S23):
// the cluster must leave first (S26), unless a maintenance window is open,
// in which all clusters are upgraded together (S25).
func (st *State) checkSupercluster(cs *clusterState, version string) *api.Error {
	name := cs.Cluster.Supercluster
	if name == "" || cs.Window != nil {
		return nil
	}
	v, err := appliance.ParseVersion(version)
	if err != nil {
		return nil
	}
	for _, o := range st.Clusters {
		if o == cs || o.Cluster.Supercluster != name {
			continue
		}
		for _, n := range o.Cluster.Nodes {
			if ov, err := appliance.ParseVersion(n.Active.Version); err == nil && !ov.CompatibleWith(v) {
				return unprocessable(api.CodePreconditionFailed,
					"%s is not compatible with %s on cluster %s of supercluster %s (S23: only patch releases are compatible): leave the supercluster first, or open a maintenance window on every cluster",
					version, n.Active.Version, o.Cluster.Name, name)
			}
		}
	}
	return nil
}
