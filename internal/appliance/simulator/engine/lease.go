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
		t.endLease(cs, "taken over by "+req.Owner+" after it missed its heartbeat")
		cs.Lease = t.newLease(cs, req, expires, now, heartbeat)
		t.St.Event(cs, t.Now, EventLease, "", "lease of operation %s adopted by %s from %s, silent for %s (heartbeat %s)",
			req.OperationKey, req.Owner, prev, silent.Round(time.Second), beat)
		t.Dirty = true
		UpdateHealth(cs)
		out := *cs.Lease
		out.Adopted, out.PreviousOwner = true, prev
		return out, nil
	}
	cs.Lease = t.newLease(cs, req, expires, now, heartbeat)
	t.St.Event(cs, t.Now, EventLease, "", "lease taken by %s (operation %s, generation %d)", req.Owner, req.OperationKey, cs.Lease.Generation)
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
	t.St.Event(cs, t.Now, EventLease, "", "lease released by %s (operation %s, generation %d)", l.Owner, l.OperationKey, l.Generation)
	t.endLease(cs, "released")
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
		t.St.Event(cs, t.Now, EventLease, "", "lease of %s (operation %s, generation %d) expired", cs.Lease.Owner, cs.Lease.OperationKey, cs.Lease.Generation)
		t.endLease(cs, "expired at "+cs.Lease.ExpiresAt.Format(time.RFC3339)+" without a renewal")
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

// EndedLease is what the cluster remembers of its last lease that is gone.
type EndedLease struct {
	ID         string `json:"id"`
	Generation int64  `json:"generation"`
	Owner      string `json:"owner"`
	How        string `json:"how"` // "released", "expired at ...", "taken over by ..."
}

// newLease grants a lease under the cluster's next generation.
func (t *Tx) newLease(cs *ClusterState, req api.LeaseRequest, expires, now time.Time, heartbeat time.Duration) *api.Lease {
	cs.LeaseGeneration++
	return &api.Lease{ID: "lease-" + RandomID(8), Cluster: cs.Cluster.Name, Owner: req.Owner, OperationKey: req.OperationKey,
		ExpiresAt: expires, RenewedAt: now, HeartbeatSeconds: int(heartbeat / time.Second), Generation: cs.LeaseGeneration}
}

// endLease remembers how the live lease ended (called just before it goes).
func (t *Tx) endLease(cs *ClusterState, how string) {
	l := cs.Lease
	cs.LastLease = &EndedLease{ID: l.ID, Generation: l.Generation, Owner: l.Owner, How: how}
}

// RequireLease refuses a mutating operation that may not act on the
// cluster now. leaseID and generation are the request's X-Lease-ID and
// X-Lease-Generation (0 when not sent).
//
//   - With no lease held and none named, anyone may act (an operator by hand).
//   - A request that names no lease while one is live is refused with 409
//     lease_held, naming the holder.
//   - A request under a lease (fencing): the lease must be the cluster's
//     live one, by id and, when sent, by generation. One that expired, was
//     released or was taken over is refused with 409 lease_lost, even when
//     no lease is held now: its holder may be a process that stalled past
//     its lease (a starved scheduler, a paused VM) and still believes it
//     holds it, while another operation may already have taken the cluster
//     or may take it at any moment. Letting it act would have two
//     operations change one cluster at once.
func (t *Tx) RequireLease(cs *ClusterState, leaseID string, generation int64) error {
	l := t.liveLease(cs)
	if leaseID == "" && generation == 0 {
		if l == nil {
			return nil
		}
		return leaseHeld(l)
	}
	if l != nil && leaseID == l.ID && (generation == 0 || generation == l.Generation) {
		return nil
	}
	return t.leaseLost(cs, l, leaseID, generation)
}

// leaseLost is the 409 answer to a request under a lease that is not the
// cluster's live one: what became of it, and who holds the cluster now.
func (t *Tx) leaseLost(cs *ClusterState, live *api.Lease, leaseID string, generation int64) *api.Error {
	what := "the lease this request runs under"
	if generation != 0 {
		what = fmt.Sprintf("the lease this request runs under (generation %d)", generation)
	}
	why := "is not the cluster's lease"
	if ll := cs.LastLease; ll != nil && (ll.ID == leaseID || (generation != 0 && ll.Generation == generation)) {
		why = fmt.Sprintf("of %s %s", ll.Owner, ll.How)
	} else if live != nil && generation != 0 && generation < live.Generation {
		why = "is an older lease than the cluster's"
	}
	now := fmt.Sprintf("no lease is held now (the last one granted was generation %d)", cs.LeaseGeneration)
	details := map[string]any{"cluster_generation": cs.LeaseGeneration}
	if generation != 0 {
		details["request_generation"] = generation
	}
	if live != nil {
		now = fmt.Sprintf("the cluster is leased by %s (operation %s, generation %d) until %s", live.Owner, live.OperationKey, live.Generation, live.ExpiresAt.Format(time.RFC3339))
		details["owner"], details["operation_key"], details["expires_at"] = live.Owner, live.OperationKey, live.ExpiresAt.Format(time.RFC3339)
	}
	e := APIError(http.StatusConflict, api.CodeLeaseLost, "cluster %s refused the request: %s %s, and %s. Nothing was changed: an operation whose lease is gone must stop, so that two operations never change one cluster at once; apply again to take a new lease",
		cs.Cluster.Name, what, why, now)
	e.Details = details
	return e
}
