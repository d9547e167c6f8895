package simulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func TestEveryPresetIsValid(t *testing.T) {
	want := map[string]int{engine.PresetPrimaryHA: 1, engine.PresetActiveStandby: 1, engine.PresetMasterStandby: 1, engine.PresetSupercluster: 3, engine.PresetNetWare: 1}
	if len(engine.PresetNames()) != len(want) {
		t.Fatalf("presets %v", engine.PresetNames())
	}
	for _, name := range engine.PresetNames() {
		topo, err := engine.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := topo.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(topo.Clusters) != want[name] {
			t.Errorf("%s: %d clusters", name, len(topo.Clusters))
		}
	}
	nw, _ := engine.Preset(engine.PresetNetWare)
	c := nw.Clusters[0]
	if !c.NeedsFinalize || c.LicenseMinNodes != 3 || c.Licenses[0] != "6.0" || c.Nodes[0].Active.Version != "6.0" || len(c.Resources) == 0 {
		t.Errorf("netware %+v", c.Cluster)
	}
	as, _ := engine.Preset(engine.PresetActiveStandby)
	if as.Clusters[0].SettleSeconds != 45*60 || as.Clusters[0].Nodes[0].Active.Components[appliance.ComponentStorage] == "" {
		t.Errorf("active-standby %+v", as.Clusters[0].Cluster)
	}
	if _, err := engine.Preset("nope"); err == nil || !strings.Contains(err.Error(), "primary-ha") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestTopologyFileWithSeveralClustersAndFaults(t *testing.T) {
	path := writeTopology(t, `{
  "clusters": [
    {"name": "east", "reboot_seconds": 30, "ha_enabled": true,
     "nodes": [{"name": "e1", "role": "member", "ha_group": "p", "active": {"version": "2.0"}},
               {"name": "e2", "role": "member", "ha_group": "p", "active": {"version": "2.0"}}],
     "ha_groups": [{"name": "p", "members": ["e1", "e2"], "min_available": 1}]},
    {"name": "west", "nodes": [{"name": "w1", "role": "member", "active": {"version": "2.0"}}]}
  ],
  "faults": [{"kind": "boot_failure", "cluster": "east", "node": "e2"}]
}`)
	h := newHarnessOpts(t, Options{TopologyFile: path})
	var list struct{ Clusters []appliance.Cluster }
	h.call("GET", "/v1/clusters", nil, 200, &list)
	if len(list.Clusters) != 2 || list.Clusters[1].Name != "west" {
		t.Fatalf("clusters %+v", list.Clusters)
	}
	e := list.Clusters[0]
	if n := e.Node("e1"); n.State != appliance.NodeRunning || !n.Healthy || n.Active.Components["os"] != "2.0" || !n.Active.Bootable || e.ReportedMembers != 2 {
		t.Fatalf("defaults not applied: %+v", e)
	}
	im := h.image("east", spec("2.1", []string{"2.0"}))
	h.succeed(h.stage("east", "e1", im.ID))
	got := h.succeed(h.activate("east", "e1", true))
	if d := got.FinishedAt.Sub(got.CreatedAt).Seconds(); d != 30 {
		t.Errorf("reboot took %vs, want the topology's 30", d)
	}
	h.succeed(h.stage("east", "e2", im.ID))
	if got := h.finish(h.activate("east", "e2", true)); got.State != "failed" {
		t.Fatalf("the topology's fault did not fire: %+v", got)
	}
	for _, bad := range []string{
		`{"clusters": []}`,
		`{"clusters": [{"name": "x", "nodes": [{"name": "a", "role": "wizard", "active": {"version": "1.0"}}]}]}`,
		`{"clusters": [{"name": "x", "nodes": [{"name": "a", "role": "member", "active": {"version": "one"}}]}]}`,
		`{"clusters": [{"name": "x", "bogus": 1}]}`,
	} {
		if _, err := New(Options{Token: "x", TopologyFile: writeTopology(t, bad)}); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestRoutesAreAllServed(t *testing.T) {
	h := newHarness(t, "")
	seen := map[string]bool{}
	for _, r := range Routes() {
		key := r.Method + " " + r.Pattern
		if seen[key] {
			t.Errorf("route %s listed twice", key)
		}
		seen[key] = true
		path := strings.NewReplacer("{c}", "nope", "{n}", "x", "{id}", "x", "{r}", "x", "{name}", "x", "{$}", "").Replace(r.Pattern)
		status, body := h.do(r.Method, path, nil)
		// Served: any answer but the catch-all's "no route".
		if status == http.StatusNotFound && strings.Contains(string(body), "no route") || status == http.StatusMethodNotAllowed {
			t.Errorf("%s is not served: %d %s", key, status, body)
		}
	}
	for _, must := range []string{"GET /v1/tasks/{id}", "POST /v1/clusters/{c}/images", "POST /v1/clusters/{c}/downloads", "POST /v1/clock/advance", "GET /healthz"} {
		if !seen[must] {
			t.Errorf("missing route %s", must)
		}
	}
}

// testdata/two-sites.json is the documented example of a topology file.
func TestExampleTopologyFileLoads(t *testing.T) {
	topo, err := engine.LoadTopologyFile("testdata/two-sites.json")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessOpts(t, Options{TopologyFile: "testdata/two-sites.json"})
	c := h.cluster("paris")
	if r := c.Resources[0]; r.CurrentNode != "p1" || r.State != "online" {
		t.Fatalf("resource defaults %+v", r)
	}
	if len(topo.Clusters) != 2 || topo.Faults[0].Factor != 2 {
		t.Fatalf("topology %+v", topo)
	}
}
