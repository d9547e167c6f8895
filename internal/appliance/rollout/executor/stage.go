package executor

import (
	"context"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// Stage writes an image into the alternate partition of every node of the
// cluster that needs it, under the cluster's lease: staging rewrites the
// partitions a rollout boots, so it must never race one. It runs the
// planner's staging steps through Run, the same path as a rollout's own
// staging, so a failed task is a failure however the driver reports it.
//
// With an operation key that names the intent (this image on this
// cluster), a staging applied again after a crash adopts the dead holder's
// lease (see WithLease); the stagings it left running are waited for, at
// most StageDeadline, never started again, and the plan is made from what
// they left.
func Stage(ctx context.Context, d driver.Driver, snap *appliance.Cluster, imageID, version, owner string, opts Options) error {
	if len(rollout.Staging(snap, imageID, version).Steps) == 0 {
		freeFinished(ctx, d, snap.Name, owner, opts.OperationKey)
		return nil
	}
	if opts.StageDeadline <= 0 {
		opts.StageDeadline = DefaultStageDeadline
	}
	return WithLease(ctx, d, snap.Name, owner, opts.OperationKey, func(ctx context.Context, leaseID string) error {
		opts.LeaseID = leaseID
		cur, err := awaitStaging(ctx, d, snap.Name, opts.StageDeadline, opts.PollInterval)
		if err != nil {
			return err
		}
		p := rollout.Staging(cur, imageID, version)
		if len(p.Steps) == 0 {
			return nil
		}
		return Run(ctx, d, p, opts)
	})
}

// awaitStaging waits, at most limit, until no node of the cluster is
// writing an image into its alternate partition, and returns the snapshot
// it then read: a node busy staging refuses another staging.
func awaitStaging(ctx context.Context, d driver.Driver, cluster string, limit, poll time.Duration) (*appliance.Cluster, error) {
	return awaitQuiet(ctx, d, cluster, limit, poll, func(c *appliance.Cluster) []string {
		var busy []string
		for _, n := range c.Nodes {
			if n.Staging != "" {
				busy = append(busy, n.Name)
			}
		}
		return busy
	}, "still staging after %s (the staging was started before this apply)")
}

// freeFinished releases the lease of a crashed predecessor of this very
// staging whose work is done: every node holds the image, but its lease
// would otherwise fence the cluster (the rollout that follows is another
// operation) until it expires. The lease is adopted the way WithLease
// adopts one (only once the holder missed its heartbeat) and given back at
// once; any refusal (a live holder, another operation) is left alone, as
// is a cluster that no one holds, which this takes and gives back.
func freeFinished(ctx context.Context, d driver.Driver, cluster, owner, operationKey string) {
	if operationKey == "" {
		return
	}
	req := driver.LeaseRequest{Owner: owner, OperationKey: operationKey, TTL: leaseTTL, Heartbeat: leaseHeartbeat}
	lease, _, err := acquire(ctx, d, cluster, req)
	if err != nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = d.ReleaseLease(rctx, cluster, lease.ID) // it expires by itself if this fails
}
