package simulator

import (
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Failure and revert: S18-S22.

func stagedPair(t *testing.T) *harness {
	h := newHarness(t, engine.PresetActiveStandby)
	im := h.image("streamer", spec("1.1", []string{"1.0"}, "os", "storage"))
	h.succeed(h.stage("streamer", "is1", im.ID))
	h.succeed(h.stage("streamer", "is2", im.ID))
	return h
}

func TestSim_S18_ActiveFailsAndReverts(t *testing.T) {
	h := stagedPair(t)
	h.addFault(api.Fault{Kind: api.FaultBootFailure, Cluster: "streamer", Node: "is1", Count: 1})
	got := h.finish(h.activate("streamer", "is1", true))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeBootFailed || got.Error.Details["reverted"] != true {
		t.Fatalf("task %+v %+v", got, got.Error)
	}
	n := h.node("streamer", "is1")
	if n.Active.Version != "1.0" || n.Alternate.Version != "1.1" || n.State != appliance.NodeRunning || !n.Healthy {
		t.Fatalf("is1 after revert: %+v", n)
	}
	// The standby is not started: the appliance refuses it (S14) until the
	// active succeeds, and the pair goes on in HA mode.
	h.fail("POST", "/v1/clusters/streamer/nodes/is2/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if l := h.ledger("streamer"); len(l) != 0 {
		t.Fatalf("outages %+v", l)
	}
	// The fault was used up: a retry succeeds.
	h.succeed(h.activate("streamer", "is1", true))
}

func TestSim_S18_BootFailureWithoutAutoRevertLeavesNodeDown(t *testing.T) {
	h := stagedPair(t)
	h.addFault(api.Fault{Kind: api.FaultBootFailure, Node: "is1", Count: 1})
	got := h.finish(h.activate("streamer", "is1", false))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeBootFailed {
		t.Fatalf("task %+v", got)
	}
	if n := h.node("streamer", "is1"); n.State != appliance.NodeDown {
		t.Fatalf("is1 %s", n.State)
	}
	var tk api.Task
	h.call("POST", "/v1/clusters/streamer/nodes/is1/revert", nil, 202, &tk)
	h.succeed(tk)
	if n := h.node("streamer", "is1"); n.State != appliance.NodeRunning || n.Active.Version != "1.0" {
		t.Fatalf("is1 after manual revert: %+v", n)
	}
}

func TestSim_S19_StorageFailureRevertsNodeAndStorage(t *testing.T) {
	h := stagedPair(t)
	h.addFault(api.Fault{Kind: api.FaultStorageFailure, Node: "is1", Count: 1})
	got := h.finish(h.activate("streamer", "is1", true))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeStorageUpdateFailed {
		t.Fatalf("task %+v", got)
	}
	n := h.node("streamer", "is1")
	if n.Active.Components["storage"] != "1.0" || n.Active.Components["os"] != "1.0" || n.State != appliance.NodeRunning {
		t.Fatalf("is1 after storage failure: %+v", n)
	}
	if !hasEvent(h.events("streamer"), engine.EventNodeState, "storage update failed") {
		t.Error("no event tells of the storage failure")
	}
}

func TestSim_S20_StandbyFailsLeavingMixedVersions(t *testing.T) {
	h := stagedPair(t)
	h.succeed(h.activate("streamer", "is1", true))
	h.advance(time.Hour) // settle
	h.addFault(api.Fault{Kind: api.FaultBootFailure, Node: "is2", Count: 1})
	got := h.finish(h.activate("streamer", "is2", true))
	if got.State != api.TaskFailed {
		t.Fatalf("standby task %+v", got)
	}
	c := h.cluster("streamer")
	if _, uniform := c.UniformVersion(); uniform {
		t.Fatal("versions reported uniform")
	}
	if c.Node("is1").Active.Version != "1.1" || c.Node("is2").Active.Version != "1.0" || c.Node("is2").Alternate.Version != "1.1" {
		t.Fatalf("versions %v", c.ActiveVersions())
	}
	// Recoverable: retry the standby...
	h.succeed(h.activate("streamer", "is2", true))
	// ...or (another run) roll the active back.
	h2 := stagedPair(t)
	h2.succeed(h2.activate("streamer", "is1", true))
	var tk api.Task
	h2.call("POST", "/v1/clusters/streamer/nodes/is1/revert", nil, 202, &tk)
	h2.succeed(tk)
	if v, ok := func() (string, bool) { c := h2.cluster("streamer"); return c.UniformVersion() }(); !ok || v != "1.0" {
		t.Fatalf("after rolling the active back: %v", v)
	}
}

func TestSim_S21_ManualBackOut(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.upgrade("demo", "n1", im.ID)
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/nodes/n1/revert", nil, 202, &tk)
	if n := h.node("demo", "n1"); n.State != appliance.NodeRebooting {
		t.Fatalf("n1 %s while rolling back", n.State)
	}
	h.succeed(tk)
	n := h.node("demo", "n1")
	if n.Active.Version != "1.0" || n.Alternate.Version != "1.1" || !n.Alternate.Bootable {
		t.Fatalf("after back-out: %+v", n)
	}
	// Nothing to go back to on a fresh node.
	h.fail("POST", "/v1/clusters/demo/nodes/n2/revert", nil, 422, api.CodeNotStaged)
}

func TestSim_S22_NodeNeverReturns(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultNeverReturns, Node: "n1", Count: 1})
	act := h.activate("demo", "n1", true)
	h.advance(200 * time.Second)
	if got := h.task(act.ID); got.Done() {
		t.Fatalf("given up too early: %+v", got)
	}
	got := h.finish(act)
	if got.State != api.TaskFailed || got.Error.Code != api.CodeNodeTimeout {
		t.Fatalf("task %+v", got)
	}
	c := h.cluster("demo")
	if c.Node("n1").State != appliance.NodeDown || c.ReportedMembers != 3 || c.Healthy {
		t.Fatalf("n1 %s, members %d, healthy %v", c.Node("n1").State, c.ReportedMembers, c.Healthy)
	}
	l := h.ledger("demo")
	if len(l) != 0 {
		t.Fatalf("n2 still serves g1; ledger %+v", l)
	}
}

func TestSim_S22_ReturnsOldVersion(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultReturnsOld, Node: "n1", Count: 1})
	got := h.finish(h.activate("demo", "n1", true))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeWrongVersionAfterBoot || !strings.Contains(got.Error.Message, "1.0") {
		t.Fatalf("task %+v", got)
	}
	if v := h.node("demo", "n1").Active.Version; v != "1.0" {
		t.Fatalf("n1 runs %s", v)
	}
}

func TestSim_S22_FewerMembersReported(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultFewerMembers, Node: "n1", Count: 1})
	h.succeed(h.activate("demo", "n1", true)) // the node itself booted
	c := h.cluster("demo")
	if c.ReportedMembers != 3 || len(c.Nodes) != 4 || c.Healthy {
		t.Fatalf("members %d of %d, healthy %v", c.ReportedMembers, len(c.Nodes), c.Healthy)
	}
}

func TestSim_SlowNodeTakesLonger(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultSlow, Node: "n1", Factor: 4, Count: 1})
	got := h.succeed(h.activate("demo", "n1", true))
	if d := got.FinishedAt.Sub(got.CreatedAt); d != 360*time.Second {
		t.Fatalf("slow reboot took %s, want 4 x 90 s", d)
	}
}

func TestSim_S19_StorageFailureRevertsEvenWithoutAutoRevert(t *testing.T) {
	h := stagedPair(t)
	h.addFault(api.Fault{Kind: api.FaultStorageFailure, Node: "is1", Count: 1})
	got := h.finish(h.activate("streamer", "is1", false))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeStorageUpdateFailed {
		t.Fatalf("task %+v", got)
	}
	if n := h.node("streamer", "is1"); n.State != appliance.NodeRunning || n.Active.Components["storage"] != "1.0" {
		t.Fatalf("is1 %+v", n)
	}
}

func TestSim_S22_NodeRejoinsAfterAnotherReboot(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultFewerMembers, Node: "n1", Count: 1})
	h.succeed(h.activate("demo", "n1", true))
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/nodes/n1/revert", nil, 202, &tk)
	h.succeed(tk)
	if c := h.cluster("demo"); c.ReportedMembers != 4 || !c.Healthy {
		t.Fatalf("after a reboot: members %d healthy %v", c.ReportedMembers, c.Healthy)
	}
}
