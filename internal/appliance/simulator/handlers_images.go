package simulator

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

// verifyBundle checks a bundle stream and returns its manifest; a variable
// so that the verification is the bundle package's, in one place.
var verifyBundle = bundle.Verify

func (s *Server) listImages(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	out := api.ImageList{Images: []api.Image{}}
	for _, im := range cs.Images {
		out.Images = append(out.Images, im.Image)
	}
	return http.StatusOK, out, nil
}

func (s *Server) getImage(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	im := cs.image(r.PathValue("id"))
	if im == nil {
		return 0, nil, notFound("cluster %s has no image %q", cs.Cluster.Name, r.PathValue("id"))
	}
	return http.StatusOK, im.Image, nil
}

func (s *Server) deleteImage(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("id")
	im := cs.image(id)
	if im == nil {
		return 0, nil, notFound("cluster %s has no image %q", cs.Cluster.Name, id)
	}
	for _, n := range cs.Cluster.Nodes {
		if n.Staging == id {
			return 0, nil, conflict("image %s is being staged on node %s", id, n.Name)
		}
	}
	kept := cs.Images[:0]
	for _, x := range cs.Images {
		if x.ID != id {
			kept = append(kept, x)
		}
	}
	cs.Images = kept
	t.st.event(cs, t.now, EventImageDeleted, "", "image %s (%s) deleted; partitions that hold it keep it", id, im.Manifest.Version)
	t.dirty = true
	return http.StatusNoContent, nil, nil
}

// imageID is derived from the content, so that the same bundle gets the
// same id on every cluster and every upload.
func imageID(sha string) string { return "img-" + sha[:12] }

// validateImage refuses an image that no node could take (S7) or that
// some node needing it cannot update to (S8).
func validateImage(c *appliance.Cluster, m *appliance.Manifest) *api.Error {
	v := m.ParsedVersion()
	var newer []appliance.Node
	for _, n := range c.Nodes {
		rv, err := appliance.ParseVersion(n.Active.Version)
		if err != nil || rv.Less(v) {
			newer = append(newer, n)
		}
	}
	if len(newer) == 0 {
		low := c.LowestVersion()
		e := unprocessable(api.CodeVersionNotNewer,
			"image version %s is not newer than running version %s: going back to an older version needs a re-image, not an update",
			m.Version, low)
		e.Details = map[string]any{"image_version": m.Version, "running_version": low}
		return e
	}
	var bad []string
	for _, n := range newer {
		if rv, err := appliance.ParseVersion(n.Active.Version); err == nil && !m.Supports(rv) {
			bad = append(bad, fmt.Sprintf("%s runs %s", n.Name, n.Active.Version))
		}
	}
	if len(bad) > 0 {
		e := unprocessable(api.CodeUnsupportedPath,
			"image %s does not support updating from the running version (%s): it supports updating from %s",
			m.Version, strings.Join(bad, ", "), strings.Join(m.SupportedFrom, ", "))
		e.Details = map[string]any{"supported_from": m.SupportedFrom, "image_version": m.Version, "running_version": c.LowestVersion()}
		return e
	}
	return nil
}

// addImage records a verified image, or returns the one with the same
// sha256 (created=false).
func (t *tx) addImage(cs *clusterState, m *appliance.Manifest, sha string, size int64, source string) (*imageRecord, bool, *api.Error) {
	if im := cs.imageBySHA(sha); im != nil {
		return im, false, nil
	}
	if e := validateImage(&cs.Cluster, m); e != nil {
		return nil, false, e
	}
	im := &imageRecord{Image: api.Image{
		ID: imageID(sha), Cluster: cs.Cluster.Name, Manifest: *m, SHA256: sha,
		SizeBytes: size, Source: source, CreatedAt: t.now,
	}}
	cs.Images = append(cs.Images, im)
	t.st.event(cs, t.now, EventImageAdded, "", "image %s (%s, %d bytes) added from %s", im.ID, m.Version, size, source)
	t.dirty = true
	return im, true, nil
}

// diskFull checks the injected fault and the image store's capacity.
func (t *tx) diskFull(cs *clusterState, size int64) *api.Error {
	if _, ok := t.st.takeFault(api.FaultDiskFull, cs.Cluster.Name, ""); ok {
		t.dirty = true
		return apiError(http.StatusInsufficientStorage, api.CodeDiskFull, "cluster %s has no room for the image (injected fault)", cs.Cluster.Name)
	}
	return capacity(cs, size)
}

// capacity checks that the image store has room for size more bytes.
func capacity(cs *clusterState, size int64) *api.Error {
	if cs.Config.DiskBytes > 0 && size > 0 {
		var used int64
		for _, im := range cs.Images {
			used += im.SizeBytes
		}
		if used+size > cs.Config.DiskBytes {
			return apiError(http.StatusInsufficientStorage, api.CodeDiskFull, "cluster %s has %d bytes free for images, the image needs %d", cs.Cluster.Name, cs.Config.DiskBytes-used, size)
		}
	}
	return nil
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}
