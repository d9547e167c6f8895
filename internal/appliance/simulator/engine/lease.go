package engine

import (
	"fmt"
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

// DefaultLeaseTTL applies when a request asks for none; MaxLeaseTTL bounds
// what a request may ask (a lease is a fence against crashed processes, not
// a reservation: an hour is more than any renewal interval needs).
const (
	DefaultLeaseTTL = api.DefaultLeaseTTLSeconds * time.Second
	MaxLeaseTTL     = api.MaxLeaseTTLSeconds * time.Second
)

// Crash adoption. A lease records its holder (owner and operation key),
// its expiry, its last renewal and the holder's renewal interval (its
// heartbeat). A request from another owner:
//
//   - with another operation key is refused with 409 lease_held naming the
//     holder, its operation and its expiry: another rollout is running;
//   - with the SAME operation key is the same intent re-applied (after a
//     crash, the operation key is derived from the intent, not from the
//     process). It adopts the lease when the holder has missed its
//     heartbeat: no renewal for longer than heartbeat_seconds. The adopter
//     gets a new lease id (so the predecessor, if it was only slow, is
//     fenced off) and the answer says adopted=true and names the previous
//     owner. Within the heartbeat the holder is taken to be alive and the
//     request is refused with 409 lease_held, saying when it may adopt.
//
// The same owner and operation key renew the lease (same id, new expiry).

// leaseBounds checks a request's TTL and heartbeat and applies defaults.
func leaseBounds(req api.LeaseRequest) (ttl, heartbeat time.Duration, err error) {
	if req.TTLSeconds < 0 || req.TTLSeconds > api.MaxLeaseTTLSeconds {
		return 0, 0, BadRequest("ttl_seconds must be from 1 to %d (an hour); 0 means the default, %d", api.MaxLeaseTTLSeconds, api.DefaultLeaseTTLSeconds)
	}
	ttl = time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	if req.HeartbeatSeconds < 0 || time.Duration(req.HeartbeatSeconds)*time.Second > ttl {
		return 0, 0, BadRequest("heartbeat_seconds must be from 1 to the lease's ttl (%d); 0 means a third of the ttl", int(ttl/time.Second))
	}
	heartbeat = time.Duration(req.HeartbeatSeconds) * time.Second
	if heartbeat == 0 {
		heartbeat = max(ttl/3, time.Second).Truncate(time.Second)
	}
	return ttl, heartbeat, nil
}

// AcquireLease takes, renews or adopts the cluster's lease.
func (t *Tx) AcquireLease(cs *ClusterState, req api.LeaseRequest) (api.Lease, error) {
	if req.Owner == "" {
		return api.Lease{}, BadRequest("owner is required")
	}
	ttl, heartbeat, err := leaseBounds(req)
	if err != nil {
		return api.Lease{}, err
	}
	now := WallNow().UTC()
	expires := now.Add(ttl)
	if l := t.liveLease(cs); l != nil {
		switch {
		case l.Owner == req.Owner && l.OperationKey == req.OperationKey:
			l.ExpiresAt, l.RenewedAt, l.HeartbeatSeconds = expires, now, int(heartbeat/time.Second) // renewal keeps the id
			t.Dirty = true
			UpdateHealth(cs)
			return *l, nil
		case l.OperationKey != req.OperationKey || req.OperationKey == "":
			return api.Lease{}, leaseHeld(l)
		}
		silent := now.Sub(l.RenewedAt)
		beat := time.Duration(l.HeartbeatSeconds) * time.Second
		if silent <= beat {
			e := leaseHeld(l)
			e.Message += fmt.Sprintf("; it was renewed %s ago, within its %s heartbeat: the same operation may adopt it once it misses its heartbeat", silent.Round(time.Second), beat)
			e.Details["renewed_at"] = l.RenewedAt.Format(time.RFC3339)
			e.Details["heartbeat_seconds"] = l.HeartbeatSeconds
			return api.Lease{}, e
		}
		prev := l.Owner
		cs.Lease = &api.Lease{ID: "lease-" + RandomID(8), Cluster: cs.Cluster.Name, Owner: req.Owner, OperationKey: req.OperationKey,
			ExpiresAt: expires, RenewedAt: now, HeartbeatSeconds: int(heartbeat / time.Second)}
		t.St.Event(cs, t.Now, EventLease, "", "lease of operation %s adopted by %s from %s, silent for %s (heartbeat %s)",
			req.OperationKey, req.Owner, prev, silent.Round(time.Second), beat)
		t.Dirty = true
		UpdateHealth(cs)
		out := *cs.Lease
		out.Adopted, out.PreviousOwner = true, prev
		return out, nil
	}
	cs.Lease = &api.Lease{ID: "lease-" + RandomID(8), Cluster: cs.Cluster.Name, Owner: req.Owner, OperationKey: req.OperationKey,
		ExpiresAt: expires, RenewedAt: now, HeartbeatSeconds: int(heartbeat / time.Second)}
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

// leaseHeld is the 409 answer naming the holder: its owner, its operation
// and when the lease expires.
func leaseHeld(l *api.Lease) *api.Error {
	e := APIError(http.StatusConflict, api.CodeLeaseHeld, "cluster %s is leased by %s (operation %s) until %s",
		l.Cluster, l.Owner, l.OperationKey, l.ExpiresAt.Format(time.RFC3339))
	e.Details = map[string]any{"owner": l.Owner, "operation_key": l.OperationKey, "expires_at": l.ExpiresAt.Format(time.RFC3339)}
	if !l.RenewedAt.IsZero() {
		// How long the holder has been silent, and how often it promised to
		// renew: a holder that missed its heartbeat is dead, and another
		// rollout may wait the little left of its lease instead of failing.
		e.Details["holder_silent_seconds"] = int(WallNow().Sub(l.RenewedAt) / time.Second)
		e.Details["holder_heartbeat_seconds"] = l.HeartbeatSeconds
	}
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
