package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func TestPrimaryHAPresetShape(t *testing.T) {
	h := newHarness(t, "")
	var list api.ClusterList
	h.call("GET", "/v1/clusters", nil, 200, &list)
	if len(list.Clusters) != 1 || list.Clusters[0].Name != "demo" {
		t.Fatalf("clusters = %+v", list.Clusters)
	}
	c := list.Clusters[0]
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.NodeNames(), ","); got != "n1,n2,n3,n4" {
		t.Errorf("nodes %s", got)
	}
	if c.Nodes[0].Role != appliance.RolePrimary || c.Nodes[3].Role != appliance.RoleSecondary {
		t.Errorf("roles %s %s", c.Nodes[0].Role, c.Nodes[3].Role)
	}
	if len(c.HAGroups) != 2 || c.HAGroups[1].Members[0] != "n3" || c.HAGroups[0].MinAvailable != 1 {
		t.Errorf("groups %+v", c.HAGroups)
	}
	if !c.HAEnabled || !c.Healthy || c.ReportedMembers != 4 {
		t.Errorf("ha %v healthy %v members %d", c.HAEnabled, c.Healthy, c.ReportedMembers)
	}
	for _, n := range c.Nodes {
		if n.Active.Version != "1.0" || n.Active.Components["os"] != "1.0" || n.Alternate.Version != "" || n.State != appliance.NodeRunning {
			t.Errorf("node %+v", n)
		}
	}
}

func TestAuthIsRequired(t *testing.T) {
	h := newHarness(t, "")
	for _, r := range Routes() {
		if !strings.HasPrefix(r.Pattern, "/v1/") {
			continue
		}
		path := strings.NewReplacer("{c}", "demo", "{n}", "n1", "{id}", "x", "{r}", "x").Replace(r.Pattern)
		req, _ := http.NewRequest(r.Method, h.ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // read-only body
		if resp.StatusCode != 401 {
			t.Errorf("%s %s with a wrong token: %d", r.Method, path, resp.StatusCode)
		}
	}
	resp, err := http.Get(h.ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // read-only body
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
}

func TestStageAndActivateSwapPartitions(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	tk := h.stage("demo", "n1", im.ID)
	if tk.State != api.TaskRunning || tk.Kind != "stage" {
		t.Fatalf("stage task %+v", tk)
	}
	h.advance(engine.DefaultStageSeconds * time.Second)
	if got := h.task(tk.ID); got.State != api.TaskSucceeded || got.Result["version"] != "1.1" {
		t.Fatalf("stage after %ds: %+v", engine.DefaultStageSeconds, got)
	}
	act := h.activate("demo", "n1", true)
	if n := h.node("demo", "n1"); n.State != appliance.NodeRebooting || n.State.Serving() {
		t.Fatalf("n1 during activation: %s", n.State)
	}
	h.advance(89 * time.Second)
	if got := h.task(act.ID); got.Done() {
		t.Fatalf("activation done before the 90 s reboot: %+v", got)
	}
	h.advance(time.Second)
	if got := h.task(act.ID); got.State != api.TaskSucceeded {
		t.Fatalf("activation after 90 s: %+v", got)
	}
	n := h.node("demo", "n1")
	if n.Active.Version != "1.1" || n.Alternate.Version != "1.0" || !n.Alternate.Bootable || n.State != appliance.NodeRunning || !n.Healthy {
		t.Fatalf("n1 after activation: %+v", n)
	}
	evs := h.events("demo")
	if !hasEvent(evs, engine.EventPartitionSwap, "active partition now 1.1") {
		t.Errorf("no partition swap event in %+v", evs)
	}
	// The swap event carries the simulated instant of the end of the reboot,
	// not the time of the request that noticed it.
	for _, e := range evs {
		if e.Kind == engine.EventPartitionSwap && !e.Time.Equal(epoch.Add(time.Duration(engine.DefaultStageSeconds+90)*time.Second)) {
			t.Errorf("swap event at %s", e.Time)
		}
	}
}

func TestActivateWithNothingStagedIsRefused(t *testing.T) {
	h := newHarness(t, "")
	h.fail("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 422, api.CodeNotStaged)
	h.fail("POST", "/v1/clusters/demo/nodes/nx/activate", api.ActivateRequest{}, 404, api.CodeNotFound)
	h.fail("GET", "/v1/clusters/nope", nil, 404, api.CodeNotFound)
}

func TestBusyNodeRefusesSecondOperation(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.stage("demo", "n1", im.ID)
	h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 409, api.CodeConflict)
}

func TestTaskLongPollReturnsWhenDone(t *testing.T) {
	h := newHarnessOpts(t, Options{TimeScale: 1000}) // a 90 s reboot takes 90 ms
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	st := h.stage("demo", "n1", im.ID)
	start := time.Now()
	var got api.Task
	h.call("GET", "/v1/tasks/"+st.ID+"?wait=10s", nil, 200, &got)
	if got.State != api.TaskSucceeded {
		t.Fatalf("after long-poll: %+v", got)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("long-poll took %s for a 30 ms stage", el)
	}
	act := h.activate("demo", "n1", true)
	h.call("GET", "/v1/tasks/"+act.ID+"?wait=10s", nil, 200, &got)
	if got.State != api.TaskSucceeded || h.node("demo", "n1").Active.Version != "1.1" {
		t.Fatalf("activate after long-poll: %+v", got)
	}
	// A wait that elapses returns the running task.
	h2 := newHarness(t, "")
	im2 := h2.image("demo", spec("1.1", []string{"1.0"}))
	tk := h2.stage("demo", "n2", im2.ID)
	start = time.Now()
	h2.call("GET", "/v1/tasks/"+tk.ID+"?wait=200ms", nil, 200, &got)
	if got.Done() || time.Since(start) < 150*time.Millisecond {
		t.Errorf("wait elapsed: %+v after %s", got, time.Since(start))
	}
}

func TestLease(t *testing.T) {
	h := newHarness(t, "")
	var l api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op1", TTLSeconds: 60}, 200, &l)
	if l.ID == "" || l.Owner != "alice" {
		t.Fatalf("lease %+v", l)
	}
	var again api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op1", TTLSeconds: 60}, 200, &again)
	if again.ID != l.ID {
		t.Errorf("renewal gave a new id %s != %s", again.ID, l.ID)
	}
	e := h.fail("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "bob", OperationKey: "op2"}, 409, api.CodeLeaseHeld)
	if e.Details["owner"] != "alice" || e.Details["operation_key"] != "op1" || e.Details["expires_at"] == nil {
		t.Errorf("details %+v", e.Details)
	}
	im := h.image("demo", spec("1.1", []string{"1.0"})) // images need no lease
	h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 409, api.CodeLeaseHeld)
	h.lease = "lease-wrong"
	h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 409, api.CodeLeaseLost)
	h.lease = l.ID
	h.stage("demo", "n1", im.ID)
	h.call("DELETE", "/v1/clusters/demo/lease/"+l.ID, nil, 204, nil)
	h.lease = ""
	h.stage("demo", "n2", im.ID) // no lease held: an operator acting by hand
	// Expiry is wall time.
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "carol", OperationKey: "x", TTLSeconds: 1}, 200, &l)
	old := engine.WallNow
	engine.WallNow = func() time.Time { return old().Add(2 * time.Second) }
	defer func() { engine.WallNow = old }()
	var bobs api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "bob", OperationKey: "op2"}, 200, &bobs)
	if bobs.ID == l.ID || bobs.Owner != "bob" {
		t.Errorf("after expiry: %+v", bobs)
	}
}

func TestIdempotencyKeyReturnsFirstAnswer(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	var a, b api.Task
	h.call("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 202, &a, api.HeaderIdempotencyKey, "k1")
	h.call("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, 202, &b, api.HeaderIdempotencyKey, "k1")
	if a.ID != b.ID {
		t.Fatalf("retry made a second task: %s, %s", a.ID, b.ID)
	}
	stages := 0
	for _, e := range h.events("demo") {
		if e.Kind == engine.EventStageStarted {
			stages++
		}
	}
	if stages != 1 {
		t.Errorf("%d stage starts", stages)
	}
	// The same key on another route is a client bug, not a replay.
	var e api.Error
	h.call("POST", "/v1/clusters/demo/nodes/n2/stage", api.StageRequest{ImageID: im.ID}, 422, &e, api.HeaderIdempotencyKey, "k1")
	if e.Code != api.CodeInvalidRequest {
		t.Errorf("reused key: %+v", e)
	}
}

func TestHTTPFaults(t *testing.T) {
	h := newHarness(t, "")
	h.addFault(api.Fault{Kind: api.FaultHTTP5xx, Cluster: "demo", Count: 2})
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", h.ts.URL+"/v1/clusters/demo", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		_ = resp.Body.Close() // read-only body
		if resp.StatusCode != 503 || e.Code != api.CodeUnavailable || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("request %d: %d %q, Retry-After %q; want 503 unavailable, Retry-After 1", i, resp.StatusCode, e.Code, resp.Header.Get("Retry-After"))
		}
	}
	if status, _ := h.do("GET", "/v1/clusters/demo", nil); status != 200 {
		t.Fatalf("after the storm: %d", status)
	}
	h.addFault(api.Fault{Kind: api.FaultHTTP429, Count: 1})
	req, _ := http.NewRequest("GET", h.ts.URL+"/v1/clusters/demo", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e429 api.Error
	_ = json.NewDecoder(resp.Body).Decode(&e429)
	_ = resp.Body.Close() // read-only body
	if resp.StatusCode != 429 || e429.Code != api.CodeRateLimited || resp.Header.Get("Retry-After") != "0" {
		t.Fatalf("429 fault: %d %q Retry-After %q; want 429 rate_limited, Retry-After 0", resp.StatusCode, e429.Code, resp.Header.Get("Retry-After"))
	}
	var fl api.FaultList
	h.call("GET", "/v1/faults", nil, 200, &fl)
	if len(fl.Faults) != 0 {
		t.Errorf("used-up faults remain: %+v", fl.Faults)
	}
	f := h.addFault(api.Fault{Kind: api.FaultHTTP5xx})
	h.call("GET", "/v1/faults", nil, 200, nil) // fault routes are never faulted
	h.call("DELETE", "/v1/faults/"+f.ID, nil, 204, nil)
	h.call("GET", "/v1/clusters/demo", nil, 200, nil)
	h.fail("POST", "/v1/faults", api.Fault{Kind: "meteor"}, 400, api.CodeInvalidRequest)
}

func TestStatusPageAndRolloutStatus(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	if c := h.cluster("demo"); c.Rollout != nil {
		t.Fatalf("rollout status before anything moved: %+v", c.Rollout)
	}
	h.stage("demo", "n1", im.ID)
	c := h.cluster("demo")
	if c.Rollout == nil || c.Rollout.TargetVersion != "1.1" || c.Rollout.Done != 0 || c.Rollout.Total != 4 || !strings.Contains(c.Rollout.Step, "n1 staging") {
		t.Fatalf("rollout status while staging: %+v", c.Rollout)
	}
	h.advance(time.Minute)
	h.succeed(h.activate("demo", "n1", true))
	if c := h.cluster("demo"); c.Rollout == nil || c.Rollout.Done != 1 {
		t.Fatalf("rollout status after n1: %+v", c.Rollout)
	}
	resp, err := http.Get(h.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1<<16)
	n, _ := io.ReadFull(resp.Body, body)
	_ = resp.Body.Close() // read-only body
	page := string(body[:n])
	if resp.StatusCode != 200 || !strings.Contains(page, "demo") || !strings.Contains(page, "update to 1.1: 1/4 nodes") {
		t.Fatalf("status page %d:\n%s", resp.StatusCode, page)
	}
}

// A lease id is a capability: no event carries it (the status page shows
// events without a token).
func TestLeaseIDInNoEvent(t *testing.T) {
	h := newHarness(t, "")
	var l api.Lease
	h.call("POST", "/v1/clusters/demo/lease", api.LeaseRequest{Owner: "alice", OperationKey: "op"}, 200, &l)
	h.call("DELETE", "/v1/clusters/demo/lease/"+l.ID, nil, 204, nil)
	evs := h.events("demo")
	if !hasEvent(evs, engine.EventLease, "taken by alice") || !hasEvent(evs, engine.EventLease, "released by alice") {
		t.Fatalf("lease events %+v", evs)
	}
	if hasEvent(evs, "", l.ID) {
		t.Fatalf("an event shows the lease id: %+v", evs)
	}
}
