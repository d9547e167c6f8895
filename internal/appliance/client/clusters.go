package client

import (
	"context"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// ListClusters returns every cluster the endpoint manages.
func (c *Client) ListClusters(ctx context.Context) ([]appliance.Cluster, error) {
	var out api.ClusterList
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters"), out: &out}); err != nil {
		return nil, err
	}
	return out.Clusters, nil
}

// GetCluster returns a snapshot of one cluster; a Cached client reads each
// cluster once until something changes it.
func (c *Client) GetCluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	if c.cacheReads && c.snapshots != nil {
		return c.cachedCluster(ctx, name)
	}
	return c.fetchCluster(ctx, name)
}

func (c *Client) fetchCluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	var out appliance.Cluster
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters", name), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
