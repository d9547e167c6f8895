package executor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/mgmtapi"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/simclient"
)

// TestRun_MinHealthyTimeIsWaitedOncePerWaveOnTheSimulatorsClock: a 4-node
// rollout in two waves (three nodes, then one) with min_healthy_time 3s
// against the simulator. Each wave's health wait is one min_healthy_time
// of simulated time, measured from the wave's last activation to its last
// node passing: the three nodes of the first wave are waited for
// together, not one after another (9 s), and the wait runs on the
// simulator's clock (10x the wall clock here), not the wall clock.
func TestRun_MinHealthyTimeIsWaitedOncePerWaveOnTheSimulatorsClock(t *testing.T) {
	t.Setenv(bundle.CacheDirEnv, "off")
	const scale = 10
	const minHealthy = 3 * time.Second
	c := appliance.Cluster{Name: "four", Healthy: true, ReportedMembers: 4}
	for _, n := range []string{"m1", "m2", "m3", "m4"} {
		c.Nodes = append(c.Nodes, appliance.Node{Name: n, Role: appliance.RoleMember, State: appliance.NodeRunning, Healthy: true,
			Active: appliance.Partition{Version: "1.0"}})
	}
	topo := engine.Topology{Clusters: []engine.TopologyCluster{{Cluster: c, RebootSeconds: 2, StageSeconds: 1}}}
	dir := t.TempDir()
	data, _ := json.Marshal(topo)
	file := filepath.Join(dir, "topology.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := simulator.Start(context.Background(), simulator.Options{TopologyFile: file, TimeScale: scale, Token: "tok", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	cl, err := client.New(client.Config{Endpoint: srv.URL(), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := simclient.New(simclient.Config{Endpoint: srv.URL(), Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "b.bundle")
	m, err := bundle.BuildFile(path, bundle.Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []bundle.ComponentSpec{{Name: "os", Size: 4096}}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := cl.UploadImage(ctx, "four", path)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := cl.GetCluster(ctx, "four")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rollout.Compute(rollout.Request{Cluster: snap, Target: m, TargetImageID: img.ID, Policy: rollout.Policy{MaxUnavailable: "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Waves != 2 {
		t.Fatalf("the plan has %d waves, want 2 (three nodes, then one)", p.Waves)
	}

	// The simulated time at which each wave's last activation ended and its
	// last node passed its health wait.
	var mu sync.Mutex
	activated, healthy := map[int]time.Time{}, map[int]time.Time{}
	now := func() time.Time {
		v, err := sc.Clock(ctx)
		if err != nil {
			t.Error(err)
			return time.Time{}
		}
		return v.Now
	}
	err = Run(ctx, mgmtapi.New(cl), p, Options{OperationKey: "op", MinHealthyTime: minHealthy, HealthyDeadline: time.Minute,
		Progress: func(e Event) {
			if !e.Done || e.Skipped {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch e.Step.Kind {
			case rollout.StepActivate:
				activated[e.Step.Wave] = now()
			case rollout.StepAwaitHealthy:
				healthy[e.Step.Wave] = now()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(healthy) != 2 {
		t.Fatalf("health waits of %d waves seen, want 2", len(healthy))
	}
	for wave, done := range healthy {
		waited := done.Sub(activated[wave])
		// The healthy run starts when the node is back, just before its
		// task is seen to end; a per-node wait would cost 3x in wave 1.
		if waited < minHealthy-time.Second || waited > minHealthy+1500*time.Millisecond {
			t.Errorf("wave %d waited %s of simulated time for health, want one min_healthy_time (%s)", wave, waited, minHealthy)
		}
	}
}
