package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Makespan: how long a rollout takes in the simulator's time, against two
// baselines computed from the same plan and the same simulated durations:
//
//   - bound: the plan's steps batch by batch (the steps the executor runs
//     together), each batch as long as its longest step, with no time
//     between them: what a perfect executor of this plan would take;
//   - serial: the same steps one after another, one node at a time.
//
// Run with `go test -run '^$' -bench Makespan -benchtime 1x`; make bench
// puts the figures in its table. The simulator runs on its scaled clock,
// so every wall-clock millisecond the executor spends between steps costs
// time_scale simulated milliseconds: the scale is picked per case so that
// the ideal rollout takes about 8 s of wall time.

type makespanCase struct {
	name     string
	topology string // preset, or "" for file
	file     *engine.Topology
	cluster  string
	from, to string
	policy   rollout.Policy
}

// sixteenPairs is 16 nodes in HA pairs: n01 primary, n02..n16 secondaries.
func sixteenPairs() *engine.Topology {
	c := appliance.Cluster{Name: "big", HAEnabled: true, Healthy: true, ReportedMembers: 16}
	for i := 1; i <= 16; i++ {
		role := appliance.RoleSecondary
		if i == 1 {
			role = appliance.RolePrimary
		}
		g := fmt.Sprintf("g%d", (i+1)/2)
		c.Nodes = append(c.Nodes, appliance.Node{Name: fmt.Sprintf("n%02d", i), Role: role, HAGroup: g,
			Active: appliance.Partition{Version: "1.0"}, State: appliance.NodeRunning, Healthy: true})
		if i%2 == 0 {
			c.HAGroups = append(c.HAGroups, appliance.HAGroup{Name: g, Members: []string{fmt.Sprintf("n%02d", i-1), fmt.Sprintf("n%02d", i)}, MinAvailable: 1})
		}
	}
	return &engine.Topology{Clusters: []engine.TopologyCluster{{Cluster: c, RebootSeconds: 90}}}
}

func makespanCases() []makespanCase {
	return []makespanCase{
		{name: "primary-ha", topology: engine.PresetPrimaryHA, cluster: "demo", from: "1.0", to: "1.1"},
		{name: "active-standby", topology: engine.PresetActiveStandby, cluster: "streamer", from: "1.0", to: "1.1"},
		{name: "master-standby", topology: engine.PresetMasterStandby, cluster: "vca", from: "1.0", to: "1.1"},
		{name: "supercluster", topology: engine.PresetSupercluster, cluster: "dma1", from: "1.0", to: "1.0.1"},
		{name: "netware", topology: engine.PresetNetWare, cluster: "ncs", from: "6.0", to: "6.0.1"},
		{name: "16-node-ha-pairs-mu8", file: sixteenPairs(), cluster: "big", from: "1.0", to: "1.1", policy: rollout.Policy{MaxUnavailable: "8"}},
	}
}

// durations are a cluster's simulated step durations.
type durations struct{ reboot, stage, move, promote, finalize, settle float64 }

func durationsOf(t *engine.Topology, cluster string) durations {
	for _, tc := range t.Clusters {
		if tc.Name != cluster {
			continue
		}
		or := func(v, d int) float64 {
			if v > 0 {
				return float64(v)
			}
			return float64(d)
		}
		return durations{
			reboot: or(tc.RebootSeconds, engine.DefaultRebootSeconds), stage: or(tc.StageSeconds, engine.DefaultStageSeconds),
			move: or(tc.MoveSeconds, engine.DefaultMoveSeconds), promote: or(tc.PromoteSeconds, engine.DefaultPromoteSeconds),
			finalize: or(tc.FinalizeSeconds, engine.DefaultFinalizeSeconds), settle: float64(tc.SettleSeconds),
		}
	}
	return durations{}
}

// stepSeconds is how long a step takes on the simulator, in simulated seconds.
func (d durations) stepSeconds(s rollout.Step, minHealthy float64) float64 {
	switch s.Kind {
	case rollout.StepStage:
		return d.stage
	case rollout.StepActivate:
		return d.reboot
	case rollout.StepAwaitHealthy:
		return d.settle + minHealthy
	case rollout.StepMoveResource, rollout.StepFailBack:
		return d.move
	case rollout.StepPromote:
		return d.promote
	case rollout.StepFinalize:
		return d.finalize
	}
	return 0
}

// bounds returns the plan's batch-by-batch bound and its serial time.
func bounds(p *rollout.Plan, d durations, minHealthy float64) (bound, serial float64) {
	for i := 0; i < len(p.Steps); {
		j := i + 1
		for j < len(p.Steps) && concurrent(p.Steps[i], p.Steps[j]) {
			j++
		}
		longest := 0.0
		for _, s := range p.Steps[i:j] {
			sec := d.stepSeconds(s, minHealthy)
			longest = max(longest, sec)
			serial += sec
		}
		bound += longest
		i = j
	}
	return bound, serial
}

func BenchmarkMakespan(b *testing.B) {
	for _, mc := range makespanCases() {
		b.Run(mc.name, func(b *testing.B) {
			for b.Loop() {
				sim, bound, serial, scale := runMakespan(b, mc)
				b.ReportMetric(sim, "sim-s")
				b.ReportMetric(bound, "bound-s")
				b.ReportMetric(serial, "serial-s")
				b.ReportMetric(sim/bound, "x-bound")
				b.ReportMetric(scale, "time-scale")
			}
		})
	}
}

func runMakespan(b *testing.B, mc makespanCase) (simSeconds, bound, serial, scale float64) {
	b.Helper()
	b.Setenv(bundle.CacheDirEnv, "off")
	dir := b.TempDir()
	topo := mc.file
	opts := simulator.Options{Token: "bench-token", Listen: "127.0.0.1:0", TimeScale: 1}
	if topo == nil {
		var err error
		if topo, err = engine.Preset(mc.topology); err != nil {
			b.Fatal(err)
		}
	}
	data, err := json.Marshal(topo)
	if err != nil {
		b.Fatal(err)
	}
	opts.TopologyFile = filepath.Join(dir, "topology.json")
	if err := os.WriteFile(opts.TopologyFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	d := durationsOf(topo, mc.cluster)

	// A first simulator, only to plan: the bound sets the scale.
	plan := func(srv *simulator.Server) (*client.Client, *rollout.Plan) {
		ctx := context.Background()
		c, err := client.New(client.Config{Endpoint: srv.URL(), Token: "bench-token"})
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, "b.bundle")
		m, err := bundle.BuildFile(path, bundle.Spec{Version: mc.to, SupportedFrom: []string{mc.from},
			Components: componentsOf(topo, mc.cluster)})
		if err != nil {
			b.Fatal(err)
		}
		img, err := c.UploadImage(ctx, mc.cluster, path)
		if err != nil {
			b.Fatal(err)
		}
		snap, err := c.GetCluster(ctx, mc.cluster)
		if err != nil {
			b.Fatal(err)
		}
		p, err := rollout.Compute(rollout.Request{Cluster: snap, Target: m, TargetImageID: img.ID, Policy: mc.policy})
		if err != nil {
			b.Fatalf("%s: %v", mc.name, err)
		}
		return c, p
	}
	start := func(scale float64) *simulator.Server {
		o := opts
		o.TimeScale = scale
		// In memory: the simulator's own durability (an fsync per change) is
		// not the executor's cost.
		o.StatePath = ""
		srv, err := simulator.Start(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		return srv
	}
	probe := start(1)
	_, p := plan(probe)
	_ = probe.Close()
	bound, serial = bounds(p, d, 0)
	scale = bound / 8

	srv := start(scale)
	defer func() { _ = srv.Close() }()
	c, p := plan(srv)
	ctx := context.Background()
	sc, err := simclient.New(simclient.Config{Endpoint: srv.URL(), Token: "bench-token"})
	if err != nil {
		b.Fatal(err)
	}
	t0, err := sc.Clock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	w0 := time.Now()
	err = Run(ctx, mgmtapi.New(c), p, Options{OperationKey: "bench", HealthyDeadline: time.Hour,
		Progress: func(e Event) {
			if os.Getenv("BENCH_TRACE") != "" { // the timeline, in simulated seconds

				fmt.Printf("%8.1f %s done=%v skip=%v\n", time.Since(w0).Seconds()*scale, e.Step.String(), e.Done, e.Skipped)
			}
		}})
	if err != nil {
		b.Fatalf("%s: %v", mc.name, err)
	}
	t1, err := sc.Clock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return t1.Now.Sub(t0.Now).Seconds(), bound, serial, scale
}

// componentsOf lists the components the cluster's nodes run, so that the
// bundle updates all of them.
func componentsOf(t *engine.Topology, cluster string) []bundle.ComponentSpec {
	var out []bundle.ComponentSpec
	for _, tc := range t.Clusters {
		if tc.Name != cluster || len(tc.Nodes) == 0 {
			continue
		}
		for name := range tc.Nodes[0].Active.Components {
			out = append(out, bundle.ComponentSpec{Name: name, Size: 4096})
		}
	}
	if len(out) == 0 {
		out = []bundle.ComponentSpec{{Name: "os", Size: 4096}}
	}
	// map order: sort for a stable bundle
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if strings.Compare(out[j].Name, out[i].Name) < 0 {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
