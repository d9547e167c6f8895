package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

func TestEveryRequestSendsTheBearerTokenAndUserAgent(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/v1/clusters":
			writeJSON(w, 200, api.ClusterList{Clusters: []appliance.Cluster{{Name: "c1"}, {Name: "c2"}}})
		default:
			writeJSON(w, 200, appliance.Cluster{Name: "c1"})
		}
	})
	c := newClient(t, f, func(cfg *Config) { cfg.UserAgent = "test-agent/1" })
	ctx := context.Background()
	list, err := c.ListClusters(ctx)
	if err != nil || len(list) != 2 || list[1].Name != "c2" {
		t.Fatalf("ListClusters = %v, %v", list, err)
	}
	cl, err := c.GetCluster(ctx, "c1")
	if err != nil || cl.Name != "c1" {
		t.Fatalf("GetCluster = %v, %v", cl, err)
	}
	for _, r := range f.requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization = %q", r.Method, r.Path, got)
		}
		if got := r.Header.Get("User-Agent"); got != "test-agent/1" {
			t.Errorf("%s %s: User-Agent = %q", r.Method, r.Path, got)
		}
		if r.Header.Get(api.HeaderLeaseID) != "" {
			t.Errorf("%s %s: a lease header without WithLease", r.Method, r.Path)
		}
	}
}

// TestEveryOperationUsesItsRoute pins the routes, bodies and headers that
// the simulator serves.
func TestEveryOperationUsesItsRoute(t *testing.T) {
	f := newFakeRecordingBodies(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(r.URL.Path, "/v1/tasks/"):
			writeJSON(w, 200, api.Task{ID: "t1", State: api.TaskSucceeded})
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/clusters/") && !strings.HasSuffix(r.URL.Path, "/lease"):
			writeJSON(w, 202, api.Task{ID: "t1", State: api.TaskPending})
		default:
			writeJSON(w, 200, map[string]any{})
		}
	})
	c := newClient(t, f)
	ctx := context.Background()
	type op struct {
		name, method, path, query, body, key string
		run                                  func() error
	}
	ops := []op{
		{"ListImages", "GET", "/v1/clusters/c1/images", "", "", "", func() error { _, err := c.ListImages(ctx, "c1"); return err }},
		{"GetImage", "GET", "/v1/clusters/c1/images/img-1", "", "", "", func() error { _, err := c.GetImage(ctx, "c1", "img-1"); return err }},
		{"DeleteImage", "DELETE", "/v1/clusters/c1/images/img-1", "", "", "", func() error { return c.DeleteImage(ctx, "c1", "img-1") }},
		{"DownloadImage", "POST", "/v1/clusters/c1/downloads", "", `{"url":"https://x/i.tar","sha256":"ab","proxy":"http://p:3128"}`, "k-dl", func() error {
			_, err := c.DownloadImage(ctx, "c1", api.DownloadRequest{URL: "https://x/i.tar", SHA256: "ab", Proxy: "http://p:3128"}, "k-dl")
			return err
		}},
		{"Stage", "POST", "/v1/clusters/c1/nodes/n1/stage", "", `{"image_id":"img-1"}`, "k-st", func() error { _, err := c.Stage(ctx, "c1", "n1", "img-1", "k-st"); return err }},
		{"Activate", "POST", "/v1/clusters/c1/nodes/n1/activate", "", `{"expect_version":"6.5","auto_revert":true}`, "k-ac", func() error {
			_, err := c.Activate(ctx, "c1", "n1", api.ActivateRequest{ExpectVersion: "6.5", AutoRevert: true}, "k-ac")
			return err
		}},
		{"Revert", "POST", "/v1/clusters/c1/nodes/n1/revert", "", "", "k-rv", func() error { _, err := c.Revert(ctx, "c1", "n1", "k-rv"); return err }},
		{"Promote", "POST", "/v1/clusters/c1/nodes/n1/promote", "", "", "k-pr", func() error { _, err := c.Promote(ctx, "c1", "n1", "k-pr"); return err }},
		{"MoveResource", "POST", "/v1/clusters/c1/resources/pool1/move", "", `{"node":"n2"}`, "k-mv", func() error { _, err := c.MoveResource(ctx, "c1", "pool1", "n2", "k-mv"); return err }},
		{"Finalize", "POST", "/v1/clusters/c1/finalize", "", "", "k-fi", func() error { _, err := c.Finalize(ctx, "c1", "k-fi"); return err }},
		{"GetTask", "GET", "/v1/tasks/t1", "", "", "", func() error { _, err := c.GetTask(ctx, "t1", 0); return err }},
		{"GetTask wait", "GET", "/v1/tasks/t1", "wait=30s", "", "", func() error { _, err := c.GetTask(ctx, "t1", 30*time.Second); return err }},
		{"AcquireLease", "POST", "/v1/clusters/c1/lease", "", `{"owner":"me","operation_key":"op","ttl_seconds":120}`, "", func() error {
			_, err := c.AcquireLease(ctx, "c1", api.LeaseRequest{Owner: "me", OperationKey: "op", TTLSeconds: 120})
			return err
		}},
		{"ReleaseLease", "DELETE", "/v1/clusters/c1/lease/lease-1", "", "", "", func() error { return c.ReleaseLease(ctx, "c1", "lease-1") }},
		{"Events", "GET", "/v1/clusters/c1/events", "since=42", "", "", func() error { _, err := c.Events(ctx, "c1", 42); return err }},
		{"Ledger", "GET", "/v1/clusters/c1/ledger", "", "", "", func() error { _, err := c.Ledger(ctx, "c1"); return err }},
	}
	for i, o := range ops {
		if err := o.run(); err != nil {
			t.Errorf("%s: %v", o.name, err)
			continue
		}
		reqs := f.requests()
		if len(reqs) != i+1 {
			t.Fatalf("%s: %d requests so far, want %d", o.name, len(reqs), i+1)
		}
		r := reqs[i]
		if r.Method != o.method || r.Path != o.path || r.Query != o.query {
			t.Errorf("%s: %s %s?%s, want %s %s?%s", o.name, r.Method, r.Path, r.Query, o.method, o.path, o.query)
		}
		if got := string(r.Body); got != o.body {
			t.Errorf("%s: body %s, want %s", o.name, got, o.body)
		}
		if got := r.Header.Get(api.HeaderIdempotencyKey); got != o.key {
			t.Errorf("%s: Idempotency-Key %q, want %q", o.name, got, o.key)
		}
		if o.body != "" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", o.name, r.Header.Get("Content-Type"))
		}
	}
}

func TestPathSegmentsAreEscapedAndTheEndpointPrefixKept(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, appliance.Cluster{}) })
	c := newClient(t, f, func(cfg *Config) { cfg.Endpoint = f.URL + "/mgmt/" })
	if _, err := c.GetCluster(context.Background(), "a/b c"); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].RawPath; got != "/mgmt/v1/clusters/a%2Fb%20c" {
		t.Fatalf("path %s", got)
	}
}

func TestAPIErrorsAreTypedWithStatusAndCode(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 422, api.Error{Code: api.CodeVersionNotNewer, Message: "image 6.4 is not newer than running 6.5", Details: map[string]any{"running": "6.5"}})
	})
	c := newClient(t, f)
	_, err := c.Stage(context.Background(), "c1", "n1", "img", "key")
	var ae *api.Error
	if !errors.As(err, &ae) {
		t.Fatalf("want *api.Error, got %T: %v", err, err)
	}
	if ae.Status != 422 || ae.Code != api.CodeVersionNotNewer || ae.Details["running"] != "6.5" {
		t.Fatalf("api.Error = %+v", ae)
	}
	if ErrorCode(err) != api.CodeVersionNotNewer || IsNotFound(err) {
		t.Fatalf("ErrorCode = %q, IsNotFound = %v", ErrorCode(err), IsNotFound(err))
	}
	if !strings.Contains(err.Error(), "POST /v1/clusters/c1/nodes/n1/stage") || !strings.Contains(err.Error(), "not newer") {
		t.Fatalf("message %q should name the request and the reason", err)
	}
	if f.count() != 1 {
		t.Fatalf("a 422 was sent %d times", f.count())
	}
}

func TestNonJSONErrorBodiesGetAGenericMessageAndTheStatusCode(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if strings.HasSuffix(r.URL.Path, "missing") {
			http.Error(w, "404 page not found", 404)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
	})
	c := newClient(t, f, func(cfg *Config) { cfg.RetryMax = 1 })
	_, err := c.GetImage(context.Background(), "c1", "missing")
	if !IsNotFound(err) || ErrorCode(err) != api.CodeNotFound {
		t.Fatalf("404 text: IsNotFound = %v, code %q, err %v", IsNotFound(err), ErrorCode(err), err)
	}
	_, err = c.ListClusters(context.Background())
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != api.CodeUnavailable || !strings.Contains(ae.Message, "502") {
		t.Fatalf("502 html: %#v", ae)
	}
}

func TestAnAnswerThatIsNotTheExpectedJSONIsAnError(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		_, _ = w.Write([]byte("<html>captive portal</html>"))
	})
	_, err := newClient(t, f).ListClusters(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not the expected JSON") {
		t.Fatalf("err = %v", err)
	}
}

func TestWithLeaseSendsTheLeaseOnEveryRequestAndLeavesTheOriginalAlone(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 202, api.Task{ID: "t"}) })
	c := newClient(t, f)
	leased := c.WithLease("lease-7")
	ctx := context.Background()
	_, _ = leased.Stage(ctx, "c1", "n1", "img", "k1")
	_, _ = leased.Activate(ctx, "c1", "n1", api.ActivateRequest{}, "k2")
	_, _ = c.Stage(ctx, "c1", "n1", "img", "k3")
	reqs := f.requests()
	for _, r := range reqs[:2] {
		if got := r.Header.Get(api.HeaderLeaseID); got != "lease-7" {
			t.Errorf("%s: X-Lease-ID = %q", r.Path, got)
		}
	}
	if got := reqs[2].Header.Get(api.HeaderLeaseID); got != "" {
		t.Errorf("the original client sent X-Lease-ID %q", got)
	}
}

func TestAcquireLeaseReportsTheHolderAndReleaseIgnoresAGoneLease(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodPost {
			writeJSON(w, 409, api.Error{Code: api.CodeLeaseHeld, Message: "cluster c1 is leased by other", Details: map[string]any{"owner": "other"}})
			return
		}
		writeAPIError(w, 404, api.CodeNotFound, "no lease %s", r.PathValue("id"))
	})
	c := newClient(t, f)
	_, err := c.AcquireLease(context.Background(), "c1", api.LeaseRequest{Owner: "me", OperationKey: "op"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeLeaseHeld || ae.Status != 409 || ae.Details["owner"] != "other" {
		t.Fatalf("AcquireLease: %v", err)
	}
	if f.count() != 1 {
		t.Fatalf("a 409 was retried: %d requests", f.count())
	}
	if err := c.ReleaseLease(context.Background(), "c1", "lease-gone"); err != nil {
		t.Fatalf("ReleaseLease of a gone lease: %v", err)
	}
}

func TestDecodesTheAnswers(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case "/v1/clusters/c1/events":
			writeJSON(w, 200, api.EventList{Events: []api.Event{{Seq: 43, Kind: "node_state"}}})
		case "/v1/clusters/c1/ledger":
			writeJSON(w, 200, api.Ledger{Outages: []api.Outage{{Subject: "pool1", Kind: "resource"}}})
		case "/v1/clusters/c1/images":
			writeJSON(w, 200, api.ImageList{Images: []api.Image{{ID: "img-1", Manifest: appliance.Manifest{Version: "6.5"}}}})
		}
	})
	c := newClient(t, f)
	ctx := context.Background()
	ev, err := c.Events(ctx, "c1", 42)
	if err != nil || len(ev) != 1 || ev[0].Seq != 43 {
		t.Errorf("Events = %+v, %v", ev, err)
	}
	l, err := c.Ledger(ctx, "c1")
	if err != nil || len(l.Outages) != 1 || l.Outages[0].Subject != "pool1" {
		t.Errorf("Ledger = %+v, %v", l, err)
	}
	imgs, err := c.ListImages(ctx, "c1")
	if err != nil || len(imgs) != 1 || imgs[0].Manifest.Version != "6.5" {
		t.Errorf("ListImages = %+v, %v", imgs, err)
	}
}
