package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

func TestRetriesOn503ThenSucceeds(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= 2 {
			writeAPIError(w, 503, api.CodeUnavailable, "busy")
			return
		}
		writeJSON(w, 200, appliance.Cluster{Name: "c1"})
	})
	cl, err := newClient(t, f).GetCluster(context.Background(), "c1")
	if err != nil || cl.Name != "c1" || f.count() != 3 {
		t.Fatalf("GetCluster = %v, %v after %d requests", cl, err, f.count())
	}
}

func TestRetriesOn429HonouringRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var first, second time.Time
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		mu.Lock()
		defer mu.Unlock()
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			writeAPIError(w, 429, "too_many_requests", "slow down")
			return
		}
		second = time.Now()
		writeJSON(w, 202, api.Task{ID: "t1"})
	})
	// A 429 is retried even without an idempotency key: the server refused
	// before acting.
	task, err := newClient(t, f).Finalize(context.Background(), "c1", "")
	if err != nil || task == nil || f.count() != 2 {
		t.Fatalf("Finalize without an idempotency key = %v after %d requests", err, f.count())
	}
	mu.Lock()
	defer mu.Unlock()
	if gap := second.Sub(first); gap < 900*time.Millisecond {
		t.Fatalf("retried after %v, want Retry-After's 1s", gap)
	}
}

func TestDoesNotRetryAPOSTThatFailedWith500WithoutAnIdempotencyKey(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeAPIError(w, 500, api.CodeInternal, "boom")
	})
	c := newClient(t, f)
	_, err := c.Stage(context.Background(), "c1", "n1", "img", "")
	if ErrorCode(err) != api.CodeInternal || f.count() != 1 {
		t.Fatalf("err %v after %d requests, want one request and the 500", err, f.count())
	}
}

func TestRetriesAPOSTThatFailedWith500WhenItHasAnIdempotencyKey(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			writeAPIError(w, 500, api.CodeInternal, "boom")
			return
		}
		writeJSON(w, 202, api.Task{ID: "t1"})
	})
	task, err := newClient(t, f).Activate(context.Background(), "c1", "n1", api.ActivateRequest{}, "op-1/activate/n1")
	if err != nil || task.ID != "t1" || f.count() != 3 {
		t.Fatalf("Activate = %v, %v after %d requests", task, err, f.count())
	}
	for _, r := range f.requests() {
		if r.Header.Get(api.HeaderIdempotencyKey) != "op-1/activate/n1" {
			t.Fatal("a retry changed the idempotency key")
		}
	}
}

func TestRetriesAGETThatFailedWith500(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			writeAPIError(w, 500, api.CodeInternal, "boom")
			return
		}
		writeJSON(w, 200, api.ImageList{})
	})
	if _, err := newClient(t, f).ListImages(context.Background(), "c1"); err != nil || f.count() != 2 {
		t.Fatalf("err %v after %d requests", err, f.count())
	}
}

func TestNeverRetriesOther4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 409, 422} {
		f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeAPIError(w, status, codeForStatus(status), "no")
		})
		_, err := newClient(t, f).GetCluster(context.Background(), "c1")
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != status || f.count() != 1 {
			t.Errorf("HTTP %d: %v after %d requests", status, err, f.count())
		}
	}
}

func TestGivesUpAfterRetryMaxWithTheLastAnswersError(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeAPIError(w, 503, api.CodeUnavailable, "appliance is rebooting")
	})
	_, err := newClient(t, f, func(cfg *Config) { cfg.RetryMax = 2 }).ListClusters(context.Background())
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Message != "appliance is rebooting" {
		t.Fatalf("err = %v", err)
	}
	if f.count() != 3 {
		t.Fatalf("%d requests, want 1 + RetryMax", f.count())
	}
}

func TestDefaultRetryMaxIsFour(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(503) })
	_, _ = newClient(t, f).ListClusters(context.Background())
	if f.count() != 5 {
		t.Fatalf("%d requests, want 5", f.count())
	}
}

func TestDoesNotRetryAPOSTWhoseConnectionBrokeWithoutAnIdempotencyKey(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { dropConnection(t, w) })
	_, err := newClient(t, f).Finalize(context.Background(), "c1", "")
	if err == nil || f.count() != 1 {
		t.Fatalf("err %v after %d requests: the server may have acted, so no retry", err, f.count())
	}
}

func TestRetriesAConnectionThatWasNeverMade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	// Nothing listens: every dial is refused.
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Endpoint: "http://" + addr, Token: testToken, RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Finalize(context.Background(), "c1", "")
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err = %v, want three attempts", err)
	}
}

func TestContextCancellationStopsRetrying(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(503)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, f).ListClusters(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestRequestTimeoutBoundsEachAttempt(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	_, err := newClient(t, f, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond; cfg.RetryMax = 1 }).ListClusters(context.Background())
	if err == nil || time.Since(start) > 3*time.Second || f.count() != 2 {
		t.Fatalf("err %v after %v and %d requests", err, time.Since(start), f.count())
	}
}

func TestBackoffStaysWithinItsBounds(t *testing.T) {
	for attempt := range 40 {
		d := backoff(200*time.Millisecond, 5*time.Second, 30*time.Second, attempt, nil)
		if d < 200*time.Millisecond || d > 5*time.Second {
			t.Fatalf("attempt %d: %v", attempt, d)
		}
	}
	resp := &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {"7"}}}
	if d := backoff(time.Millisecond, time.Second, 30*time.Second, 0, resp); d != 7*time.Second {
		t.Fatalf("Retry-After 7 gave %v", d)
	}
}

// dropConnection closes the connection without an answer.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if err := conn.Close(); err != nil {
		t.Error(err)
	}
}

// Defect 3: one 429 with "Retry-After: 3600" made the provider sleep an hour
// per retry, during plan too. The wait is capped at RetryAfterMax and the
// error states what the cluster asked for and what was waited.
func TestRetry_Defect3_RetryAfterIsCapped(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "3600")
		writeAPIError(w, 429, api.CodeRateLimited, "slow down")
	})
	c := newClient(t, f, func(cfg *Config) { cfg.RetryMax = 2; cfg.RetryAfterMax = 50 * time.Millisecond })
	start := time.Now()
	_, err := c.ListClusters(context.Background())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v: Retry-After was not capped", took)
	}
	if f.count() != 3 {
		t.Fatalf("%d requests, want 1 + RetryMax", f.count())
	}
	for _, want := range []string{"slow down", "the cluster asked to retry after 3600s", "waited at most 0.05s", "retry_after_max", "gave up after 3 attempts"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
	}
	if ErrorCode(err) != api.CodeRateLimited {
		t.Fatalf("the API's error code was lost: %q", ErrorCode(err))
	}
}

// Defect 3: a request with a deadline never sleeps into it; when the wait
// the server asks for (even capped) would pass it, the request stops at
// once saying so.
func TestRetry_Defect3_RetryAfterNeverSleepsPastTheDeadline(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "3600")
		writeAPIError(w, 503, api.CodeUnavailable, "appliance is rebooting")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, f).ListClusters(ctx)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %v: slept towards the deadline instead of stopping", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || ErrorCode(err) != api.CodeUnavailable {
		t.Fatalf("err = %v, want the 503 and a deadline error", err)
	}
	if !strings.Contains(err.Error(), "asked to retry after 3600s") || !strings.Contains(err.Error(), "deadline") || f.count() != 1 {
		t.Fatalf("err = %v after %d requests", err, f.count())
	}
}

func TestRetry_Defect3_DefaultRetryAfterMaxIs30s(t *testing.T) {
	c, err := New(Config{Endpoint: "http://127.0.0.1:1", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.RetryAfterMax != 30*time.Second {
		t.Fatalf("default RetryAfterMax %v, want the documented 30s", c.cfg.RetryAfterMax)
	}
}
