package rollout

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// bruteOptimum is the fewest activation waves of any safe plan for req,
// found by enumerating every partition of the nodes to activate into waves.
// It shares no code with the planner's wave assignment: it re-derives the
// constraints from the snapshot and the policy, so that it can judge both
// the planner's waves and its lower bound. It returns -1 when no plan is
// possible, and is meant for at most 10 nodes to activate.
func bruteOptimum(req Request) int {
	todo, ok := bruteModel(req)
	n := len(todo)
	if n == 0 {
		return 0
	}
	best := -1
	block := make([]int, n)
	var rec func(i, blocks int)
	rec = func(i, blocks int) {
		if best >= 0 && blocks >= best {
			return
		}
		if i == n {
			if ok(block, blocks) {
				best = blocks
			}
			return
		}
		for b := 0; b <= blocks; b++ {
			block[i] = b
			nb := blocks
			if b == blocks {
				nb++
			}
			rec(i+1, nb)
		}
	}
	rec(0, 0)
	return best
}

// planBlocks maps a plan's activations onto bruteModel's node positions.
func planBlocks(p *Plan, todo []string) (block []int, blocks int, complete bool) {
	at := map[string]int{}
	waves := map[int]int{}
	for _, s := range p.Steps {
		if s.Kind == StepActivate {
			if _, ok := waves[s.Wave]; !ok {
				waves[s.Wave] = len(waves)
			}
			at[s.Node] = waves[s.Wave]
		}
	}
	block = make([]int, len(todo))
	for k, n := range todo {
		b, ok := at[n]
		if !ok {
			return nil, 0, false
		}
		block[k] = b
	}
	return block, len(waves), len(at) == len(todo)
}

// bruteModel lists the nodes to activate and returns the judge of an
// assignment of them to waves 0..blocks-1.
func bruteModel(req Request) ([]string, func(block []int, blocks int) bool) {
	c := req.Cluster
	target := appliance.MustParseVersion(req.Target.Version)
	order := ResolveOrder(c, req.Policy.Order)
	ha := c.HAEnabled
	if req.Policy.HAMode != nil {
		ha = *req.Policy.HAMode
	}
	failover := req.Policy.FailoverResources == nil || *req.Policy.FailoverResources
	limit, _ := ParseMaxUnavailable(req.Policy.MaxUnavailable, len(c.Nodes))
	if limit == 0 && order == OrderRolling {
		limit = 1
	}
	avail := map[string]bool{}
	down := 0
	var todo []string
	for _, n := range c.Nodes {
		avail[n.Name] = n.State.Serving() && n.Healthy
		if !avail[n.Name] {
			down++
		}
		if !appliance.MustParseVersion(n.Active.Version).Equal(target) {
			todo = append(todo, n.Name)
		}
	}
	if limit > 0 {
		limit -= down
	}
	pos := map[string]int{}
	for k, n := range todo {
		pos[n] = k
	}
	rank := make([]int, len(todo))
	for k, n := range todo {
		rank[k] = phaseRank(order, c.Node(n).Role)
	}
	type grp struct {
		members []int
		cap     int
	}
	var groups []grp
	if ha {
		for _, g := range c.HAGroups {
			up := 0
			var ms []int
			for _, m := range g.Members {
				if avail[m] {
					up++
				}
				if p, ok := pos[m]; ok {
					ms = append(ms, p)
				}
			}
			groups = append(groups, grp{ms, up - g.MinAvailable})
		}
	}
	// A resource needs, for each wave, an allowed available node outside it;
	// only sets made wholly of nodes to activate can fail that.
	var sets [][]int
	if failover {
		for _, r := range c.Resources {
			if r.CurrentNode == "" || !avail[r.CurrentNode] || r.State == appliance.ResourceOffline {
				continue
			}
			var set []int
			whole := true
			for _, n := range c.Nodes {
				if !avail[n.Name] || !r.CanRunOn(n.Name) {
					continue
				}
				p, ok := pos[n.Name]
				if !ok {
					whole = false
					break
				}
				set = append(set, p)
			}
			if whole && len(set) >= 1 {
				sets = append(sets, set)
			}
		}
	}
	ok := func(block []int, blocks int) bool {
		size := make([]int, blocks)
		brank := make([]int, blocks)
		for b := range brank {
			brank[b] = -1
		}
		for p, b := range block {
			size[b]++
			if limit > 0 && size[b] > limit {
				return false
			}
			if brank[b] >= 0 && brank[b] != rank[p] {
				return false // a wave never mixes role phases
			}
			brank[b] = rank[p]
		}
		for _, g := range groups {
			cnt := make([]int, blocks)
			for _, m := range g.members {
				cnt[block[m]]++
				if cnt[block[m]] > g.cap {
					return false
				}
			}
		}
		for _, s := range sets {
			same := true
			for _, p := range s[1:] {
				same = same && block[p] == block[s[0]]
			}
			if same {
				return false
			}
		}
		return true
	}
	return todo, ok
}
