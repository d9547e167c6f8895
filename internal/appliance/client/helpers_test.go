package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

const testToken = "tok-SECRET-4242-do-not-log"

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         []byte
}

// fake is an httptest server that records requests and answers with a
// per-test handler; n counts the requests so far (1-based).
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone()})
		n := len(f.reqs)
		f.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

// newFakeRecordingBodies is newFake that also keeps request bodies (small ones only).
func newFakeRecordingBodies(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *fake {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs[n-1].Body = body
		f.mu.Unlock()
		h(w, r, n)
	})
	return f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) count() int { return len(f.requests()) }

// newClient makes a client of f with fast retries.
func newClient(t *testing.T, f *fake, mod ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Endpoint: f.URL, Token: testToken, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, api.Error{Code: code, Message: fmt.Sprintf(format, args...)})
}

// logLines is a retryablehttp.LeveledLogger that keeps every line.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(level, msg string, kv []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %v", level, msg, kv))
}
func (l *logLines) Error(msg string, kv ...any) { l.add("ERROR", msg, kv) }
func (l *logLines) Warn(msg string, kv ...any)  { l.add("WARN", msg, kv) }
func (l *logLines) Info(msg string, kv ...any)  { l.add("INFO", msg, kv) }
func (l *logLines) Debug(msg string, kv ...any) { l.add("DEBUG", msg, kv) }

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
