package simulator

import (
	"net/http"
	"strconv"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// clusterOf returns the cluster named in the path.
func clusterOf(t *engine.Tx, r *http.Request) (*engine.ClusterState, error) {
	name := r.PathValue("c")
	cs := t.St.Cluster(name)
	if cs == nil {
		return nil, engine.NotFound("no cluster %q", name)
	}
	return cs, nil
}

// nodeOf returns the cluster and node named in the path.
func nodeOf(t *engine.Tx, r *http.Request) (*engine.ClusterState, *appliance.Node, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return nil, nil, err
	}
	name := r.PathValue("n")
	n := cs.Cluster.Node(name)
	if n == nil {
		return nil, nil, engine.NotFound("cluster %s has no node %q", cs.Cluster.Name, name)
	}
	return cs, n, nil
}

func (s *Server) listClusters(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	out := api.ClusterList{Clusters: []appliance.Cluster{}}
	for _, cs := range t.St.Clusters {
		c := cs.Cluster.Clone()
		c.ObservedAt = observedAt(t)
		c.Lease = leaseHolder(cs)
		out.Clusters = append(out.Clusters, *c)
	}
	return http.StatusOK, out, nil
}

func (s *Server) getCluster(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	c := cs.Cluster.Clone()
	c.ObservedAt = observedAt(t)
	c.Lease = leaseHolder(cs)
	return http.StatusOK, c, nil
}

// leaseHolder is who holds the cluster's live lease, for the snapshot
// (nil when it is free or has expired): never its id, which is a
// capability. Leases run on the wall clock (engine.WallNow), so the
// holder's silence is counted on it too.
func leaseHolder(cs *engine.ClusterState) *appliance.LeaseHolder {
	l := cs.Lease
	now := engine.WallNow()
	if l == nil || !now.Before(l.ExpiresAt) {
		return nil
	}
	silent := 0
	if !l.RenewedAt.IsZero() {
		silent = int(now.Sub(l.RenewedAt) / time.Second)
	}
	return &appliance.LeaseHolder{Owner: l.Owner, OperationKey: l.OperationKey, ExpiresAt: l.ExpiresAt.UTC(),
		SilentSeconds: silent, HeartbeatSeconds: l.HeartbeatSeconds}
}

// observedAt stamps a snapshot with the simulated time it was read at, so
// that a client can measure a node's healthy run (healthy_since) in the
// simulator's time.
func observedAt(t *engine.Tx) *time.Time {
	now := t.Now
	return &now
}

func (s *Server) listEvents(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, nil, engine.BadRequest("since must be an event sequence number")
		}
	}
	out := api.EventList{Events: []api.Event{}}
	for _, e := range cs.Events {
		if e.Seq > since {
			out.Events = append(out.Events, e)
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) getLedger(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	out := api.Ledger{Outages: append([]api.Outage{}, cs.Outages...)}
	return http.StatusOK, out, nil
}

// LicenseRequest is the body of POST /v1/clusters/{c}/licenses.
type LicenseRequest = api.LicenseRequest

func (s *Server) addLicense(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	var req LicenseRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	if err := t.AddLicense(cs, req.Series); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}

// SuperclusterRequest is the body of POST /v1/clusters/{c}/supercluster.
type SuperclusterRequest = api.SuperclusterRequest

func (s *Server) setSupercluster(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	var req SuperclusterRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	if err := t.SetSupercluster(cs, req.Name); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}

// MaintenanceRequest is the body of POST /v1/clusters/{c}/maintenance.
type MaintenanceRequest = api.MaintenanceRequest

func (s *Server) setMaintenance(t *engine.Tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	var req MaintenanceRequest
	if err := decodeRequired(body, &req); err != nil {
		return 0, nil, err
	}
	if err := requireLease(t, cs, r); err != nil {
		return 0, nil, err
	}
	t.SetMaintenance(cs, req.Open)
	return http.StatusOK, cs.Cluster.Clone(), nil
}
