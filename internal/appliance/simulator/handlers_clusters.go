package simulator

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// clusterOf returns the cluster named in the path.
func (t *tx) clusterOf(r *http.Request) (*clusterState, error) {
	name := r.PathValue("c")
	cs := t.st.cluster(name)
	if cs == nil {
		return nil, notFound("no cluster %q", name)
	}
	return cs, nil
}

// nodeOf returns the cluster and node named in the path.
func (t *tx) nodeOf(r *http.Request) (*clusterState, *appliance.Node, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return nil, nil, err
	}
	name := r.PathValue("n")
	n := cs.Cluster.Node(name)
	if n == nil {
		return nil, nil, notFound("cluster %s has no node %q", cs.Cluster.Name, name)
	}
	return cs, n, nil
}

func (s *Server) listClusters(t *tx, r *http.Request, _ []byte) (int, any, error) {
	out := api.ClusterList{Clusters: []appliance.Cluster{}}
	for _, cs := range t.st.Clusters {
		out.Clusters = append(out.Clusters, *cs.Cluster.Clone())
	}
	return http.StatusOK, out, nil
}

func (s *Server) getCluster(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}

func (s *Server) listEvents(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	var since int64
	if v := r.URL.Query().Get("since"); v != "" {
		if since, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, nil, badRequest("since must be an event sequence number")
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

func (s *Server) getLedger(t *tx, r *http.Request, _ []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	out := api.Ledger{Outages: append([]api.Outage{}, cs.Outages...)}
	return http.StatusOK, out, nil
}

// LicenseRequest is the body of POST /v1/clusters/{c}/licenses.
type LicenseRequest = api.LicenseRequest

func (s *Server) addLicense(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	var req LicenseRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	v, perr := appliance.ParseVersion(req.Series)
	if perr != nil {
		return 0, nil, badRequest("series: %v", perr)
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	series := seriesOf(v)
	for _, l := range cs.Cluster.Licenses {
		if appliance.SameVersion(l, series) {
			return http.StatusOK, cs.Cluster.Clone(), nil
		}
	}
	cs.Cluster.Licenses = append(cs.Cluster.Licenses, series)
	t.st.event(cs, t.now, EventCluster, "", "license for the %s series installed", series)
	t.dirty = true
	return http.StatusOK, cs.Cluster.Clone(), nil
}

// SuperclusterRequest is the body of POST /v1/clusters/{c}/supercluster.
type SuperclusterRequest = api.SuperclusterRequest

func (s *Server) setSupercluster(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	var req SuperclusterRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	name := strings.TrimSpace(req.Name)
	if name != "" {
		// S23: all clusters of a supercluster must run compatible versions.
		mine, ok := cs.Cluster.UniformVersion()
		if !ok {
			return 0, nil, unprocessable(api.CodePreconditionFailed, "cluster %s runs mixed versions (%s): it cannot join a supercluster", cs.Cluster.Name, versionsText(&cs.Cluster))
		}
		mv, _ := appliance.ParseVersion(mine)
		for _, o := range t.st.Clusters {
			if o == cs || o.Cluster.Supercluster != name {
				continue
			}
			for _, n := range o.Cluster.Nodes {
				if ov, err := appliance.ParseVersion(n.Active.Version); err == nil && !ov.CompatibleWith(mv) {
					return 0, nil, unprocessable(api.CodePreconditionFailed,
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
			t.st.event(cs, t.now, EventCluster, "", "cluster left supercluster %s", old)
		} else {
			t.st.event(cs, t.now, EventCluster, "", "cluster joined supercluster %s", name)
		}
		t.dirty = true
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}

// MaintenanceRequest is the body of POST /v1/clusters/{c}/maintenance.
type MaintenanceRequest = api.MaintenanceRequest

func (s *Server) setMaintenance(t *tx, r *http.Request, body []byte) (int, any, error) {
	cs, err := t.clusterOf(r)
	if err != nil {
		return 0, nil, err
	}
	var req MaintenanceRequest
	if err := decode(body, &req); err != nil {
		return 0, nil, err
	}
	if err := t.requireLease(cs, r); err != nil {
		return 0, nil, err
	}
	switch {
	case req.Open && cs.Window == nil:
		setWindow(cs, t.now, "maintenance")
		t.st.event(cs, t.now, EventCluster, "", "maintenance window opened")
		t.dirty = true
	case !req.Open && cs.Window != nil:
		setWindow(cs, t.now, "")
		t.st.event(cs, t.now, EventCluster, "", "maintenance window closed")
		t.dirty = true
	}
	return http.StatusOK, cs.Cluster.Clone(), nil
}
