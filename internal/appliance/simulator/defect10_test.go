package simulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Defect 10, the simulator's part: its http.Server.ErrorLog was discarded
// (a handler panic left no trace), the auth scheme "bearer" in lower case
// was refused, and the simulated download client had no timeout.

func TestSim_Defect10_HandlerPanicIsLoggedWithItsStack(t *testing.T) {
	var logBuf syncBuffer
	srv, err := New(Options{Token: testToken, Clock: NewManualClock(epoch), ErrorLog: &logBuf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE /v1/clusters/{c}/lease/{id}", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := httptest.NewRecorder()
	srv.recoverPanics(mux).ServeHTTP(rec, httptest.NewRequest("DELETE", "/v1/clusters/demo/lease/lease-secret-id", nil))
	var e api.Error
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 500 || e.Code != api.CodeInternal {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	got := logBuf.String()
	if !strings.Contains(got, "panic serving DELETE /v1/clusters/{c}/lease/{id}: boom") || !strings.Contains(got, "goroutine") {
		t.Errorf("the log has no trace of the panic and its stack:\n%s", got)
	}
	if strings.Contains(got, "lease-secret-id") || strings.Contains(e.Message, "lease-secret-id") {
		t.Errorf("a lease id (a capability) is in the log or the answer")
	}
}

func TestSim_Defect10_ServerErrorLogIsKeptButTLSNoiseIsNot(t *testing.T) {
	var logBuf syncBuffer
	srv, err := Start(context.Background(), Options{Token: testToken, Clock: NewManualClock(epoch), GenerateTLS: true, ErrorLog: &logBuf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.srv.ErrorLog.Printf("http: Accept error: too many open files")
	// A client that does not trust the self-signed certificate (or speaks
	// plain HTTP) makes the server log a TLS handshake error.
	resp, err := http.Get("http://" + strings.TrimPrefix(srv.URL(), "https://") + "/healthz")
	if err == nil {
		_ = resp.Body.Close() // only the log matters
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logBuf.String(), "Accept error") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the handshake error be logged, if it were
	got := logBuf.String()
	if !strings.Contains(got, "appliance simulator: ") || !strings.Contains(got, "Accept error: too many open files") {
		t.Errorf("the server's error log was not kept: %q", got)
	}
	if strings.Contains(got, "TLS handshake error") {
		t.Errorf("TLS handshake noise was logged: %q", got)
	}
}

func TestSim_Defect10_BearerSchemeIsCaseInsensitive(t *testing.T) {
	h := newHarness(t, "")
	for header, want := range map[string]int{
		"Bearer " + testToken:        200,
		"bearer " + testToken:        200,
		"BEARER " + testToken:        200,
		"  bearer   " + testToken:    200,
		"Basic " + testToken:         401,
		"Bearer" + testToken:         401,
		"bearer wrong-token":         401,
		"Bearer " + testToken + "x":  401,
		"":                           401,
		"Bearer":                     401,
		"Bearer " + testToken[:5]:    401,
		"Token " + testToken + " xx": 401,
	} {
		req, _ := http.NewRequest("GET", h.ts.URL+"/v1/clusters", nil)
		req.Header.Set("Authorization", header)
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // the status is what counts
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: status %d, want %d", header, resp.StatusCode, want)
		}
	}
}

// waitDone polls a task in wall time: the download's outcome comes from
// a goroutine, not from the manual clock.
func waitDone(h *harness, id string, within time.Duration) api.Task {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if tk := h.task(id); tk.Done() {
			return tk
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("task %s still running after %s", id, within)
	return api.Task{}
}

func TestSim_Defect10_DownloadClientHasATimeout(t *testing.T) {
	oldHeader, oldStall := downloadHeaderTimeout, downloadStallTimeout
	downloadHeaderTimeout, downloadStallTimeout = 200*time.Millisecond, 200*time.Millisecond
	t.Cleanup(func() { downloadHeaderTimeout, downloadStallTimeout = oldHeader, oldStall })
	release := make(chan struct{})
	sp := spec("1.1", []string{"1.0"})
	sp.Components[0].Size = 1 << 20
	whole, _ := build(t, sp)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stalls.tar" {
			w.WriteHeader(200)
			_, _ = w.Write(whole[:len(whole)/2]) // a good start, then nothing
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			} else {
				t.Errorf("the test server's response writer is a %T, which cannot flush", w)
			}
		}
		select { // "/silent.tar" never answers; "/stalls.tar" stops sending
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); site.Close() })
	h := newHarness(t, "")
	for path, want := range map[string]string{"/silent.tar": "timeout awaiting response headers", "/stalls.tar": "stalled: no data for 200ms"} {
		var tk api.Task
		h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: site.URL + path}, 202, &tk)
		got := waitDone(h, tk.ID, 10*time.Second)
		if got.State != api.TaskFailed || got.Error.Code != api.CodeDownloadFailed || !strings.Contains(got.Error.Message, want) {
			t.Errorf("%s: task %s %+v, want download_failed saying %q", path, got.State, got.Error, want)
		}
	}
}
