package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// Leaser takes and gives back a cluster's rollout lease; every driver.Driver is one.
type Leaser interface {
	AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error)
	ReleaseLease(ctx context.Context, cluster, leaseID string) error
}

// LeaseTTL is how long a lease outlives a crashed holder for anyone else:
// another rollout (a staging, a different target) waits at most this long
// after a crash. It is renewed every half heartbeat, so it is short.
const LeaseTTL = 30 * time.Second

// LeaseHeartbeat is how often a holder renews its lease; one that stays
// silent for longer is taken to be dead. Liveness is the heartbeat: the
// same rollout applied again after a crash (same cluster, same target, so
// the same operation key) adopts the dead holder's lease as soon as the
// heartbeat is missed, within seconds, instead of waiting out LeaseTTL;
// a live holder keeps renewing and is never adopted.
const LeaseHeartbeat = 10 * time.Second

// leaseTTL and leaseHeartbeat are the constants, shortened by tests.
var (
	leaseTTL       = LeaseTTL
	leaseHeartbeat = LeaseHeartbeat
)

// WithLease runs fn while holding the cluster's rollout lease, renewing it in
// the background and releasing it on every exit path, so that two applies
// never roll the same cluster and a crash frees the cluster after LeaseTTL.
//
// A renewal that fails is tried again at the next tick: the rollout stops
// only when the lease is lost for certain (another holder has it) or when no
// renewal succeeded for so long that it may have expired. Each attempt is
// bounded by a renewal interval, so a hanging request cannot outlast the lease.
func WithLease(ctx context.Context, l Leaser, cluster, owner, operationKey string, fn func(ctx context.Context, leaseID string) error) error {
	ttl := leaseTTL
	req := driver.LeaseRequest{Owner: owner, OperationKey: operationKey, TTL: ttl, Heartbeat: leaseHeartbeat}
	lease, err := acquire(ctx, l, cluster, req)
	if err != nil {
		return fmt.Errorf("taking the rollout lease on cluster %s: %w", cluster, err)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		every := min(leaseHeartbeat/2, ttl/3)
		t := time.NewTicker(every)
		defer t.Stop()
		lastOK := time.Now()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			actx, cancel := context.WithTimeout(runCtx, every)
			_, err := l.AcquireLease(actx, cluster, req)
			cancel()
			switch {
			case err == nil:
				lastOK = time.Now()
			case runCtx.Err() != nil:
				return
			case isLeaseHeld(err):
				// Someone else holds it now: stop before racing them.
				stop(fmt.Errorf("lost the rollout lease on cluster %s: %w", cluster, err))
				return
			case time.Since(lastOK) >= ttl-every:
				// The lease may expire before the next attempt: stop while
				// it still fences us.
				stop(fmt.Errorf("could not renew the rollout lease on cluster %s for %s: %w", cluster, time.Since(lastOK).Round(time.Second), err))
				return
			}
		}
	}()
	err = fn(runCtx, lease.ID)
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(err, cause) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	stop(context.Canceled)
	<-renewed
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if rerr := l.ReleaseLease(relCtx, cluster, lease.ID); rerr != nil && err == nil {
		err = fmt.Errorf("releasing the rollout lease on cluster %s (it expires by itself in %s): %w", cluster, ttl, rerr)
	}
	return err
}

func isLeaseHeld(err error) bool { return driver.CodeOf(err) == driver.CodeLeaseHeld }

// acquire takes the lease. When the same operation holds it and renewed it
// within its heartbeat (a predecessor that crashed moments ago, or that is
// still alive), it tries again until the heartbeat has surely been missed:
// a dead holder is then adopted, a live one still refuses, and that
// refusal is returned. Another operation's lease is refused at once.
//
// A holder of another operation that has missed its heartbeat is dead (a
// staging or rollout killed moments ago): its lease is waited out, at most
// the TTL a lease may have, rather than refused. A live holder of another
// operation is refused at once, named.
func acquire(ctx context.Context, l Leaser, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	give := time.Now().Add(req.Heartbeat + req.Heartbeat/2)
	waitedDead := false
	for {
		lease, err := l.AcquireLease(ctx, cluster, req)
		if err == nil {
			return lease, nil
		}
		pause := min(time.Second, req.Heartbeat/4)
		switch until, dead := deadHolderUntil(err); {
		case sameOperationWithinHeartbeat(err) && time.Now().Before(give):
		case dead && !waitedDead && time.Until(until) <= 2*LeaseTTL:
			waitedDead = true // once: its lease cannot outlive its expiry
			pause = max(time.Until(until), 0) + 250*time.Millisecond
		default:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
	}
}

// deadHolderUntil: the refusal names a holder silent for longer than its
// heartbeat, and when its lease expires.
func deadHolderUntil(err error) (time.Time, bool) {
	var e *driver.Error
	if !errors.As(err, &e) || e.Code != driver.CodeLeaseHeld {
		return time.Time{}, false
	}
	silent, ok1 := number(e.Details["holder_silent_seconds"])
	beat, ok2 := number(e.Details["holder_heartbeat_seconds"])
	exp, _ := e.Details["expires_at"].(string)
	until, perr := time.Parse(time.RFC3339, exp)
	if !ok1 || !ok2 || beat <= 0 || silent <= beat || perr != nil {
		return time.Time{}, false
	}
	return until, true
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// sameOperationWithinHeartbeat: the refusal says the holder is of this
// very operation and renewed its lease within its heartbeat.
func sameOperationWithinHeartbeat(err error) bool {
	var e *driver.Error
	if !errors.As(err, &e) || e.Code != driver.CodeLeaseHeld {
		return false
	}
	_, ok := e.Details["heartbeat_seconds"]
	return ok
}
