package simulator

import (
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Activation order: S11-S17.

func TestSim_S11_PrimaryFirstThenTheRest(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		h.succeed(h.stage("demo", n, im.ID))
	}
	e := h.fail("POST", "/v1/clusters/demo/nodes/n2/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if !strings.Contains(e.Message, "primary n1") || !strings.Contains(e.Message, "S11") {
		t.Fatalf("secondary first: %+v", e)
	}
	if !hasEvent(h.events("demo"), engine.EventStageStarted, "from primary n1") {
		t.Error("secondaries do not fetch the package from the primary")
	}
	act := h.activate("demo", "n1", true)
	h.advance(45 * time.Second)
	if p := h.task(act.ID).Progress; p < 40 || p > 60 {
		t.Errorf("progress half-way through the reboot: %d%%", p)
	}
	done := h.succeed(act)
	if d := done.FinishedAt.Sub(done.CreatedAt); d <= time.Minute {
		t.Errorf("a node activation took %s: more than a minute per node", d)
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		h.succeed(h.activate("demo", n, true))
	}
	c := h.cluster("demo")
	if v, ok := c.UniformVersion(); !ok || v != "1.1" {
		t.Fatalf("cluster versions %v", c.ActiveVersions())
	}
}

func TestSim_S12_HAPartnersDownTogetherShowInTheLedger(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		h.succeed(h.stage("demo", n, im.ID))
	}
	h.succeed(h.activate("demo", "n1", true))
	h.succeed(h.activate("demo", "n2", true)) // one partner at a time: no outage
	if l := h.ledger("demo"); len(l) != 0 {
		t.Fatalf("one partner at a time caused outages: %+v", l)
	}
	a, b := h.activate("demo", "n3", true), h.activate("demo", "n4", true)
	start := h.task(a.ID).CreatedAt
	h.succeed(a)
	h.succeed(b)
	l := h.ledger("demo")
	if len(l) != 1 || l[0].Kind != engine.OutageHAGroup || l[0].Subject != "g2" || l[0].Declared || l[0].End == nil {
		t.Fatalf("ledger %+v", l)
	}
	if !l[0].Start.Equal(start) || l[0].End.Sub(l[0].Start) != 90*time.Second {
		t.Errorf("outage %s..%s, want 90 s from %s", l[0].Start, l[0].End, start)
	}
}

func TestSim_S13_StandbyFirstThenMasterFailover(t *testing.T) {
	h := newHarness(t, engine.PresetMasterStandby)
	im := h.image("vca", spec("1.1", []string{"1.0"}, "mgmt_image", "hmp_image", "ovm_image"))
	h.succeed(h.stage("vca", "mgmt1", im.ID))
	h.succeed(h.stage("vca", "mgmt2", im.ID))
	e := h.fail("POST", "/v1/clusters/vca/nodes/mgmt1/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if !strings.Contains(e.Message, "S13") {
		t.Fatalf("master first: %+v", e)
	}
	h.succeed(h.activate("vca", "mgmt2", true))
	h.fail("POST", "/v1/clusters/vca/nodes/mgmt1/promote", nil, 422, api.CodePreconditionFailed) // the master is no standby
	var tk api.Task
	h.call("POST", "/v1/clusters/vca/nodes/mgmt2/promote", nil, 202, &tk)
	got := h.succeed(tk)
	if got.Result["master"] != "mgmt2" || got.Result["standby"] != "mgmt1" {
		t.Fatalf("promote result %+v", got.Result)
	}
	c := h.cluster("vca")
	if c.Node("mgmt2").Role != appliance.RoleMaster || c.Node("mgmt1").Role != appliance.RoleStandby {
		t.Fatalf("roles after promote: %s %s", c.Node("mgmt1").Role, c.Node("mgmt2").Role)
	}
	h.succeed(h.activate("vca", "mgmt1", true)) // the old master, now standby
	if l := h.ledger("vca"); len(l) != 0 {
		t.Fatalf("the management pair was down together: %+v", l)
	}
}

func TestSim_S14_ActiveFirstThenStandby(t *testing.T) {
	h := newHarness(t, engine.PresetActiveStandby)
	im := h.image("streamer", spec("1.1", []string{"1.0"}, "os", "storage"))
	h.succeed(h.stage("streamer", "is1", im.ID))
	h.succeed(h.stage("streamer", "is2", im.ID))
	e := h.fail("POST", "/v1/clusters/streamer/nodes/is2/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if !strings.Contains(e.Message, "S14") || !strings.Contains(e.Message, "is1") {
		t.Fatalf("standby first: %+v", e)
	}
	h.succeed(h.activate("streamer", "is1", true))
	if c := h.node("streamer", "is1").Active.Components; c["storage"] != "1.1" || c["os"] != "1.1" {
		t.Fatalf("active's components %v", c)
	}
	h.succeed(h.activate("streamer", "is2", true))
}

func TestSim_S15_RollingWithResourceFailover(t *testing.T) {
	h := newHarness(t, engine.PresetNetWare)
	h.call("POST", "/v1/clusters/ncs/licenses", LicenseRequest{Series: "6.5"}, 200, nil)
	im := h.image("ncs", spec("6.5", []string{"6.0"}))
	move := func(res, node string) {
		var tk api.Task
		h.call("POST", "/v1/clusters/ncs/resources/"+res+"/move", api.MoveResourceRequest{Node: node}, 202, &tk)
		h.succeed(tk)
	}
	h.succeed(h.stage("ncs", "nw1", im.ID))
	move("POOL1", "nw2")
	h.succeed(h.activate("ncs", "nw1", true))
	// Old and new versions coexist; there is no need to continue at once.
	h.advance(6 * time.Hour)
	c := h.cluster("ncs")
	if c.Node("nw1").Active.Version != "6.5" || c.Node("nw2").Active.Version != "6.0" || !c.Healthy {
		t.Fatalf("mixed cluster %v healthy %v", c.ActiveVersions(), c.Healthy)
	}
	move("POOL1", "nw1") // fail back
	if l := h.ledger("ncs"); len(l) != 0 {
		t.Fatalf("a moved resource had an outage: %+v", l)
	}
	if r := engine.Resource(&c, "POOL1"); r == nil {
		t.Fatal("no POOL1")
	}
	// DHCP may only run on nw4 and nw1; nw2 is refused.
	h.fail("POST", "/v1/clusters/ncs/resources/DHCP/move", api.MoveResourceRequest{Node: "nw2"}, 422, api.CodePreconditionFailed)
	// Rebooting a node that hosts a resource, without moving it, is an outage.
	h.succeed(h.stage("ncs", "nw2", im.ID))
	h.succeed(h.activate("ncs", "nw2", true))
	l := h.ledger("ncs")
	if len(l) != 1 || l[0].Kind != engine.OutageResource || l[0].Subject != "POOL2" || l[0].End == nil || l[0].End.Sub(l[0].Start) != 120*time.Second {
		t.Fatalf("ledger %+v", l)
	}
	// A move to a node that is not serving is refused.
	h.succeed(h.stage("ncs", "nw3", im.ID))
	h.activate("ncs", "nw3", true)
	h.fail("POST", "/v1/clusters/ncs/resources/POOL1/move", api.MoveResourceRequest{Node: "nw3"}, 422, api.CodePreconditionFailed)
}

func TestSim_S16_FinalizeAfterTheLastNode(t *testing.T) {
	h := newHarness(t, engine.PresetNetWare)
	h.call("POST", "/v1/clusters/ncs/licenses", LicenseRequest{Series: "6.5"}, 200, nil)
	im := h.image("ncs", spec("6.5", []string{"6.0"}))
	h.upgrade("ncs", "nw1", im.ID)
	h.fail("POST", "/v1/clusters/ncs/finalize", nil, 422, api.CodePreconditionFailed) // mixed versions
	for _, n := range []string{"nw2", "nw3", "nw4"} {
		h.upgrade("ncs", n, im.ID)
	}
	before := len(h.ledger("ncs"))
	var tk api.Task
	h.call("POST", "/v1/clusters/ncs/finalize", nil, 202, &tk)
	c := h.cluster("ncs")
	for _, r := range c.Resources {
		want := appliance.ResourceUpgrade
		if !r.SharedStorage {
			want = appliance.ResourceOnline
		}
		if r.State != want {
			t.Errorf("resource %s during finalize: %s", r.Name, r.State)
		}
	}
	h.succeed(tk)
	c = h.cluster("ncs")
	for _, r := range c.Resources {
		if r.State != appliance.ResourceOnline || r.CurrentNode != r.PreferredNode {
			t.Errorf("resource %s after finalize: %s on %s", r.Name, r.State, r.CurrentNode)
		}
	}
	var declared int
	for _, o := range h.ledger("ncs")[before:] {
		if !o.Declared || o.End == nil || o.End.Sub(o.Start) != engine.DefaultFinalizeSeconds*time.Second {
			t.Errorf("finalize outage %+v", o)
		}
		declared++
	}
	if declared != 3 {
		t.Errorf("%d declared outages, want 3 (the shared-storage pools)", declared)
	}
	h.call("POST", "/v1/clusters/ncs/finalize", nil, 202, &tk)
	if tk.State != api.TaskSucceeded || tk.Result["already"] != "true" {
		t.Errorf("second finalize: %+v", tk)
	}
}

func TestSim_S17_ClusterSettlesAfterUpdate(t *testing.T) {
	h := newHarness(t, engine.PresetActiveStandby)
	im := h.image("streamer", spec("1.1", []string{"1.0"}, "os", "storage"))
	h.succeed(h.stage("streamer", "is1", im.ID))
	h.succeed(h.activate("streamer", "is1", true))
	c := h.cluster("streamer")
	if n := c.Node("is1"); n.State != appliance.NodeSettling || n.Healthy || c.Healthy {
		t.Fatalf("right after the update: node %s healthy %v cluster healthy %v", n.State, n.Healthy, c.Healthy)
	}
	h.advance(44 * time.Minute)
	if h.cluster("streamer").Healthy {
		t.Fatal("healthy before 45 minutes")
	}
	h.advance(2 * time.Minute)
	c = h.cluster("streamer")
	if n := c.Node("is1"); n.State != appliance.NodeRunning || !n.Healthy || !c.Healthy {
		t.Fatalf("after 45 minutes: node %s cluster healthy %v", n.State, c.Healthy)
	}
}
