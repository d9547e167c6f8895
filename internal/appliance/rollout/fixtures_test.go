package rollout

import (
	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// vca is Oracle VCA (S13): master/standby management pair and compute nodes.
func vca() *appliance.Cluster {
	return &appliance.Cluster{Name: "vca", HAEnabled: true, Healthy: true,
		Nodes: []appliance.Node{
			node("mgmt1", appliance.RoleMaster, "mgmt", "2.0", ""),
			node("mgmt2", appliance.RoleStandby, "mgmt", "2.0", ""),
			node("cn1", appliance.RoleCompute, "", "2.0", ""),
			node("cn2", appliance.RoleCompute, "", "2.0", ""),
			node("cn3", appliance.RoleCompute, "", "2.0", ""),
		},
		HAGroups: []appliance.HAGroup{{Name: "mgmt", Members: []string{"mgmt1", "mgmt2"}, MinAvailable: 1}},
	}
}

// streamer is HPE Image Streamer (S14): an active/standby pair with storage.
func streamer() *appliance.Cluster {
	return &appliance.Cluster{Name: "streamer", HAEnabled: true, Healthy: true, SettleSeconds: 2700,
		Nodes: []appliance.Node{
			node("isa", appliance.RoleActive, "pair", "4.0", ""),
			node("isb", appliance.RoleStandby, "pair", "4.0", ""),
		},
		HAGroups: []appliance.HAGroup{{Name: "pair", Members: []string{"isa", "isb"}, MinAvailable: 1}},
	}
}

// netware is a NetWare-style 3-member cluster with resources (S15, S16).
func netware() *appliance.Cluster {
	return &appliance.Cluster{Name: "nw", Healthy: true, NeedsFinalize: true,
		Licenses: []string{"6.5"}, LicenseMinNodes: 3,
		Nodes: []appliance.Node{
			node("s1", appliance.RoleMember, "", "6.5", ""),
			node("s2", appliance.RoleMember, "", "6.5", ""),
			node("s3", appliance.RoleMember, "", "6.5", ""),
		},
		Resources: []appliance.Resource{
			{Name: "pool1", CurrentNode: "s1", PreferredNode: "s1", SharedStorage: true, State: appliance.ResourceOnline},
			{Name: "vol2", CurrentNode: "s2", PreferredNode: "s2", AllowedNodes: []string{"s2", "s3"}, State: appliance.ResourceOnline},
			{Name: "share3", CurrentNode: "s3", PreferredNode: "s3", AllowedNodes: []string{"s1", "s3"}, State: appliance.ResourceOnline},
		},
	}
}
