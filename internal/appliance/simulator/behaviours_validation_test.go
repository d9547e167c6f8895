package simulator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Validation: S6-S10.

func uploadError(t *testing.T, h *harness, cluster string, data []byte, sha string) api.Error {
	t.Helper()
	status, b := h.upload(cluster, data, sha)
	if status != 422 {
		t.Fatalf("upload: %d %s, want 422", status, b)
	}
	var e api.Error
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSim_S6_CorruptImageChangesNothing(t *testing.T) {
	h := newHarness(t, "")
	before := h.cluster("demo")
	data, _ := build(t, spec("1.1", []string{"1.0"}))
	bad := append([]byte(nil), data...)
	bad[len(bad)/2] ^= 0xff // inside the payload: its sha256 no longer matches
	sum := sha256Hex(bad)
	if e := uploadError(t, h, "demo", bad, sum); e.Code != api.CodeCorruptImage {
		t.Fatalf("corrupt payload: %+v", e)
	}
	if e := uploadError(t, h, "demo", []byte("PK\x03\x04 a zip, not a bundle"), sha256Hex([]byte("PK\x03\x04 a zip, not a bundle"))); e.Code != api.CodeCorruptImage {
		t.Fatalf("not a tar: %+v", e)
	}
	// A good bundle whose header sha256 does not match what arrives.
	e := uploadError(t, h, "demo", data, sha256Hex([]byte("something else")))
	if e.Code != api.CodeCorruptImage || !strings.Contains(e.Message, "sha256") {
		t.Fatalf("sha mismatch: %+v", e)
	}
	var l api.ImageList
	h.call("GET", "/v1/clusters/demo/images", nil, 200, &l)
	if len(l.Images) != 0 {
		t.Fatalf("images after corrupt uploads: %+v", l.Images)
	}
	after := h.cluster("demo")
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	if string(bj) != string(aj) {
		t.Fatalf("the cluster changed:\n%s\n%s", bj, aj)
	}
}

func TestSim_S7_SameOrOlderVersionIsRefused(t *testing.T) {
	h := newHarness(t, "")
	for _, v := range []string{"1.0", "0.9"} {
		data, sum := build(t, spec(v, []string{"0.8", "1.0"}))
		e := uploadError(t, h, "demo", data, sum)
		if e.Code != api.CodeVersionNotNewer || !strings.Contains(e.Message, v) || !strings.Contains(e.Message, "1.0") {
			t.Fatalf("version %s: %+v", v, e)
		}
	}
}

func TestSim_S8_UnsupportedUpgradePathIsRefused(t *testing.T) {
	h := newHarness(t, "")
	data, sum := build(t, spec("2.0", []string{"1.5", "1.6"}))
	e := uploadError(t, h, "demo", data, sum)
	if e.Code != api.CodeUnsupportedPath || !strings.Contains(e.Message, "1.5, 1.6") || !strings.Contains(e.Message, "1.0") {
		t.Fatalf("unsupported path: %+v", e)
	}
	if sf, ok := e.Details["supported_from"].([]any); !ok || len(sf) != 2 {
		t.Errorf("details %+v", e.Details)
	}
}

func TestSim_S9_IrreversibleFeaturesForbidRollback(t *testing.T) {
	h := newHarness(t, "")
	s := spec("1.1", []string{"1.0"})
	s.IrreversibleFeatures = []string{"new-disk-format"}
	im := h.image("demo", s)
	h.upgrade("demo", "n1", im.ID)
	n := h.node("demo", "n1")
	if n.Alternate.Version != "1.0" || n.Alternate.Bootable {
		t.Fatalf("alternate after an irreversible release: %+v", n.Alternate)
	}
	e := h.fail("POST", "/v1/clusters/demo/nodes/n1/revert", nil, 422, api.CodeIrreversibleFeature)
	if !strings.Contains(e.Message, "new-disk-format") {
		t.Errorf("message %q", e.Message)
	}
	h.fail("POST", "/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{}, 422, api.CodeNotStaged)
	if v := h.node("demo", "n1").Active.Version; v != "1.1" {
		t.Fatalf("n1 runs %s", v)
	}
}

func TestSim_S10_LicensesRequiredFromThreeNodes(t *testing.T) {
	h := newHarness(t, engine.PresetNetWare)
	im := h.image("ncs", spec("6.5", []string{"6.0"}))
	h.succeed(h.stage("ncs", "nw1", im.ID))
	e := h.fail("POST", "/v1/clusters/ncs/nodes/nw1/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if !strings.Contains(e.Message, "6.5") || e.Details["required_license"] != "6.5" {
		t.Fatalf("license: %+v", e)
	}
	h.call("POST", "/v1/clusters/ncs/licenses", LicenseRequest{Series: "6.5"}, 200, nil)
	h.succeed(h.activate("ncs", "nw1", true))
	// A two-node cluster needs no license (two-node licenses ship with the OS).
	h2 := newHarnessOpts(t, Options{TopologyFile: writeTopology(t, twoNodeNetWare)})
	im2 := h2.image("small", spec("6.5", []string{"6.0"}))
	h2.upgrade("small", "a", im2.ID)
}

const twoNodeNetWare = `{"clusters":[{"name":"small","licenses":["6.0"],"license_min_nodes":3,
 "nodes":[{"name":"a","role":"member","active":{"version":"6.0"}},{"name":"b","role":"member","active":{"version":"6.0"}}]}]}`
