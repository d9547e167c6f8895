package executor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// AwaitInFlight waits, at most limit, until no node of the cluster is
// rebooting or settling, and returns the snapshot it then read. A rollout
// that adopts the lease of a crashed predecessor calls it first: the
// predecessor's reboots run on, and are waited for, never started again.
func AwaitInFlight(ctx context.Context, d driver.Driver, cluster string, limit, poll time.Duration) (*appliance.Cluster, error) {
	return awaitQuiet(ctx, d, cluster, limit, poll, rollout.InFlight,
		"still rebooting after %s (the reboot was started before this apply): bring the node back, then apply again")
}

// awaitQuiet polls the cluster, at most limit, until busy names no node,
// and returns the snapshot it then read; on the deadline it fails naming
// the busy nodes with tooLong (which takes the limit).
func awaitQuiet(ctx context.Context, d driver.Driver, cluster string, limit, poll time.Duration, busy func(*appliance.Cluster) []string, tooLong string) (*appliance.Cluster, error) {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	deadline := time.Now().Add(limit)
	for {
		snap, err := d.Cluster(ctx, cluster)
		if err != nil {
			return nil, fmt.Errorf("reading cluster %s: %w", cluster, err)
		}
		nodes := busy(snap)
		if len(nodes) == 0 {
			return snap, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s "+tooLong, strings.Join(nodes, ", "), limit)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}
