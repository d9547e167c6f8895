// Package rollout is the planner: from a cluster snapshot, a target image and
// a policy it computes the ordered, safety-checked plan that `terraform plan`
// shows and the executor runs. It is pure: no I/O, no clock, no randomness.
package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Order is an activation order.
type Order string

// The activation orders of the seeds.
const (
	OrderAuto         Order = "auto"          // chosen from the roles the cluster reports
	OrderPrimaryFirst Order = "primary_first" // S11: the primary, then the others, HA partners never together
	OrderStandbyFirst Order = "standby_first" // S13: the standby management node, then promotion, then the old master
	OrderActiveFirst  Order = "active_first"  // S14: the active appliance (and storage), the standby only after it is healthy
	OrderRolling      Order = "rolling"       // S15: one node (or max_unavailable) at a time, resources fail over and back
)

// Orders lists every order, for validators and docs.
var Orders = []Order{OrderAuto, OrderPrimaryFirst, OrderStandbyFirst, OrderActiveFirst, OrderRolling}

// Policy says how a rollout may proceed.
type Policy struct {
	Order Order
	// MaxUnavailable is how many nodes may be down at once: a count ("2") or
	// a percentage of the nodes ("25%"). Empty means 1 for rolling and
	// "as many as the HA groups allow" for the other orders.
	MaxUnavailable string
	// HAMode keeps HA groups above their minimum (S12). Nil: on when the
	// cluster reports HA enabled.
	HAMode *bool
	// FailoverResources moves resources off a node before it reboots and back
	// after (S15). Nil: on.
	FailoverResources *bool
	// MinHealthyTime is how long a node must stay healthy before the next
	// wave starts; HealthyDeadline bounds the wait for it.
	MinHealthyTime  time.Duration
	HealthyDeadline time.Duration
	// AutoRevert reverts a node whose activation fails (S18, S19).
	AutoRevert bool
	// SettleTime overrides the cluster's own settle time (S17); zero keeps it.
	SettleTime time.Duration
}

// Request is everything the planner needs.
type Request struct {
	Cluster       *appliance.Cluster
	Target        *appliance.Manifest
	TargetImageID string
	// Known are the other images known to the cluster, for S8's chain of
	// supported hops and S21's rollback detection.
	Known  []appliance.Manifest
	Policy Policy
}

// StepKind is what a step does.
type StepKind string

// The step kinds, in the vocabulary of DOMAIN.md.
const (
	StepStage        StepKind = "stage"         // write the image into a node's alternate partition (S3)
	StepMoveResource StepKind = "move_resource" // fail a resource over before its node reboots (S15)
	StepActivate     StepKind = "activate"      // reboot a node into its alternate partition
	StepAwaitHealthy StepKind = "await_healthy" // wait until the node serves again and stays healthy
	StepPromote      StepKind = "promote"       // make the updated standby the master (S13)
	StepFailBack     StepKind = "fail_back"     // return a resource to its preferred node (S15)
	StepFinalize     StepKind = "finalize"      // the cluster-wide step after the last node (S16)
	StepSettle       StepKind = "settle"        // wait for the cluster to re-form (S17)
)

// Step is one action of a plan. Consecutive steps with the same Wave and Kind
// may run concurrently; everything else runs in list order.
type Step struct {
	Wave     int      `json:"wave"`
	Kind     StepKind `json:"kind"`
	Node     string   `json:"node,omitempty"`
	Resource string   `json:"resource,omitempty"`
	From     string   `json:"from,omitempty"` // move_resource, fail_back: the node it leaves
	To       string   `json:"to,omitempty"`   // move_resource, fail_back: the node it goes to
	Version  string   `json:"version,omitempty"`
	Reason   string   `json:"reason,omitempty"` // why this step is here, for the rendering
	// Offline marks a declared offline window (S16 finalize): resources may
	// have no serving node during this step.
	Offline bool `json:"offline,omitempty"`
}

// Plan is the ordered, checked plan of a rollout.
type Plan struct {
	Cluster     string `json:"cluster"`
	FromVersion string `json:"from_version"` // the lowest version running now
	ToVersion   string `json:"to_version"`
	ImageID     string `json:"image_id,omitempty"`
	Order       Order  `json:"order"` // resolved: never auto
	Rollback    bool   `json:"rollback"`
	// KeepsHA and MovesResources are the policy the plan was made under
	// (S12 HA mode, S15 fail-over), so that what is left of it can be
	// proven again on a later snapshot (ProveRemaining).
	KeepsHA        bool   `json:"keeps_ha"`
	MovesResources bool   `json:"moves_resources"`
	Steps          []Step `json:"steps"`
	// Waves is the number of activation waves; LowerBound is the fewest any
	// safe plan could have. The planner reaches the bound.
	Waves      int `json:"waves"`
	LowerBound int `json:"lower_bound"`
	// Warnings are facts the operator should see before applying, such as
	// irreversible features (S9).
	Warnings []string `json:"warnings,omitempty"`
}

// Lines renders the plan one step per line, stably, for the rollout_plan
// attribute and for logs.
// A rollback's activations read "roll back n1 -> 1.0", so that the plan
// output says what it is.
func (p *Plan) Lines() []string {
	out := make([]string, 0, len(p.Steps))
	for i, s := range p.Steps {
		out = append(out, fmt.Sprintf("%d. %s", i+1, s.render(p.Rollback)))
	}
	return out
}

// String renders one step, e.g. "wave 1: activate n1 -> 1.1 (primary first)".
func (s Step) String() string { return s.render(false) }

func (s Step) render(rollback bool) string {
	var b strings.Builder
	verb := string(s.Kind)
	if rollback && s.Kind == StepActivate {
		verb = "roll back"
	}
	fmt.Fprintf(&b, "wave %d: %s", s.Wave, verb)
	switch s.Kind {
	case StepMoveResource, StepFailBack:
		fmt.Fprintf(&b, " %s %s -> %s", s.Resource, s.From, s.To)
	case StepFinalize, StepSettle:
		if s.Version != "" {
			fmt.Fprintf(&b, " cluster at %s", s.Version)
		}
	default:
		if s.Node != "" {
			b.WriteString(" " + s.Node)
		}
		if s.Version != "" && (s.Kind == StepStage || s.Kind == StepActivate) {
			b.WriteString(" -> " + s.Version)
		}
	}
	if s.Reason != "" {
		b.WriteString(" (" + s.Reason + ")")
	}
	return b.String()
}

// ValidationError is a plan-time refusal (S6-S10, S23) that names what is
// wrong and what to do about it.
type ValidationError struct {
	Code    string // an api.Code* constant
	Message string
	Fix     string
}

func (e *ValidationError) Error() string {
	if e.Fix == "" {
		return e.Message
	}
	return e.Message + ". " + e.Fix
}

// SameAction reports whether two steps do the same thing to the same
// target: the plan shown at `terraform plan` and the one recomputed at
// apply are compared with it, so a reworded reason or a wave renumbered
// because earlier waves are done is not a change.
func (s Step) SameAction(o Step) bool {
	return s.Kind == o.Kind && s.Node == o.Node && s.Resource == o.Resource && s.To == o.To &&
		appliance.SameVersion(s.Version, o.Version)
}

// NotShown returns the first step of got that shown does not have, in
// order, or nil: steps already done when apply began drop out of got, but
// nothing may appear that the operator was not shown.
func NotShown(got, shown []Step) *Step {
	j := 0
	for i := range got {
		for j < len(shown) && !shown[j].SameAction(got[i]) {
			j++
		}
		if j == len(shown) {
			return &got[i]
		}
		j++
	}
	return nil
}

// SafetyViolation is a plan that failed its own proof: a bug in the planner
// or an impossible constraint, never shown as a plan.
type SafetyViolation struct {
	StepIndex  int
	Step       Step
	Constraint string
}

func (e *SafetyViolation) Error() string {
	return fmt.Sprintf("rollout plan is unsafe at step %d (%s): %s", e.StepIndex+1, e.Step.String(), e.Constraint)
}
