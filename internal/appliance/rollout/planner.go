package rollout

import (
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Compute returns the plan that brings every node of req.Cluster to
// req.Target, or a *ValidationError (S6-S10) or a *SafetyViolation.
//
// Nodes already running the target are skipped, so recomputing the plan
// from a fresh snapshot continues an interrupted rollout where it stopped.
// When every node runs the target the plan has no steps. Every plan is
// replayed on a model of the snapshot before it is returned (see Verify).
func Compute(req Request) (*Plan, error) {
	in, err := prepare(req)
	if err != nil {
		return nil, err
	}
	c := in.c
	p := &Plan{
		Cluster:     c.Name,
		FromVersion: in.lowestVersion(),
		ToVersion:   in.targetStr,
		ImageID:     req.TargetImageID,
		Order:       in.set.order,
		Rollback:    in.rollback,
		Steps:       []Step{},
		Warnings:    in.warnings,
	}
	if in.needCount == 0 {
		return p, nil
	}
	wave, waves, bound := in.assignWaves()
	p.Waves, p.LowerBound = waves, bound
	p.Steps = in.emit(wave, waves)
	p.Warnings = append(p.Warnings, in.failoverWarning()...)
	if err := in.verify(p); err != nil {
		return nil, err
	}
	return p, nil
}

// assignWaves gives every node to activate a wave (1-based; 0 for nodes
// that stay as they are), phase after phase.
func (in *input) assignWaves() (wave []int, waves, bound int) {
	wave = make([]int, len(in.nodes))
	inPhase := make([]bool, len(in.nodes))
	for _, ph := range in.phases() {
		for _, i := range ph.nodes {
			inPhase[i] = true
		}
		s := newPhaseSolver(in, ph.nodes, inPhase)
		w, count, b := s.solve()
		for k, i := range ph.nodes {
			wave[i] = waves + 1 + w[k]
		}
		waves += count
		bound += b
		for _, i := range ph.nodes {
			inPhase[i] = false
		}
	}
	return wave, waves, bound
}

// emitter builds the steps and tracks where each resource is meanwhile.
type emitter struct {
	in     *input
	wave   []int
	byWave [][]int // nodes of each wave, snapshot order
	cur    []int   // resource -> node hosting it now
	hosted [][]int // node -> resources it hosts now (may hold stale entries; cur is the truth)
	prefOf [][]int // node -> resources that prefer it
	stable []int   // available nodes that are not activated: hosts that never reboot
	steps  []Step
}

func (in *input) emit(wave []int, waves int) []Step {
	e := &emitter{in: in, wave: wave, byWave: make([][]int, waves+1)}
	for i, w := range wave {
		e.byWave[w] = append(e.byWave[w], i)
		if w == 0 && in.nodes[i].avail {
			e.stable = append(e.stable, i)
		}
	}
	if in.set.failover && len(in.res) > 0 {
		e.cur = make([]int, len(in.res))
		e.hosted = make([][]int, len(in.nodes))
		e.prefOf = make([][]int, len(in.nodes))
		for k, r := range in.res {
			e.cur[k] = r.cur
			if r.online {
				e.hosted[r.cur] = append(e.hosted[r.cur], k)
				e.prefOf[r.pref] = append(e.prefOf[r.pref], k)
			}
		}
	}
	e.steps = make([]Step, 0, 3*in.needCount+2*len(in.res)+8)
	for _, n := range in.nodes {
		if n.stage {
			e.steps = append(e.steps, Step{Wave: 0, Kind: StepStage, Node: n.name, Version: in.targetStr})
		}
	}
	promoted := false
	for w := 1; w <= waves; w++ {
		nodes := e.byWave[w]
		if !promoted && in.set.order == OrderStandbyFirst && in.nodes[nodes[0]].role == appliance.RoleMaster {
			promoted = true
			e.promote(w)
		}
		e.moveOff(w, nodes)
		for _, i := range nodes {
			e.steps = append(e.steps, Step{Wave: w, Kind: StepActivate, Node: in.nodes[i].name, Version: in.targetStr, Reason: e.activateReason(i, w)})
		}
		gate := in.healthGate()
		for _, i := range nodes {
			e.steps = append(e.steps, Step{Wave: w, Kind: StepAwaitHealthy, Node: in.nodes[i].name, Reason: gate})
		}
		e.failBack(w, nodes)
	}
	e.finish(waves)
	return e.steps
}

// promote makes the updated standby the master before the old master
// reboots (S13); the old master comes back as standby.
func (e *emitter) promote(w int) {
	for _, n := range e.in.nodes {
		if n.role == appliance.RoleStandby && n.avail {
			e.steps = append(e.steps, Step{Wave: w, Kind: StepPromote, Node: n.name, Reason: "becomes master; the old master returns as standby"})
			return
		}
	}
}

// moveOff fails every resource over from the wave's nodes (S15) to a node
// that is not in the wave.
func (e *emitter) moveOff(w int, nodes []int) {
	if e.cur == nil {
		return
	}
	for _, x := range nodes {
		list := e.hosted[x]
		e.hosted[x] = nil
		for _, k := range list {
			if e.cur[k] != x {
				continue // stale entry: it moved on
			}
			to := e.destination(k, w)
			if to < 0 {
				continue // Verify reports the resource left without a host
			}
			e.cur[k] = to
			e.hosted[to] = append(e.hosted[to], k)
			e.steps = append(e.steps, Step{Wave: w, Kind: StepMoveResource, Resource: e.in.res[k].name,
				From: e.in.nodes[x].name, To: e.in.nodes[to].name, Reason: e.in.nodes[x].name + " reboots"})
		}
	}
}

// destination picks where resource k goes while wave w reboots: its
// preferred node if it is up, else a node that will not reboot again (one
// that stays as it is, or one already done), else a node of a later wave.
func (e *emitter) destination(k, w int) int {
	r := &e.in.res[k]
	up := func(h int) bool { return e.in.nodes[h].avail && e.wave[h] != w && h != e.cur[k] }
	if up(r.pref) && r.canHost(r.pref) {
		return r.pref
	}
	if !r.any {
		later := -1
		for _, h := range r.hosts {
			if !up(h) {
				continue
			}
			if e.wave[h] < w {
				return h
			}
			if later < 0 {
				later = h
			}
		}
		return later
	}
	// Any node will do: spread over nodes that will not reboot again.
	if len(e.stable) > 0 {
		return e.stable[k%len(e.stable)]
	}
	for d := 1; d < len(e.byWave); d++ {
		for _, ww := range []int{w - d, w + d} {
			if ww >= 1 && ww < len(e.byWave) {
				return e.byWave[ww][k%len(e.byWave[ww])]
			}
		}
	}
	return -1
}

// failBack returns resources to their preferred nodes of this wave once
// they are healthy again (S15).
func (e *emitter) failBack(w int, nodes []int) {
	if e.cur == nil {
		return
	}
	for _, x := range nodes {
		for _, k := range e.prefOf[x] {
			if e.cur[k] == x {
				continue
			}
			e.back(w, k, "back to preferred node")
		}
	}
}

func (e *emitter) back(w, k int, reason string) {
	r := &e.in.res[k]
	from := e.cur[k]
	e.cur[k] = r.pref
	e.hosted[r.pref] = append(e.hosted[r.pref], k)
	e.steps = append(e.steps, Step{Wave: w, Kind: StepFailBack, Resource: r.name,
		From: e.in.nodes[from].name, To: e.in.nodes[r.pref].name, Reason: reason})
}

// finish returns resources found away from their (available) preferred
// node, then adds the cluster-wide steps: finalize (S16) and settle (S17).
func (e *emitter) finish(last int) {
	in := e.in
	if e.cur != nil {
		for k, r := range in.res {
			if r.online && e.cur[k] != r.pref && in.nodes[r.pref].avail && r.canHost(r.pref) {
				e.back(last, k, "back to preferred node")
			}
		}
	}
	if in.c.NeedsFinalize {
		var shared []string
		for _, r := range in.res {
			if r.shared && r.online {
				shared = append(shared, r.name)
			}
		}
		reason := "cluster-wide, after the last node"
		if len(shared) > 0 {
			reason = "shared storage upgraded once; offline briefly: " + listNames(shared)
		}
		e.steps = append(e.steps, Step{Wave: last, Kind: StepFinalize, Version: in.targetStr, Offline: true, Reason: reason})
	}
	if in.set.settleSeconds > 0 {
		d := time.Duration(in.set.settleSeconds) * time.Second
		e.steps = append(e.steps, Step{Wave: last, Kind: StepSettle, Version: in.targetStr, Reason: "cluster re-forms, up to " + d.String()})
	}
}

// activateReason says briefly why the node is in this wave.
func (e *emitter) activateReason(i, w int) string {
	in := e.in
	n := in.nodes[i]
	if name := phaseName(in.set.order, n.role); name != "" {
		if n.role == appliance.RoleActive && in.req.Target.HasComponent(appliance.ComponentStorage) {
			return name + ", with storage"
		}
		return name
	}
	if in.set.order == OrderActiveFirst && n.role == appliance.RoleStandby {
		return "standby after the active is healthy" // S14
	}
	if g := n.group; g >= 0 {
		best, bestWave := -1, 0
		for _, m := range in.groups[g].members {
			if m != i && e.wave[m] > 0 && e.wave[m] < w && e.wave[m] > bestWave {
				best, bestWave = m, e.wave[m]
			}
		}
		if best >= 0 {
			return fmt.Sprintf("after HA partner %s (wave %d)", in.nodes[best].name, bestWave)
		}
	}
	switch in.set.order {
	case OrderPrimaryFirst:
		return "after the primary"
	case OrderStandbyFirst:
		return "after the master"
	case OrderActiveFirst:
		return "after the active"
	}
	if in.limit > 0 {
		return fmt.Sprintf("rolling, %d at a time", in.limit)
	}
	return "rolling"
}

// healthGate renders the policy's health gate for the await steps.
func (in *input) healthGate() string {
	p := in.req.Policy
	switch {
	case p.MinHealthyTime > 0 && p.HealthyDeadline > 0:
		return fmt.Sprintf("healthy for %s, deadline %s", p.MinHealthyTime, p.HealthyDeadline)
	case p.MinHealthyTime > 0:
		return fmt.Sprintf("healthy for %s", p.MinHealthyTime)
	case p.HealthyDeadline > 0:
		return fmt.Sprintf("deadline %s", p.HealthyDeadline)
	}
	return ""
}

// failoverWarning tells the operator which resources go down with their
// node when failover_resources is off.
func (in *input) failoverWarning() []string {
	if in.set.failover {
		return nil
	}
	var names []string
	for _, r := range in.res {
		if r.online && in.nodes[r.cur].needs {
			names = append(names, r.name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("failover_resources is off: %s will be offline while their nodes reboot", listNames(names))}
}
