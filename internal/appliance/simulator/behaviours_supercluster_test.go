package simulator

import (
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Superclusters: S23-S26.

var dmaClusters = []string{"dma1", "dma2", "dma3"}

func superclusterWith(t *testing.T, version string) (*harness, map[string]api.Image) {
	h := newHarness(t, engine.PresetSupercluster)
	ims := map[string]api.Image{}
	for _, c := range dmaClusters {
		ims[c] = h.image(c, spec(version, []string{"1.0"}))
		for _, n := range []string{"a", "b"} {
			h.succeed(h.stage(c, "s"+c[3:]+"-"+n, ims[c].ID))
		}
	}
	return h, ims
}

func TestSim_S23_IncompatibleVersionsRefusedInASupercluster(t *testing.T) {
	h, _ := superclusterWith(t, "1.1")
	e := h.fail("POST", "/v1/clusters/dma1/nodes/s1-a/activate", api.ActivateRequest{}, 422, api.CodePreconditionFailed)
	if !strings.Contains(e.Message, "S23") || !strings.Contains(e.Message, "sc1") {
		t.Fatalf("minor release inside the supercluster: %+v", e)
	}
	c := h.cluster("dma2")
	if c.Supercluster != "sc1" {
		t.Fatalf("dma2 supercluster %q", c.Supercluster)
	}
}

func TestSim_S24_PatchAcrossSuperclusterOneClusterAtATime(t *testing.T) {
	h, _ := superclusterWith(t, "1.0.1")
	for _, c := range dmaClusters {
		for _, n := range []string{"a", "b"} {
			h.succeed(h.activate(c, "s"+c[3:]+"-"+n, true))
		}
		if got := h.cluster(c); got.Supercluster != "sc1" {
			t.Fatalf("%s left the supercluster during a patch", c)
		}
	}
	for _, c := range dmaClusters {
		cl := h.cluster(c)
		if v, ok := cl.UniformVersion(); !ok || v != "1.0.1" {
			t.Fatalf("%s versions %v", c, cl.ActiveVersions())
		}
		if l := h.ledger(c); len(l) != 0 {
			t.Fatalf("%s outages during a patch: %+v", c, l)
		}
	}
}

func TestSim_S25_MaintenanceWindowUpgradesAllTogether(t *testing.T) {
	h, _ := superclusterWith(t, "1.1")
	for _, c := range dmaClusters {
		h.call("POST", "/v1/clusters/"+c+"/maintenance", MaintenanceRequest{Open: true}, 200, nil)
	}
	var tasks []api.Task
	for _, c := range dmaClusters {
		for _, n := range []string{"a", "b"} {
			tasks = append(tasks, h.activate(c, "s"+c[3:]+"-"+n, true))
		}
	}
	for _, tk := range tasks {
		h.succeed(tk)
	}
	for _, c := range dmaClusters {
		h.call("POST", "/v1/clusters/"+c+"/maintenance", MaintenanceRequest{Open: false}, 200, nil)
		l := h.ledger(c)
		if len(l) != 1 || !l[0].Declared || l[0].End == nil {
			t.Fatalf("%s ledger %+v: want one declared outage", c, l)
		}
		if cl := h.cluster(c); cl.Supercluster != "sc1" {
			t.Fatalf("%s supercluster %q", c, cl.Supercluster)
		}
	}
}

func TestSim_S26_IncrementalLeaveUpgradeJoin(t *testing.T) {
	h, _ := superclusterWith(t, "1.1")
	for i, c := range dmaClusters {
		h.call("POST", "/v1/clusters/"+c+"/supercluster", SuperclusterRequest{Name: ""}, 200, nil)
		for _, n := range []string{"a", "b"} {
			h.succeed(h.activate(c, "s"+c[3:]+"-"+n, true))
		}
		if i < len(dmaClusters)-1 {
			// Joining the old supercluster on the new version is refused...
			h.fail("POST", "/v1/clusters/"+c+"/supercluster", SuperclusterRequest{Name: "sc1"}, 422, api.CodePreconditionFailed)
		}
		// ...the new one is not, and both coexist until the end.
		h.call("POST", "/v1/clusters/"+c+"/supercluster", SuperclusterRequest{Name: "sc2"}, 200, nil)
		if i == 0 {
			if a, b := h.cluster("dma1").Supercluster, h.cluster("dma2").Supercluster; a != "sc2" || b != "sc1" {
				t.Fatalf("superclusters %s %s", a, b)
			}
		}
		if l := h.ledger(c); len(l) != 0 {
			t.Fatalf("%s: service interrupted: %+v", c, l)
		}
	}
}
