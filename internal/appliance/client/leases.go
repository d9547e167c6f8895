package client

import (
	"context"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// AcquireLease takes or renews a cluster's rollout lease. Another holder's
// live lease gives an *api.Error with code lease_held (409) whose Details
// name the holder. The same owner and operation key renew the lease, so
// the request is safe to repeat.
func (c *Client) AcquireLease(ctx context.Context, cluster string, req api.LeaseRequest) (*api.Lease, error) {
	var out api.Lease
	err := c.do(ctx, call{method: http.MethodPost, path: apiPath("clusters", cluster, "lease"), in: req, replayable: true, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ReleaseLease releases a lease. A lease that is already gone (expired,
// released by an earlier attempt whose answer was lost) is not an error:
// releasing runs on every exit path and must not mask the real outcome.
func (c *Client) ReleaseLease(ctx context.Context, cluster, leaseID string) error {
	err := c.do(ctx, call{method: http.MethodDelete, path: apiPath("clusters", cluster, "lease", leaseID)})
	if IsNotFound(err) {
		return nil
	}
	return err
}
