package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
)

const testToken = "test-token-not-secret"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness is a simulator with a manual clock behind an httptest server.
type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	clock *ManualClock
	lease string // X-Lease-ID sent with every request when set
}

func newHarness(t *testing.T, topology string) *harness {
	t.Helper()
	return newHarnessOpts(t, Options{Topology: topology})
}

func newHarnessOpts(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t}
	if opts.Clock == nil && opts.TimeScale == 0 {
		h.clock = NewManualClock(epoch)
		opts.Clock = h.clock
	}
	opts.Token = testToken
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		h.ts.Close()
		// Close releases the state file's lock: a failure would leak it.
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
		// Every exchange of the test, validated against the API description.
		reportExchanges(t, srv)
	})
	return h
}

// do sends a request and returns the status and body.
func (h *harness) do(method, path string, body any, hdr ...string) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.lease != "" {
		req.Header.Set(api.HeaderLeaseID, h.lease)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// call sends a request, checks the status and decodes the answer into out.
func (h *harness) call(method, path string, body any, want int, out any, hdr ...string) {
	h.t.Helper()
	status, b := h.do(method, path, body, hdr...)
	if status != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

// fail sends a request that must fail with status and code.
func (h *harness) fail(method, path string, body any, status int, code string) api.Error {
	h.t.Helper()
	var e api.Error
	h.call(method, path, body, status, &e)
	if e.Code != code {
		h.t.Fatalf("%s %s: code %q, want %q (%s)", method, path, e.Code, code, e.Message)
	}
	return e
}

func (h *harness) cluster(name string) appliance.Cluster {
	h.t.Helper()
	var c appliance.Cluster
	h.call("GET", "/v1/clusters/"+name, nil, 200, &c)
	return c
}

func (h *harness) node(cluster, name string) appliance.Node {
	h.t.Helper()
	c := h.cluster(cluster)
	n := c.Node(name)
	if n == nil {
		h.t.Fatalf("no node %s", name)
	}
	return *n
}

func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.call("POST", "/v1/clock/advance", AdvanceRequest{Seconds: d.Seconds()}, 200, nil)
}

func (h *harness) task(id string) api.Task {
	h.t.Helper()
	var tk api.Task
	h.call("GET", "/v1/tasks/"+id, nil, 200, &tk)
	return tk
}

// finish advances the manual clock until the task is done.
func (h *harness) finish(tk api.Task) api.Task {
	h.t.Helper()
	for i := 0; i < 10000; i++ {
		got := h.task(tk.ID)
		if got.Done() {
			return got
		}
		h.advance(10 * time.Second)
	}
	h.t.Fatalf("task %s never finished", tk.ID)
	return api.Task{}
}

func (h *harness) succeed(tk api.Task) api.Task {
	h.t.Helper()
	got := h.finish(tk)
	if got.State != api.TaskSucceeded {
		h.t.Fatalf("task %s %s on %s: %s: %+v", got.ID, got.Kind, got.Target, got.State, got.Error)
	}
	return got
}

func (h *harness) events(cluster string) []api.Event {
	h.t.Helper()
	var l api.EventList
	h.call("GET", "/v1/clusters/"+cluster+"/events", nil, 200, &l)
	return l.Events
}

func (h *harness) ledger(cluster string) []api.Outage {
	h.t.Helper()
	var l api.Ledger
	h.call("GET", "/v1/clusters/"+cluster+"/ledger", nil, 200, &l)
	return l.Outages
}

func (h *harness) addFault(f api.Fault) api.Fault {
	h.t.Helper()
	var out api.Fault
	h.call("POST", "/v1/faults", f, 201, &out)
	return out
}

// spec is a bundle spec for version with the given components.
func spec(version string, from []string, components ...string) bundle.Spec {
	if len(components) == 0 {
		components = []string{"os"}
	}
	s := bundle.Spec{Version: version, SupportedFrom: from, Description: "release " + version}
	for _, c := range components {
		s.Components = append(s.Components, bundle.ComponentSpec{Name: c, Size: 1000})
	}
	return s
}

func build(t *testing.T, s bundle.Spec) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := bundle.Build(&buf, s); err != nil {
		t.Fatalf("bundle.Build: %v", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:])
}

// upload sends a bundle and returns the status and body.
func (h *harness) upload(cluster string, data []byte, sha string) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/clusters/"+cluster+"/images", bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sha)
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("upload: %v", err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// image uploads a bundle built from s and returns the image.
func (h *harness) image(cluster string, s bundle.Spec) api.Image {
	h.t.Helper()
	data, sha := build(h.t, s)
	status, b := h.upload(cluster, data, sha)
	if status != 201 && status != 200 {
		h.t.Fatalf("upload %s: %d %s", s.Version, status, b)
	}
	var im api.Image
	if err := json.Unmarshal(b, &im); err != nil {
		h.t.Fatal(err)
	}
	return im
}

func (h *harness) stage(cluster, node, imageID string) api.Task {
	h.t.Helper()
	var tk api.Task
	h.call("POST", fmt.Sprintf("/v1/clusters/%s/nodes/%s/stage", cluster, node), api.StageRequest{ImageID: imageID}, 202, &tk)
	return tk
}

func (h *harness) activate(cluster, node string, autoRevert bool) api.Task {
	h.t.Helper()
	var tk api.Task
	h.call("POST", fmt.Sprintf("/v1/clusters/%s/nodes/%s/activate", cluster, node), api.ActivateRequest{AutoRevert: autoRevert}, 202, &tk)
	return tk
}

// upgrade stages and activates node to the image, waiting for both.
func (h *harness) upgrade(cluster, node, imageID string) {
	h.t.Helper()
	h.succeed(h.stage(cluster, node, imageID))
	h.succeed(h.activate(cluster, node, true))
}

func hasEvent(evs []api.Event, kind, substr string) bool {
	for _, e := range evs {
		if (kind == "" || e.Kind == kind) && strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func sha256Of(t *testing.T, s bundle.Spec) string {
	t.Helper()
	hh := sha256.New()
	if _, err := bundle.Build(hh, s); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(hh.Sum(nil))
}

func readAllJSON(b []byte, v any) ([]byte, error) { return b, json.Unmarshal(b, v) }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeTopology writes a topology file and returns its path.
func writeTopology(t *testing.T, content string) string {
	t.Helper()
	p := t.TempDir() + "/topology.json"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
