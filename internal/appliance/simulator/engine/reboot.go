package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// The reboot state machine: a node goes down, comes back on the new
// partition, or fails in one of the ways of S18, S19 and S22.

// Phases of a reboot task.
const (
	PhaseSwap    = "swap"    // booting the alternate partition: partitions swap on success
	PhaseSame    = "same"    // booting the active partition again (recovery of a failed boot)
	PhaseRevert  = "revert"  // the automatic revert after a failed activation
	PhaseRunning = "running" // generic
)

// reboot takes a node down for its reboot and arms the timer that ends it.
func (st *State) reboot(cs *ClusterState, n *appliance.Node, t *TaskState, now time.Time, format string, args ...any) {
	ni := cs.Internal(n.Name)
	ni.Task = t.ID
	ni.FailedBoot = false
	ni.NotJoined = false // a reboot is the node's chance to rejoin (S22)
	n.State, n.Healthy, n.HealthySince = appliance.NodeRebooting, false, nil
	st.Event(cs, now, EventNodeState, n.Name, format, args...)
	reboot := cs.Config.RebootSeconds
	if t.Fault == api.FaultNeverReturns {
		// The node never comes back; the appliance gives up after three
		// reboot times (S22: detected, not reported as success).
		st.schedule(Scaled(now, 3*reboot, t.Factor), actNodeTimeout, t, "", n.Name)
		return
	}
	st.schedule(Scaled(now, reboot, t.Factor), actBootDone, t, "", n.Name)
}

// swapPartitions makes the alternate partition active and the active one
// alternate; an active image with irreversible features makes the previous
// one unbootable (S9).
func swapPartitions(cs *ClusterState, n *appliance.Node) {
	ni := cs.Internal(n.Name)
	n.Active, n.Alternate = n.Alternate, n.Active
	ni.ActiveIrreversible, ni.AlternateIrreversible = ni.AlternateIrreversible, ni.ActiveIrreversible
	n.Active.Bootable = true
	if n.Alternate.Version != "" && !rules.RollbackAllowed(ni.ActiveIrreversible, n.Active.Version, n.Alternate.Version) {
		n.Alternate.Bootable = false
	}
}

// comeBack puts a node back in service at at: settling first when the
// cluster re-forms after an update (S17), then running and healthy.
func (st *State) comeBack(cs *ClusterState, n *appliance.Node, at time.Time, factor float64, settle bool) {
	if settle && cs.Cluster.SettleSeconds > 0 {
		n.State, n.Healthy = appliance.NodeSettling, false
		st.Event(cs, at, EventNodeState, n.Name, "node %s is back on %s and settling: the cluster re-forms", n.Name, n.Active.Version)
		st.schedule(Scaled(at, cs.Cluster.SettleSeconds, factor), ActSettleDone, nil, cs.Cluster.Name, n.Name)
		return
	}
	since := at
	n.State, n.Healthy, n.HealthySince = appliance.NodeRunning, true, &since
	st.Event(cs, at, EventNodeState, n.Name, "node %s is running %s", n.Name, n.Active.Version)
}

// settleDone ends a node's settle time (S17): it reports healthy again.
func (st *State) settleDone(cs *ClusterState, node string, at time.Time) {
	n := cs.Cluster.Node(node)
	if n == nil || n.State != appliance.NodeSettling {
		return
	}
	since := at
	n.State, n.Healthy, n.HealthySince = appliance.NodeRunning, true, &since
	st.Event(cs, at, EventNodeState, n.Name, "node %s has settled and is healthy on %s", n.Name, n.Active.Version)
}

// bootDone ends a reboot: what the node comes back on depends on the fault.
func (st *State) bootDone(cs *ClusterState, t *TaskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.Internal(t.Node)
	old, target := n.Active.Version, n.Alternate.Version
	if t.Kind == TaskRevert && t.Fault == api.FaultRevertFailure {
		booting := target // a rollback boots the alternate partition
		if t.Phase == PhaseSame {
			booting = old // after a failed boot, the unchanged active one
		}
		st.revertFailed(cs, t, at, fmt.Sprintf("node %s failed to boot %s for its revert", n.Name, booting))
		return
	}
	if t.Phase == PhaseSame {
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
			st.Event(cs, at, EventNodeState, n.Name, "node %s %s; reverting node and storage to %s", n.Name, what, old)
			t.Phase, t.Result = PhaseRevert, map[string]string{"code": code, "what": what}
			if _, ok := st.TakeFault(api.FaultRevertFailure, cs.Cluster.Name, n.Name); ok {
				t.Result["revert_fails"] = "true"
				st.Event(cs, at, EventFault, n.Name, "injected fault %s strikes the revert of node %s", api.FaultRevertFailure, n.Name)
			}
			st.schedule(Scaled(at, cs.Config.RebootSeconds, t.Factor), actRevertDone, t, "", n.Name)
			return
		}
		ni.Task, ni.FailedBoot = "", true
		n.State, n.Healthy = appliance.NodeDown, false
		st.Event(cs, at, EventNodeState, n.Name, "node %s %s and is down (no auto-revert): revert it to boot %s again", n.Name, what, old)
		st.Fail(cs, t, at, code, "node %s %s; it is down on no partition (auto_revert off)", n.Name, what)
	case api.FaultReturnsOld:
		ni.Task = ""
		st.comeBack(cs, n, at, t.Factor, false)
		st.Fail(cs, t, at, api.CodeWrongVersionAfterBoot, "node %s came back on %s instead of %s", n.Name, old, target)
	default:
		ni.Task = ""
		swapPartitions(cs, n)
		st.Event(cs, at, EventPartitionSwap, n.Name, "node %s: active partition now %s, alternate %s", n.Name, n.Active.Version, n.Alternate.Version)
		if !n.Alternate.Bootable && n.Alternate.Version != "" {
			st.Event(cs, at, EventPartitionSwap, n.Name, "node %s: %s has irreversible features (%s): %s can no longer be booted", n.Name, n.Active.Version, strings.Join(ni.ActiveIrreversible, ", "), n.Alternate.Version)
		}
		st.comeBack(cs, n, at, t.Factor, true)
		if t.Fault == api.FaultFewerMembers {
			ni.NotJoined = true
			st.Event(cs, at, EventCluster, n.Name, "node %s is up but has not rejoined: the cluster reports fewer members", n.Name)
		}
		st.succeed(cs, t, at, map[string]string{"version": n.Active.Version, "previous_version": n.Alternate.Version})
	}
}

// revertDone ends the automatic revert of a failed activation (S18, S19):
// the node runs its old partition again, and the task fails.
func (st *State) revertDone(cs *ClusterState, t *TaskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	cs.Internal(t.Node).Task = ""
	code, what := t.Result["code"], t.Result["what"]
	if t.Result["revert_fails"] == "true" {
		st.revertFailed(cs, t, at, fmt.Sprintf("node %s %s, and its automatic revert to %s failed too", n.Name, what, n.Active.Version))
		return
	}
	t.Result = map[string]string{"reverted": "true", "version": n.Active.Version}
	st.comeBack(cs, n, at, t.Factor, false)
	st.Fail(cs, t, at, code, "node %s %s; it reverted to %s", n.Name, what, n.Active.Version)
	t.Error.Details = map[string]any{"reverted": true, "version": n.Active.Version}
}

// revertFailed ends a revert that did not boot (the revert_failure
// fault): the node is down on no partition, and the task fails with its
// own code, claiming nothing about the version the node runs. A later
// revert boots its (unchanged) active partition again.
func (st *State) revertFailed(cs *ClusterState, t *TaskState, at time.Time, what string) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.Internal(t.Node)
	ni.Task, ni.FailedBoot = "", true
	n.State, n.Healthy, n.HealthySince = appliance.NodeDown, false, nil
	t.Result = nil
	st.Event(cs, at, EventNodeState, n.Name, "%s: it is down", what)
	st.Fail(cs, t, at, api.CodeRevertFailed, "%s: it is down on no partition; revert it again or re-image it", what)
	t.Error.Details = map[string]any{"reverted": false, "node_state": string(appliance.NodeDown)}
}

// nodeTimeout gives up on a node that never came back (S22).
func (st *State) nodeTimeout(cs *ClusterState, t *TaskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.Internal(t.Node)
	ni.Task, ni.FailedBoot = "", true
	n.State, n.Healthy = appliance.NodeDown, false
	st.Event(cs, at, EventNodeState, n.Name, "node %s did not come back within %ds", n.Name, 3*cs.Config.RebootSeconds)
	st.Fail(cs, t, at, api.CodeNodeTimeout, "node %s did not come back after its reboot into %s", n.Name, n.Alternate.Version)
}
