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
)

// TestRun_MinHealthyTimeIsWaitedOncePerWaveOnTheSimulatorsClock: a 4-node
// rollout in two waves (three nodes, then one) with min_healthy_time 10s
// against the simulator. Each wave's health wait is one min_healthy_time
// of simulated time: when the wave is seen to pass, the simulator's clock
// (the snapshot read right then) is at least min_healthy_time past the
// moment its last node became healthy, and less than twice that. Waiting
// for the three nodes of the first wave one after another would take three
// (30 s), and a wait on the wall clock ten (100 s: the simulator runs 10x
// the wall clock here).
//
// Both ends are read on the simulator: the start is the nodes' own
// healthy_since, the end a snapshot read after the executor said the wave
// passed. A loaded machine only delays that read, which can only lengthen
// the measured wait, so the lower bound is exact; the upper bound leaves
// min_healthy_time (1 s of wall time) for that delay. The old measurement
// read the clock in the progress callbacks at both ends and failed at load
// 30+ (5.03 s measured against a 3 s min_healthy_time and 1.5 s of slack).
func TestRun_MinHealthyTimeIsWaitedOncePerWaveOnTheSimulatorsClock(t *testing.T) {
	t.Setenv(bundle.CacheDirEnv, "off")
	const scale = 10
	const minHealthy = 10 * time.Second
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

	// For each wave, how long its last node had been healthy on the
	// simulator's clock when the wave was seen to pass.
	waveNodes := map[int][]string{}
	for _, s := range p.Steps {
		if s.Kind == rollout.StepActivate {
			waveNodes[s.Wave] = append(waveNodes[s.Wave], s.Node)
		}
	}
	var mu sync.Mutex
	waited := map[int]time.Duration{}
	err = Run(ctx, mgmtapi.New(cl), p, Options{OperationKey: "op", MinHealthyTime: minHealthy, HealthyDeadline: time.Minute,
		Progress: func(e Event) {
			if !e.Done || e.Skipped || e.Step.Kind != rollout.StepAwaitHealthy {
				return
			}
			snap, err := cl.GetCluster(ctx, "four")
			if err != nil || snap.ObservedAt == nil {
				t.Errorf("reading the cluster after wave %d's health wait: %v", e.Step.Wave, err)
				return
			}
			var last time.Time
			for _, name := range waveNodes[e.Step.Wave] {
				n := snap.Node(name)
				if n == nil || n.HealthySince == nil {
					t.Errorf("node %s of wave %d has no healthy_since after its health wait: %+v", name, e.Step.Wave, n)
					return
				}
				if n.HealthySince.After(last) {
					last = *n.HealthySince
				}
			}
			mu.Lock()
			defer mu.Unlock()
			waited[e.Step.Wave] = max(waited[e.Step.Wave], snap.ObservedAt.Sub(last))
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(waited) != 2 {
		t.Fatalf("health waits of %d waves seen, want 2", len(waited))
	}
	t.Logf("simulated time healthy when each wave passed: %v", waited)
	for wave, d := range waited {
		if d < minHealthy || d >= 2*minHealthy {
			t.Errorf("wave %d passed when its last node had been healthy for %s of simulated time, want one min_healthy_time (%s, less than twice it)", wave, d, minHealthy)
		}
	}
}
