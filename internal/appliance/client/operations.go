package client

import (
	"context"
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// The node and cluster operations each start a task and answer 202 with it.
// Pass an idempotency key (for example derived from the rollout and the
// step) so that a retried request returns the first task instead of acting
// twice; without one, a 5xx or a broken connection is not retried.

// Stage writes an image into a node's alternate partition (S3, S4).
func (c *Client) Stage(ctx context.Context, cluster, node, imageID, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "nodes", node, "stage"), api.StageRequest{ImageID: imageID}, idempotencyKey)
}

// Activate reboots a node into its alternate partition.
func (c *Client) Activate(ctx context.Context, cluster, node string, req api.ActivateRequest, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "nodes", node, "activate"), req, idempotencyKey)
}

// Revert boots a node back into its previous image (S21).
func (c *Client) Revert(ctx context.Context, cluster, node, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "nodes", node, "revert"), nil, idempotencyKey)
}

// Promote makes an updated standby the master (S13).
func (c *Client) Promote(ctx context.Context, cluster, node, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "nodes", node, "promote"), nil, idempotencyKey)
}

// MoveResource fails a resource over to node, or back (S15).
func (c *Client) MoveResource(ctx context.Context, cluster, resource, node, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "resources", resource, "move"), api.MoveResourceRequest{Node: node}, idempotencyKey)
}

// Finalize runs the cluster-wide step after the last node (S16).
func (c *Client) Finalize(ctx context.Context, cluster, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "finalize"), nil, idempotencyKey)
}

func (c *Client) startTask(ctx context.Context, path string, in any, idempotencyKey string) (*api.Task, error) {
	var out api.Task
	err := c.do(ctx, call{method: http.MethodPost, path: path, in: in, idempotencyKey: idempotencyKey, out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
