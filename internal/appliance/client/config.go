package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// Endpoint is the absolute http(s) URL of the management API, without
	// the /v1 suffix; a path prefix is kept (https://host/appliance).
	Endpoint string
	// Token is sent as "Authorization: Bearer <token>" on every request.
	Token string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CACertPEM adds PEM certificates to trust, for self-signed appliances.
	CACertPEM string
	// RetryMax is how many times a failed request is retried (default 4;
	// negative: never).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff between retries
	// (defaults 200ms and 5s). A Retry-After header overrides them, up to
	// RetryAfterMax.
	RetryWaitMin, RetryWaitMax time.Duration
	// RetryAfterMax caps the wait a server's Retry-After asks for (default
	// 30s): one "Retry-After: 3600" must not hang a plan for an hour per
	// retry. When the server asked for longer and the retries run out, the
	// error says what was asked and what was waited. A request with a
	// deadline never sleeps into it: when the wait would pass it, the
	// request stops at once with an error saying so.
	RetryAfterMax time.Duration
	// RequestTimeout bounds each attempt (default 60s). Long-polls get the
	// poll's wait on top; uploads have no per-attempt bound and rely on ctx.
	RequestTimeout time.Duration
	// UserAgent defaults to "terraform-provider-appliance".
	UserAgent string
	// Logger receives retryablehttp's request and retry lines, with the
	// token scrubbed. Nil is silent.
	Logger retryablehttp.LeveledLogger
}

const (
	defaultRetryMax       = 4
	defaultRetryWaitMin   = 200 * time.Millisecond
	defaultRetryWaitMax   = 5 * time.Second
	defaultRetryAfterMax  = 30 * time.Second
	defaultRequestTimeout = 60 * time.Second
	defaultUserAgent      = "terraform-provider-appliance"
)

func (cfg Config) withDefaults() Config {
	switch {
	case cfg.RetryMax == 0:
		cfg.RetryMax = defaultRetryMax
	case cfg.RetryMax < 0:
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = defaultRetryWaitMin
	}
	if cfg.RetryWaitMax <= 0 {
		cfg.RetryWaitMax = defaultRetryWaitMax
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	if cfg.RetryAfterMax <= 0 {
		cfg.RetryAfterMax = defaultRetryAfterMax
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = defaultUserAgent
	}
	return cfg
}

// parseEndpoint checks that the endpoint is an absolute http(s) URL and
// returns it without a trailing slash.
func parseEndpoint(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("endpoint is required: the URL of the appliance management API, for example https://appliance.example.com")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("endpoint %q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q must be an absolute http:// or https:// URL", raw)
	}
	if u.User != nil {
		// Credentials in the URL would end up in logs and errors.
		return nil, errors.New("endpoint must not carry credentials: use the token")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q must not have a query or a fragment", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// tlsConfig builds the TLS settings: TLS 1.2 at least, and the extra CAs.
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} //nolint:gosec // the operator asked for it
	if strings.TrimSpace(cfg.CACertPEM) == "" {
		return tc, nil
	}
	pool, err := parseCAs(cfg.CACertPEM)
	if err != nil {
		return nil, err
	}
	// Only the given CAs: an operator who names the appliance's CA means
	// "trust this", not "trust this as well as every public CA".
	tc.RootCAs = pool
	return tc, nil
}

// parseCAs parses every CERTIFICATE block of a PEM text, and says which
// block is wrong rather than silently skipping it as AppendCertsFromPEM does.
func parseCAs(text string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := []byte(text)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("ca_cert_pem: PEM block %d is a %q, not a CERTIFICATE", n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca_cert_pem: PEM block %d is not a valid certificate: %w", n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, errors.New("ca_cert_pem holds no PEM certificate: expect one or more -----BEGIN CERTIFICATE----- blocks")
	}
	return pool, nil
}
