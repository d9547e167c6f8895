package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Leaser takes and gives back a cluster's rollout lease.
type Leaser interface {
	AcquireLease(ctx context.Context, cluster string, req api.LeaseRequest) (*api.Lease, error)
	ReleaseLease(ctx context.Context, cluster, leaseID string) error
}

// LeaseTTL is how long a lease outlives a crashed holder. It is renewed at a
// third of that while the rollout runs.
const LeaseTTL = 2 * time.Minute

// WithLease runs fn while holding the cluster's rollout lease, renewing it in
// the background and releasing it on every exit path, so that two applies
// never roll the same cluster and a crash frees the cluster after LeaseTTL.
func WithLease(ctx context.Context, l Leaser, cluster, owner, operationKey string, fn func(ctx context.Context, leaseID string) error) error {
	req := api.LeaseRequest{Owner: owner, OperationKey: operationKey, TTLSeconds: int(LeaseTTL / time.Second)}
	lease, err := l.AcquireLease(ctx, cluster, req)
	if err != nil {
		return fmt.Errorf("taking the rollout lease on cluster %s: %w", cluster, err)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if _, err := l.AcquireLease(runCtx, cluster, req); err != nil && runCtx.Err() == nil {
					// Losing the lease means someone else may act on the
					// cluster: stop this rollout rather than race them.
					stop(fmt.Errorf("lost the rollout lease on cluster %s: %w", cluster, err))
					return
				}
			}
		}
	}()
	err = fn(runCtx, lease.ID)
	if cause := context.Cause(runCtx); err != nil && cause != nil && cause != context.Canceled {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	stop(context.Canceled)
	<-renewed
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if rerr := l.ReleaseLease(relCtx, cluster, lease.ID); rerr != nil && err == nil {
		err = fmt.Errorf("releasing the rollout lease on cluster %s (it expires by itself in %s): %w", cluster, LeaseTTL, rerr)
	}
	return err
}
