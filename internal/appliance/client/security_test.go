package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// TestTheTokenAppearsInNoErrorAndNoLogLine drives every failure path with a
// capturing logger, against a server that echoes the Authorization header
// back in its error messages, headers and details.
func TestTheTokenAppearsInNoErrorAndNoLogLine(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		auth := r.Header.Get("Authorization")
		path := r.URL.Path
		if strings.HasPrefix(path, "/v1/clusters/drop/") {
			path = "/v1/clusters/drop"
		}
		switch path {
		case "/v1/clusters/echo":
			w.Header().Set("X-Echo", auth)
			writeJSON(w, 401, api.Error{Code: api.CodeUnauthorized, Message: "bad credentials " + auth, Details: map[string]any{"got": auth}})
		case "/v1/clusters/storm":
			w.Header().Set("Retry-After", "0")
			writeAPIError(w, 503, api.CodeUnavailable, "storm for %s", auth)
		case "/v1/clusters/text":
			http.Error(w, "denied: "+auth, http.StatusForbidden)
		case "/v1/clusters/drop":
			dropConnection(t, w)
		case "/v1/clusters/redirect":
			http.Redirect(w, r, "/elsewhere?token="+strings.TrimPrefix(auth, "Bearer "), http.StatusFound)
		default:
			_, _ = w.Write([]byte("not json " + auth))
		}
	})
	logs := &logLines{}
	c := newClient(t, f, func(cfg *Config) { cfg.Logger = logs; cfg.RetryMax = 2 })
	ctx := context.Background()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	if err := ln.Close(); err != nil { // nothing listens: every dial is refused
		t.Fatal(err)
	}
	dead, _ := New(Config{Endpoint: "http://" + deadAddr, Token: testToken, Logger: logs, RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})

	var errs []error
	for _, name := range []string{"echo", "storm", "text", "drop", "redirect", "garbage"} {
		_, err := c.GetCluster(ctx, name)
		errs = append(errs, err)
	}
	_, err = c.Stage(ctx, "drop", "n1", "img", "")
	errs = append(errs, err)
	_, err = dead.ListClusters(ctx)
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("error %d: nil, want a failure", i)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error %d holds the token: %s", i, err)
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			for k, v := range ae.Details {
				if s, ok := v.(string); ok && strings.Contains(s, testToken) {
					t.Errorf("error %d: detail %s holds the token", i, k)
				}
			}
		}
	}
	if ErrorCode(errs[0]) != api.CodeUnauthorized {
		t.Errorf("scrubbing lost the error code: %v", errs[0])
	}
	out := logs.String()
	if out == "" {
		t.Fatal("the logger heard nothing: the test would prove nothing")
	}
	if strings.Contains(out, testToken) {
		t.Errorf("the log holds the token:\n%s", out)
	}
	if !strings.Contains(out, "retrying request") {
		t.Errorf("no retry was logged:\n%s", out)
	}
}

func TestScrubbingLoggerRedactsValuesThatHoldTheToken(t *testing.T) {
	logs := &logLines{}
	l := &scrubbingLogger{next: logs, secret: testToken}
	l.Error("failed "+testToken, "error", errors.New("x "+testToken), "n", 3)
	l.Debug("d", "url", "http://h/?t="+testToken)
	l.Info("i")
	l.Warn("w", "k", testToken)
	if out := logs.String(); strings.Contains(out, testToken) || !strings.Contains(out, "[redacted]") || !strings.Contains(out, "3") {
		t.Fatalf("log:\n%s", out)
	}
}
