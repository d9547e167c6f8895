package simulator

import (
	"maps"
	"net/http"
	"sync"
)

// Request counts of this simulator process, so that a test or a benchmark
// can assert how many requests a Terraform operation made, and how many
// times it read each cluster (GET /v1/clusters/{c}). They are per process
// and start at zero: they are not part of the shared state file.
type requestStats struct {
	mu          sync.Mutex
	requests    int64
	clusterGets map[string]int64
}

// Stats is the answer of GET /v1/stats.
type Stats struct {
	// Requests counts every /v1 request served since start.
	Requests int64 `json:"requests"`
	// ClusterGets counts GET /v1/clusters/{c} per cluster.
	ClusterGets map[string]int64 `json:"cluster_gets"`
}

func (rs *requestStats) count(r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.requests++
	if r.Method == http.MethodGet && r.Pattern == "GET /v1/clusters/{c}" {
		if rs.clusterGets == nil {
			rs.clusterGets = map[string]int64{}
		}
		rs.clusterGets[r.PathValue("c")]++
	}
}

// Stats returns the request counts so far.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := Stats{Requests: s.stats.requests, ClusterGets: maps.Clone(s.stats.clusterGets)}
	if out.ClusterGets == nil {
		out.ClusterGets = map[string]int64{}
	}
	return out
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}
