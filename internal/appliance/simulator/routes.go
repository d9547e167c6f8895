package simulator

import (
	"net/http"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/downloadsite"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Route is one route of the API, as a Go 1.22 ServeMux pattern splits it.
type Route struct {
	Method  string
	Pattern string
}

// endpoint is a route and how it is served.
type endpoint struct {
	Route
	h http.HandlerFunc
}

// endpoints lists every route. Routes() reads the same list, so the list
// checked against the OpenAPI file is the list served.
func (s *Server) endpoints() []endpoint {
	e := func(method, pattern string, h http.HandlerFunc) endpoint {
		if strings.HasPrefix(pattern, "/v1/") {
			// Every /v1 route needs the bearer token, and every one refuses
			// a request without it the same way.
			h = s.requireToken(h)
			next := h
			h = func(w http.ResponseWriter, r *http.Request) {
				s.stats.count(r)
				next(w, r)
			}
		}
		return endpoint{Route{method, pattern}, h}
	}
	return []endpoint{
		e("GET", "/healthz", s.handleHealthz),
		e("GET", "/{$}", s.handleStatus),

		e("GET", "/v1/clusters", s.json(s.listClusters, false)),
		e("GET", "/v1/clusters/{c}", s.json(s.getCluster, true)),
		e("GET", "/v1/clusters/{c}/images", s.json(s.listImages, true)),
		e("POST", "/v1/clusters/{c}/images", s.handleUpload),
		e("GET", "/v1/clusters/{c}/images/{id}", s.json(s.getImage, true)),
		e("DELETE", "/v1/clusters/{c}/images/{id}", s.json(s.deleteImage, true)),
		e("POST", "/v1/clusters/{c}/downloads", s.json(s.startDownload, true)),

		e("POST", "/v1/clusters/{c}/nodes/{n}/stage", s.json(s.stage, true)),
		e("POST", "/v1/clusters/{c}/nodes/{n}/activate", s.json(s.activate, true)),
		e("POST", "/v1/clusters/{c}/nodes/{n}/revert", s.json(s.revert, true)),
		e("POST", "/v1/clusters/{c}/nodes/{n}/promote", s.json(s.promote, true)),
		e("POST", "/v1/clusters/{c}/resources/{r}/move", s.json(s.moveResource, true)),
		e("POST", "/v1/clusters/{c}/finalize", s.json(s.finalize, true)),
		e("POST", "/v1/clusters/{c}/licenses", s.json(s.addLicense, true)),
		e("POST", "/v1/clusters/{c}/supercluster", s.json(s.setSupercluster, true)),
		e("POST", "/v1/clusters/{c}/maintenance", s.json(s.setMaintenance, true)),

		e("POST", "/v1/clusters/{c}/lease", s.json(s.acquireLease, true)),
		e("DELETE", "/v1/clusters/{c}/lease/{id}", s.json(s.releaseLease, true)),

		e("GET", "/v1/clusters/{c}/events", s.json(s.listEvents, true)),
		e("GET", "/v1/clusters/{c}/ledger", s.json(s.getLedger, true)),

		e("GET", "/v1/tasks/{id}", s.handleTask),

		e("GET", "/v1/faults", s.json(s.listFaults, false)),
		e("POST", "/v1/faults", s.json(s.addFault, false)),
		e("DELETE", "/v1/faults/{id}", s.json(s.deleteFault, false)),
		e("DELETE", "/v1/faults", s.json(s.clearFaults, false)),

		e("GET", "/v1/clock", s.json(s.getClock, false)),
		e("GET", "/v1/stats", s.handleStats),
		e("POST", "/v1/clock/advance", s.json(s.advanceClock, false)),

		e("GET", "/site/bundles/{name}", downloadsite.Handler(s.siteDefaults)),
	}
}

// Routes lists every route the simulator serves.
func Routes() []Route {
	var s Server
	eps := s.endpoints()
	out := make([]Route, len(eps))
	for i, e := range eps {
		out[i] = e.Route
	}
	return out
}

// routes builds the handler.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, e := range s.endpoints() {
		mux.HandleFunc(e.Method+" "+e.Pattern, e.h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, engine.NotFound("no route %s %s", r.Method, r.URL.Path))
	})
	return s.recoverPanics(mux)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}
