package rollout

// repair fixes, in place, the resource sets that an assignment into k waves
// leaves wholly inside one wave, by moving a node of the set to a wave with
// room or swapping it with a node of another wave. A swap between members of
// the same HA group (or two ungrouped nodes) changes neither wave sizes nor
// group counts, so it can only affect resource sets; other moves are checked
// against the per-wave limit and group capacities. It reports whether every
// constraint holds at the end.
func (s *phaseSolver) repair(w []int, k int) bool {
	if len(s.sets) == 0 {
		return s.valid(w, k)
	}
	size := make([]int, k)
	type gw struct{ g, w int }
	used := map[gw]int{}
	group := func(p int) int { return s.in.nodes[s.nodes[p]].group }
	for p, x := range w {
		size[x]++
		if g := group(p); g >= 0 {
			used[gw{g, x}]++
		}
	}
	// touchedOK reports whether every set through p or q is split.
	touchedOK := func(p, q int) bool {
		for _, pos := range [2]int{p, q} {
			if pos < 0 {
				continue
			}
			for _, si := range s.nodeSets.of(pos) {
				if monochrome(s.sets[si], w) {
					return false
				}
			}
		}
		return true
	}
	roomFor := func(p, x int, leaving int) bool {
		g := group(p)
		if g < 0 {
			return true
		}
		extra := 0
		if leaving >= 0 && group(leaving) == g {
			extra = 1 // the swapped node of the same group frees its slot
		}
		return used[gw{g, x}]-extra < s.groupCap[g]
	}
	move := func(p, x int) {
		if g := group(p); g >= 0 {
			used[gw{g, w[p]}]--
			used[gw{g, x}]++
		}
		size[w[p]]--
		size[x]++
		w[p] = x
	}
	fix := func(set []int) bool {
		for _, p := range set {
			from := w[p]
			// Move p alone into a wave with room.
			for x := 0; x < k; x++ {
				if x == from || (s.limit > 0 && size[x] >= s.limit) || !roomFor(p, x, -1) {
					continue
				}
				move(p, x)
				if touchedOK(p, -1) {
					return true
				}
				move(p, from)
			}
			// Swap p with a node q of another wave.
			for q := range w {
				to := w[q]
				if to == from || !roomFor(p, to, q) || !roomFor(q, from, p) {
					continue
				}
				move(p, to)
				move(q, from)
				if touchedOK(p, q) {
					return true
				}
				move(q, to)
				move(p, from)
			}
		}
		return false
	}
	for round := 0; round < 4; round++ {
		clean := true
		for _, set := range s.sets {
			if monochrome(set, w) {
				clean = false
				if !fix(set) {
					return false
				}
			}
		}
		if clean {
			break
		}
	}
	return s.valid(w, k)
}
