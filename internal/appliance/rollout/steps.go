package rollout

import (
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// emitter builds the steps and tracks where each resource is meanwhile.
//
// At 100,000 nodes a plan has 320,000 steps, so the emitter keeps its
// indices flat (one allocation each, no slice per node) and writes the
// reasons that differ per step into one text buffer that becomes a single
// string at the end (see reasonf): allocations, not arithmetic, were most of
// a large plan's time.
type emitter struct {
	in     *input
	wave   []int
	byWave [][]int // nodes of each wave, snapshot order (sub-slices of one array)
	cur    []int   // resource -> node hosting it now
	// hosted lists, per node, the resources it hosts now as a linked list
	// through hostNext (may hold stale entries; cur is the truth): head[i]
	// is the first entry of node i, -1 for none.
	hostHead []int32
	hostRes  []int32
	hostNext []int32
	prefOf   csr   // node -> resources that prefer it
	stable   []int // available nodes that are not activated: hosts that never reboot
	steps    []Step
	nodeOf   []int32 // per step, the index of its node, or of a move's resource (-1: none), for Verify
	// text holds the reasons built per step; reasonAt says which step's
	// Reason is which span of it, filled in by finishReasons.
	text     strings.Builder
	reasonAt []reasonSpan
	rolling  string // the rolling order's reason, built once
}

type reasonSpan struct{ step, from, to int32 }

// add appends a step about node i, or resource i for a move (-1 for none).
func (e *emitter) add(i int, s Step) {
	e.steps = append(e.steps, s)
	e.nodeOf = append(e.nodeOf, int32(i))
}

// host records that node i hosts resource k now.
func (e *emitter) host(i, k int) {
	e.hostRes = append(e.hostRes, int32(k))
	e.hostNext = append(e.hostNext, e.hostHead[i])
	e.hostHead[i] = int32(len(e.hostRes) - 1)
}

// reason gives the last step added the reason parts concatenated, written
// into the shared text buffer instead of a string of its own.
func (e *emitter) reason(parts ...string) {
	from := e.text.Len()
	for _, p := range parts {
		e.text.WriteString(p)
	}
	e.reasonAt = append(e.reasonAt, reasonSpan{int32(len(e.steps) - 1), int32(from), int32(e.text.Len())})
}

// finishReasons turns the text buffer into one string and hands each step
// its span.
func (e *emitter) finishReasons() {
	if len(e.reasonAt) == 0 {
		return
	}
	text := e.text.String() // no copy
	for _, r := range e.reasonAt {
		e.steps[r.step].Reason = text[r.from:r.to]
	}
	e.reasonAt = nil
}

// emit turns the wave assignment into steps, in the order the executor runs
// them: all staging first (wave 0, no interruption, S3), then per wave the
// promotion if the master goes next (S13), the resource moves (S15), the
// activations, the health waits and the fail-backs; finally the
// cluster-wide finalize (S16) and settle (S17).
func (in *input) emit(wave []int, waves int) ([]Step, []int32) {
	e := &emitter{in: in, wave: wave, byWave: groupBy(wave, waves+1)}
	for _, i := range e.byWave[0] {
		if in.nodes[i].avail {
			e.stable = append(e.stable, i)
		}
	}
	if in.set.failover && len(in.res) > 0 {
		e.cur = make([]int, len(in.res))
		e.hostHead = make([]int32, len(in.nodes))
		for i := range e.hostHead {
			e.hostHead[i] = -1
		}
		e.hostRes = make([]int32, 0, 2*len(in.res))
		e.hostNext = make([]int32, 0, 2*len(in.res))
		pref := make([]int, len(in.res))
		for k, r := range in.res {
			e.cur[k] = r.cur
			pref[k] = -1
			if r.online {
				e.host(r.cur, k)
				pref[k] = r.pref
			}
		}
		e.prefOf = csrByKey(pref, len(in.nodes))
	}
	e.steps = make([]Step, 0, 3*in.needCount+2*len(in.res)+8)
	e.nodeOf = make([]int32, 0, cap(e.steps))
	// Room for a reason per activation and move of typical length; a longer
	// one only grows the buffer.
	e.reasonAt = make([]reasonSpan, 0, in.needCount+2*len(in.res))
	e.text.Grow(48*in.needCount + 32*len(in.res))
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
			e.add(i, Step{Wave: w, Kind: StepActivate, Node: in.nodes[i].name, Version: in.targetStr})
			e.activateReason(i, w)
		}
		for _, i := range nodes {
			e.add(i, Step{Wave: w, Kind: StepAwaitHealthy, Node: in.nodes[i].name, Reason: gate})
		}
		e.failBack(w, nodes)
	}
	e.finish(waves)
	e.finishReasons()
	return e.steps, e.nodeOf
}

// csrByKey lists the indices i of key by key[i] (< n; negative keys are
// left out), each list in index order.
func csrByKey(key []int, n int) csr {
	return newCSR(n, func(add func(row, item int)) {
		for i, k := range key {
			if k >= 0 {
				add(k, i)
			}
		}
	})
}

// groupBy lists the indices i of key by key[i] (< n; negative keys are
// left out), each list in index order: a counting sort into one array,
// sub-sliced per key.
func groupBy(key []int, n int) [][]int {
	start := make([]int, n+1)
	for _, k := range key {
		if k >= 0 {
			start[k+1]++
		}
	}
	for k := 1; k <= n; k++ {
		start[k] += start[k-1]
	}
	flat := make([]int, start[n])
	out := make([][]int, n)
	for k := range out {
		out[k] = flat[start[k]:start[k]:start[k+1]]
	}
	for i, k := range key {
		if k >= 0 {
			out[k] = append(out[k], i)
		}
	}
	return out
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
	var list []int32
	for _, x := range nodes {
		// The node's resources in the order they came to it.
		list = list[:0]
		for h := e.hostHead[x]; h >= 0; h = e.hostNext[h] {
			list = append(list, e.hostRes[h])
		}
		e.hostHead[x] = -1
		for j := len(list) - 1; j >= 0; j-- {
			k := int(list[j])
			if e.cur[k] != x {
				continue // stale entry: it moved on
			}
			to := e.destination(k, w)
			if to < 0 {
				continue // Verify reports the resource left without a host
			}
			e.cur[k] = to
			e.host(to, k)
			e.add(k, Step{Wave: w, Kind: StepMoveResource, Resource: e.in.res[k].name,
				From: e.in.nodes[x].name, To: e.in.nodes[to].name})
			e.reason(e.in.nodes[x].name, " reboots")
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
		for _, k := range e.prefOf.of(x) {
			if e.cur[k] == x {
				continue
			}
			e.back(w, int(k), "back to preferred node")
		}
	}
}

func (e *emitter) back(w, k int, reason string) {
	r := &e.in.res[k]
	from := e.cur[k]
	e.cur[k] = r.pref
	e.host(r.pref, k)
	e.add(k, Step{Wave: w, Kind: StepFailBack, Resource: r.name,
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
