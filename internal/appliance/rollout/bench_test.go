package rollout

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// bigCluster is n member nodes in HA pairs, with res resources each allowed
// on its pair and preferring its first member.
func bigCluster(n, res int) *appliance.Cluster {
	c := &appliance.Cluster{Name: "big", HAEnabled: true, Healthy: true, ReportedMembers: n}
	c.Nodes = make([]appliance.Node, 0, n)
	for i := 0; i < n; i++ {
		g := fmt.Sprintf("pair%d", i/2)
		c.Nodes = append(c.Nodes, node(fmt.Sprintf("node%05d", i), appliance.RoleMember, g, "1.0", ""))
		if i%2 == 1 {
			c.HAGroups = append(c.HAGroups, appliance.HAGroup{Name: g, Members: []string{c.Nodes[i-1].Name, c.Nodes[i].Name}, MinAvailable: 1})
		}
	}
	for r := 0; r < res; r++ {
		a := (r * (n / max(res, 1))) &^ 1
		c.Resources = append(c.Resources, appliance.Resource{Name: fmt.Sprintf("res%04d", r),
			CurrentNode: c.Nodes[a].Name, PreferredNode: c.Nodes[a].Name,
			AllowedNodes: []string{c.Nodes[a].Name, c.Nodes[a+1].Name}, State: appliance.ResourceOnline})
	}
	return c
}

func benchmarkCompute(b *testing.B, n, res int) {
	req := Request{Cluster: bigCluster(n, res), Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderPrimaryFirst}}
	p, err := Compute(req)
	if err != nil {
		b.Fatal(err)
	}
	if p.Waves != 2 || p.LowerBound != 2 {
		b.Fatalf("waves %d bound %d, want 2", p.Waves, p.LowerBound)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := Compute(req); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time per plan, beside the wall time: on a shared machine the wall
	// time also counts the time the planner waited for a core.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkCompute100(b *testing.B)   { benchmarkCompute(b, 100, 10) }
func BenchmarkCompute1000(b *testing.B)  { benchmarkCompute(b, 1000, 100) }
func BenchmarkCompute10000(b *testing.B) { benchmarkCompute(b, 10000, 1000) }

// BenchmarkCompute100000 is the planner at 100,000 nodes (target < 200 ms).
func BenchmarkCompute100000(b *testing.B) { benchmarkCompute(b, 100000, 10000) }

// BenchmarkComputeRolling10000 is the worst case for wave count: one node
// at a time, 10,000 waves.
func BenchmarkComputeRolling10000(b *testing.B) {
	req := Request{Cluster: bigCluster(10000, 1000), Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderRolling}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeAnyHost10000: resources any node may host, rolling 10% at
// a time, HA off: the resource constraint spans the whole phase.
func BenchmarkComputeAnyHost10000(b *testing.B) {
	c := bigCluster(10000, 1000)
	c.HAEnabled = false
	for i := range c.Resources {
		c.Resources[i].AllowedNodes = nil
	}
	req := Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{Order: OrderRolling, MaxUnavailable: "10%"}}
	if p, err := Compute(req); err != nil || p.Waves != 10 {
		b.Fatalf("%v %v", p, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(req); err != nil {
			b.Fatal(err)
		}
	}
}
