package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// scriptedLeaser answers renewals from a script: nil for success, or an error.
type scriptedLeaser struct {
	mu       sync.Mutex
	renewals []error // answers to the renewals, in order; the last repeats
	calls    int
	released bool
}

func (s *scriptedLeaser) AcquireLease(_ context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == 1 {
		return &driver.Lease{ID: "l1", Cluster: cluster, Owner: req.Owner}, nil
	}
	i := min(s.calls-2, len(s.renewals)-1)
	return &driver.Lease{ID: "l1"}, s.renewals[i]
}

func (s *scriptedLeaser) ReleaseLease(context.Context, string, string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = true
	return nil
}

func withShortLease(t *testing.T) {
	old := leaseTTL
	// Renewed every 200 ms; the holder acts for 400 ms after a renewal by
	// its own clock, which a loaded machine's scheduler must not eat up
	// between two renewals that succeed.
	leaseTTL = 600 * time.Millisecond
	t.Cleanup(func() { leaseTTL = old })
}

// waitOrStopped runs for d, or returns the cause when the lease is lost.
func waitOrStopped(d time.Duration) func(ctx context.Context, _ string) error {
	return func(ctx context.Context, _ string) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func TestWithLease_OneFailedRenewalDoesNotStopTheRollout(t *testing.T) {
	withShortLease(t)
	l := &scriptedLeaser{renewals: []error{errors.New("connection reset"), nil}}
	// Long enough for the failed renewal (200 ms) and the next (400 ms).
	if err := WithLease(context.Background(), l, "c", "me", "op", waitOrStopped(700*time.Millisecond)); err != nil {
		t.Fatalf("a single failed renewal stopped the rollout: %v", err)
	}
	if !l.released {
		t.Fatal("lease not released")
	}
}

func TestWithLease_AnotherHolderStopsTheRolloutAtOnce(t *testing.T) {
	withShortLease(t)
	l := &scriptedLeaser{renewals: []error{&driver.Error{Status: 409, Code: driver.CodeLeaseHeld, Message: "leased by someone-else"}}}
	start := time.Now()
	err := WithLease(context.Background(), l, "c", "me", "op", waitOrStopped(5*time.Second))
	if err == nil || !strings.Contains(err.Error(), "lost the rollout lease") || !strings.Contains(err.Error(), "someone-else") {
		t.Fatalf("want the rollout stopped naming the new holder, got %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("stopping took %s", time.Since(start))
	}
}

func TestWithLease_StopsBeforeTheLeaseCanExpire(t *testing.T) {
	withShortLease(t)
	l := &scriptedLeaser{renewals: []error{errors.New("503")}}
	err := WithLease(context.Background(), l, "c", "me", "op", waitOrStopped(5*time.Second))
	if err == nil || !strings.Contains(err.Error(), "could not renew the rollout lease") {
		t.Fatalf("want the rollout stopped for want of renewal, got %v", err)
	}
}

// adoptingLeaser plays the cluster's lease after a crash: the dead holder
// of the same operation renewed moments ago, so the first requests are
// refused within its heartbeat; once it is missed the lease is adopted.
type adoptingLeaser struct {
	scriptedLeaser
	refusals int
	other    bool // the holder is another operation: never adopted
}

func (a *adoptingLeaser) AcquireLease(_ context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.other {
		return nil, &driver.Error{Code: driver.CodeLeaseHeld, Message: "leased by nightly (operation other)", Details: map[string]any{"owner": "nightly"}}
	}
	if a.calls <= a.refusals {
		return nil, &driver.Error{Code: driver.CodeLeaseHeld, Message: "leased by pid 42; renewed 1s ago, within its heartbeat",
			Details: map[string]any{"owner": "pid 42", "heartbeat_seconds": 1}}
	}
	return &driver.Lease{ID: "l2", Cluster: cluster, Owner: req.Owner, Adopted: true, PreviousOwner: "pid 42"}, nil
}

// Defect 5: the same rollout applied again after a crash adopts the dead
// holder's lease once it misses its heartbeat, in seconds, instead of
// failing on it; another operation's lease is refused at once.
func TestWithLease_Defect5_SameOperationAdoptsADeadHoldersLease(t *testing.T) {
	old := leaseHeartbeat
	leaseHeartbeat = 400 * time.Millisecond
	t.Cleanup(func() { leaseHeartbeat = old })

	a := &adoptingLeaser{refusals: 2}
	start := time.Now()
	var got string
	if err := WithLease(context.Background(), a, "c", "me", "rollout c -> 2.0", func(_ context.Context, id string) error {
		got = id
		return nil
	}); err != nil {
		t.Fatalf("the lease of a dead holder of the same operation was not adopted: %v", err)
	}
	if got != "l2" || a.calls < 3 {
		t.Fatalf("ran under lease %q after %d requests, want the adopted l2 after the refusals", got, a.calls)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("adoption took %s, want within the heartbeat and a half", took)
	}

	other := &adoptingLeaser{other: true}
	start = time.Now()
	err := WithLease(context.Background(), other, "c", "me", "rollout c -> 2.0", func(context.Context, string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "leased by nightly") || other.calls != 1 {
		t.Fatalf("another operation's lease: want one refusal naming the holder, got %v after %d requests", err, other.calls)
	}
	if time.Since(start) > 200*time.Millisecond {
		t.Fatal("another operation's lease was waited for instead of refused at once")
	}
}

// deadOtherLeaser: another operation's holder (a staging killed with its
// apply) missed its heartbeat; its lease expires at until.
type deadOtherLeaser struct {
	scriptedLeaser
	until  time.Time
	silent int
}

func (d *deadOtherLeaser) AcquireLease(_ context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if time.Now().Before(d.until) {
		return nil, &driver.Error{Code: driver.CodeLeaseHeld, Message: "leased by pid 7 (operation stage img-1)",
			Details: map[string]any{"owner": "pid 7", "expires_at": d.until.UTC().Format(time.RFC3339),
				"holder_silent_seconds": float64(d.silent), "holder_heartbeat_seconds": float64(10)}}
	}
	return &driver.Lease{ID: "l3", Cluster: cluster, Owner: req.Owner}, nil
}

// A lease of another operation whose holder missed its heartbeat is
// waited out (it cannot outlive its expiry); a live one is refused at once.
func TestWithLease_Defect5_ADeadHoldersOtherLeaseIsWaitedOut(t *testing.T) {
	dead := &deadOtherLeaser{until: time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second), silent: 25}
	if err := WithLease(context.Background(), dead, "c", "me", "rollout c -> 2.0", func(context.Context, string) error { return nil }); err != nil {
		t.Fatalf("a dead holder's lease was not waited out: %v", err)
	}
	live := &deadOtherLeaser{until: time.Now().Add(time.Minute), silent: 2}
	start := time.Now()
	err := WithLease(context.Background(), live, "c", "me", "rollout c -> 2.0", func(context.Context, string) error { return nil })
	if err == nil || live.calls != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("a live holder's lease: want one refusal at once, got %v after %d requests", err, live.calls)
	}
}

// renewedAnewLeaser answers renewals with a new lease: the holder's lease
// expired before the renewal reached the cluster, which granted a new one.
type renewedAnewLeaser struct {
	mu       sync.Mutex
	calls    int
	released []string
}

func (r *renewedAnewLeaser) AcquireLease(_ context.Context, cluster string, _ driver.LeaseRequest) (*driver.Lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return &driver.Lease{ID: fmt.Sprintf("l%d", min(r.calls, 2)), Cluster: cluster}, nil
}

func (r *renewedAnewLeaser) ReleaseLease(_ context.Context, _, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.released = append(r.released, id)
	return nil
}

// A renewal that comes back with another lease means the old one expired
// first: whatever ran under it may have met another operation, so the run
// stops (lease_lost) instead of going on, and both leases are given back.
func TestWithLease_ARenewalThatGotANewLeaseStopsTheRollout(t *testing.T) {
	withShortLease(t)
	l := &renewedAnewLeaser{}
	err := WithLease(context.Background(), l, "c", "me", "op", waitOrStopped(5*time.Second))
	if driver.CodeOf(err) != driver.CodeLeaseLost || !strings.Contains(err.Error(), "expired before it was renewed") {
		t.Fatalf("want the rollout stopped with lease_lost, got %v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Join(l.released, ",") != "l2,l1" {
		t.Fatalf("released %v, want the new lease l2 and the old l1", l.released)
	}
}
