package rollout

// The planner runs in five stages, one file each:
//
//	validate.go  refuse what cannot or must not be done (S6-S10, S21), index the snapshot (topology.go)
//	orders.go    split the nodes to activate into role phases (S11, S13, S14; rolling has one)
//	waves.go     give each node of a phase a wave, reaching the lower bound (bound.go, repair.go, conflict.go)
//	steps.go     emit the steps: stage, then per wave moves, activations, awaits, fail-backs; finalize, settle
//	safety.go    replay the plan on a model of the snapshot and refuse it if any rule breaks
//
// Everything is deterministic: the same request gives the same plan, byte
// for byte, which keeps `terraform plan` stable between runs.

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
		Cluster:        c.Name,
		FromVersion:    in.lowestVersion(),
		ToVersion:      in.targetStr,
		ImageID:        req.TargetImageID,
		Order:          in.set.order,
		Rollback:       in.rollback,
		KeepsHA:        in.set.haMode,
		MovesResources: in.set.failover,
		Steps:          []Step{},
		Warnings:       in.warnings,
	}
	if in.needCount == 0 {
		if in.finalizePending() {
			p.Steps = append(p.Steps, in.finalizeStep(1))
			if err := in.verify(p, nil); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	wave, waves, bound := in.assignWaves()
	p.Waves, p.LowerBound = waves, bound
	var hint []int32
	p.Steps, hint = in.emit(wave, waves)
	p.Warnings = append(p.Warnings, in.failoverWarning()...)
	if err := in.verify(p, hint); err != nil {
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
