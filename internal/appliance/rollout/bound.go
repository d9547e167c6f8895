package rollout

// The lower bound on activation waves. Waves of different phases never mix
// (role order), so the bound of a plan is the sum of its phases' bounds, and
// within a phase every constraint gives one:
//
//   - any node to activate: 1 wave;
//   - max_unavailable: ceil(nodes / limit);
//   - an HA group with p members to activate that can spare c at a time
//     (members up now minus min_available): ceil(p / c), which for a full
//     group of m members with min_available k is ceil(m / (m - k));
//   - a resource whose every allowed, available node is in the phase: 2,
//     since it needs a serving node outside the wave of the node it leaves.
//
// The first three are exactly reachable together (see cyclicAssign). The
// fourth makes the problem a hypergraph colouring in general, where the
// simple bound can be short of the optimum. Two refinements close the gap:
//
//   - where the bound is 2, an odd cycle of pairwise conflicts (three
//     resources allowed on {a,b}, {b,c}, {a,c}; HA pairs count as
//     conflicts too) makes it 3, see conflict.go;
//   - if the assignments still miss the bound on a phase of at most
//     exactLimit nodes, an exhaustive search proves the optimum, and that
//     is the bound reported.
//
// Beyond that (large phases with dense resource constraints, which the
// property tests generate but never produced a miss on) a plan may have
// more waves than LowerBound; Plan.Waves > Plan.LowerBound then says so
// honestly rather than hiding it.

// cheapBound is the bound of one phase from the rules above.
func (s *phaseSolver) cheapBound() int {
	n := len(s.nodes)
	if n == 0 {
		return 0
	}
	b := 1
	if s.limit > 0 {
		b = max(b, ceilDiv(n, s.limit))
	}
	for g, p := range s.groupCount {
		if p > 0 {
			b = max(b, ceilDiv(p, s.groupCap[g]))
		}
	}
	if len(s.sets) > 0 {
		b = max(b, 2)
	}
	return b
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
