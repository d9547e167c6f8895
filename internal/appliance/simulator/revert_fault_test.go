package simulator

import (
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// The revert_failure fault: a revert that itself fails, so that the
// provider can tell it apart (its own code, revert_failed) from a revert
// that worked. The node is left down and nothing claims it runs a version.

func TestSim_RevertFailure_AutomaticRevertOfAFailedActivationFails(t *testing.T) {
	h := stagedPair(t)
	h.addFault(api.Fault{Kind: api.FaultBootFailure, Cluster: "streamer", Node: "is1", Count: 1})
	h.addFault(api.Fault{Kind: api.FaultRevertFailure, Cluster: "streamer", Node: "is1", Count: 1})
	got := h.finish(h.activate("streamer", "is1", true))
	if got.State != api.TaskFailed || got.Error.Code != api.CodeRevertFailed || got.Error.Details["reverted"] != false {
		t.Fatalf("task %+v %+v", got, got.Error)
	}
	if msg := got.Error.Message; !strings.Contains(msg, "failed to boot 1.1") || !strings.Contains(msg, "revert to 1.0 failed") || strings.Contains(msg, "it reverted") {
		t.Errorf("message %q", msg)
	}
	if got.Result["reverted"] != "" || got.Result["version"] != "" {
		t.Errorf("the failed revert claims a result: %+v", got.Result)
	}
	n := h.node("streamer", "is1")
	if n.State != appliance.NodeDown || n.Healthy || n.Active.Version != "1.0" {
		t.Fatalf("is1 after a failed revert: %+v", n)
	}
	// A revert asked for afterwards boots the unchanged active partition.
	var tk api.Task
	h.call("POST", "/v1/clusters/streamer/nodes/is1/revert", nil, 202, &tk)
	h.succeed(tk)
	if n := h.node("streamer", "is1"); n.State != appliance.NodeRunning || n.Active.Version != "1.0" {
		t.Fatalf("is1 after a second revert: %+v", n)
	}
}

func TestSim_RevertFailure_ARevertAskedForFails(t *testing.T) {
	h := stagedPair(t)
	h.succeed(h.activate("streamer", "is1", true)) // is1 on 1.1, 1.0 in its alternate
	h.addFault(api.Fault{Kind: api.FaultRevertFailure, Node: "is1", Count: 1})
	var tk api.Task
	h.call("POST", "/v1/clusters/streamer/nodes/is1/revert", nil, 202, &tk)
	got := h.finish(tk)
	if got.State != api.TaskFailed || got.Error.Code != api.CodeRevertFailed {
		t.Fatalf("task %+v %+v", got, got.Error)
	}
	n := h.node("streamer", "is1")
	if n.State != appliance.NodeDown || n.Active.Version != "1.1" || n.Alternate.Version != "1.0" {
		t.Fatalf("is1 after a failed rollback: %+v (want down, partitions unswapped)", n)
	}
	if !hasEvent(h.events("streamer"), engine.EventFault, "revert_failure strikes the revert of node is1") {
		t.Error("no event tells of the injected fault")
	}
	// The fault is used up: the next revert boots is1 again.
	h.call("POST", "/v1/clusters/streamer/nodes/is1/revert", nil, 202, &tk)
	h.succeed(tk)
}
