package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func (s *Server) acquireLease(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	var req api.LeaseRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	l, err := t.AcquireLease(cs, req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l, nil
}

func (s *Server) releaseLease(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	t.ReleaseLease(cs, r.PathValue("id"))
	return http.StatusNoContent, nil, nil
}
