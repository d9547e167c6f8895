package executor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// hangingTask is a task that never ends: Wait returns only when its
// context does (a reboot the appliance never reports as finished).
type hangingTask struct{ id string }

func (t hangingTask) ID() string { return t.id }
func (t hangingTask) Wait(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// Defect 4: healthy_deadline did not bound a reboot whose task never ends;
// the apply waited for the whole resource timeout (3 h by default).
func TestRun_Defect4_HealthyDeadlineBoundsARebootWhoseTaskNeverEnds(t *testing.T) {
	f := newFake("1.0")
	f.snap.Node("n1").Alternate = appliance.Partition{Version: "2.0", Bootable: true}
	f.activate = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.snap.Node(node).State = appliance.NodeRebooting
		return hangingTask{"task-9"}, nil
	}
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", Steps: []rollout.Step{
		{Wave: 1, Kind: rollout.StepActivate, Node: "n1", Version: "2.0"},
		{Wave: 1, Kind: rollout.StepAwaitHealthy, Node: "n1"},
	}}
	// The apply's own timeout is far away; only healthy_deadline may end it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := Run(ctx, f, p, Options{OperationKey: "op", HealthyDeadline: 100 * time.Millisecond, PollInterval: time.Millisecond})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the run took %v: the hanging reboot was not bounded by healthy_deadline", took)
	}
	for _, want := range []string{"activate n1", "task-9 did not finish within 100ms (healthy_deadline)", "node n1 is rebooting"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
	}
}

// Defect 4: a slow node's staging held an image create for its full
// timeout; each node's staging is bounded by StageDeadline.
func TestRun_Defect4_ASlowNodesStagingIsBoundedPerStaging(t *testing.T) {
	f := newFake("1.0", "1.0")
	f.stage = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if node == "n2" {
			f.snap.Node(node).Staging = "img"
			return hangingTask{"task-slow"}, nil
		}
		f.snap.Node(node).Alternate = appliance.Partition{Version: "2.0", ImageID: "img", Bootable: true}
		return f.task("stage", node, nil), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := Run(ctx, f, rollout.Staging(f.snap, "img", "2.0"), Options{OperationKey: "op", StageDeadline: 100 * time.Millisecond})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the staging took %v: not bounded per node", took)
	}
	if err == nil || !strings.Contains(err.Error(), "stage n2") || !strings.Contains(err.Error(), "task-slow did not finish within 100ms") {
		t.Fatalf("err = %v, want n2's staging to fail on its deadline", err)
	}
}

func TestRun_Defect4_DefaultStageDeadlineIs30Minutes(t *testing.T) {
	if DefaultStageDeadline != 30*time.Minute {
		t.Fatalf("DefaultStageDeadline %v; the docs say 30 minutes", DefaultStageDeadline)
	}
}

// Defect 8: with min_healthy_time 0, a node whose health flapped passed on
// one healthy read. It now needs HealthyReads consecutive healthy reads.
func TestRun_Defect8_FlappingHealthDoesNotPassOnOneHealthyRead(t *testing.T) {
	f := newFake("2.0")
	f.onRead = func(n int, c *appliance.Cluster) { c.Node("n1").Healthy = n%2 == 0 } // healthy every other read
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", Steps: []rollout.Step{{Wave: 1, Kind: rollout.StepAwaitHealthy, Node: "n1"}}}
	err := Run(context.Background(), f, p, Options{HealthyDeadline: 100 * time.Millisecond, PollInterval: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not healthy for 3 consecutive reads") {
		t.Fatalf("err = %v: a flapping node must not count as healthy", err)
	}
}

func TestRun_Defect8_ASteadyNodePassesAfterTheDefaultThreeHealthyReads(t *testing.T) {
	f := newFake("2.0")
	// Health flaps up to the 5th read (healthy on even reads), then holds.
	f.onRead = func(n int, c *appliance.Cluster) { c.Node("n1").Healthy = n > 5 || n%2 == 0 }
	p := &rollout.Plan{Cluster: "c", ToVersion: "2.0", Steps: []rollout.Step{{Wave: 1, Kind: rollout.StepAwaitHealthy, Node: "n1"}}}
	passedAt := 0
	err := Run(context.Background(), f, p, Options{HealthyDeadline: 5 * time.Second, PollInterval: time.Millisecond, Progress: func(e Event) {
		if e.Done && e.Step.Kind == rollout.StepAwaitHealthy {
			f.mu.Lock()
			passedAt = f.reads
			f.mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Reads 6, 7 and 8 are the first three healthy in a row.
	if passedAt != 8 {
		t.Fatalf("the await passed at read %d, want read 8: the third consecutive healthy read", passedAt)
	}
}

// Crash adoption of a staging (chaos finding): a node that a crashed
// predecessor left staging refuses another staging while busy; Stage waits
// for it and stages only what is still missing.
func TestStage_AStagingLeftRunningByACrashIsWaitedForNotStartedAgain(t *testing.T) {
	f := newFake("1.0", "1.0")
	f.snap.Node("n1").Staging = "img" // the dead predecessor's staging runs on
	f.onRead = func(n int, c *appliance.Cluster) {
		if n == 4 {
			c.Node("n1").Staging = ""
			c.Node("n1").Alternate = appliance.Partition{Version: "2.0", ImageID: "img", Bootable: true}
		}
	}
	f.stage = func(node string) (driver.Task, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.snap.Node(node).Staging != "" {
			return nil, &driver.Error{Status: 409, Code: driver.CodeConflict, Message: node + " is busy staging"}
		}
		f.snap.Node(node).Alternate = appliance.Partition{Version: "2.0", ImageID: "img", Bootable: true}
		return f.task("stage", node, nil), nil
	}
	if err := Stage(context.Background(), f, f.snap.Clone(), "img", "2.0", "me", Options{OperationKey: "stage img on c", PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.calls, ","); got != "stage n2" {
		t.Fatalf("calls = %s, want only n2 staged (n1's staging was under way)", got)
	}
}

// Chaos finding: a staging killed after its nodes were staged left its
// lease behind, and the rollout that followed (another operation) was
// refused until the lease expired. The staging applied again finds nothing
// to stage, adopts its predecessor's lease and gives it back.
func TestStage_NothingLeftToStageStillFreesThePredecessorsLease(t *testing.T) {
	f := newFake("1.0")
	f.snap.Node("n1").Alternate = appliance.Partition{Version: "2.0", ImageID: "img", Bootable: true}
	d := &leaseCounter{fakeCluster: f}
	if err := Stage(context.Background(), d, f.snap.Clone(), "img", "2.0", "me", Options{OperationKey: "stage img on c"}); err != nil {
		t.Fatal(err)
	}
	if d.acquired != 1 || d.released != 1 || len(f.calls) != 0 {
		t.Fatalf("acquired %d, released %d, calls %v: want the lease taken (adopted) and given back, nothing staged", d.acquired, d.released, f.calls)
	}
}

// leaseCounter counts lease requests.
type leaseCounter struct {
	*fakeCluster
	acquired, released int
}

func (l *leaseCounter) AcquireLease(ctx context.Context, cluster string, req driver.LeaseRequest) (*driver.Lease, error) {
	l.acquired++
	return l.fakeCluster.AcquireLease(ctx, cluster, req)
}

func (l *leaseCounter) ReleaseLease(ctx context.Context, cluster, id string) error {
	l.released++
	return l.fakeCluster.ReleaseLease(ctx, cluster, id)
}
