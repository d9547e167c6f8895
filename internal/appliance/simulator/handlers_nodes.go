package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// started answers 202 with a task just created, after bringing the
// ledger and the cluster's health up to date with what the request changed.
func (t *tx) started(cs *clusterState, tk *taskState, e *api.Error) (int, any, error) {
	if e != nil {
		return 0, nil, e
	}
	t.dirty = true
	updateAvailability(cs, t.now)
	updateHealth(cs)
	return http.StatusAccepted, tk.view(t.now), nil
}

func (s *Server) stage(t *tx, r *http.Request, body []byte) (int, any, error) {
	var req api.StageRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	cs, n, err := t.nodeOf(r)
	if err != nil {
		return 0, nil, err
	}
	im := cs.image(req.ImageID)
	if im == nil {
		return 0, nil, unprocessable(api.CodeInvalidRequest, "cluster %s has no image %q", cs.Cluster.Name, req.ImageID)
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startStage(cs, n, im, t.now)
	return t.started(cs, tk, e)
}

func (s *Server) activate(t *tx, r *http.Request, body []byte) (int, any, error) {
	var req api.ActivateRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	cs, n, err := t.nodeOf(r)
	if err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startActivate(cs, n, req, t.now)
	return t.started(cs, tk, e)
}

func (s *Server) revert(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, n, err := t.nodeOf(r)
	if err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startRevert(cs, n, t.now)
	return t.started(cs, tk, e)
}

func (s *Server) promote(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, n, err := t.nodeOf(r)
	if err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startPromote(cs, n, t.now)
	return t.started(cs, tk, e)
}

func (s *Server) moveResource(t *tx, r *http.Request, body []byte) (int, any, error) {
	var req api.MoveResourceRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	res := resource(&cs.Cluster, r.PathValue("r"))
	if res == nil {
		return 0, nil, notFound("cluster %s has no resource %q", cs.Cluster.Name, r.PathValue("r"))
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startMove(cs, res, req.Node, t.now)
	return t.started(cs, tk, e)
}

func (s *Server) finalize(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.st.startFinalize(cs, t.now)
	return t.started(cs, tk, e)
}
