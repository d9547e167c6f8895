package rollout

import "sort"

// Pairwise conflicts: two nodes of a phase that may never share a wave,
// because they form an HA group that can spare one member at a time, or
// because they are the only two allowed hosts of a resource. They matter
// where the simple bound is 2: two waves exist only if the conflict graph is
// bipartite, so an odd cycle (three resources on {a,b}, {b,c}, {a,c}) raises
// the bound to 3; and a bipartite 2-colouring is the natural assignment.

// conflicts returns the conflict graph as adjacency lists over positions.
// Groups are added as cliques only when small, which is all that the bound
// needs (a larger clique already bounds the waves by its size).
func (s *phaseSolver) conflicts() [][]int {
	adj := make([][]int, len(s.nodes))
	edge := func(a, b int) {
		if a != b {
			adj[a] = append(adj[a], b)
			adj[b] = append(adj[b], a)
		}
	}
	for g, cnt := range s.groupCount {
		if cnt < 2 || s.groupCap[g] != 1 || cnt > 8 {
			continue
		}
		var ms []int
		for _, m := range s.in.groups[g].members {
			if p := s.pos[m]; p >= 0 {
				ms = append(ms, p)
			}
		}
		for i := range ms {
			for j := i + 1; j < len(ms); j++ {
				edge(ms[i], ms[j])
			}
		}
	}
	for _, set := range s.sets {
		if len(set) == 2 {
			edge(set[0], set[1])
		}
	}
	return adj
}

// twoColour returns a 2-colouring of the conflict graph that balances the
// two waves, or nil when the graph has an odd cycle. Each connected
// component can be flipped; larger components go first, their larger side
// into the emptier wave.
func twoColour(adj [][]int) []int {
	col := make([]int, len(adj))
	for i := range col {
		col[i] = -1
	}
	type comp struct{ members []int }
	var comps []comp
	for start := range adj {
		if col[start] >= 0 {
			continue
		}
		col[start] = 0
		queue := []int{start}
		var members []int
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			members = append(members, v)
			for _, u := range adj[v] {
				switch col[u] {
				case -1:
					col[u] = 1 - col[v]
					queue = append(queue, u)
				case col[v]:
					return nil
				}
			}
		}
		comps = append(comps, comp{members})
	}
	sort.SliceStable(comps, func(a, b int) bool { return len(comps[a].members) > len(comps[b].members) })
	var size [2]int
	for _, c := range comps {
		var side [2]int
		for _, v := range c.members {
			side[col[v]]++
		}
		flip := (side[0] > side[1]) != (size[0] <= size[1])
		for _, v := range c.members {
			if flip {
				col[v] = 1 - col[v]
			}
			size[col[v]]++
		}
	}
	return col
}

// dsatur assigns positions to k waves in the order of DSatur colouring: the
// node whose conflicting neighbours already use the most waves goes next,
// into the first wave where it fits. It returns nil when some node fits
// nowhere. Selection is linear per node, so it is kept for phases where the
// fast assignments failed, which are small in practice.
func (s *phaseSolver) dsatur(adj [][]int, k int) []int {
	n := len(s.nodes)
	w := make([]int, n)
	for p := range w {
		w[p] = -1
	}
	sat := make([]map[int]bool, n)
	for p := range sat {
		sat[p] = map[int]bool{}
	}
	size := make([]int, k)
	used := make(map[[2]int]int)
	for placed := 0; placed < n; placed++ {
		best := -1
		for p := 0; p < n; p++ {
			if w[p] >= 0 {
				continue
			}
			if best < 0 || len(sat[p]) > len(sat[best]) || (len(sat[p]) == len(sat[best]) && len(adj[p]) > len(adj[best])) {
				best = p
			}
		}
		p := best
		g := s.in.nodes[s.nodes[p]].group
		x := -1
		for c := 0; c < k; c++ {
			if sat[p][c] || (s.limit > 0 && size[c] >= s.limit) || (g >= 0 && used[[2]int{g, c}] >= s.groupCap[g]) {
				continue
			}
			bad := false
			if s.nodeSets.start != nil {
				for _, si := range s.nodeSets.of(p) {
					if s.completesMono(s.sets[si], w, p, c) {
						bad = true
						break
					}
				}
			}
			if !bad {
				x = c
				break
			}
		}
		if x < 0 {
			return nil
		}
		w[p] = x
		size[x]++
		if g >= 0 {
			used[[2]int{g, x}]++
		}
		for _, u := range adj[p] {
			sat[u][x] = true
		}
	}
	return w
}
