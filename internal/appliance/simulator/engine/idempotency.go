package engine

import (
	"net/http"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// Idem returns the remembered answer for an Idempotency-Key, or nil.
func (st *State) Idem(key string) *IdemRecord {
	for i := range st.Idempotency {
		if st.Idempotency[i].Key == key {
			return &st.Idempotency[i]
		}
	}
	return nil
}

// Remember records a first answer, forgetting the oldest beyond the bound.
func (st *State) Remember(rec IdemRecord) {
	st.Idempotency = append(st.Idempotency, rec)
	if over := len(st.Idempotency) - maxIdempotency; over > 0 {
		st.Idempotency = append([]IdemRecord(nil), st.Idempotency[over:]...)
	}
}

// HTTPFault consumes an injected http_5xx or http_429 fault for a cluster
// route and returns the status to answer with, or 0.
func (t *Tx) HTTPFault(cluster string) int {
	if _, ok := t.St.TakeFault(api.FaultHTTP5xx, cluster, ""); ok {
		t.Dirty = true
		return http.StatusServiceUnavailable
	}
	if _, ok := t.St.TakeFault(api.FaultHTTP429, cluster, ""); ok {
		t.Dirty = true
		return http.StatusTooManyRequests
	}
	return 0
}
