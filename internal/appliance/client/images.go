package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// UploadImage uploads the bundle at path to a cluster (S2) and returns the
// validated image. A first pass over the file computes the sha256 sent
// ahead in X-Content-SHA256; the body then streams from disk, reopened for
// every attempt, so a retried upload resends the whole file and a 4 GB
// bundle costs no memory. An upload is content addressed, so repeating it
// is safe; it has no per-attempt timeout, only ctx's.
func (c *Client) UploadImage(ctx context.Context, cluster, path string) (*api.Image, error) {
	sum, size, err := hashFile(ctx, path)
	if err != nil {
		return nil, err
	}
	var out api.Image
	err = c.do(ctx, call{
		method:        http.MethodPost,
		path:          apiPath("clusters", cluster, "images"),
		upload:        fileBody(path, size),
		contentLength: size,
		header: http.Header{
			"Content-Type":          {"application/octet-stream"},
			api.HeaderContentSHA256: {sum},
		},
		replayable: true,
		timeout:    -1,
		out:        &out,
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// hashFile is the upload's first pass: sha256 and size, streaming.
func hashFile(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("image file: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose on Close
	st, err := f.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("image file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", 0, fmt.Errorf("image file %s is not a regular file", path)
	}
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", 0, fmt.Errorf("image file %s: %w", path, err)
	}
	if n == 0 {
		return "", 0, fmt.Errorf("image file %s is empty", path)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// fileBody opens the file afresh for each attempt and sends exactly the
// size that was hashed: a file that grew since would otherwise not match
// Content-Length.
func fileBody(path string, size int64) func() (io.Reader, error) {
	return func() (io.Reader, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("image file: %w", err)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(f, size), f}, nil
	}
}

// ctxReader stops a long local read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// DownloadImage asks the cluster to fetch an image itself (S1). The answer
// is the download task; its result names the image once it succeeds.
func (c *Client) DownloadImage(ctx context.Context, cluster string, req api.DownloadRequest, idempotencyKey string) (*api.Task, error) {
	return c.startTask(ctx, apiPath("clusters", cluster, "downloads"), req, idempotencyKey)
}

// ListImages returns the images present on a cluster.
func (c *Client) ListImages(ctx context.Context, cluster string) ([]api.Image, error) {
	var out api.ImageList
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters", cluster, "images"), out: &out}); err != nil {
		return nil, err
	}
	return out.Images, nil
}

// GetImage returns one image; IsNotFound tells a missing one.
func (c *Client) GetImage(ctx context.Context, cluster, id string) (*api.Image, error) {
	var out api.Image
	if err := c.do(ctx, call{method: http.MethodGet, path: apiPath("clusters", cluster, "images", id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteImage deletes an image. A retried delete whose first attempt
// succeeded answers 404: callers that only want the image gone check
// IsNotFound.
func (c *Client) DeleteImage(ctx context.Context, cluster, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: apiPath("clusters", cluster, "images", id)})
}
