package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// started answers 202 with a task just created, after bringing the
// ledger and the cluster's health up to date with what the request changed.
func started(t *engine.Tx, cs *engine.ClusterState, tk *engine.TaskState, e *api.Error) (int, any, error) {
	if e != nil {
		return 0, nil, e
	}
	t.Changed(cs)
	return http.StatusAccepted, tk.View(t.Now), nil
}

func (s *Server) stage(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var req api.StageRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	cs, n, err := nodeOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	im := cs.Image(req.ImageID)
	if im == nil {
		return 0, nil, engine.Unprocessable(api.CodeInvalidRequest, "cluster %s has no image %q", cs.Cluster.Name, req.ImageID)
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartStage(cs, n, im, t.Now)
	return started(t, cs, tk, e)
}

func (s *Server) activate(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var req api.ActivateRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	cs, n, err := nodeOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartActivate(cs, n, req, t.Now)
	return started(t, cs, tk, e)
}

func (s *Server) revert(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, n, err := nodeOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartRevert(cs, n, t.Now)
	return started(t, cs, tk, e)
}

func (s *Server) promote(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, n, err := nodeOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartPromote(cs, n, t.Now)
	return started(t, cs, tk, e)
}

func (s *Server) moveResource(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var req api.MoveResourceRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	res := engine.Resource(&cs.Cluster, r.PathValue("r"))
	if res == nil {
		return 0, nil, engine.NotFound("cluster %s has no resource %q", cs.Cluster.Name, r.PathValue("r"))
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartMove(cs, res, req.Node, t.Now)
	return started(t, cs, tk, e)
}

func (s *Server) finalize(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	tk, e := t.St.StartFinalize(cs, t.Now)
	return started(t, cs, tk, e)
}
