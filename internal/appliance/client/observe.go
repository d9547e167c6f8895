package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Events returns a cluster's events with a sequence number above since.
func (c *Client) Events(ctx context.Context, cluster string, since int64) ([]api.Event, error) {
	var out api.EventList
	err := c.do(ctx, call{
		method: http.MethodGet,
		path:   apiPath("clusters", cluster, "events"),
		query:  url.Values{"since": {strconv.FormatInt(since, 10)}},
		out:    &out,
	})
	if err != nil {
		return nil, err
	}
	return out.Events, nil
}

// Ledger returns a cluster's availability ledger.
func (c *Client) Ledger(ctx context.Context, cluster string) (*api.Ledger, error) {
	var out api.Ledger
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters", cluster, "ledger"), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
