package client

import (
	"context"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// InstallLicense installs the cluster licenses for a version series (S10).
// Installing a license twice is harmless, so the call is safe to repeat.
func (c *Client) InstallLicense(ctx context.Context, cluster, series string) (*appliance.Cluster, error) {
	return c.clusterCall(ctx, cluster, "licenses", api.LicenseRequest{Series: series})
}

// SetSupercluster makes the cluster join the named supercluster, or leave
// its supercluster when name is empty (S26). Setting what is already set
// changes nothing, so the call is safe to repeat.
func (c *Client) SetSupercluster(ctx context.Context, cluster, name string) (*appliance.Cluster, error) {
	return c.clusterCall(ctx, cluster, "supercluster", api.SuperclusterRequest{Name: name})
}

// SetMaintenance opens or closes the cluster's declared maintenance window
// (S25). It is idempotent, so the call is safe to repeat.
func (c *Client) SetMaintenance(ctx context.Context, cluster string, open bool) (*appliance.Cluster, error) {
	return c.clusterCall(ctx, cluster, "maintenance", api.MaintenanceRequest{Open: open})
}

func (c *Client) clusterCall(ctx context.Context, cluster, op string, in any) (*appliance.Cluster, error) {
	var out appliance.Cluster
	if err := c.do(ctx, call{method: http.MethodPost, path: apiPath("clusters", cluster, op), in: in, replayable: true, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
