package client

import (
	"context"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// The fault and clock endpoints exist on the simulator only: tests and
// rehearsals use them to break things on purpose and to move time.

// InjectFault adds a fault. It is not retried on a 5xx: a repeat would
// inject it twice.
func (c *Client) InjectFault(ctx context.Context, f api.Fault) (*api.Fault, error) {
	var out api.Fault
	if err := c.do(ctx, call{method: http.MethodPost, path: apiPath("faults"), in: f, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListFaults returns the faults in force.
func (c *Client) ListFaults(ctx context.Context) ([]api.Fault, error) {
	var out api.FaultList
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("faults"), out: &out}); err != nil {
		return nil, err
	}
	return out.Faults, nil
}

// DeleteFault removes one fault.
func (c *Client) DeleteFault(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: apiPath("faults", id)})
}

// ClearFaults removes every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodDelete, path: apiPath("faults")})
}
