package rollout

import (
	"fmt"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// SuperStrategy is how a supercluster crosses to a new version.
type SuperStrategy string

// The supercluster strategies (S24-S26).
const (
	SuperAuto              SuperStrategy = "auto"               // rolling when compatible, otherwise refused naming the two others
	SuperRolling           SuperStrategy = "rolling"            // S24: patch releases, one cluster at a time, in place
	SuperMaintenanceWindow SuperStrategy = "maintenance_window" // S25: every cluster down and upgraded together inside a declared window
	SuperIncremental       SuperStrategy = "incremental"        // S26: each cluster leaves, upgrades, joins a new supercluster
)

// SuperStrategies lists every strategy, for validators and docs.
var SuperStrategies = []SuperStrategy{SuperAuto, SuperRolling, SuperMaintenanceWindow, SuperIncremental}

// SuperStepKind is what a supercluster step does.
type SuperStepKind string

// The supercluster step kinds.
const (
	SuperOpenWindow  SuperStepKind = "open_maintenance_window"  // Clusters: declare the window (outages inside are announced)
	SuperCloseWindow SuperStepKind = "close_maintenance_window" // Clusters: end it
	SuperLeave       SuperStepKind = "leave_supercluster"       // Cluster leaves Supercluster
	SuperJoin        SuperStepKind = "join_supercluster"        // Cluster (or Clusters) joins Supercluster
	SuperRoll        SuperStepKind = "roll_cluster"             // Cluster runs Plan
)

// SuperStep is one step of a supercluster plan.
type SuperStep struct {
	Kind         SuperStepKind
	Cluster      string
	Clusters     []string
	Supercluster string
	// Plan is the cluster's own rollout (SuperRoll).
	Plan *Plan
	// Temporary marks the join of the new supercluster of an incremental upgrade.
	Temporary bool
}

// SuperPlan is the plan of a supercluster upgrade.
type SuperPlan struct {
	Supercluster string
	Version      string
	Strategy     SuperStrategy // resolved: never auto
	Order        []string      // the member clusters, in the order they go
	Steps        []SuperStep
	// ParallelRolls: the roll steps between opening and closing the window
	// run together (S25: speed is the point once the service is down).
	ParallelRolls bool
	// Unavailability says, in words, what the service loses meanwhile.
	Unavailability string
}

// SuperRequest is what the supercluster planner needs: the members as they
// are, and each member's own rollout, planned by the cluster planner (nil
// for a cluster that already runs the version).
type SuperRequest struct {
	Supercluster string
	Version      string
	Strategy     SuperStrategy
	Members      map[string]*appliance.Cluster
	Plans        map[string]*Plan
}

// TemporarySupercluster is where the clusters of an incremental upgrade
// wait, beside the old supercluster, until the last one is done (S26).
func TemporarySupercluster(name, version string) string { return name + "@" + version }

// IsMember reports whether c belongs to the supercluster, or to the
// temporary one of an incremental upgrade of it.
func IsMember(c *appliance.Cluster, name string) bool {
	return c.Supercluster == name || strings.HasPrefix(c.Supercluster, name+"@")
}

// ChooseSuperStrategy resolves auto and refuses a strategy that cannot
// work: a version incompatible with what some member runs (S23: only patch
// releases are compatible) cannot be rolled in place.
func ChooseSuperStrategy(req SuperRequest) (SuperStrategy, error) {
	target, err := appliance.ParseVersion(req.Version)
	if err != nil {
		return "", &ValidationError{Code: "invalid_request", Message: fmt.Sprintf("version %q: %v", req.Version, err)}
	}
	var incompatible []string
	for _, n := range appliance.SortedKeys(req.Members) {
		low := req.Members[n].LowestVersion()
		if v, err := appliance.ParseVersion(low); err == nil && !v.CompatibleWith(target) {
			incompatible = append(incompatible, fmt.Sprintf("%s (%s)", n, low))
		}
	}
	switch {
	case req.Strategy == "" || req.Strategy == SuperAuto:
		if len(incompatible) > 0 {
			return "", &ValidationError{Code: "precondition_failed",
				Message: fmt.Sprintf("%s is not compatible with %s (only patch releases are compatible within a supercluster), so the clusters of %s cannot be upgraded one by one in place",
					req.Version, strings.Join(incompatible, ", "), req.Supercluster),
				Fix: `Set strategy = "maintenance_window" (every cluster down and upgraded together; simplest and fastest, an hour or two, the service unavailable) ` +
					`or strategy = "incremental" (each cluster leaves, upgrades and joins a new supercluster; the service stays up at reduced capacity, five times as long or more)`}
		}
		return SuperRolling, nil
	case req.Strategy == SuperRolling && len(incompatible) > 0:
		return "", &ValidationError{Code: "precondition_failed",
			Message: fmt.Sprintf("%s is not compatible with %s: a rolling upgrade would leave incompatible clusters in one supercluster", req.Version, strings.Join(incompatible, ", ")),
			Fix:     "Use maintenance_window or incremental"}
	}
	return req.Strategy, nil
}

// WindowPolicy is the cluster policy inside a maintenance window: the
// service is down anyway, so every node may go at once, roles still in order.
func WindowPolicy(p Policy) Policy {
	off := false
	p.HAMode, p.FailoverResources, p.MaxUnavailable = &off, &off, "100%"
	return p
}

// Supercluster builds the plan of a supercluster upgrade from its members'
// own rollouts, with the strategy already chosen (see ChooseSuperStrategy).
// It is level-triggered like a cluster plan: steps whose effect the members
// already show (a window already open, a cluster already out) are planned
// only where something is left to do, and leftovers of an interrupted apply
// (a window left open, clusters still outside) are planned to be put right.
func Supercluster(req SuperRequest) *SuperPlan {
	sp := &SuperPlan{Supercluster: req.Supercluster, Version: req.Version, Strategy: req.Strategy, Order: appliance.SortedKeys(req.Members)}
	rolling := func() []string {
		var out []string
		for _, n := range sp.Order {
			if req.Plans[n] != nil {
				out = append(out, n)
			}
		}
		return out
	}()
	anyMember := func(pred func(*appliance.Cluster) bool) bool {
		for _, c := range req.Members {
			if pred(c) {
				return true
			}
		}
		return false
	}
	roll := func(n string) {
		sp.Steps = append(sp.Steps, SuperStep{Kind: SuperRoll, Cluster: n, Plan: req.Plans[n]})
	}
	switch req.Strategy {
	case SuperRolling:
		sp.Unavailability = "none: one cluster at a time, each keeping its HA partners and resources served"
		for _, n := range rolling {
			roll(n)
		}
	case SuperMaintenanceWindow:
		sp.Unavailability = "the whole supercluster, from the opening to the closing of the maintenance window"
		sp.ParallelRolls = true
		if len(rolling) > 0 {
			sp.Steps = append(sp.Steps, SuperStep{Kind: SuperOpenWindow, Clusters: sp.Order})
			for _, n := range rolling {
				roll(n)
			}
		}
		if len(rolling) > 0 || anyMember(func(c *appliance.Cluster) bool { return c.MaintenanceWindow }) {
			sp.Steps = append(sp.Steps, SuperStep{Kind: SuperCloseWindow, Clusters: sp.Order})
		}
	case SuperIncremental:
		sp.Unavailability = "none, at reduced capacity: one cluster at a time is out of the supercluster while it upgrades"
		temp := TemporarySupercluster(req.Supercluster, req.Version)
		for _, n := range rolling {
			sp.Steps = append(sp.Steps, SuperStep{Kind: SuperLeave, Cluster: n, Supercluster: req.Supercluster})
			roll(n)
			sp.Steps = append(sp.Steps, SuperStep{Kind: SuperJoin, Cluster: n, Supercluster: temp, Temporary: true})
		}
		if len(rolling) > 0 || anyMember(func(c *appliance.Cluster) bool { return c.Supercluster != req.Supercluster }) {
			sp.Steps = append(sp.Steps, SuperStep{Kind: SuperJoin, Clusters: sp.Order, Supercluster: req.Supercluster})
		}
	}
	return sp
}

// Lines renders the plan one step per line; a cluster's rollout is shown
// step by step, each line prefixed with the cluster's name.
func (sp *SuperPlan) Lines() []string {
	var lines []string
	for _, s := range sp.Steps {
		lines = append(lines, s.lines(sp)...)
	}
	for i := range lines {
		lines[i] = fmt.Sprintf("%d. %s", i+1, lines[i])
	}
	return lines
}

func (s SuperStep) lines(sp *SuperPlan) []string {
	switch s.Kind {
	case SuperOpenWindow:
		return []string{"open the maintenance window on " + strings.Join(s.Clusters, ", ") + ": the service is unavailable until it closes"}
	case SuperCloseWindow:
		return []string{"close the maintenance window on " + strings.Join(s.Clusters, ", ")}
	case SuperLeave:
		return []string{s.Cluster + ": leave supercluster " + s.Supercluster}
	case SuperJoin:
		if s.Temporary {
			return []string{s.Cluster + ": join supercluster " + s.Supercluster + " (the new supercluster, beside " + sp.Supercluster + " until the end)"}
		}
		return []string{strings.Join(s.Clusters, ", ") + ": rejoin supercluster " + s.Supercluster + " on " + sp.Version}
	case SuperRoll:
		out := make([]string, 0, len(s.Plan.Steps))
		for _, st := range s.Plan.Steps {
			out = append(out, s.Cluster+": "+st.render(s.Plan.Rollback))
		}
		return out
	}
	return nil
}

// Flat lists the plan's steps as cluster steps, one per line of Lines:
// supercluster steps become steps of kind SuperStepKind with To naming the
// supercluster, so that a plan shown and a plan recomputed compare as data.
func (sp *SuperPlan) Flat() []ClusterStep {
	var out []ClusterStep
	for _, s := range sp.Steps {
		switch s.Kind {
		case SuperRoll:
			for _, st := range s.Plan.Steps {
				out = append(out, ClusterStep{Cluster: s.Cluster, Step: st})
			}
		case SuperLeave, SuperJoin:
			if s.Cluster != "" {
				out = append(out, ClusterStep{Cluster: s.Cluster, Step: Step{Kind: StepKind(s.Kind), To: s.Supercluster}})
				continue
			}
			out = append(out, ClusterStep{Cluster: strings.Join(s.Clusters, ","), Step: Step{Kind: StepKind(s.Kind), To: s.Supercluster, Version: sp.Version}})
		default:
			out = append(out, ClusterStep{Cluster: strings.Join(s.Clusters, ","), Step: Step{Kind: StepKind(s.Kind)}})
		}
	}
	return out
}

// ClusterStep is a step of one cluster (or, joined by commas, of several).
type ClusterStep struct {
	Cluster string
	Step
}

// NotShownClusterSteps is NotShown for supercluster plans.
func NotShownClusterSteps(got, shown []ClusterStep) *ClusterStep {
	j := 0
	for i := range got {
		for j < len(shown) && (shown[j].Cluster != got[i].Cluster || !shown[j].SameAction(got[i].Step)) {
			j++
		}
		if j == len(shown) {
			return &got[i]
		}
		j++
	}
	return nil
}
