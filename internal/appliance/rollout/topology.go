package rollout

import (
	"hash/maphash"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// input is a Request indexed for planning: nodes by position, HA groups and
// resource hosts as node indices, so that no step of the planner has to scan
// the snapshot by name (10,000-node clusters must plan in milliseconds).
type input struct {
	req       Request
	c         *appliance.Cluster
	target    appliance.Version
	targetStr string
	set       settings
	rollback  bool
	nodes     []nodeInfo
	idx       nameIndex
	groups    []groupInfo // empty when HA mode is off
	res       []resInfo
	warnings  []string
	// limit is how many nodes the rollout may take down at once, after the
	// nodes already unavailable are counted against max_unavailable; 0: none.
	limit int
	// needCount is how many nodes need an activation.
	needCount int
	vc        *versionCache
}

// isTarget reports whether a version string denotes the target release,
// whatever its spelling; a malformed string is the target only if spelt
// exactly the same.
func (in *input) isTarget(s string) bool {
	if s == in.targetStr {
		return true
	}
	v, err := in.vc.parse(s)
	return err == nil && v.Equal(in.target)
}

type nodeInfo struct {
	name  string
	role  appliance.Role
	group int  // index into input.groups, -1 for none (or HA mode off)
	avail bool // serving and healthy now: it counts towards HA groups and may host resources
	needs bool // its active partition does not run the target
	stage bool // its alternate partition must be written first
	// onTarget reports whether the node runs the target now.
	onTarget bool
}

type groupInfo struct {
	name    string
	members []int
	min     int
	up      int // members available now
}

// capacity is how many members of the group may reboot together.
func (g groupInfo) capacity() int { return g.up - g.min }

type resInfo struct {
	name string
	// online is false for resources that have no serving node before the
	// rollout starts: the planner neither moves them nor promises them.
	online bool
	cur    int
	pref   int
	any    bool  // no allowed-node list: every node may host it
	hosts  []int // allowed nodes, when !any
	shared bool
}

// canHost reports whether node i may host resource r.
func (r *resInfo) canHost(i int) bool {
	if r.any {
		return true
	}
	for _, h := range r.hosts {
		if h == i {
			return true
		}
	}
	return false
}

// versionCache parses each distinct version string once: the regexp is the
// most expensive thing the planner would otherwise do per node. The last
// string asked for is kept beside the map, since the nodes of a cluster
// mostly run one version: a string comparison instead of a map lookup.
type versionCache struct {
	m       map[string]versionResult
	last    string
	lastR   versionResult
	hasLast bool
}

type versionResult struct {
	v   appliance.Version
	err error
}

func newVersionCache() *versionCache { return &versionCache{m: map[string]versionResult{}} }

func (vc *versionCache) parse(s string) (appliance.Version, error) {
	if vc.hasLast && s == vc.last {
		return vc.lastR.v, vc.lastR.err
	}
	r, ok := vc.m[s]
	if !ok {
		v, err := appliance.ParseVersion(s)
		r = versionResult{v, err}
		vc.m[s] = r
	}
	vc.last, vc.lastR, vc.hasLast = s, r, true
	return r.v, r.err
}

// lowestVersion is appliance.Cluster.LowestVersion with parsing cached.
func (in *input) lowestVersion() string {
	var low string
	var lowV appliance.Version
	for _, n := range in.c.Nodes {
		v, err := in.vc.parse(n.Active.Version)
		if err != nil {
			continue
		}
		if low == "" || v.Less(lowV) {
			low, lowV = n.Active.Version, v
		}
	}
	return low
}

// index builds the node, group and resource indices and checks the
// snapshot's consistency with maps (appliance.Cluster.Validate scans groups
// per node, which is quadratic on 10,000-node clusters).
func (in *input) index() error {
	c := in.c
	in.nodes = make([]nodeInfo, len(c.Nodes))
	in.idx = newNameIndex(len(c.Nodes), func(i int) string { return in.nodes[i].name })
	for i, n := range c.Nodes {
		if n.Name == "" {
			return invalid("cluster %s: a node has no name", c.Name)
		}
		in.nodes[i] = nodeInfo{name: n.Name, role: n.Role, group: -1, avail: n.State.Serving() && n.Healthy}
		if in.idx.insert(i) {
			return invalid("cluster %s: node %s appears twice", c.Name, n.Name)
		}
		if !knownRole(n.Role) {
			return invalid("cluster %s: node %s has unknown role %q", c.Name, n.Name, n.Role)
		}
	}
	gidx := newNameIndex(len(c.HAGroups), func(k int) string { return c.HAGroups[k].Name })
	// One allocation for the groups and one for all their members: at
	// 100,000 nodes, growing them piecemeal was a fifth of a plan's memory.
	in.groups = make([]groupInfo, 0, len(c.HAGroups))
	total := 0
	for _, g := range c.HAGroups {
		total += len(g.Members)
	}
	memberSpace := make([]int, 0, total)
	guess := 0 // members are mostly listed in snapshot order: try the next node before the map
	for k, g := range c.HAGroups {
		if gidx.insert(k) {
			return invalid("cluster %s: HA group %s appears twice", c.Name, g.Name)
		}
		if g.MinAvailable < 0 || g.MinAvailable >= len(g.Members) {
			return invalid("cluster %s: HA group %s has min_available %d for %d members: it must be between 0 and members-1", c.Name, g.Name, g.MinAvailable, len(g.Members))
		}
		start := len(memberSpace)
		memberSpace = memberSpace[:start+len(g.Members)]
		gi := groupInfo{name: g.Name, min: g.MinAvailable, members: memberSpace[start : start : start+len(g.Members)]}
		for _, m := range g.Members {
			i, ok := in.nodeNamed(m, guess)
			guess = i + 1
			if !ok {
				return invalid("cluster %s: HA group %s names unknown node %s", c.Name, g.Name, m)
			}
			if in.nodes[i].group >= 0 {
				return invalid("cluster %s: node %s is in HA groups %s and %s; a node belongs to one group", c.Name, m, in.groups[in.nodes[i].group].name, g.Name)
			}
			in.nodes[i].group = len(in.groups)
			gi.members = append(gi.members, i)
			if in.nodes[i].avail {
				gi.up++
			}
		}
		in.groups = append(in.groups, gi)
	}
	for i, n := range c.Nodes {
		if g := in.nodes[i].group; n.HAGroup == "" || g >= 0 && in.groups[g].name == n.HAGroup {
			continue // a member of the group it names: no lookup
		}
		if _, ok := gidx.lookup(n.HAGroup); !ok {
			return invalid("cluster %s: node %s names HA group %s, which does not exist", c.Name, n.Name, n.HAGroup)
		}
	}
	if !in.set.haMode {
		// S12 is off: groups impose nothing. Keep the indices consistent.
		in.groups = nil
		for i := range in.nodes {
			in.nodes[i].group = -1
		}
	}
	seen := make(map[string]bool, len(c.Resources))
	in.res = make([]resInfo, len(c.Resources))
	total = 0
	for _, r := range c.Resources {
		total += len(r.AllowedNodes)
	}
	hostSpace := make([]int, 0, total) // one allocation for every resource's hosts
	for k, r := range c.Resources {
		if seen[r.Name] {
			return invalid("cluster %s: resource %s appears twice", c.Name, r.Name)
		}
		seen[r.Name] = true
		pref, ok := in.idx.lookup(r.PreferredNode)
		if !ok {
			return invalid("cluster %s: resource %s prefers unknown node %q", c.Name, r.Name, r.PreferredNode)
		}
		ri := resInfo{name: r.Name, cur: -1, pref: pref, any: len(r.AllowedNodes) == 0, shared: r.SharedStorage}
		if r.CurrentNode != "" {
			cur, ok := in.nodeNamed(r.CurrentNode, pref)
			if !ok {
				return invalid("cluster %s: resource %s runs on unknown node %q", c.Name, r.Name, r.CurrentNode)
			}
			ri.cur = cur
			ri.online = in.nodes[cur].avail && r.State != appliance.ResourceOffline
		}
		if len(r.AllowedNodes) > 0 {
			start := len(hostSpace)
			guess := pref
			for _, a := range r.AllowedNodes {
				h, ok := in.nodeNamed(a, guess)
				guess = h + 1
				if !ok {
					return invalid("cluster %s: resource %s allows unknown node %q", c.Name, r.Name, a)
				}
				hostSpace = append(hostSpace, h)
			}
			ri.hosts = hostSpace[start:len(hostSpace):len(hostSpace)]
		}
		in.res[k] = ri
	}
	return nil
}

// nodeNamed returns the index of the node called name, trying the node at
// guess before the map (names are unique, so a match is the answer): on
// large clusters the map lookups were a fifth of a plan's time.
func (in *input) nodeNamed(name string, guess int) (int, bool) {
	if guess >= 0 && guess < len(in.nodes) && in.nodes[guess].name == name {
		return guess, true
	}
	return in.idx.lookup(name)
}

// nameIndex finds a node (or an HA group) by name: an open-addressing
// hash table of indices, each slot tagged with the upper half of its name's
// hash so that a probe rarely has to look at a name. Unlike a
// map[string]int it copies no names and holds no pointers for the garbage
// collector to scan; at 100,000 nodes the maps were a fifth of a plan's
// time.
type nameIndex struct {
	name  func(i int) string // the name of index i
	slots []uint64           // hash tag << 32 | index + 1; 0 is free
	mask  uint64
	seed  maphash.Seed
}

// newNameIndex is an empty index for up to n names.
func newNameIndex(n int, name func(i int) string) nameIndex {
	size := 8
	for size < 2*n { // at most half full: short probes
		size *= 2
	}
	return nameIndex{name: name, slots: make([]uint64, size), mask: uint64(size - 1), seed: maphash.MakeSeed()}
}

// probe returns the slot holding name, or the free slot where it belongs,
// and the slot's tag for name.
func (x *nameIndex) probe(name string) (slot, tag uint64, found bool) {
	h := maphash.String(x.seed, name)
	tag = h &^ (1<<32 - 1)
	for j := h & x.mask; ; j = (j + 1) & x.mask {
		s := x.slots[j]
		if s == 0 {
			return j, tag, false
		}
		if s&^(1<<32-1) == tag && x.name(int(s&(1<<32-1))-1) == name {
			return j, tag, true
		}
	}
}

// insert adds index i by its name and reports whether that name was there
// already (then nothing is added).
func (x *nameIndex) insert(i int) (dup bool) {
	j, tag, found := x.probe(x.name(i))
	if !found {
		x.slots[j] = tag | uint64(i+1)
	}
	return found
}

// lookup returns the index of name.
func (x *nameIndex) lookup(name string) (int, bool) {
	if len(x.slots) == 0 {
		return -1, false
	}
	j, _, found := x.probe(name)
	if !found {
		return -1, false
	}
	return int(x.slots[j]&(1<<32-1)) - 1, true
}

func knownRole(r appliance.Role) bool {
	for _, v := range appliance.ValidRoles {
		if r == v {
			return true
		}
	}
	return false
}
