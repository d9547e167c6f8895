// Package chaos is the crash harness of `make chaos`: it runs a real
// `terraform apply` of a rolling upgrade of an 8-node cluster against the
// standalone simulator, kills it at a random moment (SIGINT and SIGKILL in
// turn, terraform and its provider plugin together as Ctrl-C or an OOM kill
// would; in some trials the simulator as well), applies again until the
// cluster has converged, and checks the simulator's record: no node
// activated twice for the same target, no undeclared outage.
//
// Everything is the real thing except the appliances: the terraform CLI,
// the provider binary, a separate simulator process and its state file.
package chaos

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

//go:embed testdata/eight-nodes.json
var eightNodes []byte

// clusterName is the cluster of testdata/eight-nodes.json.
const clusterName = "chaos"

// Target and source versions of the rollout.
const (
	fromVersion = "1.0"
	toVersion   = "1.1"
)

// Options configures a run. Zero values take the defaults.
type Options struct {
	// Trials is how many interrupted rollouts to run (default 3).
	Trials int
	// Seed makes the kill moments repeatable (default: from the clock).
	Seed uint64
	// Terraform is the terraform (or tofu) CLI (default: terraform on PATH).
	Terraform string
	// Provider is the built provider binary; the simulator is its
	// `simulator` subcommand.
	Provider string
	// Dir holds every trial's files (state, logs); default a temp dir,
	// removed at the end unless KeepDir.
	Dir     string
	KeepDir bool
	// TimeScale is the simulator's simulated seconds per wall second
	// (default 30: a 90 s reboot takes 3 s).
	TimeScale float64
	// MaxReapplies bounds the applies after the interrupted one (default 40).
	MaxReapplies int
	// ReapplyPause is the wait after a failed re-apply before the next one
	// (default 5s), as an operator would retry.
	ReapplyPause time.Duration
	// TrialBudget bounds one trial from the interrupted apply's start to
	// convergence (default 5m; a dead holder's lease lasts 2m).
	TrialBudget time.Duration
	// SimulatorKillEvery kills and restarts the simulator as well in every
	// n-th trial (default 3; negative: never).
	SimulatorKillEvery int
	// Progress receives one line per trial; nil is silent.
	Progress io.Writer
}

func (o *Options) defaults() error {
	if o.Trials <= 0 {
		o.Trials = 3
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Terraform == "" {
		o.Terraform = "terraform"
	}
	if o.Provider == "" {
		return fmt.Errorf("chaos: the provider binary is required")
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 30
	}
	if o.MaxReapplies <= 0 {
		o.MaxReapplies = 40
	}
	if o.ReapplyPause <= 0 {
		o.ReapplyPause = 5 * time.Second
	}
	if o.TrialBudget <= 0 {
		o.TrialBudget = 5 * time.Minute
	}
	if o.SimulatorKillEvery == 0 {
		o.SimulatorKillEvery = 3
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return nil
}

// Trial is what happened in one interrupted rollout.
type Trial struct {
	N      int
	Signal syscall.Signal
	// KillSimulator: the simulator was killed (SIGKILL) and restarted at
	// the same moment as terraform.
	KillSimulator bool
	KillAfter     time.Duration
	// KillMissed: the apply had finished before the kill moment.
	KillMissed bool
	// Reapplies counts the applies after the interrupted one, failed or not.
	Reapplies int
	Converged bool
	// ConvergeTime runs from the interrupted apply's start to the end of
	// the apply that converged.
	ConvergeTime time.Duration
	// Refusals counts failed re-applies by cause (see classify).
	Refusals map[string]int
	// Errors keeps the first line of each distinct failure, for the report.
	Errors []string
	Record
}

// Summary is a whole run.
type Summary struct {
	Seed          uint64
	Uninterrupted time.Duration
	Baseline      Record // the uninterrupted rollout's record
	Trials        []Trial
	// LateKills counts the trials run again because the apply had
	// finished before the kill.
	LateKills int
}

// Line is the one-line summary `make chaos` prints.
func (s Summary) Line() string {
	n := len(s.Trials)
	converged, doubles := 0, 0
	outage := 0.0
	var reapplies []int
	var times []time.Duration
	refusals := map[string]int{}
	missed := 0
	for _, t := range s.Trials {
		if t.Converged {
			converged++
			times = append(times, t.ConvergeTime)
		}
		if t.KillMissed {
			missed++
		}
		reapplies = append(reapplies, t.Reapplies)
		doubles += len(t.DoubleActivations)
		outage += t.OutageSeconds
		for k, v := range t.Refusals {
			refusals[k] += v
		}
	}
	doubles += len(s.Baseline.DoubleActivations)
	outage += s.Baseline.OutageSeconds
	medianTime := median(times)
	ratio := 0.0
	if s.Uninterrupted > 0 {
		ratio = medianTime.Seconds() / s.Uninterrupted.Seconds()
	}
	line := fmt.Sprintf("chaos: N=%d converged=%d/%d reapplies(median/max)=%d/%d converge_time(median)=%.1fs uninterrupted=%.1fs ratio=%.2f double_activations=%d outage_seconds=%g",
		n, converged, n, medianInt(reapplies), maxInt(reapplies), medianTime.Seconds(), s.Uninterrupted.Seconds(), ratio, doubles, outage)
	if len(refusals) > 0 {
		keys := make([]string, 0, len(refusals))
		for k := range refusals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s:%d", k, refusals[k])
		}
		line += " failed_reapplies=" + strings.Join(parts, ",")
	}
	if missed > 0 || s.LateKills > 0 {
		line += fmt.Sprintf(" kills_after_completion=%d", missed+s.LateKills)
	}
	line += fmt.Sprintf(" seed=%d", s.Seed)
	return line
}

// Run runs the baseline (one uninterrupted rollout, whose duration the
// ratio is taken against) and then the trials.
func Run(ctx context.Context, o Options) (Summary, error) {
	if err := o.defaults(); err != nil {
		return Summary{}, err
	}
	sum := Summary{Seed: o.Seed}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "chaos-")
		if err != nil {
			return sum, err
		}
		dir = d
		if !o.KeepDir {
			defer func() { _ = os.RemoveAll(d) }()
		}
	}
	shared, err := prepare(ctx, o, dir)
	if err != nil {
		return sum, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6368616f73)) //nolint:gosec // kill moments, not secrets

	base, err := runBaseline(ctx, o, shared, filepath.Join(dir, "baseline"))
	if err != nil {
		return sum, fmt.Errorf("the uninterrupted rollout: %w", err)
	}
	sum.Uninterrupted, sum.Baseline = base.took, base.record
	fmt.Fprintf(o.Progress, "chaos: uninterrupted rollout %.1fs (%s)\n", base.took.Seconds(), base.record.describe())

	for i := 1; i <= o.Trials; i++ {
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		sig := syscall.SIGINT
		if i%2 == 0 {
			sig = syscall.SIGKILL
		}
		killSim := o.SimulatorKillEvery > 0 && i%o.SimulatorKillEvery == 0
		// Anywhere from terraform's start to well before the uninterrupted
		// rollout would have ended (one rollout may run faster than the
		// baseline did). A trial whose apply still finished first is run
		// again, up to twice, with an earlier moment, so that N counts
		// interrupted rollouts; the summary says how many kills came late.
		after := time.Duration(float64(base.took) * (0.05 + 0.75*rng.Float64()))
		var t Trial
		for attempt := 0; ; attempt++ {
			t, err = runTrial(ctx, o, shared, filepath.Join(dir, fmt.Sprintf("trial-%03d-%d", i, attempt)), i, sig, killSim, after)
			if err != nil {
				return sum, fmt.Errorf("trial %d: %w", i, err)
			}
			if !t.KillMissed || attempt == 2 {
				break
			}
			fmt.Fprintln(o.Progress, t.describe())
			sum.LateKills++
			after /= 2
		}
		sum.Trials = append(sum.Trials, t)
		fmt.Fprintln(o.Progress, t.describe())
	}
	return sum, nil
}

func (t Trial) describe() string {
	sim := ""
	if t.KillSimulator {
		sim = " +simulator"
	}
	state := "converged"
	if !t.Converged {
		state = "NOT converged"
	}
	s := fmt.Sprintf("chaos: trial %d: %s%s at %.1fs: %s after %d re-applies in %.1fs; %s",
		t.N, signalName(t.Signal), sim, t.KillAfter.Seconds(), state, t.Reapplies, t.ConvergeTime.Seconds(), t.Record.describe())
	if t.KillMissed {
		s += "; the apply had finished before the kill"
	}
	if len(t.Errors) > 0 {
		s += "; failures: " + strings.Join(t.Errors, " | ")
	}
	return s
}

func signalName(s syscall.Signal) string {
	if s == syscall.SIGKILL {
		return "SIGKILL"
	}
	return "SIGINT"
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianInt(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// Clean reports a run in which every trial converged with no double
// activation and no undeclared outage.
func (s Summary) Clean() bool {
	if len(s.Baseline.DoubleActivations) > 0 || s.Baseline.OutageSeconds > 0 {
		return false
	}
	for _, t := range s.Trials {
		if !t.Converged || len(t.DoubleActivations) > 0 || t.OutageSeconds > 0 {
			return false
		}
	}
	return true
}
