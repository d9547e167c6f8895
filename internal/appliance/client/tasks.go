package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// longPoll is how long each WaitTask request asks the server to hold on.
const longPoll = 30 * time.Second

// GetTask returns a task. With wait > 0 the server holds the request until
// the task changes or wait passes (long-poll); the attempt's timeout grows
// by wait so that the poll is not cut short.
func (c *Client) GetTask(ctx context.Context, id string, wait time.Duration) (*api.Task, error) {
	cl := call{method: http.MethodGet, path: apiPath("tasks", id)}
	if wait > 0 {
		cl.query = url.Values{"wait": {wait.String()}}
		cl.timeout = c.cfg.RequestTimeout + wait
	}
	var out api.Task
	cl.out = &out
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitTask long-polls a task until it is done or ctx ends, and returns it.
// A failed task is returned with a nil error: its Error says why, and the
// caller decides (revert, report). The error is for not knowing the
// outcome: ctx ended, or the API could not be reached.
func (c *Client) WaitTask(ctx context.Context, id string) (*api.Task, error) {
	for {
		t, err := c.GetTask(ctx, id, longPoll)
		if err != nil {
			return nil, err
		}
		if t.Done() {
			return t, nil
		}
		if err := ctx.Err(); err != nil {
			return t, fmt.Errorf("waiting for task %s (%s %s, %d%%): %w", id, t.Kind, t.State, t.Progress, err)
		}
	}
}
