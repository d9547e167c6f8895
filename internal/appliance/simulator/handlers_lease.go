package simulator

import (
	"net/http"
	"strconv"

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

// requireLease lets a mutating request act only under the cluster's live
// lease, or with no lease held and none named (engine.Tx.RequireLease):
// the lease is the request's X-Lease-ID, its fencing token X-Lease-Generation.
func requireLease(t *engine.Tx, cs *engine.ClusterState, r *http.Request) error {
	var gen int64
	if g := r.Header.Get(api.HeaderLeaseGeneration); g != "" {
		v, err := strconv.ParseInt(g, 10, 64)
		if err != nil || v < 1 {
			return engine.BadRequest("%s must be the generation of the lease the request runs under (a whole number from 1), not %q", api.HeaderLeaseGeneration, g)
		}
		gen = v
	}
	return t.RequireLease(cs, r.Header.Get(api.HeaderLeaseID), gen)
}
