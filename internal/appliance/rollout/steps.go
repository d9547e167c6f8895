package rollout

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

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
	nodeOf []int32 // per step, the index of its node (-1: none), for Verify
}

// add appends a step about node i (-1 for none).
func (e *emitter) add(i int, s Step) {
	e.steps = append(e.steps, s)
	e.nodeOf = append(e.nodeOf, int32(i))
}

// emit turns the wave assignment into steps, in the order the executor runs
// them: all staging first (wave 0, no interruption, S3), then per wave the
// promotion if the master goes next (S13), the resource moves (S15), the
// activations, the health waits and the fail-backs; finally the
// cluster-wide finalize (S16) and settle (S17).
func (in *input) emit(wave []int, waves int) ([]Step, []int32) {
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
	e.nodeOf = make([]int32, 0, cap(e.steps))
	for i, n := range in.nodes {
		if n.stage {
			e.add(i, Step{Wave: 0, Kind: StepStage, Node: n.name, Version: in.targetStr})
		}
	}
	promoted := false
	gate := in.healthGate()
	for w := 1; w <= waves; w++ {
		nodes := e.byWave[w]
		if !promoted && in.set.order == OrderStandbyFirst && in.nodes[nodes[0]].role == appliance.RoleMaster {
			promoted = true
			e.promote(w)
		}
		e.moveOff(w, nodes)
		for _, i := range nodes {
			e.add(i, Step{Wave: w, Kind: StepActivate, Node: in.nodes[i].name, Version: in.targetStr, Reason: e.activateReason(i, w)})
		}
		for _, i := range nodes {
			e.add(i, Step{Wave: w, Kind: StepAwaitHealthy, Node: in.nodes[i].name, Reason: gate})
		}
		e.failBack(w, nodes)
	}
	e.finish(waves)
	return e.steps, e.nodeOf
}

// promote makes the updated standby the master before the old master
// reboots (S13); the old master comes back as standby.
func (e *emitter) promote(w int) {
	for i, n := range e.in.nodes {
		if n.role == appliance.RoleStandby && n.avail {
			e.add(i, Step{Wave: w, Kind: StepPromote, Node: n.name, Reason: "becomes master; the old master returns as standby"})
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
			e.add(-1, Step{Wave: w, Kind: StepMoveResource, Resource: e.in.res[k].name,
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
	e.add(-1, Step{Wave: w, Kind: StepFailBack, Resource: r.name,
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
		e.add(-1, in.finalizeStep(last))
	}
	if in.set.settleSeconds > 0 {
		d := time.Duration(in.set.settleSeconds) * time.Second
		e.add(-1, Step{Wave: last, Kind: StepSettle, Version: in.targetStr, Reason: "cluster re-forms, up to " + d.String()})
	}
}

// finalizeStep is the cluster-wide step after the last node (S16).
func (in *input) finalizeStep(wave int) Step {
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
	return Step{Wave: wave, Kind: StepFinalize, Version: in.targetStr, Offline: true, Reason: reason}
}

// finalizePending reports a rollout whose nodes all run the target but
// whose finalize has not run for it: interrupted between the two (S16).
func (in *input) finalizePending() bool {
	if !in.c.NeedsFinalize || in.rollback || in.c.FinalizedVersion == "" {
		return false
	}
	c, err := appliance.CompareVersions(in.c.FinalizedVersion, in.targetStr)
	return err == nil && c < 0 // shared media are finalized forward only

}
