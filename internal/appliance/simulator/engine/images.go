package engine

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// imageID is derived from the content, so that the same bundle gets the
// same id on every cluster and every upload.
func imageID(sha string) string { return "img-" + sha[:12] }

// validateImage refuses an image that no node could take (S7) or that
// some node needing it cannot update to (S8).
func validateImage(c *appliance.Cluster, m *appliance.Manifest) *api.Error {
	var newer []appliance.Node
	for _, n := range c.Nodes {
		if _, err := rules.Parse(n.Active.Version); err != nil || older(n.Active.Version, m.Version) {
			newer = append(newer, n)
		}
	}
	if len(newer) == 0 {
		low := lowestVersion(c)
		e := Unprocessable(api.CodeVersionNotNewer,
			"image version %s is not newer than running version %s: going back to an older version needs a re-image, not an update",
			m.Version, low)
		e.Details = map[string]any{"image_version": m.Version, "running_version": low}
		return e
	}
	var bad []string
	for _, n := range newer {
		if rules.UpdateVerdict(n.Active.Version, m.Version, m.SupportedFrom) == rules.UnsupportedPath {
			bad = append(bad, fmt.Sprintf("%s runs %s", n.Name, n.Active.Version))
		}
	}
	if len(bad) > 0 {
		e := Unprocessable(api.CodeUnsupportedPath,
			"image %s does not support updating from the running version (%s): it supports updating from %s",
			m.Version, strings.Join(bad, ", "), strings.Join(m.SupportedFrom, ", "))
		e.Details = map[string]any{"supported_from": m.SupportedFrom, "image_version": m.Version, "running_version": lowestVersion(c)}
		return e
	}
	return nil
}

// AddImage records a verified image, or returns the one with the same
// sha256 (created=false).
func (t *Tx) AddImage(cs *ClusterState, m *appliance.Manifest, sha string, size int64, source string) (*ImageRecord, bool, *api.Error) {
	if im := cs.ImageBySHA(sha); im != nil {
		return im, false, nil
	}
	// An image a partition already holds (its record deleted out of band)
	// is taken back as it is: it is no update, so it is not judged as one.
	if !installed(&cs.Cluster, imageID(sha)) {
		if e := validateImage(&cs.Cluster, m); e != nil {
			return nil, false, e
		}
	}
	im := &ImageRecord{Image: api.Image{
		ID: imageID(sha), Cluster: cs.Cluster.Name, Manifest: *m, SHA256: sha,
		SizeBytes: size, Source: source, CreatedAt: t.Now,
	}}
	cs.Images = append(cs.Images, im)
	t.St.Event(cs, t.Now, EventImageAdded, "", "image %s (%s, %d bytes) added from %s", im.ID, m.Version, size, source)
	t.Dirty = true
	return im, true, nil
}

// installed reports whether a node's active or alternate partition holds
// the image with this id.
func installed(c *appliance.Cluster, id string) bool {
	for _, n := range c.Nodes {
		if n.Active.ImageID == id || n.Alternate.ImageID == id {
			return true
		}
	}
	return false
}

// DeleteImage removes an image from the cluster's store; partitions that
// hold it keep it.
func (t *Tx) DeleteImage(cs *ClusterState, id string) *api.Error {
	im := cs.Image(id)
	if im == nil {
		return NotFound("cluster %s has no image %q", cs.Cluster.Name, id)
	}
	for _, n := range cs.Cluster.Nodes {
		if n.Staging == id {
			return Conflict("image %s is being staged on node %s", id, n.Name)
		}
	}
	kept := cs.Images[:0]
	for _, x := range cs.Images {
		if x.ID != id {
			kept = append(kept, x)
		}
	}
	cs.Images = kept
	t.St.Event(cs, t.Now, EventImageDeleted, "", "image %s (%s) deleted; partitions that hold it keep it", id, im.Manifest.Version)
	t.Dirty = true
	return nil
}

// DiskFull checks the injected fault and the image store's capacity.
func (t *Tx) DiskFull(cs *ClusterState, size int64) *api.Error {
	if _, ok := t.St.TakeFault(api.FaultDiskFull, cs.Cluster.Name, ""); ok {
		t.Dirty = true
		return APIError(http.StatusInsufficientStorage, api.CodeDiskFull, "cluster %s has no room for the image (injected fault)", cs.Cluster.Name)
	}
	return Capacity(cs, size)
}

// Capacity checks that the image store has room for size more bytes.
func Capacity(cs *ClusterState, size int64) *api.Error {
	if cs.Config.DiskBytes > 0 && size > 0 {
		var used int64
		for _, im := range cs.Images {
			used += im.SizeBytes
		}
		if used+size > cs.Config.DiskBytes {
			return APIError(http.StatusInsufficientStorage, api.CodeDiskFull, "cluster %s has %d bytes free for images, the image needs %d", cs.Cluster.Name, cs.Config.DiskBytes-used, size)
		}
	}
	return nil
}
