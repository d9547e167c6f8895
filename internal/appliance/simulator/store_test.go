package simulator

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// A reboot started through one simulator has finished when a second
// simulator, sharing the state file, looks after the simulated time.
func TestSharedStateFileAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := NewManualClock(epoch)
	a := newHarnessOpts(t, Options{StatePath: path, Clock: clock})
	im := a.image("demo", spec("1.1", []string{"1.0"}))
	a.succeed(a.stage("demo", "n1", im.ID))
	act := a.activate("demo", "n1", true)

	b := newHarnessOpts(t, Options{StatePath: path, Clock: clock})
	if n := b.node("demo", "n1"); n.State != appliance.NodeRebooting {
		t.Fatalf("second instance sees n1 %s", n.State)
	}
	clock.Advance(90 * time.Second)
	if got := b.task(act.ID); got.State != api.TaskSucceeded {
		t.Fatalf("second instance: task %+v", got)
	}
	if v := a.node("demo", "n1").Active.Version; v != "1.1" {
		t.Fatalf("first instance sees %s after the second applied the reboot", v)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) {
		t.Fatal("the token is in the state file")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("state file mode %v is readable by others", fi.Mode())
	}
}

// A scaled-clock reboot started by one process has finished when a later
// process opens the state file: the epoch is in the file.
func TestScaledClockEpochPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	a := newHarnessOpts(t, Options{StatePath: path, TimeScale: 1000})
	var c1 ClockView
	a.call("GET", "/v1/clock", nil, 200, &c1)
	time.Sleep(20 * time.Millisecond)
	b := newHarnessOpts(t, Options{StatePath: path, TimeScale: 1000})
	var c2 ClockView
	b.call("GET", "/v1/clock", nil, 200, &c2)
	if d := c2.Now.Sub(c1.Now); d < 15*time.Second {
		t.Fatalf("20 ms at x1000 moved the shared clock by %s", d)
	}
	if c2.TimeScale != 1000 {
		t.Errorf("scale %v", c2.TimeScale)
	}
	// Another scale re-bases without a jump back.
	c := newHarnessOpts(t, Options{StatePath: path, TimeScale: 1})
	var c3 ClockView
	c.call("GET", "/v1/clock", nil, 200, &c3)
	if c3.Now.Before(c2.Now) || c3.TimeScale != 1 {
		t.Fatalf("re-based clock went back: %s < %s (scale %v)", c3.Now, c2.Now, c3.TimeScale)
	}
	c.fail("POST", "/v1/clock/advance", AdvanceRequest{Seconds: 5}, 422, api.CodeInvalidRequest)
}

func TestDamagedStateFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(`{"schema":1,"clusters":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{StatePath: path, Token: "x"})
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != `{"schema":1,"clusters":[` {
		t.Fatal("the damaged file was overwritten")
	}
}

func TestMissingStateFileIsCreatedFromTopology(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StatePath: path, Token: "x", Topology: engine.PresetNetWare})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st engine.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if st.Topology != engine.PresetNetWare || st.Cluster("ncs") == nil {
		t.Fatalf("state %s", data)
	}
}

// Many writers in several simulators on one file lose no update: every
// stage request lands (each on its own node) and every fault is recorded.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := NewManualClock(epoch)
	hs := []*harness{
		newHarnessOpts(t, Options{StatePath: path, Clock: clock}),
		newHarnessOpts(t, Options{StatePath: path, Clock: clock}),
		newHarnessOpts(t, Options{StatePath: path, Clock: clock}),
	}
	const n = 60
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			hs[i%3].call("POST", "/v1/faults", api.Fault{Kind: api.FaultSlow, Node: "n1", Factor: 2}, 201, nil)
		}(i)
	}
	wg.Wait()
	var fl api.FaultList
	hs[0].call("GET", "/v1/faults", nil, 200, &fl)
	if len(fl.Faults) != n {
		t.Fatalf("%d faults recorded, want %d", len(fl.Faults), n)
	}
	ids := map[string]bool{}
	for _, f := range fl.Faults {
		ids[f.ID] = true
	}
	if len(ids) != n {
		t.Fatalf("fault ids collide: %d distinct", len(ids))
	}
}

func TestStartServesAndCloses(t *testing.T) {
	if _, err := Start(context.Background(), Options{}); err == nil {
		t.Fatal("Start without a token succeeded")
	}
	s, err := Start(context.Background(), Options{Token: "tok", TimeScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || s.Token() != "tok" {
		t.Fatalf("url %s", s.URL())
	}
	req, _ := http.NewRequest("GET", s.URL()+"/v1/clusters", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(s.URL() + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
}

func TestStaleTemporaryFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	stale, fresh := path+".tmp-111", path+".tmp-222"
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{StatePath: path, Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale temporary file survived")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file (a writer at work) was removed")
	}
}
