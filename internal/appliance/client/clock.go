package client

import (
	"context"
	"net/http"
	"time"
)

// ClockStatus is the simulator's clock, as GET /v1/clock answers it. It
// mirrors the simulator's ClockView field for field, because the client may
// not import the simulator.
type ClockStatus struct {
	Now       time.Time `json:"now"`
	TimeScale float64   `json:"time_scale"`
	Manual    bool      `json:"manual"`
}

// Clock returns the simulator's clock.
func (c *Client) Clock(ctx context.Context) (*ClockStatus, error) {
	var out ClockStatus
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clock"), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AdvanceClock moves a manual simulator clock forward. A scaled clock
// refuses with invalid_request (422). It is not retried on a 5xx: a repeat
// would move time twice.
func (c *Client) AdvanceClock(ctx context.Context, seconds float64) (*ClockStatus, error) {
	var out ClockStatus
	err := c.do(ctx, call{method: http.MethodPost, path: apiPath("clock", "advance"), in: map[string]float64{"seconds": seconds}, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
