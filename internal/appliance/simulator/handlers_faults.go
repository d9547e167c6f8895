package simulator

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

func (s *Server) listFaults(t *tx, r *http.Request, _ []byte) (int, any, error) {
	return http.StatusOK, api.FaultList{Faults: append([]api.Fault{}, t.st.Faults...)}, nil
}

func (s *Server) addFault(t *tx, r *http.Request, body []byte) (int, any, error) {
	var f api.Fault
	if err := decode(body, &f); err != nil {
		return 0, nil, err
	}
	if err := validateFault(f); err != nil {
		return 0, nil, badRequest("%v", err)
	}
	if f.Cluster != "" && t.st.cluster(f.Cluster) == nil {
		return 0, nil, unprocessable(api.CodeInvalidRequest, "no cluster %q", f.Cluster)
	}
	if f.Node != "" {
		found := false
		for _, cs := range t.st.Clusters {
			if (f.Cluster == "" || cs.Cluster.Name == f.Cluster) && cs.Cluster.Node(f.Node) != nil {
				found = true
			}
		}
		if !found {
			return 0, nil, unprocessable(api.CodeInvalidRequest, "no node %q", f.Node)
		}
	}
	f = t.st.addFault(f)
	for _, cs := range t.st.Clusters {
		if f.Cluster == "" || f.Cluster == cs.Cluster.Name {
			t.st.event(cs, t.now, EventFault, f.Node, "fault %s armed: %s", f.ID, f.Kind)
		}
	}
	t.dirty = true
	return http.StatusCreated, f, nil
}

func (s *Server) deleteFault(t *tx, r *http.Request, _ []byte) (int, any, error) {
	id := r.PathValue("id")
	for i, f := range t.st.Faults {
		if f.ID == id {
			t.st.Faults = append(t.st.Faults[:i:i], t.st.Faults[i+1:]...)
			t.dirty = true
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, notFound("no fault %q", id)
}

func (s *Server) clearFaults(t *tx, r *http.Request, _ []byte) (int, any, error) {
	if len(t.st.Faults) > 0 {
		t.st.Faults = nil
		t.dirty = true
	}
	return http.StatusNoContent, nil, nil
}
