package engine

import (
	"fmt"
	"strconv"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// faultKinds are the faults the simulator knows how to inflict.
var faultKinds = map[string]bool{
	api.FaultBootFailure: true, api.FaultStorageFailure: true, api.FaultNeverReturns: true,
	api.FaultSlow: true, api.FaultReturnsOld: true, api.FaultFewerMembers: true,
	api.FaultHTTP5xx: true, api.FaultHTTP429: true, api.FaultDropUpload: true,
	api.FaultCorruptDownload: true, api.FaultDiskFull: true, api.FaultRevertFailure: true,
}

func ValidateFault(f api.Fault) error {
	if !faultKinds[f.Kind] {
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count must not be negative")
	}
	if f.Kind == api.FaultSlow && f.Factor != 0 && f.Factor < 1 {
		return fmt.Errorf("a slow fault's factor must be at least 1")
	}
	return nil
}

// AddFault arms a fault and returns it with its id.
func (st *State) AddFault(f api.Fault) api.Fault {
	st.Counters.Fault++
	f.ID = "fault-" + strconv.FormatInt(st.Counters.Fault, 10)
	if f.Kind == api.FaultSlow && f.Factor == 0 {
		f.Factor = 3
	}
	st.Faults = append(st.Faults, f)
	return f
}

// TakeFault finds an armed fault of kind that applies to cluster and node,
// consumes one use of it (a Count of 0 lasts until cleared) and returns it.
func (st *State) TakeFault(kind, cluster, node string) (api.Fault, bool) {
	for i, f := range st.Faults {
		if f.Kind != kind {
			continue
		}
		if f.Cluster != "" && f.Cluster != cluster {
			continue
		}
		if f.Node != "" && node != "" && f.Node != node {
			continue
		}
		if f.Node != "" && node == "" {
			continue
		}
		if f.Count > 0 {
			st.Faults[i].Count--
			if st.Faults[i].Count == 0 {
				st.Faults = append(st.Faults[:i:i], st.Faults[i+1:]...)
			}
		}
		return f, true
	}
	return api.Fault{}, false
}

// slowFactor is the product of the slow faults on a node (1 when none).
// Slow faults are not consumed per use unless they have a Count.
func (st *State) slowFactor(cluster, node string) float64 {
	if f, ok := st.TakeFault(api.FaultSlow, cluster, node); ok {
		if f.Factor >= 1 {
			return f.Factor
		}
	}
	return 1
}

// bootFault takes the first activation fault armed for the node, in order
// of severity.
func (st *State) bootFault(cluster, node string) string {
	for _, k := range []string{api.FaultNeverReturns, api.FaultBootFailure, api.FaultStorageFailure, api.FaultReturnsOld, api.FaultFewerMembers} {
		if _, ok := st.TakeFault(k, cluster, node); ok {
			return k
		}
	}
	return ""
}
