package executor

import (
	"context"
	"errors"
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
	leaseTTL = 60 * time.Millisecond // renewed every 20 ms
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
	if err := WithLease(context.Background(), l, "c", "me", "op", waitOrStopped(150*time.Millisecond)); err != nil {
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
