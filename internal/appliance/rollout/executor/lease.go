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

// LeaseTTL is how long a lease outlives a crashed holder. It is renewed at a
// third of that while the rollout runs.
const LeaseTTL = 2 * time.Minute

// leaseTTL is LeaseTTL, shortened by tests.
var leaseTTL = LeaseTTL

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
	req := driver.LeaseRequest{Owner: owner, OperationKey: operationKey, TTL: ttl}
	lease, err := l.AcquireLease(ctx, cluster, req)
	if err != nil {
		return fmt.Errorf("taking the rollout lease on cluster %s: %w", cluster, err)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		every := ttl / 3
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
