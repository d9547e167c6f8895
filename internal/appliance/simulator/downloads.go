package simulator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/ftpget"
)

// Downloads (S1): the cluster fetches an image itself, over http, https or
// ftp, optionally through a proxy. The bytes are fetched for real (in a
// goroutine, streamed through verification, never kept); the task ends no
// earlier than the cluster's simulated download time.

// redactURL drops credentials from a URL, for records and messages.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

func (s *Server) startDownload(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var req api.DownloadRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	u, perr := url.Parse(req.URL)
	if perr != nil || u.Host == "" {
		return 0, nil, engine.BadRequest("url must be an absolute http, https or ftp URL")
	}
	switch u.Scheme {
	case "http", "https", "ftp":
	default:
		return 0, nil, engine.BadRequest("url scheme %q is not supported: use http, https or ftp", u.Scheme)
	}
	var proxy *url.URL
	if req.Proxy != "" {
		if proxy, perr = url.Parse(req.Proxy); perr != nil || proxy.Host == "" {
			return 0, nil, engine.BadRequest("proxy must be a URL such as http://proxy:3128")
		}
		if u.Scheme == "ftp" {
			return 0, nil, engine.BadRequest("a proxy applies to http and https downloads only")
		}
	}
	want := strings.ToLower(strings.TrimSpace(req.SHA256))
	if e := t.DiskFull(cs, 0); e != nil {
		return 0, nil, e
	}
	tk, corrupt := t.StartDownload(cs, redactURL(u), proxy != nil)
	id, cluster := tk.ID, cs.Cluster.Name
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.runDownload(id, cluster, u, proxy, want, corrupt)
	}()
	return http.StatusAccepted, tk.View(t.Now), nil
}

// runDownload fetches and verifies, then records the outcome.
func (s *Server) runDownload(id, cluster string, u, proxy *url.URL, want string, corrupt bool) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go s.heartbeat(ctx, id)
	m, sha, size, failure := s.fetchAndVerify(ctx, u, proxy, corrupt)
	if failure == nil && want != "" && sha != want {
		failure = &api.Error{Code: api.CodeCorruptImage, Message: fmt.Sprintf("the downloaded bytes have sha256 %s, not the expected %s", sha, want)}
	}
	_ = s.eng.Tx(func(t *engine.Tx) error {
		t.FinishDownload(id, cluster, m, sha, size, failure)
		return nil
	})
}

// heartbeat stamps a download task while this process fetches it.
func (s *Server) heartbeat(ctx context.Context, id string) {
	tick := time.NewTicker(engine.HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = s.eng.Tx(func(t *engine.Tx) error {
				t.Heartbeat(id)
				return nil
			})
		}
	}
}

// fetchAndVerify downloads u and streams it through verification.
func (s *Server) fetchAndVerify(ctx context.Context, u, proxy *url.URL, corrupt bool) (m *appliance.Manifest, sha string, size int64, failure *api.Error) {
	body, err := s.open(ctx, u, proxy)
	if err != nil {
		return nil, "", 0, &api.Error{Code: api.CodeDownloadFailed, Message: err.Error()}
	}
	// Only read: what matters (a short or failed transfer) surfaces as a
	// read error in verifyStream, so the error of Close adds nothing.
	defer func() { _ = body.Close() }()
	var r io.Reader = body
	if corrupt {
		r = &corruptingReader{r: body, at: 512}
	}
	m, sha, size, readErr, bundleErr := verifyStream(r)
	if readErr != nil {
		return nil, "", 0, &api.Error{Code: api.CodeDownloadFailed, Message: fmt.Sprintf("downloading %s: %v", redactURL(u), readErr)}
	}
	if bundleErr != nil {
		return nil, "", 0, &api.Error{Code: api.CodeCorruptImage, Message: bundleErr.Error()}
	}
	if len(s.trusted) > 0 {
		if e := s.checkSignature(s.fetchSignature(ctx, u, proxy), sha, size); e != nil {
			return nil, "", 0, e
		}
	}
	return m, sha, size, nil
}

// open starts the transfer of u.
func (s *Server) open(ctx context.Context, u, proxy *url.URL) (io.ReadCloser, error) {
	if u.Scheme == "ftp" {
		return ftpget.Retrieve(ctx, u)
	}
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		// Another transport type cannot be told to ignore the environment's
		// proxy: refuse rather than download through an unintended proxy.
		return nil, fmt.Errorf("downloading %s: http.DefaultTransport is a %T, not an *http.Transport", redactURL(u), http.DefaultTransport)
	}
	tr := dt.Clone()
	tr.Proxy = nil // the request's proxy, or none: never the environment's
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	// Connecting and the TLS handshake are bounded by the cloned default
	// transport; the answer's headers by downloadHeaderTimeout. The body has
	// no overall bound (a multi-GB image may take long), but a transfer that
	// stalls for downloadStallTimeout is abandoned.
	tr.ResponseHeaderTimeout = downloadHeaderTimeout
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("downloading %s: %v", redactURL(u), scrub(err, u))
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close() // the body is abandoned: the status is the error to report
		cancel()
		return nil, fmt.Errorf("downloading %s: HTTP %s", redactURL(u), resp.Status)
	}
	return newStallReader(resp.Body, downloadStallTimeout, cancel), nil
}

// downloadHeaderTimeout bounds the wait for a download's answer, and
// downloadStallTimeout a download that stops sending; variables so that
// tests can shorten them.
var (
	downloadHeaderTimeout = 30 * time.Second
	downloadStallTimeout  = 60 * time.Second
)

// stallReader fails a transfer that sends nothing for its timeout.
type stallReader struct {
	body    io.ReadCloser
	timeout time.Duration
	timer   *time.Timer
	cancel  context.CancelFunc
	stalled atomic.Bool
}

func newStallReader(body io.ReadCloser, timeout time.Duration, cancel context.CancelFunc) *stallReader {
	s := &stallReader{body: body, timeout: timeout, cancel: cancel}
	s.timer = time.AfterFunc(timeout, func() {
		s.stalled.Store(true)
		cancel()
	})
	return s
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.timer.Reset(s.timeout)
	}
	if err != nil && err != io.EOF && s.stalled.Load() {
		err = fmt.Errorf("the transfer stalled: no data for %s", s.timeout)
	}
	return n, err
}

func (s *stallReader) Close() error {
	s.timer.Stop()
	s.cancel()
	return s.body.Close()
}

// scrub keeps credentials of a URL out of an error message.
func scrub(err error, u *url.URL) string {
	msg := err.Error()
	if u.User != nil {
		msg = strings.ReplaceAll(msg, u.String(), redactURL(u))
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// corruptingReader flips the byte at offset at: the corrupt_download fault.
type corruptingReader struct {
	r   io.Reader
	at  int64
	off int64
}

func (c *corruptingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.at >= c.off && c.at < c.off+int64(n) {
		p[c.at-c.off] ^= 0xff
	}
	c.off += int64(n)
	return n, err
}
