package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// maxResponseSize bounds a JSON answer: a cluster list is kilobytes, so
// anything near this is a misbehaving server, not data to keep.
const maxResponseSize = 32 << 20

// call is one API operation.
type call struct {
	method string
	path   string     // already escaped, from apiPath
	query  url.Values // optional
	in     any        // JSON body, or nil
	out    any        // decoded from a 2xx answer, or nil

	// idempotencyKey, when set, is sent as Idempotency-Key and makes the
	// call replayable.
	idempotencyKey string
	// replayable marks a call that is safe to repeat without a key.
	replayable bool
	// timeout bounds each attempt; 0 means Config.RequestTimeout and a
	// negative value means no bound but the context.
	timeout time.Duration

	// upload, when set, is the body; it is re-created for every attempt.
	upload        retryablehttp.ReaderFunc
	contentLength int64
	header        http.Header // extra headers
}

// apiPath joins escaped segments under /v1.
func apiPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do runs a call: retries, authentication, error decoding. Every error it
// returns has the token scrubbed from its text.
func (c *Client) do(ctx context.Context, cl call) error {
	// Forget cached snapshots the call may change, before (no read that
	// starts now is kept) and after (nor one that raced it).
	c.snapshots.invalidate(cl.method, cl.path)
	defer c.snapshots.invalidate(cl.method, cl.path)
	return c.scrub(c.doRaw(ctx, cl))
}

func (c *Client) doRaw(ctx context.Context, cl call) error {
	// cl.path is escaped already: append it to the endpoint as text.
	target := c.base.String() + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	what := cl.method + " " + cl.path

	var body any
	switch {
	case cl.upload != nil:
		body = cl.upload
	case cl.in != nil:
		data, err := json.Marshal(cl.in)
		if err != nil {
			return fmt.Errorf("%s: encoding the request: %w", what, err)
		}
		body = data // a []byte is re-read on every attempt
	}

	replayable := cl.replayable || cl.idempotencyKey != "" ||
		cl.method == http.MethodGet || cl.method == http.MethodDelete
	req, err := retryablehttp.NewRequestWithContext(withReplayable(ctx, replayable), cl.method, target, body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if cl.upload != nil {
		req.ContentLength = cl.contentLength
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if cl.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.idempotencyKey != "" {
		req.Header.Set(api.HeaderIdempotencyKey, cl.idempotencyKey)
	}
	if c.leaseID != "" {
		req.Header.Set(api.HeaderLeaseID, c.leaseID)
	}
	if c.leaseGeneration > 0 {
		req.Header.Set(api.HeaderLeaseGeneration, strconv.FormatInt(c.leaseGeneration, 10))
	}

	timeout := cl.timeout
	switch {
	case timeout == 0:
		timeout = c.cfg.RequestTimeout
	case timeout < 0:
		timeout = 0
	}
	resp, err := c.retryable(timeout).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	// The body is read to the end (or to the size limit) below; a failed
	// Close cannot change the answer.
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %w", what, decodeError(resp))
	}
	if cl.out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseSize))
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", what, err)
	}
	if len(data) > maxResponseSize {
		return fmt.Errorf("%s: the answer is larger than %d bytes", what, maxResponseSize)
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(cl.out); err != nil {
		return fmt.Errorf("%s: the answer (HTTP %d) is not the expected JSON: %w", what, resp.StatusCode, err)
	}
	return nil
}
