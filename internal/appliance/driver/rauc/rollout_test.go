package rauc

import (
	"context"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout/executor"
)

// TestRollout_PlannerAndExecutorUpgradeTheLabPrimaryFirstAndAResumedRunDoesNothingTwice
// runs the planner's rollout through the executor and this driver: n1
// first, partners never down together, each node installed and rebooted
// once; a run cut short mid-rollout and run again from a fresh snapshot
// finishes without installing or rebooting any node a second time.
func TestRollout_PlannerAndExecutorUpgradeTheLabPrimaryFirstAndAResumedRunDoesNothingTwice(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 4})
	d := newDriver(t, labConfig(t, l))
	img, err := d.Upload(ctxT(t), "lab", bundle(t, l, lab.BundleSpec{Version: "1.1"}), driver.Digest{})
	if err != nil {
		t.Fatal(err)
	}
	plan := func() *rollout.Plan {
		t.Helper()
		p, err := rollout.Compute(rollout.Request{Cluster: snapshot(t, d), Target: &img.Manifest, TargetImageID: img.ID, Policy: rollout.Policy{Order: rollout.OrderPrimaryFirst}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := time.Now()
	// The first run stops as soon as the first activation has finished.
	ctx, cancel := context.WithCancel(ctxT(t))
	err = executor.Run(ctx, d, plan(), executor.Options{OperationKey: "op-1", Progress: func(e executor.Event) {
		t.Logf("%6.2fs %s done=%t skipped=%t", time.Since(start).Seconds(), e.Step, e.Done, e.Skipped)
		if e.Done && e.Step.Kind == rollout.StepActivate && e.Step.Node == "n1" {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("the first run was meant to be cut short")
	}
	if err := executor.Run(ctxT(t), d, plan(), executor.Options{OperationKey: "op-2", Progress: func(e executor.Event) {
		t.Logf("%6.2fs %s done=%t skipped=%t", time.Since(start).Seconds(), e.Step, e.Done, e.Skipped)
	}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes {
		if slot, v := n.Booted(); slot != "B" || v != "1.1" {
			t.Errorf("%s runs %s %s, want B 1.1", n.Name, slot, v)
		}
		if i, r := count(t, n, lab.EventInstall), count(t, n, lab.EventReboot); i != 1 || r != 1 {
			t.Errorf("%s installed %d and rebooted %d times, want once each", n.Name, i, r)
		}
	}
	for _, pair := range [][2]string{{"n1", "n2"}, {"n3", "n4"}} {
		if at, _ := lab.DownTogether(l.Node(pair[0]), l.Node(pair[1])); !at.IsZero() {
			t.Errorf("%s and %s down together at %s", pair[0], pair[1], at)
		}
	}
	firstUp := map[string]time.Time{}
	for _, n := range l.Nodes {
		rec, _ := n.Record()
		for _, e := range rec {
			if e.Event == lab.EventDown {
				firstUp[n.Name] = e.Time
			}
		}
	}
	for _, n := range []string{"n2", "n3", "n4"} {
		if !firstUp[n].After(firstUp["n1"]) {
			t.Errorf("%s went down before the primary n1", n)
		}
	}
}
