package rollout

import (
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
	idx       map[string]int
	groups    []groupInfo // empty when HA mode is off
	res       []resInfo
	warnings  []string
	// limit is how many nodes the rollout may take down at once, after the
	// nodes already unavailable are counted against max_unavailable; 0: none.
	limit int
	// needCount is how many nodes need an activation.
	needCount int
	vc        versionCache
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
// most expensive thing the planner would otherwise do per node.
type versionCache map[string]versionResult

type versionResult struct {
	v   appliance.Version
	err error
}

func (vc versionCache) parse(s string) (appliance.Version, error) {
	if r, ok := vc[s]; ok {
		return r.v, r.err
	}
	v, err := appliance.ParseVersion(s)
	vc[s] = versionResult{v, err}
	return v, err
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
