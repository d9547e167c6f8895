package rollout

import (
	"sort"
)

// exactLimit is the largest phase the planner searches exhaustively when the
// fast assignments miss the bound; the search is exponential in it.
const (
	dsaturLimit = 3000 // DSatur's selection is quadratic
	exactLimit  = 14
	exactBudget = 2_000_000 // search nodes before giving up on a proof
)

// phaseSolver assigns the nodes of one phase to waves 0..k-1.
type phaseSolver struct {
	in    *input
	nodes []int
	limit int // max nodes per wave, 0: none
	// groupCount and groupCap are, per HA group, the members in this phase
	// and how many may reboot together; pos maps a node to its position in
	// nodes (-1 outside the phase).
	groupCount []int
	groupCap   []int
	pos        []int
	// sets are the resources' host sets lying wholly in this phase: each
	// must not fall wholly into one wave. nodeSets indexes them by member
	// position in nodes.
	sets     [][]int // positions into nodes
	nodeSets csr     // position -> indices into sets
}

// newPhaseSolver gathers the constraints that bind inside one phase.
func newPhaseSolver(in *input, nodes []int, inPhase []bool) *phaseSolver {
	s := &phaseSolver{in: in, nodes: nodes, limit: in.limit,
		groupCount: make([]int, len(in.groups)), groupCap: make([]int, len(in.groups)), pos: make([]int, len(in.nodes))}
	for g := range in.groups {
		s.groupCap[g] = in.groups[g].capacity()
	}
	for i := range s.pos {
		s.pos[i] = -1
	}
	pos := s.pos
	for k, i := range nodes {
		pos[i] = k
		if g := in.nodes[i].group; g >= 0 {
			s.groupCount[g]++
		}
	}
	if !in.set.failover {
		return s
	}
	// The sets' members share one array: at 100,000 nodes a slice per
	// resource was a tenth of a plan's allocations.
	setSpace := make([]int, 0, len(in.res)*2)
	availCount := -1
	fullAdded := false // resources any node may host share one set: the whole phase
	for k := range in.res {
		r := &in.res[k]
		if !r.online {
			continue
		}
		var set []int
		if r.any {
			if availCount < 0 {
				availCount = 0
				for _, n := range in.nodes {
					if n.avail {
						availCount++
					}
				}
			}
			if availCount != len(nodes) || fullAdded {
				continue // some node outside the phase can host it, or the same set is in already
			}
			fullAdded = true
			set = make([]int, 0, len(nodes))
			for k := range nodes {
				set = append(set, k)
			}
		} else {
			start := len(setSpace)
			whole := true
			for _, h := range r.hosts {
				if !in.nodes[h].avail {
					continue
				}
				if !inPhase[h] {
					whole = false
					break
				}
				setSpace = append(setSpace, pos[h])
			}
			set = setSpace[start:len(setSpace):len(setSpace)]
			if !whole || len(set) < 2 {
				setSpace = setSpace[:start]
				continue
			}
			sort.Ints(set)
			set = dedup(set)
			setSpace = setSpace[:start+len(set)]
			if len(set) < 2 {
				setSpace = setSpace[:start]
				continue
			}
		}
		s.sets = append(s.sets, set)
	}
	if len(s.sets) > 0 {
		s.nodeSets = setsByMember(s.sets, len(nodes))
	}
	return s
}

// setsByMember lists, per position 0..n-1, the indices of the sets it is
// a member of, in set order.
func setsByMember(sets [][]int, n int) csr {
	return newCSR(n, func(add func(row, item int)) {
		for k, set := range sets {
			for _, p := range set {
				add(p, k)
			}
		}
	})
}

// csr is a list per index, all in one array (compressed sparse rows):
// list i is items[start[i]:start[i+1]]. Unlike a slice per index it holds
// no pointers, so the garbage collector has nothing to scan in it.
type csr struct {
	start []int32
	items []int32
}

// newCSR builds a csr of n lists from each, which calls add(row, item)
// for every item in list order; it is called twice (count, then fill).
func newCSR(n int, each func(add func(row, item int))) csr {
	c := csr{start: make([]int32, n+1)}
	each(func(row, _ int) { c.start[row+1]++ })
	for i := 1; i <= n; i++ {
		c.start[i] += c.start[i-1]
	}
	c.items = make([]int32, c.start[n])
	fill := make([]int32, n)
	copy(fill, c.start[:n])
	each(func(row, item int) {
		c.items[fill[row]] = int32(item)
		fill[row]++
	})
	return c
}

// of returns list i; none when the csr is empty.
func (c csr) of(i int) []int32 {
	if c.start == nil {
		return nil
	}
	return c.items[c.start[i]:c.start[i+1]]
}

func dedup(a []int) []int {
	out := a[:0]
	for k, v := range a {
		if k == 0 || v != a[k-1] {
			out = append(out, v)
		}
	}
	return out
}

// solve returns each node's wave (by position) and the number of waves,
// and the phase's lower bound: the cheap bound, or the proven optimum when
// an exhaustive search was needed and finished.
func (s *phaseSolver) solve() (waves []int, count, bound int) {
	bound = s.cheapBound()
	order := s.cyclicOrder()
	if w := s.cyclicAssign(order, bound); s.valid(w, bound) || s.repair(w, bound) {
		return w, bound, bound
	}
	if w := s.firstFit(order, bound); w != nil {
		return w, bound, bound
	}
	if bound <= 3 && len(s.nodes) <= dsaturLimit {
		adj := s.conflicts()
		if bound == 2 {
			col := twoColour(adj)
			if col == nil {
				bound = 3 // an odd cycle of conflicts: two waves cannot do
			} else if s.valid(col, 2) || s.repair(col, 2) {
				return col, 2, 2
			}
		}
		if w := s.dsatur(adj, bound); w != nil && (s.valid(w, bound) || s.repair(w, bound)) {
			return w, bound, bound
		}
	}
	if len(s.nodes) <= exactLimit {
		for k := bound; k <= len(s.nodes); k++ {
			w, proven := s.exact(k)
			if w != nil {
				if proven {
					bound = k // every smaller k was refuted exhaustively
				}
				return w, k, bound
			}
			if !proven {
				break
			}
		}
	}
	w := s.firstFit(order, 0)
	return w, maxWave(w) + 1, bound
}

func maxWave(w []int) int {
	m := -1
	for _, x := range w {
		m = max(m, x)
	}
	return m
}

// cyclicOrder lists the phase's positions HA group by HA group, largest
// group first, ungrouped nodes last, each in snapshot order.
func (s *phaseSolver) cyclicOrder() []int {
	order := make([]int, len(s.nodes))
	for k := range order {
		order[k] = k
	}
	key := func(p int) (int, int) {
		g := s.in.nodes[s.nodes[p]].group
		if g < 0 {
			return 0, 1 << 30
		}
		return s.groupCount[g], g
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, ga := key(order[a])
		cb, gb := key(order[b])
		if ca != cb {
			return ca > cb
		}
		return ga < gb
	})
	return order
}

// cyclicAssign deals the nodes to k waves in turn, in cyclic order. With HA
// groups of disjoint members and a per-wave limit this always meets the
// bound: each wave gets at most ceil(n/k) <= limit nodes, and a group's p
// consecutive members at most ceil(p/k) <= capacity per wave.
func (s *phaseSolver) cyclicAssign(order []int, k int) []int {
	w := make([]int, len(s.nodes))
	for i, p := range order {
		w[p] = i % k
	}
	return w
}

// valid checks an assignment against every constraint of the phase.
func (s *phaseSolver) valid(w []int, k int) bool {
	size := make([]int, k)
	for _, x := range w {
		size[x]++
		if s.limit > 0 && size[x] > s.limit {
			return false
		}
	}
	var waves []int
	for g, cnt := range s.groupCount {
		if cnt <= s.groupCap[g] {
			continue // the whole group may go at once
		}
		waves = waves[:0]
		for _, m := range s.in.groups[g].members {
			if p := s.pos[m]; p >= 0 {
				waves = append(waves, w[p])
			}
		}
		sort.Ints(waves)
		run := 0
		for i := range waves {
			if i > 0 && waves[i] == waves[i-1] {
				run++
			} else {
				run = 1
			}
			if run > s.groupCap[g] {
				return false
			}
		}
	}
	for _, set := range s.sets {
		if monochrome(set, w) {
			return false
		}
	}
	return true
}

func monochrome(set []int, w []int) bool {
	for _, p := range set[1:] {
		if w[p] != w[set[0]] {
			return false
		}
	}
	return true
}

// firstFit places nodes in the given order, each into the first wave where
// it fits, starting from its cyclic turn so that waves stay balanced. With
// k > 0 it gives up (nil) when a node fits nowhere; with k == 0 it opens
// new waves as needed and always succeeds.
func (s *phaseSolver) firstFit(order []int, k int) []int {
	w := make([]int, len(s.nodes))
	for p := range w {
		w[p] = -1
	}
	var size []int
	type gw struct{ g, w int }
	used := map[gw]int{}
	fits := func(p, x int) bool {
		if x < len(size) && s.limit > 0 && size[x] >= s.limit {
			return false
		}
		if g := s.in.nodes[s.nodes[p]].group; g >= 0 && used[gw{g, x}] >= s.groupCap[g] {
			return false
		}
		if s.nodeSets.start != nil {
			for _, si := range s.nodeSets.of(p) {
				if s.completesMono(s.sets[si], w, p, x) {
					return false
				}
			}
		}
		return true
	}
	for i, p := range order {
		placed := false
		n := k
		if k == 0 {
			n = len(size) + 1
		}
		for j := 0; j < n; j++ {
			x := j
			if k > 0 {
				x = (i + j) % k
			}
			if fits(p, x) {
				for len(size) <= x {
					size = append(size, 0)
				}
				size[x]++
				if g := s.in.nodes[s.nodes[p]].group; g >= 0 {
					used[gw{g, x}]++
				}
				w[p] = x
				placed = true
				break
			}
		}
		if !placed {
			return nil
		}
	}
	return w
}

// completesMono reports whether putting position p into wave x would leave
// the whole set in wave x.
func (s *phaseSolver) completesMono(set []int, w []int, p, x int) bool {
	for _, q := range set {
		if q == p {
			continue
		}
		if w[q] != x {
			return false // unassigned (-1) or elsewhere
		}
	}
	return true
}

// exact searches every assignment into k waves (up to relabelling waves).
// It returns an assignment, or nil and whether the refusal is a proof (the
// search finished within its budget).
func (s *phaseSolver) exact(k int) ([]int, bool) {
	n := len(s.nodes)
	order := s.cyclicOrder()
	w := make([]int, n)
	for p := range w {
		w[p] = -1
	}
	size := make([]int, k)
	type gw struct{ g, w int }
	used := map[gw]int{}
	budget := exactBudget
	var rec func(i, maxUsed int) bool
	rec = func(i, maxUsed int) bool {
		if i == n {
			return true
		}
		budget--
		if budget < 0 {
			return false
		}
		p := order[i]
		g := s.in.nodes[s.nodes[p]].group
		for x := 0; x < k && x <= maxUsed+1; x++ {
			if s.limit > 0 && size[x] >= s.limit {
				continue
			}
			if g >= 0 && used[gw{g, x}] >= s.groupCap[g] {
				continue
			}
			bad := false
			if s.nodeSets.start != nil {
				for _, si := range s.nodeSets.of(p) {
					if s.completesMono(s.sets[si], w, p, x) {
						bad = true
						break
					}
				}
			}
			if bad {
				continue
			}
			w[p] = x
			size[x]++
			if g >= 0 {
				used[gw{g, x}]++
			}
			if rec(i+1, max(maxUsed, x)) {
				return true
			}
			w[p] = -1
			size[x]--
			if g >= 0 {
				used[gw{g, x}]--
			}
			if budget < 0 {
				return false
			}
		}
		return false
	}
	if rec(0, -1) {
		return w, true
	}
	return nil, budget >= 0
}
