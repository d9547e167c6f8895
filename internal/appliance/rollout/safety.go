package rollout

import (
	"fmt"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Verify replays a plan on a model of the request's snapshot and returns a
// *SafetyViolation at the first step that breaks a rule, a
// *ValidationError when the request itself is refused, or nil. Compute runs
// it on every plan; the executor may run it on a plan it is handed.
func Verify(req Request, p *Plan) error {
	in, err := prepare(req)
	if err != nil {
		return err
	}
	return in.verify(p, nil)
}

// replay is the model the plan is proven on: who is up, who runs what,
// where each resource is, who is master.
type replay struct {
	in         *input
	p          *Plan
	up         []bool
	activated  []int
	actWave    []int
	onTarget   []bool
	altTarget  []bool           // the alternate holds a bootable target
	role       []appliance.Role // now; in.nodes has the roles before the rollout
	groupUp    []int
	down       int
	cur        []int
	hosted     []int // node -> online resources on it
	promoted   bool
	hasStandby bool
	rank       []int
	lastWave   int
	// waves counts the waves with activations and lastActWave is the
	// latest of them: steps come in wave order (checked first), so a
	// change of wave is a new one.
	waves       int
	lastActWave int
	// downInWave counts the nodes of the current wave (lastWave) still
	// rebooting: nodes of earlier waves must be back before a wave starts,
	// and only the current wave is ever asked. pending counts, per role
	// phase, the nodes still to activate and await.
	downInWave int
	pending    []int
	resIdx     map[string]int // built on the first move without a usable hint
	hint       []int32        // step -> node (or a move's resource) index, from the planner; checked before use
	stepIdx    int            // index of the step being replayed
}

// verify proves the rules of DESIGN.md "Planning" on p: HA groups never
// below min_available, max_unavailable respected, every online resource
// always on a serving node (except in an Offline step), every node that
// needs it activated exactly once from a staged, bootable alternate, role
// order (primary first; standby, promotion, then master; active before
// standby), and resources back on their preferred nodes at the end.
//
// hint, when not nil, gives per step the index of the node the planner
// meant; it is trusted only where the names agree, and spares a map lookup
// per step on large clusters.
func (in *input) verify(p *Plan, hint []int32) error {
	n := len(in.nodes)
	r := &replay{in: in, p: p, hint: hint,
		up: make([]bool, n), activated: make([]int, n), actWave: make([]int, n),
		onTarget: make([]bool, n), altTarget: make([]bool, n),
		role:    make([]appliance.Role, n),
		groupUp: make([]int, len(in.groups)), rank: make([]int, n),
		cur: make([]int, len(in.res)), hosted: make([]int, n), lastActWave: -1,
		pending: make([]int, len(phaseRoles(in.set.order))+1)}
	for i, nd := range in.nodes {
		r.up[i] = nd.avail
		r.onTarget[i] = nd.onTarget
		alt := in.c.Nodes[i].Alternate
		r.altTarget[i] = alt.Bootable && in.isTarget(alt.Version)
		r.role[i] = nd.role
		r.rank[i] = phaseRank(in.set.order, nd.role)
		r.hasStandby = r.hasStandby || (nd.role == appliance.RoleStandby && nd.avail)
		if nd.needs {
			r.pending[r.rank[i]]++
		}
	}
	for g := range in.groups {
		r.groupUp[g] = in.groups[g].up
	}
	for k, res := range in.res {
		r.cur[k] = res.cur
		if res.online {
			r.hosted[res.cur]++
		}
	}
	for si, s := range p.Steps {
		r.stepIdx = si
		if err := r.step(s); err != "" {
			return &SafetyViolation{StepIndex: si, Step: s, Constraint: err}
		}
	}
	return r.end()
}

func (r *replay) node(s Step) (int, string) {
	if r.stepIdx < len(r.hint) {
		if i := int(r.hint[r.stepIdx]); i >= 0 && i < len(r.in.nodes) && r.in.nodes[i].name == s.Node {
			return i, ""
		}
	}
	i, ok := r.in.idx.lookup(s.Node)
	if !ok {
		return -1, fmt.Sprintf("unknown node %q", s.Node)
	}
	return i, ""
}

// resource returns the index of the step's resource: the planner's hint
// where the names agree, else by name.
func (r *replay) resource(s Step) (int, bool) {
	if r.stepIdx < len(r.hint) {
		if k := int(r.hint[r.stepIdx]); k >= 0 && k < len(r.in.res) && r.in.res[k].name == s.Resource {
			return k, true
		}
	}
	if r.resIdx == nil {
		r.resIdx = make(map[string]int, len(r.in.res))
		for k, res := range r.in.res {
			r.resIdx[res.name] = k
		}
	}
	k, ok := r.resIdx[s.Resource]
	return k, ok
}

func (r *replay) step(s Step) string {
	in := r.in
	if s.Wave < r.lastWave {
		return fmt.Sprintf("wave %d comes after wave %d", s.Wave, r.lastWave)
	}
	if s.Wave != r.lastWave {
		r.downInWave = 0 // a new wave: none of its nodes has started yet
	}
	r.lastWave = s.Wave
	if (s.Kind == StepStage) != (s.Wave == 0) {
		return "wave 0 is for staging only, and staging only happens in wave 0"
	}
	switch s.Kind {
	case StepStage:
		i, err := r.node(s)
		if err != "" {
			return err
		}
		if in.rollback {
			return "a rollback stages nothing: the previous image is in the alternate partition"
		}
		if r.activated[i] > 0 || r.onTarget[i] {
			return fmt.Sprintf("node %s already runs %s", s.Node, in.targetStr)
		}
		if !in.isTarget(s.Version) {
			return fmt.Sprintf("stages %s, not the target %s", s.Version, in.targetStr)
		}
		r.altTarget[i] = true
	case StepMoveResource, StepFailBack:
		return r.move(s)
	case StepActivate:
		return r.activate(s)
	case StepAwaitHealthy:
		i, err := r.node(s)
		if err != "" {
			return err
		}
		if r.activated[i] == 0 || r.up[i] {
			return fmt.Sprintf("node %s was not rebooting", s.Node)
		}
		r.up[i] = true
		r.down--
		if r.actWave[i] == r.lastWave {
			r.downInWave--
		}
		if in.nodes[i].needs {
			r.pending[r.rank[i]]--
		}
		if g := in.nodes[i].group; g >= 0 {
			r.groupUp[g]++
		}
	case StepPromote:
		i, err := r.node(s)
		if err != "" {
			return err
		}
		if r.role[i] != appliance.RoleStandby || !r.up[i] || !r.onTarget[i] {
			return fmt.Sprintf("only a serving standby on %s can be promoted (S13); %s is %s", in.targetStr, s.Node, r.role[i])
		}
		for j := range r.role {
			if r.role[j] == appliance.RoleMaster {
				r.role[j] = appliance.RoleStandby
			}
		}
		r.role[i] = appliance.RoleMaster
		r.promoted = true
	case StepFinalize:
		if !s.Offline {
			return "finalize takes shared-storage resources offline and must say so (S16)"
		}
		for i, nd := range in.nodes {
			if nd.needs && (r.activated[i] == 0 || !r.up[i]) {
				return fmt.Sprintf("finalize before node %s runs %s (S16)", nd.name, in.targetStr)
			}
		}
	case StepSettle:
	default:
		return fmt.Sprintf("unknown step kind %q", s.Kind)
	}
	return ""
}

func (r *replay) activate(s Step) string {
	in := r.in
	i, err := r.node(s)
	if err != "" {
		return err
	}
	nd := in.nodes[i]
	switch {
	case r.activated[i] > 0:
		return fmt.Sprintf("node %s is activated twice", s.Node)
	case r.onTarget[i]:
		return fmt.Sprintf("node %s already runs %s", s.Node, in.targetStr)
	case !r.altTarget[i]:
		return fmt.Sprintf("node %s has no bootable %s in its alternate partition", s.Node, in.targetStr)
	case !r.up[i]:
		return fmt.Sprintf("node %s is not serving", s.Node)
	case !in.isTarget(s.Version):
		return fmt.Sprintf("activates %s, not the target %s", s.Version, in.targetStr)
	}
	if r.down > r.downInWave {
		for j, o := range in.nodes { // name the culprit; only on failure
			if r.activated[j] > 0 && !r.up[j] && r.actWave[j] != s.Wave {
				return fmt.Sprintf("wave %d starts while %s of wave %d is not healthy", s.Wave, o.name, r.actWave[j])
			}
		}
	}
	for rk := 0; rk < r.rank[i]; rk++ {
		if r.pending[rk] == 0 {
			continue
		}
		for j, o := range in.nodes { // name the culprit; only on failure
			if o.needs && r.rank[j] == rk && (r.activated[j] == 0 || !r.up[j]) {
				return fmt.Sprintf("role order: %s (%s) must be healthy on %s before %s (%s)", o.name, o.role, in.targetStr, s.Node, nd.role)
			}
		}
	}
	if in.set.order == OrderStandbyFirst && nd.role == appliance.RoleMaster && r.hasStandby && !r.promoted {
		return fmt.Sprintf("master %s reboots before its updated standby is promoted (S13)", s.Node)
	}
	r.activated[i]++
	r.actWave[i] = s.Wave
	if s.Wave != r.lastActWave {
		r.waves++
		r.lastActWave = s.Wave
	}
	r.up[i] = false
	r.onTarget[i] = true
	r.down++
	r.downInWave++
	if in.limit > 0 && r.down > in.limit {
		return fmt.Sprintf("%d nodes down at once; max_unavailable allows %d", r.down, in.set.maxUnavailable)
	}
	if g := nd.group; g >= 0 {
		r.groupUp[g]--
		if gi := in.groups[g]; r.groupUp[g] < gi.min {
			return fmt.Sprintf("HA group %s falls to %d available members; it must keep %d (S12)", gi.name, r.groupUp[g], gi.min)
		}
	}
	if in.set.failover && r.hosted[i] > 0 {
		for k, res := range in.res {
			if res.online && r.cur[k] == i {
				return fmt.Sprintf("resource %s has no serving node while %s reboots (S15)", res.name, s.Node)
			}
		}
	}
	return ""
}

func (r *replay) move(s Step) string {
	in := r.in
	k, ok := r.resource(s)
	if !ok {
		return fmt.Sprintf("unknown resource %q", s.Resource)
	}
	res := &in.res[k]
	// A move leaves the resource's current node; a fail-back goes to its
	// preferred one: try those before the map.
	from, ok1 := in.nodeNamed(s.From, r.cur[k])
	to, ok2 := in.nodeNamed(s.To, res.pref)
	switch {
	case !ok1 || !ok2:
		return "moves between unknown nodes"
	case !res.online:
		return fmt.Sprintf("resource %s is not online", s.Resource)
	case r.cur[k] != from:
		return fmt.Sprintf("resource %s is on %s, not %s", s.Resource, in.nodes[r.cur[k]].name, s.From)
	case from == to:
		return "moves a resource to where it is"
	case !r.up[to]:
		return fmt.Sprintf("node %s is not serving", s.To)
	case !res.canHost(to):
		return fmt.Sprintf("resource %s may not run on %s", s.Resource, s.To)
	case s.Kind == StepFailBack && to != res.pref:
		return fmt.Sprintf("fails back to %s, but resource %s prefers %s", s.To, s.Resource, in.nodes[res.pref].name)
	}
	r.cur[k] = to
	r.hosted[from]--
	r.hosted[to]++
	return ""
}

func (r *replay) end() error {
	in := r.in
	fail := func(c string) error {
		return &SafetyViolation{StepIndex: len(r.p.Steps) - 1, Step: lastStep(r.p), Constraint: c}
	}
	for i, nd := range in.nodes {
		if nd.needs && r.activated[i] != 1 {
			return fail(fmt.Sprintf("node %s is activated %d times; it needs exactly one activation", nd.name, r.activated[i]))
		}
		if r.activated[i] > 0 && !r.up[i] {
			return fail(fmt.Sprintf("node %s is never awaited healthy", nd.name))
		}
	}
	if in.set.failover {
		for k, res := range in.res {
			if res.online && r.cur[k] != res.pref && in.nodes[res.pref].avail && res.canHost(res.pref) {
				return fail(fmt.Sprintf("resource %s ends on %s, not its preferred node %s", res.name, in.nodes[r.cur[k]].name, in.nodes[res.pref].name))
			}
		}
	}
	if r.waves != r.p.Waves {
		return fail(fmt.Sprintf("the plan says %d waves but activates in %d", r.p.Waves, r.waves))
	}
	return nil
}

func lastStep(p *Plan) Step {
	if len(p.Steps) == 0 {
		return Step{}
	}
	return p.Steps[len(p.Steps)-1]
}
