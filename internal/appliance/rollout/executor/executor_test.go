package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// fakeCluster is an in-memory API whose tasks finish at once. It records
// every call, so tests can check what was done and what was skipped.
type fakeCluster struct {
	mu       sync.Mutex
	snap     *appliance.Cluster
	calls    []string
	failBoot map[string]bool // node -> its activation fails and reverts
	tasks    map[string]*api.Task
	leases   int
}

func newFake(versions ...string) *fakeCluster {
	c := &appliance.Cluster{Name: "c", Healthy: true, ReportedMembers: len(versions)}
	for i, v := range versions {
		c.Nodes = append(c.Nodes, appliance.Node{
			Name: fmt.Sprintf("n%d", i+1), Role: appliance.RoleMember, State: appliance.NodeRunning, Healthy: true,
			Active: appliance.Partition{Version: v, Bootable: true},
		})
	}
	return &fakeCluster{snap: c, failBoot: map[string]bool{}, tasks: map[string]*api.Task{}}
}

func (f *fakeCluster) GetCluster(context.Context, string) (*appliance.Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap.Clone(), nil
}

func (f *fakeCluster) task(kind, target string, err *api.Error) *api.Task {
	t := &api.Task{ID: fmt.Sprintf("t%d", len(f.tasks)+1), Kind: kind, Target: target, State: api.TaskSucceeded}
	if err != nil {
		t.State, t.Error = api.TaskFailed, err
	}
	f.tasks[t.ID] = t
	f.calls = append(f.calls, kind+" "+target)
	return t
}

func (f *fakeCluster) Stage(_ context.Context, _, node, imageID, _ string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.Node(node).Alternate = appliance.Partition{Version: "2.0", ImageID: imageID, Bootable: true}
	return f.task("stage", node, nil), nil
}

func (f *fakeCluster) Activate(_ context.Context, _, node string, req api.ActivateRequest, _ string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.snap.Node(node)
	if f.failBoot[node] {
		return f.task("activate", node, &api.Error{Code: api.CodeBootFailed, Message: node + " did not boot 2.0; reverted to " + n.Active.Version}), nil
	}
	n.Active, n.Alternate = n.Alternate, n.Active
	return f.task("activate", node, nil), nil
}

func (f *fakeCluster) Promote(_ context.Context, _, node, _ string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap.Node(node).Role = appliance.RoleMaster
	return f.task("promote", node, nil), nil
}

func (f *fakeCluster) MoveResource(_ context.Context, _, res, node, _ string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.snap.Resources {
		if f.snap.Resources[i].Name == res {
			f.snap.Resources[i].CurrentNode = node
		}
	}
	return f.task("move", res+"->"+node, nil), nil
}

func (f *fakeCluster) Finalize(context.Context, string, string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.task("finalize", "", nil), nil
}

func (f *fakeCluster) WaitTask(_ context.Context, id string) (*api.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tasks[id], nil
}

func (f *fakeCluster) AcquireLease(_ context.Context, cluster string, req api.LeaseRequest) (*api.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leases++
	return &api.Lease{ID: "l1", Cluster: cluster, Owner: req.Owner}, nil
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

func TestRun_ExecutesEveryStepInOrder(t *testing.T) {
	f := newFake("1.0", "1.0", "1.0")
	if err := Run(context.Background(), f, twoWavePlan(), Options{OperationKey: "op", PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	want := "stage n1,stage n2,stage n3,activate n1,activate n2,activate n3"
	if got := strings.Join(f.calls, ","); got != want {
		t.Fatalf("calls = %s, want %s", got, want)
	}
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
	if got, want := strings.Join(f.calls, ","), "stage n3,activate n2,activate n3"; got != want {
		t.Fatalf("calls = %s, want %s", got, want)
	}
	joined := strings.Join(skipped, "|")
	for _, want := range []string{"stage n1", "stage n2", "activate n1", "await_healthy n1"} {
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
	lying := &lyingActivate{fakeCluster: f}
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", ImageID: "img", Steps: []rollout.Step{
		{Wave: 0, Kind: rollout.StepStage, Node: "n1", Version: "2.0"},
		{Wave: 1, Kind: rollout.StepActivate, Node: "n1", Version: "2.0"},
	}}
	err := Run(context.Background(), lying, p, Options{OperationKey: "op", PollInterval: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "does not show it") || !strings.Contains(err.Error(), "active 1.0") {
		t.Fatalf("want a failure naming the observed version, got %v", err)
	}
}

type lyingActivate struct{ *fakeCluster }

func (l *lyingActivate) Activate(_ context.Context, _, node string, _ api.ActivateRequest, _ string) (*api.Task, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.task("activate", node, nil), nil // claims success, swaps nothing
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

// refusingSecond starts the first activation of a wave and refuses the second.
type refusingSecond struct {
	*fakeCluster
	waited []string
}

func (r *refusingSecond) Activate(ctx context.Context, c, node string, req api.ActivateRequest, key string) (*api.Task, error) {
	if node == "n3" {
		return nil, &api.Error{Status: 422, Code: api.CodePreconditionFailed, Message: "n3 refuses"}
	}
	return r.fakeCluster.Activate(ctx, c, node, req, key)
}

func (r *refusingSecond) WaitTask(ctx context.Context, id string) (*api.Task, error) {
	r.waited = append(r.waited, id)
	return r.fakeCluster.WaitTask(ctx, id)
}

// A refusal to start one activation of a wave must not leave the ones
// already started unobserved: they are waited for, and the failure names
// the refused step.
func TestRun_StartFailureStillWaitsForStartedTasks(t *testing.T) {
	f := &refusingSecond{fakeCluster: newFake("1.0", "1.0", "1.0")}
	for _, n := range f.snap.Nodes {
		f.snap.Node(n.Name).Alternate = appliance.Partition{Version: "2.0", Bootable: true}
	}
	p := twoWavePlan()
	err := Run(context.Background(), f, p, Options{OperationKey: "op", PollInterval: time.Millisecond})
	var fail *Failure
	if !errors.As(err, &fail) || fail.Step.Node != "n3" {
		t.Fatalf("want the failure at n3, got %v", err)
	}
	var n2Task string
	for id, tk := range f.tasks {
		if tk.Kind == "activate" && tk.Target == "n2" {
			n2Task = id
		}
	}
	found := false
	for _, id := range f.waited {
		found = found || id == n2Task
	}
	if n2Task == "" || !found {
		t.Fatalf("n2's activation (task %q) was started but never waited for; waited: %v", n2Task, f.waited)
	}
}
