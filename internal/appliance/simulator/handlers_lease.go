package simulator

import (
	"net/http"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// A lease id is a capability (it lets a request act on a leased cluster),
// so it appears in no event message: events are shown on the status page,
// which needs no token.
//
// Leases expire in wall-clock time, not simulated time: they protect
// against a crashed or concurrent process, whose pace is wall-clock
// whatever the time scale (at x1000 a 5-minute lease would otherwise last
// 0.3 s). ExpiresAt is therefore a wall-clock instant (UTC).

// defaultLeaseTTL applies when a request asks for none.
const defaultLeaseTTL = 5 * time.Minute

// wallNow is the wall clock of leases; a variable so that tests can move it.
var wallNow = time.Now

// liveLease returns the cluster's lease if it has not expired, dropping an
// expired one.
func (t *tx) liveLease(cs *clusterState) *api.Lease {
	if cs.Lease == nil {
		return nil
	}
	if !wallNow().Before(cs.Lease.ExpiresAt) {
		t.st.event(cs, t.now, EventLease, "", "lease of %s (operation %s) expired", cs.Lease.Owner, cs.Lease.OperationKey)
		cs.Lease = nil
		t.dirty = true
		return nil
	}
	return cs.Lease
}

// leaseHeld is the 409 answer naming the holder.
func leaseHeld(l *api.Lease) *api.Error {
	e := apiError(http.StatusConflict, api.CodeLeaseHeld, "cluster %s is leased by %s (operation %s) until %s",
		l.Cluster, l.Owner, l.OperationKey, l.ExpiresAt.Format(time.RFC3339))
	e.Details = map[string]any{"owner": l.Owner, "operation_key": l.OperationKey, "expires_at": l.ExpiresAt.Format(time.RFC3339)}
	return e
}

// requireLease refuses a mutating operation that does not run under the
// cluster's live lease. With no lease held, anyone may act (an operator by hand).
func (t *tx) requireLease(cs *clusterState, r *http.Request) error {
	l := t.liveLease(cs)
	if l == nil || r.Header.Get(api.HeaderLeaseID) == l.ID {
		return nil
	}
	return leaseHeld(l)
}

func (s *Server) acquireLease(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	var req api.LeaseRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if req.Owner == "" {
		return 0, nil, badRequest("owner is required")
	}
	if req.TTLSeconds < 0 {
		return 0, nil, badRequest("ttl_seconds must not be negative")
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = defaultLeaseTTL
	}
	expires := wallNow().Add(ttl).UTC()
	if l := t.liveLease(cs); l != nil {
		if l.Owner != req.Owner || l.OperationKey != req.OperationKey {
			return 0, nil, leaseHeld(l)
		}
		l.ExpiresAt = expires // renewal keeps the id
		t.dirty = true
		updateHealth(cs)
		return http.StatusOK, *l, nil
	}
	cs.Lease = &api.Lease{ID: "lease-" + randomID(8), Cluster: cs.Cluster.Name, Owner: req.Owner, OperationKey: req.OperationKey, ExpiresAt: expires}
	t.st.event(cs, t.now, EventLease, "", "lease taken by %s (operation %s)", req.Owner, req.OperationKey)
	t.dirty = true
	updateHealth(cs)
	return http.StatusOK, *cs.Lease, nil
}

func (s *Server) releaseLease(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	id := r.PathValue("id")
	l := t.liveLease(cs)
	if l == nil || l.ID != id {
		// Already released or expired: releasing is idempotent, so that
		// every exit path of a rollout may release without checking.
		return http.StatusNoContent, nil, nil
	}
	t.st.event(cs, t.now, EventLease, "", "lease released by %s (operation %s)", l.Owner, l.OperationKey)
	cs.Lease = nil
	t.dirty = true
	updateHealth(cs)
	return http.StatusNoContent, nil, nil
}
