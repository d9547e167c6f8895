package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// verifyBundle checks a bundle stream and returns its manifest, sha256 and
// size from one read; the verification is the bundle package's, in one
// place.
var verifyBundle = bundle.VerifyStream

func (s *Server) listImages(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	out := api.ImageList{Images: []api.Image{}}
	for _, im := range cs.Images {
		out.Images = append(out.Images, im.Image)
	}
	return http.StatusOK, out, nil
}

func (s *Server) getImage(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	im := cs.Image(r.PathValue("id"))
	if im == nil {
		return 0, nil, engine.NotFound("cluster %s has no image %q", cs.Cluster.Name, r.PathValue("id"))
	}
	return http.StatusOK, im.Image, nil
}

func (s *Server) deleteImage(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	if e := t.DeleteImage(cs, r.PathValue("id")); e != nil {
		return 0, nil, e
	}
	return http.StatusNoContent, nil, nil
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}
