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

// GetCluster returns a snapshot of one cluster.
func (c *Client) GetCluster(ctx context.Context, name string) (*appliance.Cluster, error) {
	var out appliance.Cluster
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters", name), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
