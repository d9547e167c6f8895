package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

func (s *Server) listFaults(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, api.FaultList{Faults: append([]api.Fault{}, t.St.Faults...)}, nil
}

func (s *Server) addFault(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	var f api.Fault
	if err := decode(body, &f); err != nil {
		return 0, nil, err
	}
	if err := engine.ValidateFault(f); err != nil {
		return 0, nil, engine.BadRequest("%v", err)
	}
	if f.Cluster != "" && t.St.Cluster(f.Cluster) == nil {
		return 0, nil, engine.Unprocessable(api.CodeInvalidRequest, "no cluster %q", f.Cluster)
	}
	if f.Node != "" {
		found := false
		for _, cs := range t.St.Clusters {
			if (f.Cluster == "" || cs.Cluster.Name == f.Cluster) && cs.Cluster.Node(f.Node) != nil {
				found = true
			}
		}
		if !found {
			return 0, nil, engine.Unprocessable(api.CodeInvalidRequest, "no node %q", f.Node)
		}
	}
	f = t.St.AddFault(f)
	for _, cs := range t.St.Clusters {
		if f.Cluster == "" || f.Cluster == cs.Cluster.Name {
			t.St.Event(cs, t.Now, engine.EventFault, f.Node, "fault %s armed: %s", f.ID, f.Kind)
		}
	}
	t.Dirty = true
	return http.StatusCreated, f, nil
}

func (s *Server) deleteFault(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	id := r.PathValue("id")
	for i, f := range t.St.Faults {
		if f.ID == id {
			t.St.Faults = append(t.St.Faults[:i:i], t.St.Faults[i+1:]...)
			t.Dirty = true
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, engine.NotFound("no fault %q", id)
}

func (s *Server) clearFaults(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	if len(t.St.Faults) > 0 {
		t.St.Faults = nil
		t.Dirty = true
	}
	return http.StatusNoContent, nil, nil
}
