package client

import (
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Client talks to one Appliance Management API endpoint. It is safe for
// concurrent use.
type Client struct {
	base      *url.URL
	token     string
	userAgent string
	leaseID   string
	// leaseGeneration is the fencing token sent with leaseID (0: none).
	leaseGeneration int64
	cfg             Config
	transport       *http.Transport // shared by every attempt, so connections are pooled
	logger          any             // a scrubbing retryablehttp.LeveledLogger, or nil
	snapshots       *snapshotCache  // shared by every copy of the client
	// cacheReads makes GetCluster answer from snapshots (see Cached).
	cacheReads bool
}

// New validates cfg and returns a client. It does not contact the endpoint.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	base, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	tr := cleanhttp.DefaultPooledTransport()
	tr.TLSClientConfig = tc
	c := &Client{
		base:      base,
		token:     cfg.Token,
		userAgent: cfg.UserAgent,
		cfg:       cfg,
		transport: tr,
		snapshots: newSnapshotCache(),
	}
	if cfg.Logger != nil {
		c.logger = &scrubbingLogger{next: cfg.Logger, secret: cfg.Token}
	}
	return c, nil
}

// WithLease returns a copy of c that sends X-Lease-ID on every request, so
// that mutating operations run under the cluster's rollout lease. The copy
// shares c's connections.
func (c *Client) WithLease(leaseID string) *Client {
	cp := *c
	cp.leaseID = leaseID
	return &cp
}

// WithLeaseGeneration is WithLease that also sends the lease's fencing
// token, its generation (api.Lease.Generation), in X-Lease-Generation:
// the cluster refuses a request whose lease is no longer its live one
// with 409 lease_lost, so that a holder that stalled past its lease
// cannot act beside the next one.
func (c *Client) WithLeaseGeneration(leaseID string, generation int64) *Client {
	cp := *c
	cp.leaseID, cp.leaseGeneration = leaseID, generation
	return &cp
}

// Endpoint returns the API endpoint, for messages.
func (c *Client) Endpoint() string { return c.base.String() }

// retryable returns a retryablehttp client for one request, whose attempts
// are bounded by timeout (0: only by the context). Its construction is
// cheap; building one per call lets long-polls and uploads have bounds of
// their own, and gives each request a retry policy of its own.
func (c *Client) retryable(timeout time.Duration) *retryablehttp.Client {
	p := &retryPolicy{retryAfterMax: c.cfg.RetryAfterMax}
	return &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: c.transport,
			Timeout:   timeout,
			// The API never redirects; following one could carry the token
			// or an upload somewhere unexpected.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:       c.logger,
		RetryWaitMin: c.cfg.RetryWaitMin,
		RetryWaitMax: c.cfg.RetryWaitMax,
		RetryMax:     c.cfg.RetryMax,
		CheckRetry:   p.check,
		Backoff: func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
			return backoff(minWait, maxWait, p.retryAfterMax, attempt, resp)
		},
		ErrorHandler: p.giveUp,
	}
}
