// Package simclient calls the endpoints that only the simulator has: the
// fault injector, the simulated clock and the request counters. Tests,
// rehearsals and the chaos harness use it to break things on purpose and to
// move time; the production client (package client) knows nothing of them,
// so no appliance driver can call them by mistake.
//
// The answers are the simulator's own types (simulator.ClockView,
// simulator.Stats), not copies.
package simclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
)

// DefaultTimeout bounds each call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says where the simulator is.
type Config struct {
	// Endpoint is the simulator's base URL (simulator.Server.URL).
	Endpoint string
	// Token is its bearer token.
	Token string
	// CACertPEM trusts a simulator serving a self-signed certificate.
	CACertPEM string
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Client calls the simulator-only endpoints. Calls are not retried: a
// repeated fault injection would inject twice, a repeated advance would
// move time twice.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client for the simulator at cfg.Endpoint.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("simulator endpoint %q must be an absolute http(s) URL", cfg.Endpoint)
	}
	tr := &http.Transport{Proxy: nil}
	if cfg.CACertPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
			return nil, errors.New("the simulator's CA certificate is not PEM")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &Client{base: base, token: cfg.Token, http: &http.Client{Transport: tr, Timeout: timeout}}, nil
}

// For is a client for a simulator started in this process.
func For(s *simulator.Server) (*Client, error) {
	return New(Config{Endpoint: s.URL(), Token: s.Token(), CACertPEM: string(s.CACertPEM())})
}

// InjectFault arms a fault and returns it with its id.
func (c *Client) InjectFault(ctx context.Context, f api.Fault) (*api.Fault, error) {
	var out api.Fault
	if err := c.do(ctx, http.MethodPost, "/v1/faults", f, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListFaults returns the faults in force.
func (c *Client) ListFaults(ctx context.Context) ([]api.Fault, error) {
	var out api.FaultList
	if err := c.do(ctx, http.MethodGet, "/v1/faults", nil, &out); err != nil {
		return nil, err
	}
	return out.Faults, nil
}

// DeleteFault removes one fault.
func (c *Client) DeleteFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults removes every fault.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/v1/faults", nil, nil)
}

// Clock returns the simulated clock.
func (c *Client) Clock(ctx context.Context) (*simulator.ClockView, error) {
	var out simulator.ClockView
	if err := c.do(ctx, http.MethodGet, "/v1/clock", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AdvanceClock moves a manual clock forward; a scaled clock refuses with
// invalid_request (422).
func (c *Client) AdvanceClock(ctx context.Context, seconds float64) (*simulator.ClockView, error) {
	var out simulator.ClockView
	if err := c.do(ctx, http.MethodPost, "/v1/clock/advance", simulator.AdvanceRequest{Seconds: seconds}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stats returns the simulator process's request counters.
func (c *Client) Stats(ctx context.Context) (*simulator.Stats, error) {
	var out simulator.Stats
	if err := c.do(ctx, http.MethodGet, "/v1/stats", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// do makes one call; an answer other than 2xx is an *api.Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // fully read below: nothing to lose
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &api.Error{}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		e.Status = resp.StatusCode
		return e
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}
