package simulator

import (
	"html/template"
	"net/http"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// The status page (GET /): a read-only view of every cluster for a person
// watching a rollout in a browser, refreshed every few seconds. It needs no
// token, so it shows nothing that grants anything (no lease ids).

var statusTemplate = template.Must(template.New("status").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Appliance simulator</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.bad{color:#b00}.ok{color:#070}</style></head>
<body><h1>Appliance simulator</h1><p>Simulated time {{.Now.Format "2006-01-02 15:04:05 MST"}} (time scale {{.Scale}})</p>
{{range .Clusters}}<h2>{{.Cluster.Name}} {{if .Cluster.Healthy}}<span class="ok">healthy</span>{{else}}<span class="bad">not healthy</span>{{end}}
{{with .Cluster.Supercluster}} &middot; supercluster {{.}}{{end}}</h2>
<p>{{.Cluster.ReportedMembers}} of {{len .Cluster.Nodes}} members reported{{with .Cluster.Rollout}} &middot; update to {{.TargetVersion}}: {{.Done}}/{{.Total}} nodes{{with .Step}} ({{.}}){{end}}{{end}}{{with .LeaseOwner}} &middot; leased by {{.}}{{end}}</p>
<table><tr><th>node</th><th>role</th><th>HA group</th><th>state</th><th>active</th><th>alternate</th><th>staging</th></tr>
{{range .Cluster.Nodes}}<tr><td>{{.Name}}</td><td>{{.Role}}</td><td>{{.HAGroup}}</td><td class="{{if .State.Serving}}ok{{else}}bad{{end}}">{{.State}}</td>
<td>{{.Active.Version}}</td><td>{{.Alternate.Version}}{{if and .Alternate.Version (not .Alternate.Bootable)}} (not bootable){{end}}</td><td>{{.Staging}}</td></tr>{{end}}</table>
{{if .Cluster.Resources}}<table><tr><th>resource</th><th>state</th><th>on</th><th>preferred</th></tr>
{{range .Cluster.Resources}}<tr><td>{{.Name}}</td><td>{{.State}}</td><td>{{.CurrentNode}}</td><td>{{.PreferredNode}}</td></tr>{{end}}</table>{{end}}
<table><tr><th>time</th><th>event</th></tr>{{range .Recent}}<tr><td>{{.Time.Format "15:04:05"}}</td><td>{{.Message}}</td></tr>{{end}}</table>
{{end}}</body></html>`))

type statusCluster struct {
	Cluster    any
	LeaseOwner string
	Recent     []api.Event
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Now      time.Time
		Scale    float64
		Clusters []statusCluster
	}
	err := s.tx(func(t *tx) error {
		data.Now, data.Scale = t.now, t.st.Clock.Scale
		for _, cs := range t.st.Clusters {
			sc := statusCluster{Cluster: cs.Cluster.Clone()}
			if l := cs.Lease; l != nil {
				sc.LeaseOwner = l.Owner
			}
			ev := cs.Events
			if len(ev) > 15 {
				ev = ev[len(ev)-15:]
			}
			for i := len(ev) - 1; i >= 0; i-- {
				sc.Recent = append(sc.Recent, ev[i])
			}
			data.Clusters = append(data.Clusters, sc)
		}
		return nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = statusTemplate.Execute(w, data)
}
