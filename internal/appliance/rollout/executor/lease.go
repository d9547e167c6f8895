package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	every := min(leaseHeartbeat/2, ttl/3)
	req := driver.LeaseRequest{Owner: owner, OperationKey: operationKey, TTL: ttl, Heartbeat: leaseHeartbeat}
	lease, sent, err := acquire(ctx, l, cluster, req)
	if err != nil {
		return fmt.Errorf("taking the rollout lease on cluster %s: %w", cluster, err)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	// The lease as this process's own monotonic clock sees it: whatever
	// the cluster says, no action starts once the lease may have expired
	// (a renewal interval before TTL after the last renewal that was sent
	// and answered), and the run is stopped then.
	clock := newLeaseClock(cluster, ttl, every, stop)
	clock.renewed(sent)
	defer clock.close()
	runCtx = context.WithValue(runCtx, leaseClockKey{}, clock)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
			}
			actx, cancel := context.WithTimeout(runCtx, every)
			sent := time.Now()
			got, err := l.AcquireLease(actx, cluster, req)
			cancel()
			switch {
			case err == nil && got != nil && got.ID != "" && got.ID != lease.ID:
				// The lease expired before this renewal reached the
				// cluster, and the renewal took a new one: whatever ran
				// under the old one may have met another operation.
				stop(&driver.Error{Code: driver.CodeLeaseLost, Message: fmt.Sprintf("the rollout lease on cluster %s expired before it was renewed (the renewal got a new lease): the rollout stopped rather than go on under a lease it lost", cluster)})
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), every)
				_ = l.ReleaseLease(rctx, cluster, got.ID)
				rcancel()
				return
			case err == nil:
				clock.renewed(sent)
				continue
			case runCtx.Err() != nil:
				return
			case isLeaseHeld(err):
				// Someone else holds it now: stop before racing them.
				stop(fmt.Errorf("lost the rollout lease on cluster %s: %w", cluster, err))
				return
			}
			clock.failed(err)
			if clock.expiresWithin(0) {
				// The lease may expire before the next attempt: stop while
				// it still fences us.
				stop(fmt.Errorf("could not renew the rollout lease on cluster %s for %s: %w", cluster, clock.sinceRenewal().Round(time.Second), err))
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

// leaseClock is a holder's own account of its lease, on its monotonic
// clock. A holder that was starved (a loaded scheduler, a paused process,
// a renewal stuck in a call that does not return) may wake up after its
// lease expired and another operation took the cluster. The cluster
// fences it (a lease it no longer holds is refused), but a driver that
// checks the lease before acting cannot check it at the instant it acts,
// so the holder stops by itself too: it may act only until TTL, less one
// renewal interval of margin, after the last renewal it sent that was
// answered, whatever the cluster says.
type leaseClock struct {
	cluster      string
	ttl, margin  time.Duration
	stop         context.CancelCauseFunc
	mu           sync.Mutex
	lastRenewal  time.Time // when the last answered renewal was sent
	lastErr      error     // why the last renewal failed, nil after one that was answered
	timer        *time.Timer
	closed       bool
	lastDeadline time.Time
}

type leaseClockKey struct{}

func newLeaseClock(cluster string, ttl, margin time.Duration, stop context.CancelCauseFunc) *leaseClock {
	return &leaseClock{cluster: cluster, ttl: ttl, margin: margin, stop: stop}
}

// renewed records a renewal sent at sent and answered, and moves the
// deadline at which the run is stopped.
func (c *leaseClock) renewed(sent time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || sent.Before(c.lastRenewal) {
		return
	}
	c.lastRenewal, c.lastErr = sent, nil
	c.lastDeadline = sent.Add(c.ttl - c.margin)
	if c.timer == nil {
		c.timer = time.AfterFunc(c.backstop(), c.expire)
	} else {
		c.timer.Reset(c.backstop())
	}
}

// backstop is when the timer stops the run: half a margin after the
// deadline, so that the renewals, which stop the run at the deadline
// saying why they failed, do so first; the timer is for renewals stuck in
// a call that does not return. Actions are refused from the deadline on
// (check). Called under mu.
func (c *leaseClock) backstop() time.Duration {
	return time.Until(c.lastDeadline) + c.margin/2
}

// expire stops the run once the deadline has passed with no renewal.
func (c *leaseClock) expire() {
	if err := c.check(); err != nil {
		c.stop(err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.timer.Reset(c.backstop())
	}
}

// failed records why a renewal failed, for the message that stops the run.
func (c *leaseClock) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = err
}

func (c *leaseClock) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
}

func (c *leaseClock) sinceRenewal() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Since(c.lastRenewal)
}

// expiresWithin: the deadline comes within d (or has passed).
func (c *leaseClock) expiresWithin(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Until(c.lastDeadline) <= d
}

// check refuses to act once the deadline has passed.
func (c *leaseClock) check() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	since := time.Since(c.lastRenewal)
	if since >= c.ttl-c.margin && c.lastErr != nil {
		// The renewals answered with errors: the same stop the renewal
		// loop makes, whichever of the two comes first.
		return &driver.Error{Code: driver.CodeLeaseLost, Message: fmt.Sprintf("could not renew the rollout lease on cluster %s for %s, and it lasts %s (by this process's own clock): the rollout stopped while the lease still fences it: %v",
			c.cluster, since.Round(time.Millisecond), c.ttl, c.lastErr)}
	}
	if since >= c.ttl-c.margin {
		return &driver.Error{Code: driver.CodeLeaseLost, Message: fmt.Sprintf("the rollout lease on cluster %s may have expired: by this process's own clock its last answered renewal was sent %s ago, and the lease lasts %s; the rollout stopped rather than act beside another operation that may hold the cluster now (this process was probably starved of CPU, or its renewals hung)",
			c.cluster, since.Round(time.Millisecond), c.ttl)}
	}
	return nil
}

// leaseStillOurs is called before every action that changes a cluster: it
// refuses once the lease of the WithLease that ctx runs under may have
// expired by this process's own clock (see leaseClock). Outside a lease
// it allows everything.
func leaseStillOurs(ctx context.Context) error {
	if c, ok := ctx.Value(leaseClockKey{}).(*leaseClock); ok {
		return c.check()
	}
	return nil
}

func isLeaseHeld(err error) bool { return driver.CodeOf(err) == driver.CodeLeaseHeld }

// acquire takes the lease, and says when the request that took it was
// sent (the lease lasts its TTL from a moment after that). When the same operation holds it and renewed it
// within its heartbeat (a predecessor that crashed moments ago, or that is
// still alive), it tries again until the heartbeat has surely been missed:
// a dead holder is then adopted, a live one still refuses, and that
// refusal is returned. Another operation's lease is refused at once.
//
// A holder of another operation that has missed its heartbeat is dead (a
// staging or rollout killed moments ago): its lease is waited out, at most
// the TTL a lease may have, rather than refused. A live holder of another
// operation is refused at once, named.
func acquire(ctx context.Context, l Leaser, cluster string, req driver.LeaseRequest) (lease *driver.Lease, sent time.Time, err error) {
	give := time.Now().Add(req.Heartbeat + req.Heartbeat/2)
	waitedDead := false
	for {
		sent = time.Now()
		lease, err := l.AcquireLease(ctx, cluster, req)
		if err == nil {
			return lease, sent, nil
		}
		pause := min(time.Second, req.Heartbeat/4)
		switch until, dead := deadHolderUntil(err); {
		case sameOperationWithinHeartbeat(err) && time.Now().Before(give):
		case dead && !waitedDead && time.Until(until) <= 2*LeaseTTL:
			waitedDead = true // once: its lease cannot outlive its expiry
			pause = max(time.Until(until), 0) + 250*time.Millisecond
		default:
			return nil, sent, err
		}
		select {
		case <-ctx.Done():
			return nil, sent, err
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
