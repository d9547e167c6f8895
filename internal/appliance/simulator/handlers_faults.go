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
	if err := decodeRequired(body, &f); err != nil {
		return 0, nil, err
	}
	f, err := t.ArmFault(f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, f, nil
}

func (s *Server) deleteFault(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	if err := t.DisarmFault(r.PathValue("id")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) clearFaults(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	t.ClearFaults()
	return http.StatusNoContent, nil, nil
}
