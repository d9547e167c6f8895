package engine

import (
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// stateSchema is bumped when the state file's shape changes incompatibly,
// so that an old file gives a clear error instead of a silent misreading.
const stateSchema = 1

// maxEvents bounds the events kept per cluster: the state file is rewritten
// on every change, so it must not grow without end.
const maxEvents = 2000

// maxIdempotency bounds the remembered Idempotency-Key answers.
const maxIdempotency = 1000

// State is everything the simulator knows; it is the content of the state file.
type State struct {
	Schema      int             `json:"schema"`
	Topology    string          `json:"topology"`
	Clock       clockState      `json:"clock"`
	Counters    counters        `json:"counters"`
	Clusters    []*ClusterState `json:"clusters"`
	Tasks       []*TaskState    `json:"tasks"`
	Timers      []timer         `json:"timers"`
	Faults      []api.Fault     `json:"faults"`
	Idempotency []IdemRecord    `json:"idempotency"`
}

// counters hand out identifiers and sequence numbers.
type counters struct {
	Task  int64 `json:"task"`
	Event int64 `json:"event"`
	Fault int64 `json:"fault"`
	Timer int64 `json:"timer"`
}

// ClusterState is one cluster: its wire snapshot plus what the simulator
// needs and the API does not show.
type ClusterState struct {
	Cluster appliance.Cluster        `json:"cluster"`
	Config  clusterConfig            `json:"config"`
	Nodes   map[string]*NodeInternal `json:"nodes"`
	Images  []*ImageRecord           `json:"images"`
	Events  []api.Event              `json:"events"`
	Outages []api.Outage             `json:"outages"`
	Lease   *api.Lease               `json:"lease,omitempty"`
	// LeaseGeneration is the generation of the last lease granted (the
	// fencing token); it outlives the lease, so that a new lease always
	// gets a higher one than every lease before it.
	LeaseGeneration int64 `json:"lease_generation,omitempty"`
	// LastLease is how the last lease that is gone ended, for the refusal
	// of a request still sent under it.
	LastLease *EndedLease `json:"last_lease,omitempty"`
	// Windows are the declared offline windows (S16 finalize, S25): outages
	// inside them are Declared.
	Window *DeclaredWindow `json:"window,omitempty"`
	// Finalized is the version the shared media was last finalized for (S16):
	// finalize again on the same version has nothing to do.
	Finalized string `json:"finalized,omitempty"`
}

// clusterConfig holds the simulated durations of a cluster, in simulated seconds.
type clusterConfig struct {
	RebootSeconds   int `json:"reboot_seconds"`
	StageSeconds    int `json:"stage_seconds"`
	MoveSeconds     int `json:"move_seconds"`
	PromoteSeconds  int `json:"promote_seconds"`
	FinalizeSeconds int `json:"finalize_seconds"`
	DownloadSeconds int `json:"download_seconds"`
	// DiskBytes is the image store's capacity; 0 means unlimited.
	DiskBytes int64 `json:"disk_bytes,omitempty"`
}

// DeclaredWindow is an announced offline window.
type DeclaredWindow struct {
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
}

// NodeInternal is what the simulator tracks per node beyond the wire Node.
type NodeInternal struct {
	// ActiveIrreversible and AlternateIrreversible are the irreversible
	// features of the image in each partition (S9), kept here so that
	// deleting an image does not forget them.
	ActiveIrreversible    []string `json:"active_irreversible,omitempty"`
	AlternateIrreversible []string `json:"alternate_irreversible,omitempty"`
	// Task is the task that owns the node right now (one at a time).
	Task string `json:"task,omitempty"`
	// NotJoined is set when the node came back but the cluster does not
	// count it (FaultFewerMembers, S22).
	NotJoined bool `json:"not_joined,omitempty"`
	// FailedBoot is set while a node is down after a failed boot that was
	// not reverted: a revert then boots its (unchanged) active partition.
	FailedBoot bool `json:"failed_boot,omitempty"`
}

// ImageRecord is an image the cluster holds: only the manifest, sha256 and
// size are kept; the payload bytes are discarded once verified.
type ImageRecord struct {
	api.Image
}

// TaskState is a task plus the internal fields of its state machine.
type TaskState struct {
	api.Task
	Node       string    `json:"node,omitempty"`
	Resource   string    `json:"resource,omitempty"`
	ImageID    string    `json:"image_id,omitempty"`
	AutoRevert bool      `json:"auto_revert,omitempty"`
	Fault      string    `json:"fault,omitempty"`  // the fault this task is suffering
	Factor     float64   `json:"factor,omitempty"` // slow-down factor
	Phase      string    `json:"phase,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DueAt      time.Time `json:"due_at"` // when the current phase is expected to end (progress)
	// Worker and Heartbeat identify the process doing real I/O for a task
	// (downloads), so that a later process can fail a task orphaned by a crash.
	Worker    string    `json:"worker,omitempty"`
	Heartbeat time.Time `json:"heartbeat,omitempty"`
}

// timer is an action due at a simulated instant.
type timer struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Task    string    `json:"task,omitempty"`
	Cluster string    `json:"cluster,omitempty"`
	Node    string    `json:"node,omitempty"`
}

// IdemRecord is the first answer to a POST carrying an Idempotency-Key.
type IdemRecord struct {
	Key    string `json:"key"`
	Route  string `json:"route"`
	Status int    `json:"status"`
	Body   []byte `json:"body"`
}

// cluster returns the named cluster, or nil.
func (st *State) Cluster(name string) *ClusterState {
	for _, c := range st.Clusters {
		if c.Cluster.Name == name {
			return c
		}
	}
	return nil
}

// task returns the task with id, or nil.
func (st *State) Task(id string) *TaskState {
	for _, t := range st.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// image returns the cluster's image with id, or nil.
func (cs *ClusterState) Image(id string) *ImageRecord {
	for _, im := range cs.Images {
		if im.ID == id {
			return im
		}
	}
	return nil
}

// ImageBySHA returns the cluster's image with that sha256, or nil.
func (cs *ClusterState) ImageBySHA(sha string) *ImageRecord {
	for _, im := range cs.Images {
		if im.SHA256 == sha {
			return im
		}
	}
	return nil
}

// internal returns the node's internal record, creating it if needed.
func (cs *ClusterState) Internal(node string) *NodeInternal {
	if cs.Nodes == nil {
		cs.Nodes = map[string]*NodeInternal{}
	}
	ni := cs.Nodes[node]
	if ni == nil {
		ni = &NodeInternal{}
		cs.Nodes[node] = ni
	}
	return ni
}
