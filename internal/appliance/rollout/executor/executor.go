// Package executor runs a rollout plan against a cluster through a driver.
//
// It is level-triggered: before each step it reads the cluster back and skips
// the step when its post-condition already holds, so an apply that was
// interrupted and started again continues where it stopped, doing nothing
// twice and skipping nothing. It lives apart from the planner so that the
// planner stays free of I/O.
package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
)

// Options tune a run.
type Options struct {
	// OperationKey is unique to one rollout; with the step it makes each
	// request's idempotency key, so a retried request never acts twice.
	OperationKey string
	// LeaseID is the cluster lease every action runs under (see WithLease).
	LeaseID string
	// Attempt is unique to this run (random when empty). The operation key
	// names the intent and stays the same when a crashed apply is applied
	// again; the attempt keeps a retried request from replaying an earlier
	// run's answer, such as a failure that has since been fixed.
	Attempt string
	// AutoRevert asks the appliance to boot the previous partition again
	// when an activation fails (S18, S19).
	AutoRevert bool
	// MinHealthyTime is how long a node must stay healthy before the plan goes on.
	MinHealthyTime time.Duration
	// HealthyReads is how many consecutive healthy reads make a node (or,
	// for settle, the cluster) healthy, so that health that flaps does not
	// pass on one lucky read. Default DefaultHealthyReads (3); with the
	// default PollInterval that is half a second of steady health.
	HealthyReads int
	// HealthyDeadline bounds the wait for a node or the cluster to be healthy
	// (wall time). Default 30 minutes. It also bounds the wait for each
	// activation, move and promotion task: a reboot whose task never ends
	// fails the rollout after HealthyDeadline, not after the whole apply's
	// timeout.
	HealthyDeadline time.Duration
	// StageDeadline bounds one node's staging task (wall time), so that a
	// slow node cannot hold an apply for its whole timeout. Default
	// DefaultStageDeadline (30 minutes).
	StageDeadline time.Duration
	// SettleDeadline bounds the wait for the cluster to re-form after the
	// update (S17: 45-60 minutes on an Image Streamer), which a per-node
	// deadline would cut short, and the finalize task. Default:
	// HealthyDeadline.
	SettleDeadline time.Duration
	// PollInterval is the pause between health reads. Default 250 ms.
	PollInterval time.Duration
	// Progress is told of each step as it starts and ends; it may be nil.
	Progress func(Event)
}

// Defaults of Options.
const (
	DefaultHealthyReads  = 3
	DefaultStageDeadline = 30 * time.Minute
)

// Event reports a step's progress, for logs.
type Event struct {
	Index   int // 0-based index in the plan
	Total   int
	Step    rollout.Step
	Skipped bool // the post-condition already held
	Done    bool
	Err     error
}

// Run executes plan against the cluster. On failure it returns a *Failure
// that says which step failed and which version each node runs now (S20).
func Run(ctx context.Context, d driver.Driver, plan *rollout.Plan, opts Options) error {
	if opts.HealthyDeadline <= 0 {
		opts.HealthyDeadline = 30 * time.Minute
	}
	if opts.SettleDeadline <= 0 {
		opts.SettleDeadline = opts.HealthyDeadline
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.HealthyReads <= 0 {
		opts.HealthyReads = DefaultHealthyReads
	}
	if opts.StageDeadline <= 0 {
		opts.StageDeadline = DefaultStageDeadline
	}
	r := &run{drv: d, plan: plan, opts: opts}
	var snap *appliance.Cluster
	for i := 0; i < len(plan.Steps); {
		j := i + 1
		for j < len(plan.Steps) && concurrent(plan.Steps[i], plan.Steps[j]) {
			j++
		}
		var err error
		if snap, err = r.batch(ctx, i, j, snap); err != nil {
			return r.failure(ctx, err)
		}
		i = j
	}
	return nil
}

// concurrent reports whether two neighbouring steps may run together: the
// planner groups the activations (and stagings, moves) of one wave.
func concurrent(a, b rollout.Step) bool {
	if a.Wave != b.Wave || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case rollout.StepStage, rollout.StepActivate, rollout.StepMoveResource, rollout.StepFailBack, rollout.StepAwaitHealthy:
		return true
	}
	return false
}

type run struct {
	drv  driver.Driver
	plan *rollout.Plan
	opts Options
	// reportMu keeps Progress calls one at a time.
	reportMu sync.Mutex
}

// stepError ties an error to the step that met it.
type stepError struct {
	index int
	step  rollout.Step
	err   error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// batch runs steps [i, j) of one kind and wave: it reads the cluster once
// (or takes the snapshot the previous batch verified its steps on, read
// just before), starts every step whose post-condition does not hold, then
// waits for all. It returns the snapshot it verified the steps on.
func (r *run) batch(ctx context.Context, i, j int, snap *appliance.Cluster) (*appliance.Cluster, error) {
	var err error
	if snap == nil {
		if snap, err = r.drv.Cluster(ctx, r.plan.Cluster); err != nil {
			return nil, &stepError{index: i, step: r.plan.Steps[i], err: fmt.Errorf("reading cluster %s: %w", r.plan.Cluster, err)}
		}
	}
	// The plan was proven on the snapshot it was made from; prove what is
	// left again on the cluster as it is now, before touching anything.
	if err := rollout.ProveRemaining(snap, r.plan, i); err != nil {
		var v *rollout.SafetyViolation
		if errors.As(err, &v) {
			return nil, &stepError{index: v.StepIndex, step: v.Step, err: fmt.Errorf("stopped before this step: %s. Nothing more was started; bring the cluster back and apply again", v.Constraint)}
		}
		return nil, &stepError{index: i, step: r.plan.Steps[i], err: err}
	}
	type started struct {
		index int
		task  driver.Task
		at    time.Time
	}
	var tasks []started
	var firstErr error
	var awaits, toStart []int
	for k := i; k < j; k++ {
		s := r.plan.Steps[k]
		if s.Kind == rollout.StepAwaitHealthy || s.Kind == rollout.StepSettle {
			// Never skipped on one read, even when a resumed apply finds
			// the node healthy: health must hold for HealthyReads reads.
			r.report(Event{Index: k, Step: s})
			awaits = append(awaits, k) // waited for below, after the tasks
			continue
		}
		if done(snap, s) {
			r.report(Event{Index: k, Step: s, Skipped: true, Done: true})
			continue
		}
		toStart = append(toStart, k)
	}
	// The steps of a batch start together: the plan proved them safe
	// together, and starting them one after another would add a request's
	// latency to every node's reboot (the wave ends with its last node).
	results := make([]started, len(toStart))
	errs := make([]error, len(toStart))
	var wg sync.WaitGroup
	for n, k := range toStart {
		s := r.plan.Steps[k]
		r.report(Event{Index: k, Step: s})
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := time.Now()
			t, err := r.start(ctx, s, k)
			results[n], errs[n] = started{k, t, at}, err
		}()
	}
	wg.Wait()
	for n, k := range toStart {
		if errs[n] != nil {
			// Nothing more starts, but what was started is still waited for.
			if firstErr == nil {
				firstErr = &stepError{index: k, step: r.plan.Steps[k], err: errs[n]}
			}
			r.report(Event{Index: k, Step: r.plan.Steps[k], Err: errs[n]})
			continue
		}
		tasks = append(tasks, results[n])
	}
	// Wait for every started task before judging any, so that a failure in
	// one node of a wave never leaves another's reboot unobserved.
	for _, st := range tasks {
		s := r.plan.Steps[st.index]
		if err := r.wait(ctx, s, st.task, st.at); err != nil {
			if firstErr == nil {
				firstErr = &stepError{index: st.index, step: s, err: err}
			}
			r.report(Event{Index: st.index, Step: s, Err: err})
			continue
		}
		r.report(Event{Index: st.index, Step: s, Done: true})
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if len(awaits) > 0 {
		// A batch of waits started nothing: the snapshot it began with is
		// its first read.
		first := snap
		if len(tasks) > 0 {
			first = nil
		}
		if err := r.awaitHealthy(ctx, awaits, first); err != nil {
			return nil, err
		}
	}
	// A finished task is not yet a proven step: read the cluster back and
	// check every post-condition (S22: a node may come back on the old
	// version while its task claims success).
	snap, err = r.drv.Cluster(ctx, r.plan.Cluster)
	if err != nil {
		return nil, &stepError{index: i, step: r.plan.Steps[i], err: fmt.Errorf("reading cluster %s: %w", r.plan.Cluster, err)}
	}
	for k := i; k < j; k++ {
		s := r.plan.Steps[k]
		if !verified(snap, s) {
			return nil, &stepError{index: k, step: s, err: fmt.Errorf("the step reported success but the cluster does not show it: %s", observed(snap, s))}
		}
	}
	return snap, nil
}

func (r *run) report(e Event) {
	if r.opts.Progress != nil {
		e.Total = len(r.plan.Steps)
		r.reportMu.Lock()
		defer r.reportMu.Unlock()
		r.opts.Progress(e)
	}
}

func (r *run) key(index int, s rollout.Step) string {
	return fmt.Sprintf("%s/%s/%d/%s/%s%s", r.opts.OperationKey, r.opts.Attempt, index, s.Kind, s.Node, s.Resource)
}

func (r *run) start(ctx context.Context, s rollout.Step, index int) (driver.Task, error) {
	c := r.plan.Cluster
	a := driver.Action{Node: s.Node, Version: s.Version, LeaseID: r.opts.LeaseID, IdempotencyKey: r.key(index, s)}
	switch s.Kind {
	case rollout.StepStage:
		if r.plan.ImageID == "" {
			return nil, fmt.Errorf("no image of version %s is known to cluster %s to stage", s.Version, c)
		}
		a.Kind, a.ImageID = driver.ActStage, r.plan.ImageID
	case rollout.StepActivate:
		a.Kind, a.AutoRevert = driver.ActActivate, r.opts.AutoRevert
	case rollout.StepPromote:
		a.Kind = driver.ActPromote
	case rollout.StepMoveResource, rollout.StepFailBack:
		a.Kind, a.Resource, a.To = driver.ActMoveResource, s.Resource, s.To
	case rollout.StepFinalize:
		a.Kind = driver.ActFinalize
	default:
		return nil, fmt.Errorf("the executor does not know step kind %q", s.Kind)
	}
	if err := leaseStillOurs(ctx); err != nil {
		return nil, err
	}
	return r.drv.Start(ctx, c, a)
}

// done is each step's post-condition, read from a snapshot.
func done(snap *appliance.Cluster, s rollout.Step) bool {
	switch s.Kind {
	case rollout.StepStage:
		n := snap.Node(s.Node)
		// An armed node holds the image but would boot it at its next
		// restart: staging it again repairs that.
		return n != nil && (appliance.SameVersion(n.Alternate.Version, s.Version) && !n.Armed || appliance.SameVersion(n.Active.Version, s.Version))
	case rollout.StepActivate:
		n := snap.Node(s.Node)
		return n != nil && appliance.SameVersion(n.Active.Version, s.Version)
	case rollout.StepAwaitHealthy:
		n := snap.Node(s.Node)
		return n != nil && n.State == appliance.NodeRunning && n.Healthy
	case rollout.StepPromote:
		n := snap.Node(s.Node)
		return n != nil && n.Role == appliance.RoleMaster
	case rollout.StepMoveResource, rollout.StepFailBack:
		for _, res := range snap.Resources {
			if res.Name == s.Resource {
				return res.CurrentNode == s.To && res.State == appliance.ResourceOnline
			}
		}
		return false
	case rollout.StepSettle:
		return clusterSettled(snap)
	case rollout.StepFinalize:
		// Appliances that report the finalized version say when it ran;
		// for the others it runs whenever its turn comes (it is safe to
		// run again).
		return snap.FinalizedVersion != "" && appliance.SameVersion(snap.FinalizedVersion, s.Version)
	}
	return false
}

// verified is a step's post-condition after it ran. It is done's, except
// for finalize, which leaves nothing to skip it by but must leave every
// resource back online on its preferred node (S16).
func verified(snap *appliance.Cluster, s rollout.Step) bool {
	if s.Kind != rollout.StepFinalize {
		return done(snap, s)
	}
	if snap.FinalizedVersion != "" && !appliance.SameVersion(snap.FinalizedVersion, s.Version) {
		return false
	}
	for _, res := range snap.Resources {
		if res.State != appliance.ResourceOnline || res.CurrentNode != res.PreferredNode {
			return false
		}
	}
	return true
}

func clusterSettled(snap *appliance.Cluster) bool {
	if !snap.Healthy || snap.ReportedMembers < len(snap.Nodes) {
		return false
	}
	for _, n := range snap.Nodes {
		if n.State != appliance.NodeRunning || !n.Healthy {
			return false
		}
	}
	return true
}

// observed says what the cluster shows instead of a step's post-condition.
func observed(snap *appliance.Cluster, s rollout.Step) string {
	if s.Node != "" {
		n := snap.Node(s.Node)
		if n == nil {
			return fmt.Sprintf("node %s is missing from the cluster", s.Node)
		}
		return fmt.Sprintf("node %s is %s, healthy=%t, active %s, alternate %s", n.Name, n.State, n.Healthy, n.Active.Version, n.Alternate.Version)
	}
	if s.Resource != "" {
		for _, res := range snap.Resources {
			if res.Name == s.Resource {
				return fmt.Sprintf("resource %s is %s on %q", res.Name, res.State, res.CurrentNode)
			}
		}
		return fmt.Sprintf("resource %s is missing from the cluster", s.Resource)
	}
	return fmt.Sprintf("cluster healthy=%t, reports %d of %d members", snap.Healthy, snap.ReportedMembers, len(snap.Nodes))
}

// wait waits for a started task, bounded by the deadline of its kind of
// step (see taskDeadline) counted from its start: a task that never ends
// fails the rollout with what the cluster shows, instead of holding the
// apply for its whole timeout.
func (r *run) wait(ctx context.Context, s rollout.Step, t driver.Task, at time.Time) error {
	limit, setting := r.taskDeadline(s)
	tctx, cancel := context.WithDeadline(ctx, at.Add(limit))
	defer cancel()
	err := t.Wait(tctx)
	if err == nil || ctx.Err() != nil || tctx.Err() == nil {
		return err
	}
	what := "the cluster could not be read"
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if snap, rerr := r.drv.Cluster(rctx, r.plan.Cluster); rerr == nil {
		what = observed(snap, s)
	}
	return fmt.Errorf("task %s did not finish within %s (%s); %s. It may still finish on its own: the next apply continues from what the cluster shows", t.ID(), limit, setting, what)
}

// taskDeadline is how long a task of the step's kind may run, and the
// setting that says so, for messages.
func (r *run) taskDeadline(s rollout.Step) (time.Duration, string) {
	switch s.Kind {
	case rollout.StepStage:
		return r.opts.StageDeadline, "the staging deadline of one node"
	case rollout.StepFinalize:
		return r.opts.SettleDeadline, "the settle deadline"
	}
	return r.opts.HealthyDeadline, "healthy_deadline"
}

// awaitHealthy polls until every awaited node (or, for settle, the
// cluster) is healthy, and has stayed healthy for MinHealthyTime and for
// HealthyReads consecutive reads; one read of the cluster per poll serves
// them all, so a wave waits one MinHealthyTime, not one per node. It fails
// on the deadline with what it saw (S22), or at once when a node is down.
//
// A node's healthy run is measured on the appliance's own clock when the
// snapshot says what it is (Cluster.ObservedAt and Node.HealthySince, which
// the appliance resets whenever the node stops being healthy): then the
// run must last MinHealthyTime, and at least the span HealthyReads reads
// PollInterval apart would take, on that clock. Against the simulator,
// whose clock runs time_scale times faster than the wall clock, the waits
// shrink with it; the executor learns the rate from consecutive snapshots.
// Without those fields the run is counted in reads and wall time.
func (r *run) awaitHealthy(ctx context.Context, steps []int, first *appliance.Cluster) error {
	limit := r.opts.HealthyDeadline
	if r.plan.Steps[steps[0]].Kind == rollout.StepSettle {
		limit = r.opts.SettleDeadline
	}
	deadline := time.Now().Add(limit)
	need := max(r.opts.MinHealthyTime, time.Duration(r.opts.HealthyReads-1)*r.opts.PollInterval)
	var clock applianceClock
	reads := make(map[int]int, len(steps))       // consecutive healthy reads
	since := make(map[int]time.Time, len(steps)) // start of that run of reads
	flapped := map[int]bool{}                    // healthy once, then not again
	pending := append([]int(nil), steps...)
	for {
		snap := first
		if first = nil; snap == nil {
			var err error
			if snap, err = r.drv.Cluster(ctx, r.plan.Cluster); err != nil {
				return &stepError{index: pending[0], step: r.plan.Steps[pending[0]], err: fmt.Errorf("reading cluster %s: %w", r.plan.Cluster, err)}
			}
		}
		clock.observe(time.Now(), snap.ObservedAt)
		left := pending[:0]
		var wait time.Duration = -1 // appliance time until the next node may pass
		for _, k := range pending {
			s := r.plan.Steps[k]
			if !done(snap, s) {
				flapped[k] = flapped[k] || reads[k] > 0
				reads[k], since[k] = 0, time.Time{}
				if n := snap.Node(s.Node); n != nil && n.State == appliance.NodeDown {
					return &stepError{index: k, step: s, err: fmt.Errorf("node %s is down: it did not come back after its reboot", s.Node)}
				}
				left = append(left, k)
				continue
			}
			if reads[k] == 0 {
				since[k] = time.Now()
			}
			reads[k]++
			if reads[k] >= r.opts.HealthyReads && time.Since(since[k]) >= r.opts.MinHealthyTime {
				r.report(Event{Index: k, Step: s, Done: true})
				continue
			}
			if run, ok := healthyRun(snap, s); ok {
				if run >= need {
					r.report(Event{Index: k, Step: s, Done: true})
					continue
				}
				if wait < 0 || need-run < wait {
					wait = need - run
				}
			}
			left = append(left, k)
		}
		pending = left
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			k := pending[0]
			s := r.plan.Steps[k]
			msg := fmt.Sprintf("not healthy within %s: %s", limit, observed(snap, s))
			if reads[k] > 0 || flapped[k] {
				msg = fmt.Sprintf("not healthy for %d consecutive reads within %s (its health flaps): %s", r.opts.HealthyReads, limit, observed(snap, s))
			}
			return &stepError{index: k, step: s, err: errors.New(msg)}
		}
		pause := clock.wall(r.opts.PollInterval, r.opts.PollInterval)
		if wait >= 0 {
			pause = min(pause, clock.wall(wait, r.opts.PollInterval))
		}
		select {
		case <-ctx.Done():
			return &stepError{index: pending[0], step: r.plan.Steps[pending[0]], err: ctx.Err()}
		case <-time.After(pause):
		}
	}
}

// healthyRun is how long the step's node (or, for settle, every node) has
// been healthy by the appliance's clock, when the snapshot says.
func healthyRun(snap *appliance.Cluster, s rollout.Step) (time.Duration, bool) {
	if snap.ObservedAt == nil {
		return 0, false
	}
	nodes := snap.Nodes
	if s.Kind != rollout.StepSettle {
		n := snap.Node(s.Node)
		if n == nil {
			return 0, false
		}
		nodes = []appliance.Node{*n}
	}
	run := time.Duration(-1)
	for _, n := range nodes {
		if !n.Healthy || n.HealthySince == nil {
			return 0, false
		}
		d := snap.ObservedAt.Sub(*n.HealthySince)
		if run < 0 || d < run {
			run = d
		}
	}
	return max(run, 0), run >= 0
}

// applianceClock relates the appliance's clock to the wall clock from the
// snapshots' ObservedAt: the simulator's runs time_scale times faster.
type applianceClock struct {
	wall0 time.Time
	at0   time.Time
	rate  float64 // appliance seconds per wall second; 0 while unknown
}

// minPause keeps polls of a fast simulated clock from spinning.
const minPause = 2 * time.Millisecond

func (c *applianceClock) observe(wall time.Time, at *time.Time) {
	if at == nil {
		return
	}
	if c.wall0.IsZero() {
		c.wall0, c.at0 = wall, *at
		return
	}
	if dw := wall.Sub(c.wall0); dw >= time.Millisecond {
		if r := float64(at.Sub(c.at0)) / float64(dw); r > 0 {
			c.rate = r
		}
	}
}

// wall is how long to sleep for d of appliance time: d itself while the
// rate is not known (a real appliance's clock is the wall clock), except
// that the first pause after an ObservedAt is short, to learn the rate;
// never longer than limit nor shorter than minPause.
func (c *applianceClock) wall(d, limit time.Duration) time.Duration {
	switch {
	case c.rate > 0:
		d = time.Duration(float64(d) / c.rate)
	case !c.wall0.IsZero():
		d = min(d, 10*time.Millisecond)
	}
	return max(min(d, limit), minPause)
}

// Failure is a rollout that stopped: which step, why, and where every node
// stands now, so that the operator (and the Terraform state) knows the
// cluster's exact state (S20).
type Failure struct {
	StepIndex    int
	Step         rollout.Step
	Err          error
	NodeVersions map[string]string // node -> active version, as read after the failure; nil if unreadable
}

func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollout stopped at step %d (%s): %v", f.StepIndex+1, f.Step.String(), f.Err)
	unknown := f.RevertFailed()
	if unknown != "" {
		// The node failed its activation and then its revert: what it
		// runs is not known, so nothing is claimed for it.
		fmt.Fprintf(&b, ". The revert of %s failed too: it is down and what it will boot is not known; bring it back by hand (console, re-image) before the next apply", unknown)
	}
	if now := f.ClusterNow(); now != "" {
		b.WriteString(". " + now)
	}
	return b.String()
}

// ClusterNow says what every node runs after the failure ("The cluster now
// runs 1.1 on n1; 1.0 on n2, n3"), leaving out a node whose revert failed;
// "" when the cluster could not be read.
func (f *Failure) ClusterNow() string {
	if len(f.NodeVersions) == 0 {
		return ""
	}
	unknown := f.RevertFailed()
	byVersion := map[string][]string{}
	for n, v := range f.NodeVersions {
		if n == unknown {
			continue
		}
		byVersion[v] = append(byVersion[v], n)
	}
	var b strings.Builder
	b.WriteString("The cluster now runs")
	for i, v := range appliance.SortedKeys(byVersion) {
		nodes := byVersion[v]
		sort.Strings(nodes)
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s on %s", v, strings.Join(nodes, ", "))
	}
	return b.String()
}

func (f *Failure) Unwrap() error { return f.Err }

// RevertFailed names the node whose revert failed after its activation
// did, or "".
func (f *Failure) RevertFailed() string {
	if driver.CodeOf(f.Err) == driver.CodeRevertFailed {
		return f.Step.Node
	}
	return ""
}

func (r *run) failure(ctx context.Context, err error) error {
	var se *stepError
	if !errors.As(err, &se) {
		return err
	}
	f := &Failure{StepIndex: se.index, Step: se.step, Err: se.err}
	// Read the cluster with a fresh context: the apply's may be what ended.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if snap, rerr := r.drv.Cluster(rctx, r.plan.Cluster); rerr == nil {
		f.NodeVersions = snap.ActiveVersions()
	}
	return f
}
