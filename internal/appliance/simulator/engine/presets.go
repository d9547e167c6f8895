package engine

import (
	"fmt"
	"sort"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Preset names, after the systems of the seeds.
const (
	// PresetPrimaryHA is an Avere FXT/vFXT cluster (S11, S12), the default:
	// cluster "demo", nodes n1 (primary) and n2..n4 (secondary), HA pairs
	// g1=(n1,n2) and g2=(n3,n4) with min_available 1, HA enabled, every node
	// on "1.0" with component os 1.0 and an empty alternate partition.
	PresetPrimaryHA = "primary-ha"
	// PresetActiveStandby is an HPE Synergy Image Streamer pair (S14, S17,
	// S18-S20): cluster "streamer", is1 (active) and is2 (standby) in HA
	// group "pair", components os and storage on "1.0", settle 45 minutes.
	PresetActiveStandby = "active-standby"
	// PresetMasterStandby is an Oracle Virtual Compute Appliance (S13, S5):
	// cluster "vca", management nodes mgmt1 (master) and mgmt2 (standby) in HA
	// group "mgmt", compute nodes cn1..cn4; components mgmt_image, hmp_image
	// and ovm_image on "1.0".
	PresetMasterStandby = "master-standby"
	// PresetSupercluster is a Polycom RealPresence DMA supercluster (S22-S26):
	// clusters dma1, dma2, dma3 of two servers each (sN-a, sN-b, HA pair),
	// all in supercluster "sc1" on "1.0".
	PresetSupercluster = "supercluster"
	// PresetNetWare is a Novell NetWare cluster (S10, S15, S16): cluster "ncs"
	// with nodes nw1..nw4 on "6.0", resources POOL1..POOL3 on shared storage
	// preferring nw1..nw3 and DHCP (local) preferring nw4 (allowed on nw4 and
	// nw1); needs finalize; licensed for "6.0" only, required from 3 nodes.
	PresetNetWare = "netware"
)

// DefaultPreset is the topology used when none is named.
const DefaultPreset = PresetPrimaryHA

var presets = map[string]func() *Topology{
	PresetPrimaryHA:     primaryHA,
	PresetActiveStandby: activeStandby,
	PresetMasterStandby: masterStandby,
	PresetSupercluster:  supercluster,
	PresetNetWare:       netware,
}

// PresetNames lists the preset topologies, sorted.
func PresetNames() []string {
	out := make([]string, 0, len(presets))
	for n := range presets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Preset returns a fresh copy of the named preset topology.
func Preset(name string) (*Topology, error) {
	if name == "" {
		name = DefaultPreset
	}
	f, ok := presets[name]
	if !ok {
		return nil, fmt.Errorf("unknown topology %q: use one of %v or a topology file", name, PresetNames())
	}
	return f(), nil
}

// node builds a running, healthy node on version with the given components.
func node(name string, role appliance.Role, group, version string, components ...string) appliance.Node {
	if len(components) == 0 {
		components = []string{"os"}
	}
	comps := map[string]string{}
	for _, c := range components {
		comps[c] = version
	}
	return appliance.Node{
		Name: name, Role: role, HAGroup: group,
		State: appliance.NodeRunning, Healthy: true,
		Active: appliance.Partition{Version: version, Bootable: true, Components: comps},
	}
}

func primaryHA() *Topology {
	c := appliance.Cluster{
		Name: "demo",
		Nodes: []appliance.Node{
			node("n1", appliance.RolePrimary, "g1", "1.0"),
			node("n2", appliance.RoleSecondary, "g1", "1.0"),
			node("n3", appliance.RoleSecondary, "g2", "1.0"),
			node("n4", appliance.RoleSecondary, "g2", "1.0"),
		},
		HAGroups: []appliance.HAGroup{
			{Name: "g1", Members: []string{"n1", "n2"}, MinAvailable: 1},
			{Name: "g2", Members: []string{"n3", "n4"}, MinAvailable: 1},
		},
		HAEnabled:       true,
		ReportedMembers: 4,
		Healthy:         true,
	}
	return &Topology{Clusters: []TopologyCluster{{Cluster: c, RebootSeconds: 90}}}
}

func activeStandby() *Topology {
	c := appliance.Cluster{
		Name: "streamer",
		Nodes: []appliance.Node{
			node("is1", appliance.RoleActive, "pair", "1.0", "os", appliance.ComponentStorage),
			node("is2", appliance.RoleStandby, "pair", "1.0", "os", appliance.ComponentStorage),
		},
		HAGroups:        []appliance.HAGroup{{Name: "pair", Members: []string{"is1", "is2"}, MinAvailable: 1}},
		HAEnabled:       true,
		ReportedMembers: 2,
		SettleSeconds:   45 * 60,
		Healthy:         true,
	}
	return &Topology{Clusters: []TopologyCluster{{Cluster: c, RebootSeconds: 180}}}
}

func masterStandby() *Topology {
	comps := []string{"mgmt_image", "hmp_image", "ovm_image"}
	c := appliance.Cluster{
		Name: "vca",
		Nodes: []appliance.Node{
			node("mgmt1", appliance.RoleMaster, "mgmt", "1.0", comps...),
			node("mgmt2", appliance.RoleStandby, "mgmt", "1.0", comps...),
			node("cn1", appliance.RoleCompute, "", "1.0", comps...),
			node("cn2", appliance.RoleCompute, "", "1.0", comps...),
			node("cn3", appliance.RoleCompute, "", "1.0", comps...),
			node("cn4", appliance.RoleCompute, "", "1.0", comps...),
		},
		HAGroups:        []appliance.HAGroup{{Name: "mgmt", Members: []string{"mgmt1", "mgmt2"}, MinAvailable: 1}},
		HAEnabled:       true,
		ReportedMembers: 6,
		Healthy:         true,
	}
	return &Topology{Clusters: []TopologyCluster{{Cluster: c, RebootSeconds: 120}}}
}

func supercluster() *Topology {
	t := &Topology{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("dma%d", i)
		a, b := fmt.Sprintf("s%d-a", i), fmt.Sprintf("s%d-b", i)
		c := appliance.Cluster{
			Name: name,
			Nodes: []appliance.Node{
				node(a, appliance.RoleMember, "pair", "1.0"),
				node(b, appliance.RoleMember, "pair", "1.0"),
			},
			HAGroups:        []appliance.HAGroup{{Name: "pair", Members: []string{a, b}, MinAvailable: 1}},
			HAEnabled:       true,
			Supercluster:    "sc1",
			ReportedMembers: 2,
			Healthy:         true,
		}
		t.Clusters = append(t.Clusters, TopologyCluster{Cluster: c, RebootSeconds: 120})
	}
	return t
}

func netware() *Topology {
	res := func(name, preferred string, shared bool, allowed ...string) appliance.Resource {
		return appliance.Resource{Name: name, PreferredNode: preferred, CurrentNode: preferred,
			SharedStorage: shared, AllowedNodes: allowed, State: appliance.ResourceOnline}
	}
	c := appliance.Cluster{
		Name: "ncs",
		Nodes: []appliance.Node{
			node("nw1", appliance.RoleMember, "", "6.0"),
			node("nw2", appliance.RoleMember, "", "6.0"),
			node("nw3", appliance.RoleMember, "", "6.0"),
			node("nw4", appliance.RoleMember, "", "6.0"),
		},
		Resources: []appliance.Resource{
			res("POOL1", "nw1", true),
			res("POOL2", "nw2", true),
			res("POOL3", "nw3", true),
			res("DHCP", "nw4", false, "nw4", "nw1"),
		},
		HAEnabled:       true,
		Licenses:        []string{"6.0"},
		LicenseMinNodes: 3,
		NeedsFinalize:   true,
		ReportedMembers: 4,
		Healthy:         true,
	}
	return &Topology{Clusters: []TopologyCluster{{Cluster: c, RebootSeconds: 120}}}
}
