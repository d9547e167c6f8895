package simulator

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
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
		out.Clusters = append(out.Clusters, *cs.Cluster.Clone())
	}
	return http.StatusOK, out, nil
}

func (s *Server) getCluster(t *engine.Tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := clusterOf(t, r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
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
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if _, perr := rules.Parse(req.Series); perr != nil {
		return 0, nil, engine.BadRequest("series: %v", perr)
	}
	if err := t.RequireLease(cs, r.Header.Get(api.HeaderLeaseID)); err != nil {
		return 0, nil, err
	}
	series := engine.SeriesOf(req.Series)
	for _, l := range cs.Cluster.Licenses {
		if rules.Same(l, series) {
			return http.StatusOK, cs.Cluster.Clone(), nil
		}
	}
	cs.Cluster.Licenses = append(cs.Cluster.Licenses, series)
	t.St.Event(cs, t.Now, engine.EventCluster, "", "license for the %s series installed", series)
	t.Dirty = true
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
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if err := t.RequireLease(cs, r.Header.Get(api.HeaderLeaseID)); err != nil {
		return 0, nil, err
	}
	name := strings.TrimSpace(req.Name)
	if name != "" {
		// S23: all clusters of a supercluster must run compatible versions.
		mine, ok := engine.UniformVersion(&cs.Cluster)
		if !ok {
			return 0, nil, engine.Unprocessable(api.CodePreconditionFailed, "cluster %s runs mixed versions (%s): it cannot join a supercluster", cs.Cluster.Name, engine.VersionsText(&cs.Cluster))
		}
		for _, o := range t.St.Clusters {
			if o == cs || o.Cluster.Supercluster != name {
				continue
			}
			for _, n := range o.Cluster.Nodes {
				if !engine.Compatible(n.Active.Version, mine) {
					return 0, nil, engine.Unprocessable(api.CodePreconditionFailed,
						"cluster %s runs %s, which is not compatible with %s on cluster %s of supercluster %s (S23: only patch releases are compatible)",
						cs.Cluster.Name, mine, n.Active.Version, o.Cluster.Name, name)
				}
			}
		}
	}
	if cs.Cluster.Supercluster != name {
		old := cs.Cluster.Supercluster
		cs.Cluster.Supercluster = name
		if name == "" {
			t.St.Event(cs, t.Now, engine.EventCluster, "", "cluster left supercluster %s", old)
		} else {
			t.St.Event(cs, t.Now, engine.EventCluster, "", "cluster joined supercluster %s", name)
		}
		t.Dirty = true
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
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if err := t.RequireLease(cs, r.Header.Get(api.HeaderLeaseID)); err != nil {
		return 0, nil, err
	}
	switch {
	case req.Open && cs.Window == nil:
		engine.SetWindow(cs, t.Now, "maintenance")
		t.St.Event(cs, t.Now, engine.EventCluster, "", "maintenance window opened")
		t.Dirty = true
	case !req.Open && cs.Window != nil:
		engine.SetWindow(cs, t.Now, "")
		t.St.Event(cs, t.Now, engine.EventCluster, "", "maintenance window closed")
		t.Dirty = true
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}
