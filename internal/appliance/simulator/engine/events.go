package engine

import (
	"fmt"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Event kinds written by the simulator.
const (
	EventNodeState     = "node_state"
	EventPartitionSwap = "partition_swap"
	EventImageAdded    = "image_added"
	EventImageDeleted  = "image_deleted"
	EventStageStarted  = "stage_started"
	EventImageStaged   = "image_staged"
	EventResourceState = "resource_state"
	EventResourceMoved = "resource_moved"
	EventRoleChange    = "role_change"
	EventTask          = "task"
	EventFault         = "fault"
	EventLease         = "lease"
	EventFinalize      = "finalize"
	EventCluster       = "cluster"
)

// event appends an event stamped with the simulated instant at which it
// happened (not the time of the request that noticed it).
func (st *State) Event(cs *ClusterState, at time.Time, kind, node, format string, args ...any) {
	st.Counters.Event++
	cs.Events = append(cs.Events, api.Event{
		Seq:     st.Counters.Event,
		Time:    at,
		Cluster: cs.Cluster.Name,
		Kind:    kind,
		Node:    node,
		Message: fmt.Sprintf(format, args...),
	})
	if over := len(cs.Events) - maxEvents; over > 0 {
		cs.Events = append([]api.Event(nil), cs.Events[over:]...)
	}
}
