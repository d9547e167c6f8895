package appliance

import (
	"fmt"
	"sort"
	"time"
)

// Role is what a node is to its cluster; it decides the activation order.
type Role string

// The roles of the seeds' systems.
const (
	RolePrimary   Role = "primary"   // Avere: activates first, others fetch the package from it (S11)
	RoleSecondary Role = "secondary" // Avere: every other node of a primary cluster
	RoleMaster    Role = "master"    // Oracle VCA: the management node in charge (S13)
	RoleStandby   Role = "standby"   // Oracle VCA standby management node; Image Streamer standby appliance (S13, S14)
	RoleActive    Role = "active"    // Image Streamer: the active appliance of a pair (S14)
	RoleCompute   Role = "compute"   // Oracle VCA compute node, provisioned by the master
	RoleMember    Role = "member"    // NetWare and any plain cluster member (S15)
)

// ValidRoles lists every role, for validation and docs.
var ValidRoles = []Role{RolePrimary, RoleSecondary, RoleMaster, RoleStandby, RoleActive, RoleCompute, RoleMember}

// NodeState is where a node is in its life cycle.
type NodeState string

// The node states the API reports.
const (
	NodeRunning   NodeState = "running"   // serving on its active partition
	NodeRebooting NodeState = "rebooting" // activating or reverting: not serving
	NodeSettling  NodeState = "settling"  // back up, rejoining the cluster (S17): not yet healthy
	NodeDown      NodeState = "down"      // failed or never came back (S22)
	NodeOffline   NodeState = "offline"   // taken out of service on purpose
)

// Serving reports whether a node in this state serves clients.
func (s NodeState) Serving() bool { return s == NodeRunning || s == NodeSettling }

// Partition is one of a node's two boot partitions.
type Partition struct {
	Version  string `json:"version,omitempty"`  // empty when nothing is installed
	ImageID  string `json:"image_id,omitempty"` // the image that was staged into it
	Bootable bool   `json:"bootable"`           // false once an irreversible feature forbids going back (S9)
	// Components are the versions of the image's components on this node,
	// e.g. {"os": "1.1", "storage": "1.1"}.
	Components map[string]string `json:"components,omitempty"`
	// Description is the staged image's description (S4).
	Description string `json:"description,omitempty"`
}

// Node is one appliance or server.
type Node struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	HAGroup   string    `json:"ha_group,omitempty"` // name of the HA group the node belongs to, if any
	State     NodeState `json:"state"`
	Healthy   bool      `json:"healthy"`
	Active    Partition `json:"active"`
	Alternate Partition `json:"alternate"`
	// Staging reports an image being written into the alternate partition
	// (the node keeps serving meanwhile, S3).
	Staging string `json:"staging,omitempty"`
	// HealthySince is the simulated time since which the node has been healthy.
	HealthySince *time.Time `json:"healthy_since,omitempty"`
	// Armed reports a node whose bootloader will boot the alternate
	// partition at its next restart although no activation asked for it:
	// a stage interrupted after writing the alternate and before putting
	// the boot order back (RAUC marks the slot it installed primary). It is
	// drift; staging the node again repairs it without writing anything.
	Armed bool `json:"armed,omitempty"`
}

// HAGroup is a set of nodes that must keep at least MinAvailable members
// serving at all times. A pair with MinAvailable 1 is the classic HA pair
// (S12): the partners are never down together.
type HAGroup struct {
	Name         string   `json:"name"`
	Members      []string `json:"members"`
	MinAvailable int      `json:"min_available"`
}

// Resource is a cluster service (pool, volume, VM, share) that runs on one
// node at a time and can fail over (S15).
type Resource struct {
	Name          string   `json:"name"`
	CurrentNode   string   `json:"current_node,omitempty"` // empty while offline
	PreferredNode string   `json:"preferred_node"`
	AllowedNodes  []string `json:"allowed_nodes,omitempty"` // empty: any node
	SharedStorage bool     `json:"shared_storage,omitempty"`
	State         string   `json:"state"` // online, offline, moving, upgrade (S16)
}

// Resource states.
const (
	ResourceOnline  = "online"
	ResourceOffline = "offline"
	ResourceMoving  = "moving"
	ResourceUpgrade = "upgrade" // S16: offline for the shared-media upgrade
)

// CanRunOn reports whether the resource may be hosted by node.
func (r Resource) CanRunOn(node string) bool {
	if len(r.AllowedNodes) == 0 {
		return true
	}
	for _, n := range r.AllowedNodes {
		if n == node {
			return true
		}
	}
	return false
}

// Cluster is a snapshot of a cluster as the management API reports it. It is
// the planner's input and the simulator's wire format.
type Cluster struct {
	Name string `json:"name"`
	// ObservedAt is the appliance's own time when it took the snapshot (the
	// simulator's simulated time), nil when it does not say. With
	// Node.HealthySince it measures a node's healthy run on the
	// appliance's clock, which may run faster than the wall clock.
	ObservedAt *time.Time `json:"observed_at,omitempty"`
	Nodes      []Node     `json:"nodes"`
	HAGroups   []HAGroup  `json:"ha_groups,omitempty"`
	Resources  []Resource `json:"resources,omitempty"`
	// HAEnabled is whether HA is active on the cluster; HA mode defaults to it (S12).
	HAEnabled bool `json:"ha_enabled"`
	// Licenses are the version series the cluster is licensed for, e.g. "6.5" (S10).
	// An empty list means licensing is not enforced by this appliance.
	Licenses []string `json:"licenses,omitempty"`
	// LicenseMinNodes is the cluster size from which a license for the target
	// series is required (NetWare: 3, since two-node licenses ship with the OS).
	LicenseMinNodes int `json:"license_min_nodes,omitempty"`
	// Supercluster is the name of the supercluster this cluster belongs to, if any.
	Supercluster string `json:"supercluster,omitempty"`
	// ReportedMembers is how many members the cluster itself reports; fewer
	// than len(Nodes) is a symptom of a failed update (S22).
	ReportedMembers int `json:"reported_members"`
	// SettleTime is how long the cluster takes to re-form after an update (S17).
	SettleSeconds int `json:"settle_seconds,omitempty"`
	// NeedsFinalize is set by appliances that run a cluster-wide step after the
	// last node is on the new version (S16).
	NeedsFinalize bool `json:"needs_finalize,omitempty"`
	// FinalizedVersion is the version the last finalize ran for; a rollout
	// interrupted after its last activation but before finalize shows here,
	// so that the next one runs finalize instead of skipping it. Empty when
	// the appliance does not report it.
	FinalizedVersion string `json:"finalized_version,omitempty"`
	// MaintenanceWindow is set while a declared maintenance window is open
	// (S25): outages inside it are announced, not failures.
	MaintenanceWindow bool `json:"maintenance_window,omitempty"`
	// Healthy is the cluster's own health verdict.
	Healthy bool `json:"healthy"`
	// Rollout is the progress of a rollout under way, for status displays.
	Rollout *RolloutStatus `json:"rollout,omitempty"`
	// Lease is who holds the cluster's rollout lease while it is live, nil
	// when no one does: read with the snapshot, so that a plan knows that
	// another operation drives the cluster without a request of its own.
	Lease *LeaseHolder `json:"lease,omitempty"`
}

// LeaseHolder is the holder of a cluster's live rollout lease as a
// snapshot shows it. It never carries the lease's id, which lets a request
// act on the leased cluster.
type LeaseHolder struct {
	Owner        string    `json:"owner"`
	OperationKey string    `json:"operation_key"`
	ExpiresAt    time.Time `json:"expires_at"`
	// SilentSeconds is how long before the snapshot the holder last took
	// or renewed the lease, by the appliance's clock; HeartbeatSeconds is
	// how often it promised to renew. A holder silent for longer has died,
	// and the same operation applied again adopts its lease.
	SilentSeconds    int `json:"silent_seconds"`
	HeartbeatSeconds int `json:"heartbeat_seconds"`
}

// Alive reports whether the holder renewed the lease within its
// heartbeat: a live operation, not one that crashed.
func (l *LeaseHolder) Alive() bool {
	return l.HeartbeatSeconds <= 0 || l.SilentSeconds <= l.HeartbeatSeconds
}

// HeldByAnother returns the holder of the cluster's lease when it is an
// operation other than owner's own operationKey, or the same operation
// under another owner that still renews it (alive within its heartbeat):
// one that would refuse or keep waiting a rollout by owner now. Nil when
// the lease is free, owner's, or a dead predecessor's of the same
// operation, which an apply adopts at once.
func (c *Cluster) HeldByAnother(owner, operationKey string) *LeaseHolder {
	l := c.Lease
	switch {
	case l == nil, l.Owner == owner:
		return nil
	case l.OperationKey == operationKey && operationKey != "" && !l.Alive():
		return nil
	}
	return l
}

// RolloutStatus is what a cluster reports of a rollout in progress.
type RolloutStatus struct {
	TargetVersion string `json:"target_version"`
	Owner         string `json:"owner,omitempty"`
	Step          string `json:"step,omitempty"`
	Done          int    `json:"done"`
	Total         int    `json:"total"`
}

// Node returns the named node, or nil.
func (c *Cluster) Node(name string) *Node {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i]
		}
	}
	return nil
}

// Group returns the named HA group, or nil.
func (c *Cluster) Group(name string) *HAGroup {
	for i := range c.HAGroups {
		if c.HAGroups[i].Name == name {
			return &c.HAGroups[i]
		}
	}
	return nil
}

// NodeNames returns the node names in snapshot order.
func (c *Cluster) NodeNames() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Name
	}
	return out
}

// ActiveVersions returns each node's active version.
func (c *Cluster) ActiveVersions() map[string]string {
	out := make(map[string]string, len(c.Nodes))
	for _, n := range c.Nodes {
		out[n.Name] = n.Active.Version
	}
	return out
}

// UniformVersion returns the version every node runs, and false when the
// nodes run different versions (S20, S22) or the cluster has no nodes.
func (c *Cluster) UniformVersion() (string, bool) {
	if len(c.Nodes) == 0 {
		return "", false
	}
	v := c.Nodes[0].Active.Version
	for _, n := range c.Nodes[1:] {
		if !SameVersion(n.Active.Version, v) {
			return "", false
		}
	}
	return v, true
}

// LowestVersion returns the oldest active version in the cluster: the version
// the whole cluster is guaranteed to be at or above.
func (c *Cluster) LowestVersion() string {
	var low string
	var lowV Version
	for _, n := range c.Nodes {
		v, err := ParseVersion(n.Active.Version)
		if err != nil {
			continue
		}
		if low == "" || v.Less(lowV) {
			low, lowV = n.Active.Version, v
		}
	}
	return low
}

// Validate checks the snapshot's internal consistency: unique names, known
// roles, HA groups and resources that name real nodes.
func (c *Cluster) Validate() error {
	if c.Name == "" {
		return fmt.Errorf("cluster has no name")
	}
	// Maps, not the lookup helpers: a snapshot can hold 10,000 nodes.
	groupNames := make(map[string]bool, len(c.HAGroups))
	for _, g := range c.HAGroups {
		groupNames[g.Name] = true
	}
	nodes := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Name == "" {
			return fmt.Errorf("cluster %s: a node has no name", c.Name)
		}
		if nodes[n.Name] {
			return fmt.Errorf("cluster %s: node %s appears twice", c.Name, n.Name)
		}
		nodes[n.Name] = true
		known := false
		for _, r := range ValidRoles {
			known = known || n.Role == r
		}
		if !known {
			return fmt.Errorf("cluster %s: node %s has unknown role %q", c.Name, n.Name, n.Role)
		}
		if n.HAGroup != "" && !groupNames[n.HAGroup] {
			return fmt.Errorf("cluster %s: node %s names HA group %s, which does not exist", c.Name, n.Name, n.HAGroup)
		}
	}
	groups := map[string]bool{}
	member := map[string]string{}
	for _, g := range c.HAGroups {
		if groups[g.Name] {
			return fmt.Errorf("cluster %s: HA group %s appears twice", c.Name, g.Name)
		}
		groups[g.Name] = true
		if g.MinAvailable < 0 || g.MinAvailable >= len(g.Members) {
			return fmt.Errorf("cluster %s: HA group %s has min_available %d for %d members: it must be between 0 and members-1", c.Name, g.Name, g.MinAvailable, len(g.Members))
		}
		for _, m := range g.Members {
			if !nodes[m] {
				return fmt.Errorf("cluster %s: HA group %s names unknown node %s", c.Name, g.Name, m)
			}
			if other, ok := member[m]; ok {
				return fmt.Errorf("cluster %s: node %s is in HA groups %s and %s; a node belongs to one group", c.Name, m, other, g.Name)
			}
			member[m] = g.Name
		}
	}
	res := map[string]bool{}
	for _, r := range c.Resources {
		if res[r.Name] {
			return fmt.Errorf("cluster %s: resource %s appears twice", c.Name, r.Name)
		}
		res[r.Name] = true
		if !nodes[r.PreferredNode] {
			return fmt.Errorf("cluster %s: resource %s prefers unknown node %q", c.Name, r.Name, r.PreferredNode)
		}
		if r.CurrentNode != "" && !nodes[r.CurrentNode] {
			return fmt.Errorf("cluster %s: resource %s runs on unknown node %q", c.Name, r.Name, r.CurrentNode)
		}
		for _, a := range r.AllowedNodes {
			if !nodes[a] {
				return fmt.Errorf("cluster %s: resource %s allows unknown node %q", c.Name, r.Name, a)
			}
		}
	}
	return nil
}

// Clone returns a deep copy, so that a planner can replay steps on it.
func (c *Cluster) Clone() *Cluster {
	out := *c
	out.Nodes = make([]Node, len(c.Nodes))
	if c.ObservedAt != nil {
		t := *c.ObservedAt
		out.ObservedAt = &t
	}
	for i, n := range c.Nodes {
		n.Active.Components = cloneMap(n.Active.Components)
		n.Alternate.Components = cloneMap(n.Alternate.Components)
		if n.HealthySince != nil {
			t := *n.HealthySince
			n.HealthySince = &t
		}
		out.Nodes[i] = n
	}
	out.HAGroups = make([]HAGroup, len(c.HAGroups))
	for i, g := range c.HAGroups {
		g.Members = append([]string(nil), g.Members...)
		out.HAGroups[i] = g
	}
	out.Resources = make([]Resource, len(c.Resources))
	for i, r := range c.Resources {
		r.AllowedNodes = append([]string(nil), r.AllowedNodes...)
		out.Resources[i] = r
	}
	if c.Lease != nil {
		l := *c.Lease
		out.Lease = &l
	}
	out.Licenses = append([]string(nil), c.Licenses...)
	if c.Rollout != nil {
		r := *c.Rollout
		out.Rollout = &r
	}
	return &out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SortedKeys returns the keys of m in order; a small helper for stable output.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
