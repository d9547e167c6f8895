package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// Topology is the shape a simulator starts from: one or more clusters behind
// one endpoint, and faults armed from the start. A topology file is this, in
// JSON; fields left out take the defaults documented on TopologyCluster.
type Topology struct {
	Clusters []TopologyCluster `json:"clusters"`
	Faults   []api.Fault       `json:"faults,omitempty"`
	// TrustedKeys (ed25519 public keys, PEM) make every cluster require
	// images signed by one of them.
	TrustedKeys []string `json:"trusted_keys,omitempty"`
}

// TopologyCluster is a cluster snapshot (the same JSON as GET
// /v1/clusters/{c}) plus the simulated durations of its operations.
//
// Defaults: node state "running", healthy, active partition bootable with
// components {"os": version}; resource online on its preferred node;
// reported_members = number of nodes; cluster healthy; reboot 90 s, stage
// 30 s, resource move 5 s, promote 10 s, finalize 60 s, download 20 s
// (simulated seconds).
type TopologyCluster struct {
	appliance.Cluster
	RebootSeconds   int   `json:"reboot_seconds,omitempty"`
	StageSeconds    int   `json:"stage_seconds,omitempty"`
	MoveSeconds     int   `json:"move_seconds,omitempty"`
	PromoteSeconds  int   `json:"promote_seconds,omitempty"`
	FinalizeSeconds int   `json:"finalize_seconds,omitempty"`
	DownloadSeconds int   `json:"download_seconds,omitempty"`
	DiskBytes       int64 `json:"disk_bytes,omitempty"`
}

// Default durations, in simulated seconds.
const (
	DefaultRebootSeconds   = 90 // "more than a minute per node" (S11)
	DefaultStageSeconds    = 30
	DefaultMoveSeconds     = 5
	DefaultPromoteSeconds  = 10
	DefaultFinalizeSeconds = 60
	DefaultDownloadSeconds = 20
)

// LoadTopologyFile reads a topology file.
func LoadTopologyFile(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading topology file: %w", err)
	}
	if err := validateTopologyJSON(data); err != nil {
		return nil, fmt.Errorf("topology file %s: %w", path, err)
	}
	var t Topology
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("topology file %s is not valid: %w", path, err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("topology file %s: %w", path, err)
	}
	return &t, nil
}

// Validate checks every cluster of the topology, after defaults.
func (t *Topology) Validate() error {
	if len(t.Clusters) == 0 {
		return fmt.Errorf("the topology has no cluster")
	}
	seen := map[string]bool{}
	for i := range t.Clusters {
		c := t.Clusters[i].Clone()
		applyClusterDefaults(c)
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("cluster %s appears twice", c.Name)
		}
		seen[c.Name] = true
		for _, n := range c.Nodes {
			if _, err := rules.Parse(n.Active.Version); err != nil {
				return fmt.Errorf("cluster %s node %s: %w", c.Name, n.Name, err)
			}
		}
	}
	for _, f := range t.Faults {
		if err := ValidateFault(f); err != nil {
			return err
		}
	}
	return nil
}

// applyClusterDefaults fills what a topology may leave out.
func applyClusterDefaults(c *appliance.Cluster) {
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.State == "" {
			n.State = appliance.NodeRunning
			n.Healthy = true
		}
		if n.Active.Version != "" && !n.Active.Bootable {
			n.Active.Bootable = true
		}
		if n.Active.Version != "" && len(n.Active.Components) == 0 {
			n.Active.Components = map[string]string{"os": n.Active.Version}
		}
		if n.Alternate.Version != "" && len(n.Alternate.Components) == 0 {
			n.Alternate.Components = map[string]string{"os": n.Alternate.Version}
		}
	}
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.State == "" {
			r.State = appliance.ResourceOnline
		}
		if r.CurrentNode == "" && r.State == appliance.ResourceOnline {
			r.CurrentNode = r.PreferredNode
		}
	}
	if c.ReportedMembers == 0 {
		c.ReportedMembers = len(c.Nodes)
	}
}

// newState builds the initial state of a topology at simulated time now.
func newState(name string, t *Topology, clock clockState, now time.Time) (*State, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	st := &State{Schema: stateSchema, Topology: name, Clock: clock}
	for _, tc := range t.Clusters {
		c := tc.Clone()
		applyClusterDefaults(c)
		for i := range c.Nodes {
			if c.Nodes[i].Healthy && c.Nodes[i].HealthySince == nil {
				since := now
				c.Nodes[i].HealthySince = &since
			}
		}
		cs := &ClusterState{
			Cluster: *c,
			Config: clusterConfig{
				RebootSeconds:   orDefault(tc.RebootSeconds, DefaultRebootSeconds),
				StageSeconds:    orDefault(tc.StageSeconds, DefaultStageSeconds),
				MoveSeconds:     orDefault(tc.MoveSeconds, DefaultMoveSeconds),
				PromoteSeconds:  orDefault(tc.PromoteSeconds, DefaultPromoteSeconds),
				FinalizeSeconds: orDefault(tc.FinalizeSeconds, DefaultFinalizeSeconds),
				DownloadSeconds: orDefault(tc.DownloadSeconds, DefaultDownloadSeconds),
				DiskBytes:       tc.DiskBytes,
			},
		}
		for _, n := range c.Nodes {
			cs.Internal(n.Name)
		}
		if v, ok := uniformVersion(c); ok {
			cs.Finalized = v
			cs.Cluster.FinalizedVersion = v
		}
		UpdateHealth(cs)
		st.Clusters = append(st.Clusters, cs)
	}
	for _, f := range t.Faults {
		st.AddFault(f)
	}
	return st, nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}
