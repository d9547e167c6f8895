package simulator

import (
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func TestDeleteImage(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.stage("demo", "n1", im.ID)
	h.fail("DELETE", "/v1/clusters/demo/images/"+im.ID, nil, 409, api.CodeConflict) // being staged
	h.advance(time.Minute)
	h.call("DELETE", "/v1/clusters/demo/images/"+im.ID, nil, 204, nil)
	h.fail("GET", "/v1/clusters/demo/images/"+im.ID, nil, 404, api.CodeNotFound)
	// The partition keeps what was staged; the image can be uploaded again.
	if n := h.node("demo", "n1"); n.Alternate.ImageID != im.ID {
		t.Fatalf("alternate %+v", n.Alternate)
	}
	if again := h.image("demo", spec("1.1", []string{"1.0"})); again.ID != im.ID {
		t.Fatalf("content-derived id changed: %s", again.ID)
	}
}

func TestImageStoreCapacity(t *testing.T) {
	h := newHarnessOpts(t, Options{TopologyFile: writeTopology(t, `{"clusters":[{"name":"c","disk_bytes":30000,
		"nodes":[{"name":"a","role":"member","active":{"version":"1.0"}}]}]}`)})
	big := bundle.Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []bundle.ComponentSpec{{Name: "os", Size: 20000}}}
	h.image("c", big)
	big.Version = "1.2"
	data, sum := build(t, big)
	status, body := h.upload("c", data, sum)
	if status != 507 || !strings.Contains(string(body), api.CodeDiskFull) {
		t.Fatalf("over capacity: %d %s", status, body)
	}
}

func TestStageChecksTheNodesOwnVersion(t *testing.T) {
	h := newHarness(t, "")
	im11 := h.image("demo", spec("1.1", []string{"1.0"}))
	im20 := h.image("demo", spec("2.0", []string{"1.0"}))
	h.upgrade("demo", "n1", im11.ID)
	// n1 runs 1.1 now: staging 1.1 again on it is not an update (S7).
	h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im11.ID}, 422, api.CodeVersionNotNewer)
	// 2.0 updates from 1.0 only: uploaded while every node ran 1.0, it may
	// not go onto n1, which runs 1.1 now (S8, per node).
	h.fail("POST", "/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im20.ID}, 422, api.CodeUnsupportedPath)
	h.succeed(h.stage("demo", "n2", im20.ID))
	h.fail("POST", "/v1/clusters/demo/nodes/n2/stage", api.StageRequest{ImageID: "img-nope"}, 422, api.CodeInvalidRequest)
}

func TestUploadRefusedWhenSomeNodeCannotTakeIt(t *testing.T) {
	h := newHarness(t, "")
	im11 := h.image("demo", spec("1.1", []string{"1.0"}))
	h.upgrade("demo", "n1", im11.ID)
	data, sum := build(t, spec("1.2", []string{"1.1"}))
	status, body := h.upload("demo", data, sum)
	if status != 422 || !strings.Contains(string(body), api.CodeUnsupportedPath) || !strings.Contains(string(body), "n2 runs 1.0") {
		t.Fatalf("upload: %d %s", status, body)
	}
}

func TestMoveFailsWhenTargetStopsServing(t *testing.T) {
	h := newHarness(t, engine.PresetNetWare)
	h.call("POST", "/v1/clusters/ncs/licenses", LicenseRequest{Series: "6.5"}, 200, nil)
	im := h.image("ncs", spec("6.5", []string{"6.0"}))
	h.succeed(h.stage("ncs", "nw2", im.ID))
	var mv api.Task
	h.call("POST", "/v1/clusters/ncs/resources/POOL1/move", api.MoveResourceRequest{Node: "nw2"}, 202, &mv)
	h.fail("POST", "/v1/clusters/ncs/resources/POOL1/move", api.MoveResourceRequest{Node: "nw3"}, 409, api.CodeConflict)
	h.activate("ncs", "nw2", true) // the target reboots before the move completes
	got := h.finish(mv)
	if got.State != api.TaskFailed || got.Error.Code != api.CodeConflict {
		t.Fatalf("move %+v", got)
	}
	c := h.cluster("ncs")
	if r := engine.Resource(&c, "POOL1"); r.CurrentNode != "nw1" || r.State != "online" {
		t.Fatalf("POOL1 %+v", r)
	}
}

func TestClearFaultsAndCredentialsStayOutOfErrors(t *testing.T) {
	h := newHarness(t, "")
	h.addFault(api.Fault{Kind: api.FaultBootFailure})
	h.addFault(api.Fault{Kind: api.FaultSlow, Factor: 2})
	h.call("DELETE", "/v1/faults", nil, 204, nil)
	var fl api.FaultList
	h.call("GET", "/v1/faults", nil, 200, &fl)
	if len(fl.Faults) != 0 {
		t.Fatalf("faults %+v", fl.Faults)
	}
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: "http://user:s3cr3t-pw@127.0.0.1:1/x.tar"}, 202, &tk)
	if strings.Contains(tk.Target, "s3cr3t") {
		t.Fatalf("target %s", tk.Target)
	}
	got := h.finish(tk)
	if got.State != api.TaskFailed || strings.Contains(got.Error.Message, "s3cr3t") {
		t.Fatalf("task %+v", got.Error)
	}
	for _, e := range h.events("demo") {
		if strings.Contains(e.Message, "s3cr3t") {
			t.Fatalf("event %s", e.Message)
		}
	}
}
