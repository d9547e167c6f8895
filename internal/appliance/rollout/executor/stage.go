package executor

import (
	"context"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// Stage writes an image into the alternate partition of every node of the
// cluster that needs it, under the cluster's lease: staging rewrites the
// partitions a rollout boots, so it must never race one. It runs the
// planner's staging steps through Run, the same path as a rollout's own
// staging, so a failed task is a failure however the driver reports it.
func Stage(ctx context.Context, d driver.Driver, snap *appliance.Cluster, imageID, version, owner string, opts Options) error {
	p := rollout.Staging(snap, imageID, version)
	if len(p.Steps) == 0 {
		return nil
	}
	return WithLease(ctx, d, snap.Name, owner, opts.OperationKey, func(ctx context.Context, leaseID string) error {
		opts.LeaseID = leaseID
		return Run(ctx, d, p, opts)
	})
}
