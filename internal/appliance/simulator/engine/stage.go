package engine

import (
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// Staging: writing an image into a node's alternate partition (S3-S5),
// with the per-node checks of S7 and S8.

// busy refuses an operation on a node that a task owns.
func busy(cs *ClusterState, node string) *api.Error {
	if id := cs.Internal(node).Task; id != "" {
		return Conflict("node %s is busy with task %s", node, id)
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
	switch rules.UpdateVerdict(n.Active.Version, m.Version, m.SupportedFrom) {
	case rules.Unreadable, rules.Allowed:
		// A node with no readable version takes anything.
		return nil
	case rules.NotNewer:
		return Unprocessable(api.CodeVersionNotNewer,
			"image version %s is not newer than version %s running on node %s: going back to an older version needs a re-image, not an update",
			m.Version, n.Active.Version, n.Name)
	default: // rules.UnsupportedPath
		e := Unprocessable(api.CodeUnsupportedPath,
			"image %s does not support updating node %s from %s: it supports updating from %s",
			m.Version, n.Name, n.Active.Version, strings.Join(m.SupportedFrom, ", "))
		e.Details = map[string]any{"supported_from": m.SupportedFrom, "running": n.Active.Version}
		return e
	}
}

// StartStage writes an image into a node's alternate partition (S3, S4,
// S5). The node keeps serving; the alternate is unusable while written.
func (st *State) StartStage(cs *ClusterState, n *appliance.Node, im *ImageRecord, now time.Time) (*TaskState, *api.Error) {
	if e := busy(cs, n.Name); e != nil {
		return nil, e
	}
	if !n.State.Serving() {
		return nil, Conflict("node %s is %s: it cannot stage now", n.Name, n.State)
	}
	if e := checkUpgrade(n, &im.Manifest); e != nil {
		return nil, e
	}
	t := st.NewTask(cs, TaskStage, n.Name, now)
	t.Node, t.ImageID = n.Name, im.ID
	if n.Alternate.ImageID == im.ID && n.Alternate.Bootable {
		// Already there: staging again would only wipe it and write it back.
		st.succeed(cs, t, now, map[string]string{"image_id": im.ID, "version": im.Manifest.Version, "already": "true"})
		return t, nil
	}
	ni := cs.Internal(n.Name)
	ni.Task = t.ID
	n.Alternate = appliance.Partition{} // being overwritten: no longer a rollback target
	ni.AlternateIrreversible = nil
	n.Staging = im.ID
	if p := primaryOf(&cs.Cluster); p != nil && p.Name != n.Name {
		st.Event(cs, now, EventStageStarted, n.Name, "node %s fetches the package %s (%s) from primary %s and writes it to its alternate partition", n.Name, im.ID, im.Manifest.Version, p.Name)
	} else {
		st.Event(cs, now, EventStageStarted, n.Name, "node %s writes image %s (%s) to its alternate partition; it keeps serving", n.Name, im.ID, im.Manifest.Version)
	}
	st.schedule(Scaled(now, cs.Config.StageSeconds, st.slowFactor(cs.Cluster.Name, n.Name)), actStageDone, t, "", n.Name)
	return t, nil
}

// stageDone ends a stage: the alternate partition now shows the image (S4).
func (st *State) stageDone(cs *ClusterState, t *TaskState, at time.Time) {
	n := cs.Cluster.Node(t.Node)
	ni := cs.Internal(t.Node)
	ni.Task = ""
	n.Staging = ""
	im := cs.Image(t.ImageID)
	if im == nil {
		st.Fail(cs, t, at, api.CodeNotFound, "image %s was deleted while it was being staged", t.ImageID)
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
	st.Event(cs, at, EventImageStaged, n.Name, "node %s: alternate partition holds %s (%s)", n.Name, im.Manifest.Version, strings.Join(im.Manifest.ComponentNames(), ", "))
	st.succeed(cs, t, at, map[string]string{"image_id": im.ID, "version": im.Manifest.Version})
}
