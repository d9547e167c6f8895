package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// Cluster operations: promote (S13), resource moves (S15), finalize (S16).

// StartPromote makes a standby node master; the old master becomes standby.
func (st *State) StartPromote(cs *ClusterState, n *appliance.Node, now time.Time) (*TaskState, *api.Error) {
	if n.Role != appliance.RoleStandby || nodeWithRole(&cs.Cluster, appliance.RoleMaster, n.Name) == nil {
		return nil, Unprocessable(api.CodePreconditionFailed, "node %s is %s: only a standby node of a cluster with a master can be promoted", n.Name, n.Role)
	}
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	if !n.State.Serving() {
		return nil, Conflict("node %s is %s: a node must serve to be promoted", n.Name, n.State)
	}
	t := st.NewTask(cs, TaskPromote, n.Name, now)
	t.Node = n.Name
	cs.Internal(n.Name).Task = t.ID
	st.Event(cs, now, EventRoleChange, n.Name, "node %s is being promoted to master", n.Name)
	st.schedule(Scaled(now, cs.Config.PromoteSeconds, 1), actPromoteDone, t, "", n.Name)
	return t, nil
}

func (st *State) promoteDone(cs *ClusterState, t *TaskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	cs.Internal(t.Node).Task = ""
	if !n.State.Serving() {
		st.Fail(cs, t, at, api.CodeConflict, "node %s stopped serving during its promotion", n.Name)
		return
	}
	old := nodeWithRole(&cs.Cluster, appliance.RoleMaster, n.Name)
	n.Role = appliance.RoleMaster
	res := map[string]string{"master": n.Name}
	if old != nil {
		old.Role = appliance.RoleStandby
		res["standby"] = old.Name
		st.Event(cs, at, EventRoleChange, n.Name, "node %s is master; %s is provisioned as standby", n.Name, old.Name)
	} else {
		st.Event(cs, at, EventRoleChange, n.Name, "node %s is master", n.Name)
	}
	st.succeed(cs, t, at, res)
}

// resource returns the named resource, or nil.
func Resource(c *appliance.Cluster, name string) *appliance.Resource {
	for i := range c.Resources {
		if c.Resources[i].Name == name {
			return &c.Resources[i]
		}
	}
	return nil
}

// StartMove fails a resource over to a node (S15): the source keeps
// serving until the target takes over.
func (st *State) StartMove(cs *ClusterState, r *appliance.Resource, target string, now time.Time) (*TaskState, *api.Error) {
	n := cs.Cluster.Node(target)
	if n == nil {
		return nil, Unprocessable(api.CodeInvalidRequest, "cluster %s has no node %q", cs.Cluster.Name, target)
	}
	if !r.CanRunOn(target) {
		return nil, Unprocessable(api.CodePreconditionFailed, "resource %s may not run on node %s (allowed: %s)", r.Name, target, strings.Join(r.AllowedNodes, ", "))
	}
	if !n.State.Serving() {
		return nil, Unprocessable(api.CodePreconditionFailed, "node %s is %s: resource %s cannot move to it", target, n.State, r.Name)
	}
	if r.State == appliance.ResourceMoving || r.State == appliance.ResourceUpgrade {
		return nil, Conflict("resource %s is %s", r.Name, r.State)
	}
	t := st.NewTask(cs, TaskMove, r.Name, now)
	t.Resource, t.Node = r.Name, target
	if r.State == appliance.ResourceOnline && r.CurrentNode == target {
		st.succeed(cs, t, now, map[string]string{"node": target})
		return t, nil
	}
	from := r.CurrentNode
	if from == "" {
		from = "(offline)"
	}
	r.State = appliance.ResourceMoving
	st.Event(cs, now, EventResourceState, "", "resource %s moving from %s to %s", r.Name, from, target)
	st.schedule(Scaled(now, cs.Config.MoveSeconds, 1), actMoveDone, t, "", target)
	return t, nil
}

func (st *State) moveDone(cs *ClusterState, t *TaskState, at time.Time) {
	r := Resource(&cs.Cluster, t.Resource)
	n := cs.Cluster.Node(t.Node)
	if r == nil {
		st.Fail(cs, t, at, api.CodeNotFound, "resource %s disappeared", t.Resource)
		return
	}
	if n == nil || !n.State.Serving() {
		if r.CurrentNode != "" {
			r.State = appliance.ResourceOnline
		} else {
			r.State = appliance.ResourceOffline
		}
		st.Fail(cs, t, at, api.CodeConflict, "node %s stopped serving: resource %s stays on %s", t.Node, r.Name, r.CurrentNode)
		return
	}
	from := r.CurrentNode
	r.CurrentNode, r.State = n.Name, appliance.ResourceOnline
	st.Event(cs, at, EventResourceMoved, n.Name, "resource %s online on %s (was on %s)", r.Name, n.Name, from)
	st.succeed(cs, t, at, map[string]string{"node": n.Name})
}

// StartFinalize runs the cluster-wide step after the last node (S16):
// shared-storage resources go to "upgrade" (offline, inside a declared
// window), the shared media is upgraded once, and they come back on their
// preferred nodes.
func (st *State) StartFinalize(cs *ClusterState, now time.Time) (*TaskState, *api.Error) {
	c := &cs.Cluster
	if !c.NeedsFinalize {
		return nil, Unprocessable(api.CodePreconditionFailed, "cluster %s has no finalize step", c.Name)
	}
	v, uniform := uniformVersion(c)
	if !uniform {
		return nil, Unprocessable(api.CodePreconditionFailed, "cluster %s runs mixed versions (%s): finalize runs after the last node is on the new version", c.Name, VersionsText(c))
	}
	for _, n := range c.Nodes {
		if !n.State.Serving() {
			return nil, Unprocessable(api.CodePreconditionFailed, "node %s is %s: finalize needs every node", n.Name, n.State)
		}
	}
	for _, r := range c.Resources {
		if r.State == appliance.ResourceMoving || r.State == appliance.ResourceUpgrade {
			return nil, Conflict("resource %s is %s", r.Name, r.State)
		}
	}
	t := st.NewTask(cs, TaskFinalize, c.Name, now)
	if rules.Same(cs.Finalized, v) {
		st.succeed(cs, t, now, map[string]string{"version": v, "already": "true"})
		return t, nil
	}
	SetWindow(cs, now, "finalize")
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.SharedStorage {
			r.State, r.CurrentNode = appliance.ResourceUpgrade, ""
			st.Event(cs, now, EventResourceState, "", "resource %s offline for the shared media upgrade", r.Name)
		}
	}
	st.Event(cs, now, EventFinalize, "", "finalize to %s: declared offline window opened", v)
	t.Result = map[string]string{"version": v}
	st.schedule(Scaled(now, cs.Config.FinalizeSeconds, 1), actFinalizeDone, t, "", "")
	return t, nil
}

func (st *State) finalizeDone(cs *ClusterState, t *TaskState, at time.Time) {
	c := &cs.Cluster
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.State != appliance.ResourceUpgrade {
			continue
		}
		home := ""
		for _, cand := range append([]string{r.PreferredNode}, c.NodeNames()...) {
			if n := c.Node(cand); n != nil && n.State.Serving() && r.CanRunOn(cand) {
				home = cand
				break
			}
		}
		if home == "" {
			r.State = appliance.ResourceOffline
			st.Event(cs, at, EventResourceState, "", "resource %s stays offline: no node may host it", r.Name)
			continue
		}
		r.State, r.CurrentNode = appliance.ResourceOnline, home
		st.Event(cs, at, EventResourceMoved, home, "resource %s back online on %s; its load script ran", r.Name, home)
	}
	updateAvailability(cs, at)
	SetWindow(cs, at, "")
	cs.Finalized = t.Result["version"]
	cs.Cluster.FinalizedVersion = cs.Finalized
	st.Event(cs, at, EventFinalize, "", "finalize to %s done: shared media upgraded once and refreshed on every node", cs.Finalized)
	st.succeed(cs, t, at, t.Result)
}

// VersionsText lists the nodes' versions, "n1=1.1, n2=1.0".
func VersionsText(c *appliance.Cluster) string {
	parts := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		parts = append(parts, fmt.Sprintf("%s=%s", n.Name, n.Active.Version))
	}
	return strings.Join(parts, ", ")
}
