package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// fakeCluster is an in-memory driver whose tasks finish at once. It records
// every call, so tests can check what was done and what was skipped.
type fakeCluster struct {
	mu       sync.Mutex
	snap     *appliance.Cluster
	calls    []string
	failBoot map[string]bool // node -> its activation fails and reverts
	leases   int
	waited   []string
	// activate, when set, replaces the activation (a lying or refusing node).
	activate func(node string) (driver.Task, error)
	// stage, when set, replaces the staging (a slow node).
	stage func(node string) (driver.Task, error)
	// onRead, when set, changes the cluster before each read (n counts
	// the reads from 1); f.mu is held.
	onRead func(n int, c *appliance.Cluster)
	reads  int
}

func newFake(versions ...string) *fakeCluster {
	c := &appliance.Cluster{Name: "c", Healthy: true, ReportedMembers: len(versions)}
	for i, v := range versions {
		c.Nodes = append(c.Nodes, appliance.Node{
			Name: fmt.Sprintf("n%d", i+1), Role: appliance.RoleMember, State: appliance.NodeRunning, Healthy: true,
			Active: appliance.Partition{Version: v, Bootable: true},
		})
	}
	return &fakeCluster{snap: c, failBoot: map[string]bool{}}
}

var _ driver.Driver = (*fakeCluster)(nil)

func (f *fakeCluster) Kind() string { return "fake" }
func (f *fakeCluster) Capabilities() driver.Capabilities {
	return driver.Capabilities{Resources: true, Promote: true, Finalize: true}
}
func (f *fakeCluster) Clusters(ctx context.Context) ([]appliance.Cluster, error) {
	c, err := f.Cluster(ctx, "c")
	return []appliance.Cluster{*c}, err
}

func (f *fakeCluster) Cluster(context.Context, string) (*appliance.Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.onRead != nil {
		f.onRead(f.reads, f.snap)
	}
	return f.snap.Clone(), nil
}

func (f *fakeCluster) Images(context.Context, string) ([]driver.Image, error) { return nil, nil }
func (f *fakeCluster) Image(context.Context, string, string) (*driver.Image, error) {
	return nil, driver.Errorf(driver.CodeNotFound, "no image")
}
func (f *fakeCluster) InspectBundle(context.Context, string, string) (*driver.Bundle, error) {
	return nil, errors.New("not in the fake")
}
func (f *fakeCluster) Upload(context.Context, string, string, driver.Digest) (*driver.Image, error) {
	return nil, errors.New("not in the fake")
}
func (f *fakeCluster) Download(context.Context, string, driver.DownloadRequest) (*driver.Image, error) {
	return nil, errors.New("not in the fake")
}
func (f *fakeCluster) DeleteImage(context.Context, string, string) error { return nil }

// fakeTask is finished when it is made; Wait returns its outcome.
type fakeTask struct {
	f   *fakeCluster
	id  string
	err error
}

func (t *fakeTask) ID() string { return t.id }
func (t *fakeTask) Wait(context.Context) error {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.f.waited = append(t.f.waited, t.id)
	return t.err
}

// task records a call; f.mu is held.
func (f *fakeCluster) task(kind, target string, err error) *fakeTask {
	f.calls = append(f.calls, kind+" "+target)
	return &fakeTask{f: f, id: fmt.Sprintf("t%d %s %s", len(f.calls), kind, target), err: err}
}

func (f *fakeCluster) Start(_ context.Context, _ string, a driver.Action) (driver.Task, error) {
	if a.Kind == driver.ActActivate && f.activate != nil {
		return f.activate(a.Node)
	}
	if a.Kind == driver.ActStage && f.stage != nil {
		return f.stage(a.Node)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch a.Kind {
	case driver.ActStage:
		f.snap.Node(a.Node).Alternate = appliance.Partition{Version: "2.0", ImageID: a.ImageID, Bootable: true}
		return f.task("stage", a.Node, nil), nil
	case driver.ActActivate:
		return f.activateNode(a.Node), nil
	case driver.ActPromote:
		f.snap.Node(a.Node).Role = appliance.RoleMaster
		return f.task("promote", a.Node, nil), nil
	case driver.ActMoveResource:
		for i := range f.snap.Resources {
			if f.snap.Resources[i].Name == a.Resource {
				f.snap.Resources[i].CurrentNode = a.To
			}
		}
		return f.task("move", a.Resource+"->"+a.To, nil), nil
	case driver.ActFinalize:
		return f.task("finalize", "", nil), nil
	}
	return nil, fmt.Errorf("the fake does not know %s", a.Kind)
}

// activateNode boots a node into its alternate; f.mu is held.
func (f *fakeCluster) activateNode(node string) *fakeTask {
	n := f.snap.Node(node)
	if f.failBoot[node] {
		return f.task("activate", node, driver.Errorf(driver.CodeBootFailed, "%s did not boot 2.0; reverted to %s", node, n.Active.Version))
	}
	n.Active, n.Alternate = n.Alternate, n.Active
	return f.task("activate", node, nil)
}

func (f *fakeCluster) AcquireLease(_ context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases++
	return &driver.Lease{ID: "l1", Cluster: cluster, Owner: req.Owner}, nil
}

func (f *fakeCluster) ReleaseLease(context.Context, string, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases--
	return nil
}

// twoWavePlan stages and activates n1, then n2 and n3 together.
func twoWavePlan() *rollout.Plan {
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", ImageID: "img", Order: rollout.OrderRolling}
	for _, n := range []string{"n1", "n2", "n3"} {
		p.Steps = append(p.Steps, rollout.Step{Wave: 0, Kind: rollout.StepStage, Node: n, Version: "2.0"})
	}
	p.Steps = append(p.Steps,
		rollout.Step{Wave: 1, Kind: rollout.StepActivate, Node: "n1", Version: "2.0"},
		rollout.Step{Wave: 1, Kind: rollout.StepAwaitHealthy, Node: "n1"},
		rollout.Step{Wave: 2, Kind: rollout.StepActivate, Node: "n2", Version: "2.0"},
		rollout.Step{Wave: 2, Kind: rollout.StepActivate, Node: "n3", Version: "2.0"},
		rollout.Step{Wave: 2, Kind: rollout.StepAwaitHealthy, Node: "n2"},
		rollout.Step{Wave: 2, Kind: rollout.StepAwaitHealthy, Node: "n3"},
	)
	return p
}

// expectCalls checks that calls are the batches in order; the steps of one
// batch start together, so within a batch any order is right.
func expectCalls(t *testing.T, calls []string, batches ...[]string) {
	t.Helper()
	var want []string
	got := append([]string(nil), calls...)
	at := 0
	for _, b := range batches {
		want = append(want, b...)
		if at+len(b) <= len(got) {
			sort.Strings(got[at : at+len(b)])
		}
		sorted := append([]string(nil), b...)
		sort.Strings(sorted)
		copy(want[at:], sorted)
		at += len(b)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls = %s, want the batches %v in that order", strings.Join(calls, ","), batches)
	}
}

func TestRun_ExecutesEveryStepInOrder(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	if err := Run(context.Background(), f, twoWavePlan(), Options{OperationKey: "op", PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, f.calls, []string{"stage n1", "stage n2", "stage n3"}, []string{"activate n1"}, []string{"activate n2", "activate n3"})
	for _, n := range f.snap.Nodes {
		if n.Active.Version != "2.0" || n.Alternate.Version != "1.0" {
			t.Errorf("%s: active %s alternate %s, want 2.0 and 1.0", n.Name, n.Active.Version, n.Alternate.Version)
		}
	}
}

// A resumed apply skips what is already done: nothing twice, nothing skipped.
func TestRun_ResumeSkipsStepsWhosePostConditionHolds(t *testing.T) {
	f := newFake("2.0", "1.0", "1.0")
	f.snap.Node("n1").Alternate = appliance.Partition{Version: "1.0", Bootable: true}
	f.snap.Node("n2").Alternate = appliance.Partition{Version: "2.0", ImageID: "img", Bootable: true}
	var skipped []string
	err := Run(context.Background(), f, twoWavePlan(), Options{
		OperationKey: "op", PollInterval: time.Millisecond,
		Progress: func(e Event) {
			if e.Skipped {
				skipped = append(skipped, e.Step.String())
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	expectCalls(t, f.calls, []string{"stage n3"}, []string{"activate n2", "activate n3"})
	joined := strings.Join(skipped, "|")
	// await_healthy is never skipped on one read (defect 8): a resumed
	// apply checks n1's health again, it does not activate it again.
	for _, want := range []string{"stage n1", "stage n2", "activate n1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%q was not reported as already done; skipped: %v", want, skipped)
		}
	}
}

// S20: a node of the second wave fails; the error names the step and says
// which version every node runs, and the run stops there.
func TestRun_S20_FailureReportsMixedVersions(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	f.failBoot["n3"] = true
	err := Run(context.Background(), f, twoWavePlan(), Options{OperationKey: "op", AutoRevert: true, PollInterval: time.Millisecond})
	var fail *Failure
	if !errors.As(err, &fail) {
		t.Fatalf("want *Failure, got %v", err)
	}
	if fail.Step.Node != "n3" || fail.Step.Kind != rollout.StepActivate {
		t.Fatalf("failure blamed step %s", fail.Step)
	}
	msg := err.Error()
	for _, want := range []string{"step 7", "activate n3", "boot_failed", "1.0 on n3", "2.0 on n1, n2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "await") {
			t.Fatalf("ran past the failure: %v", f.calls)
		}
	}
}

// A task that claims success while the node still runs the old version is
// a failure (S22), not a success.
func TestRun_S22_SuccessWithoutTheVersionIsAFailure(t *testing.T) {
	f := newFake("1.0")
	f.activate = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.task("activate", node, nil), nil // claims success, swaps nothing
	}
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", ImageID: "img", Steps: []rollout.Step{
		{Wave: 0, Kind: rollout.StepStage, Node: "n1", Version: "2.0"},
		{Wave: 1, Kind: rollout.StepActivate, Node: "n1", Version: "2.0"},
	}}
	err := Run(context.Background(), f, p, Options{OperationKey: "op", PollInterval: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "does not show it") || !strings.Contains(err.Error(), "active 1.0") {
		t.Fatalf("want a failure naming the observed version, got %v", err)
	}
}

func TestWithLease_ReleasedOnEveryPath(t *testing.T) {
	f := newFake("1.0")
	boom := errors.New("boom")
	err := WithLease(context.Background(), f, "c", "me", "op", func(context.Context, string) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("want the function's error, got %v", err)
	}
	if f.leases != 0 {
		t.Fatalf("lease not released after an error: %d held", f.leases)
	}
	if err := WithLease(context.Background(), f, "c", "me", "op", func(context.Context, string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f.leases != 0 {
		t.Fatalf("lease not released after success: %d held", f.leases)
	}
}

// S17: the settle step waits up to SettleDeadline, not the per-node
// HealthyDeadline, and its error names the limit it ran into.
func TestRun_S17_SettleHasItsOwnDeadline(t *testing.T) {
	f := newFake("2.0")
	f.snap.Healthy = false // the cluster is still re-forming
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", Steps: []rollout.Step{{Wave: 1, Kind: rollout.StepSettle, Version: "2.0"}}}
	go func() {
		time.Sleep(60 * time.Millisecond)
		f.mu.Lock()
		f.snap.Healthy = true
		f.mu.Unlock()
	}()
	err := Run(context.Background(), f, p, Options{HealthyDeadline: 10 * time.Millisecond, SettleDeadline: 2 * time.Second, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatalf("a settle within SettleDeadline failed: %v", err)
	}
	f.snap.Healthy = false
	err = Run(context.Background(), f, p, Options{HealthyDeadline: time.Hour, SettleDeadline: 20 * time.Millisecond, PollInterval: 5 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not healthy within 20ms") {
		t.Fatalf("want the settle deadline in the error, got %v", err)
	}
}

// A refusal to start one activation of a wave must not leave the ones
// already started unobserved: they are waited for, and the failure names
// the refused step.
func TestRun_StartFailureStillWaitsForStartedTasks(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	f.activate = func(node string) (driver.Task, error) {
		if node == "n3" {
			return nil, &driver.Error{Status: 422, Code: driver.CodePreconditionFailed, Message: "n3 refuses"}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.activateNode(node), nil
	}
	for _, n := range f.snap.Nodes {
		f.snap.Node(n.Name).Alternate = appliance.Partition{Version: "2.0", Bootable: true}
	}
	p := twoWavePlan()
	err := Run(context.Background(), f, p, Options{OperationKey: "op", PollInterval: time.Millisecond})
	var fail *Failure
	if !errors.As(err, &fail) || fail.Step.Node != "n3" {
		t.Fatalf("want the failure at n3, got %v", err)
	}
	found := false
	for _, id := range f.waited {
		found = found || strings.HasSuffix(id, "activate n2")
	}
	if !found {
		t.Fatalf("n2's activation was started but never waited for; waited: %v", f.waited)
	}
}

// An HA partner that goes down out of band between waves is noticed before
// its partner reboots: the executor proves the remaining steps on every
// snapshot it reads, and stops naming the node and the rule.
func TestRun_PartnerDownBetweenWavesStopsBeforeItsPartnerReboots(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	f.snap.HAGroups = []appliance.HAGroup{{Name: "pair-b", Members: []string{"n2", "n3"}, MinAvailable: 1}}
	// n1's activation is when the partner n2 crashes.
	f.activate = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if node == "n1" {
			f.snap.Node("n2").State, f.snap.Node("n2").Healthy = appliance.NodeDown, false
		}
		return f.activateNode(node), nil
	}
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", ImageID: "img", KeepsHA: true, Steps: []rollout.Step{
		{Wave: 0, Kind: rollout.StepStage, Node: "n1", Version: "2.0"},
		{Wave: 0, Kind: rollout.StepStage, Node: "n3", Version: "2.0"},
		{Wave: 1, Kind: rollout.StepActivate, Node: "n1", Version: "2.0"},
		{Wave: 1, Kind: rollout.StepAwaitHealthy, Node: "n1"},
		{Wave: 2, Kind: rollout.StepActivate, Node: "n3", Version: "2.0"},
		{Wave: 2, Kind: rollout.StepAwaitHealthy, Node: "n3"},
	}}
	err := Run(context.Background(), f, p, Options{OperationKey: "op", PollInterval: time.Millisecond})
	var fail *Failure
	if !errors.As(err, &fail) || fail.Step.Node != "n3" || fail.Step.Kind != rollout.StepActivate {
		t.Fatalf("want the rollout stopped at n3's activation, got %v", err)
	}
	for _, want := range []string{"step 5", "HA group pair-b", "n2 is down (out of band)", "HA partners never down together"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	for _, c := range f.calls {
		if c == "activate n3" {
			t.Fatalf("n3 was rebooted while its partner n2 was down: %v", f.calls)
		}
	}
}

// A failed revert gives its own error, which claims no version for the
// node it left down.
func TestRun_FailedRevertClaimsNothingForItsNode(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	f.activate = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if node != "n1" {
			return f.activateNode(node), nil
		}
		f.snap.Node("n1").State, f.snap.Node("n1").Healthy = appliance.NodeDown, false
		return f.task("activate", node, driver.Errorf(driver.CodeRevertFailed, "n1 did not boot 2.0, and its revert to 1.0 did not boot either")), nil
	}
	err := Run(context.Background(), f, twoWavePlan(), Options{OperationKey: "op", AutoRevert: true, PollInterval: time.Millisecond})
	var fail *Failure
	if !errors.As(err, &fail) || fail.RevertFailed() != "n1" {
		t.Fatalf("want a failed revert of n1, got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "revert of n1 failed too") || strings.Contains(msg, "on n1") || !strings.Contains(msg, "1.0 on n2, n3") {
		t.Fatalf("error %q must name the failed revert, claim nothing for n1 and say what the others run", msg)
	}
}
