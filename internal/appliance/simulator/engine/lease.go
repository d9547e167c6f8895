package engine

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

// DefaultLeaseTTL applies when a request asks for none.
const DefaultLeaseTTL = 5 * time.Minute

// liveLease returns the cluster's lease if it has not expired, dropping an
// expired one.
func (t *Tx) liveLease(cs *ClusterState) *api.Lease {
	if cs.Lease == nil {
		return nil
	}
	if !WallNow().Before(cs.Lease.ExpiresAt) {
		t.St.Event(cs, t.Now, EventLease, "", "lease of %s (operation %s) expired", cs.Lease.Owner, cs.Lease.OperationKey)
		cs.Lease = nil
		t.Dirty = true
		return nil
	}
	return cs.Lease
}

// leaseHeld is the 409 answer naming the holder.
func leaseHeld(l *api.Lease) *api.Error {
	e := APIError(http.StatusConflict, api.CodeLeaseHeld, "cluster %s is leased by %s (operation %s) until %s",
		l.Cluster, l.Owner, l.OperationKey, l.ExpiresAt.Format(time.RFC3339))
	e.Details = map[string]any{"owner": l.Owner, "operation_key": l.OperationKey, "expires_at": l.ExpiresAt.Format(time.RFC3339)}
	return e
}

// RequireLease refuses a mutating operation that does not run under the
// cluster's live lease (leaseID is the request's X-Lease-ID). With no lease
// held, anyone may act (an operator by hand).
func (t *Tx) RequireLease(cs *ClusterState, leaseID string) error {
	l := t.liveLease(cs)
	if l == nil || leaseID == l.ID {
		return nil
	}
	return leaseHeld(l)
}

// AcquireLease takes or renews the cluster's lease.
func (t *Tx) AcquireLease(cs *ClusterState, req api.LeaseRequest) (api.Lease, error) {
	if req.Owner == "" {
		return api.Lease{}, BadRequest("owner is required")
	}
	if req.TTLSeconds < 0 {
		return api.Lease{}, BadRequest("ttl_seconds must not be negative")
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	expires := WallNow().Add(ttl).UTC()
	if l := t.liveLease(cs); l != nil {
		if l.Owner != req.Owner || l.OperationKey != req.OperationKey {
			return api.Lease{}, leaseHeld(l)
		}
		l.ExpiresAt = expires // renewal keeps the id
		t.Dirty = true
		UpdateHealth(cs)
		return *l, nil
	}
	cs.Lease = &api.Lease{ID: "lease-" + RandomID(8), Cluster: cs.Cluster.Name, Owner: req.Owner, OperationKey: req.OperationKey, ExpiresAt: expires}
	t.St.Event(cs, t.Now, EventLease, "", "lease taken by %s (operation %s)", req.Owner, req.OperationKey)
	t.Dirty = true
	UpdateHealth(cs)
	return *cs.Lease, nil
}

// ReleaseLease drops the lease with id. Releasing is idempotent (an
// already released or expired lease is no error), so that every exit path
// of a rollout may release without checking.
func (t *Tx) ReleaseLease(cs *ClusterState, id string) {
	l := t.liveLease(cs)
	if l == nil || l.ID != id {
		return
	}
	t.St.Event(cs, t.Now, EventLease, "", "lease released by %s (operation %s)", l.Owner, l.OperationKey)
	cs.Lease = nil
	t.Dirty = true
	UpdateHealth(cs)
}
