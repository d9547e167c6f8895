package simulator

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// The status page (GET /): a read-only view of every cluster for a person
// watching a rollout in a browser, refreshed every few seconds. It needs no
// token, so it shows nothing that grants anything (no lease ids, no token).
// Everything it says is worked out here, in Go (statusView); the template
// only lays it out. Every verdict is a word, never a colour alone.

// statusEvents is how many recent events the page shows per cluster.
const statusEvents = 15

// statusReasons is how many reasons for a verdict the page lists.
const statusReasons = 6

// statusOutagesListed is how many undeclared outages the page lists per
// cluster (newest first); the count covers them all.
const statusOutagesListed = 5

// Status classes: the colour of a verdict, always next to its word.
const (
	classOK   = "ok"   // green: healthy, serving, online
	classWarn = "warn" // amber: planned work under way (updating, rebooting, settling, moving)
	classBad  = "bad"  // red: down, failed, members missing, undeclared outage
	classOff  = "off"  // grey: nothing to say
)

// The cluster verdicts.
const (
	verdictHealthy  = "healthy"
	verdictUpdating = "updating"
	verdictBad      = "not healthy"
)

// statusTimeLayout is how the page writes an instant: date, time and zone.
const statusTimeLayout = "2006-01-02 15:04:05 MST"

var statusTemplate = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Appliance simulator</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#1b1b1b;line-height:1.35}
h1{margin:0 0 .2em;font-size:1.5em}
h2{margin:1.4em 0 .3em;font-size:1.25em;display:flex;gap:.6em;align-items:baseline;flex-wrap:wrap}
p{margin:.3em 0}
table{border-collapse:collapse;margin:.4em 0 .8em}
caption{text-align:left;font-weight:600;padding:.2em 0;color:#444;white-space:nowrap}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num,th.num{text-align:right}
.badge{display:inline-block;padding:0 .5em;border-radius:.8em;border:1px solid;font-weight:600;font-size:.9em}
.badge.ok{background:#e7f5ea;border-color:#2e7d32}.badge.warn{background:#fff4e0;border-color:#b26a00}.badge.bad{background:#fde8e8;border-color:#c62828}
.ok{color:#1b5e20}.warn{color:#8a4b00}.bad{color:#b71c1c}.off,.note{color:#5f5f5f}
.reasons{margin:.1em 0 .4em;padding-left:1.2em}
.summary span+span::before{content:" \00b7  ";color:#888}
</style></head>
<body><h1>Appliance simulator</h1>
<p>Simulated time <time datetime="{{.NowISO}}">{{.Now}}</time> ({{.Clock}}); this page refreshes every 3 seconds.</p>
{{range .Clusters}}<section aria-labelledby="cluster-{{.Name}}">
<h2 id="cluster-{{.Name}}"><span>{{.Name}}</span> <span class="badge {{.VerdictClass}}">{{.Verdict}}</span>{{with .Supercluster}} <span class="note">supercluster {{.}}</span>{{end}}</h2>
{{if .Reasons}}<ul class="reasons {{.VerdictClass}}">{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p class="summary"><span class="{{.MembersClass}}">{{.Members}}</span>{{with .Rollout}}<span>{{.}}</span>{{end}}{{with .LeaseOwner}}<span>leased by {{.}}</span>{{end}}</p>
<p class="summary"><span>availability ledger: <strong class="{{.Ledger.Class}}">{{.Ledger.Undeclared}}</strong></span><span class="note">{{.Ledger.Declared}}</span>{{with .Ledger.Window}}<span class="warn">{{.}}</span>{{end}}</p>
{{if .Ledger.Listed}}<table><caption>Undeclared outages of {{.Name}}</caption>
<thead><tr><th scope="col">what</th><th scope="col">from</th><th scope="col">to</th></tr></thead>
<tbody>{{range .Ledger.Listed}}<tr><td class="bad">{{.What}}</td><td>{{.From}}</td><td>{{.To}}</td></tr>{{end}}</tbody></table>{{end}}
<table><caption>Nodes of {{.Name}}</caption>
<thead><tr><th scope="col">node</th><th scope="col">role</th><th scope="col">HA group</th><th scope="col">state</th><th scope="col">health</th><th scope="col">active</th><th scope="col">alternate</th><th scope="col">staging</th></tr></thead>
<tbody>{{range .Nodes}}<tr><th scope="row">{{.Name}}</th><td>{{.Role}}</td><td>{{.HAGroup}}</td><td class="{{.StateClass}}">{{.State}}{{with .StateNote}} <span class="note">({{.}})</span>{{end}}</td><td class="{{.HealthClass}}">{{.Health}}</td>
<td>{{.Active}}</td><td class="{{.AltClass}}">{{.Alternate}}{{with .AltNote}} <span class="note">({{.}})</span>{{end}}</td><td>{{.Staging}}</td></tr>
{{end}}</tbody></table>
{{if .Resources}}<table><caption>Resources of {{.Name}}</caption>
<thead><tr><th scope="col">resource</th><th scope="col">state</th><th scope="col">on</th><th scope="col">preferred</th><th scope="col">remark</th></tr></thead>
<tbody>{{range .Resources}}<tr><th scope="row">{{.Name}}</th><td class="{{.StateClass}}">{{.State}}</td><td>{{.On}}</td><td>{{.Preferred}}</td><td class="{{.RemarkClass}}">{{.Remark}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Events}}<table><caption>Recent events of {{.Name}}, newest first</caption>
<thead><tr><th scope="col">time</th><th scope="col">event</th></tr></thead>
<tbody>{{range .Events}}<tr><td><time datetime="{{.ISO}}">{{.Time}}</time></td><td>{{.Message}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="note">No events yet.</p>{{end}}
</section>
{{end}}</body></html>`))

// statusPage is what the page shows.
type statusPage struct {
	Now, NowISO string
	Clock       string
	Clusters    []statusCluster
}

// statusCluster is one cluster as the page shows it.
type statusCluster struct {
	Name, Supercluster    string
	Verdict, VerdictClass string
	Reasons               []string
	Members, MembersClass string
	Rollout               string
	LeaseOwner            string // the owner only: the lease id is a capability
	Ledger                statusLedger
	Nodes                 []statusNode
	Resources             []statusResource
	Events                []statusEvent
}

type statusNode struct {
	Name, Role, HAGroup          string
	State, StateNote, StateClass string
	Health, HealthClass          string
	Active                       string
	Alternate, AltNote, AltClass string
	Staging                      string
}

type statusResource struct {
	Name                string
	State, StateClass   string
	On, Preferred       string
	Remark, RemarkClass string
}

type statusLedger struct {
	Undeclared, Class string // "0 outages"
	Declared          string // outages inside declared windows
	Window            string // the declared window open now, if any
	Listed            []statusOutage
}

type statusOutage struct{ What, From, To string }

type statusEvent struct{ Time, ISO, Message string }

func statusTime(t time.Time) string { return t.UTC().Format(statusTimeLayout) }

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	var page statusPage
	err := s.eng.Tx(func(t *engine.Tx) error {
		page = statusView(t.St, t.Now)
		if s.opts.Clock != nil {
			page.Clock = "manual clock"
		}
		return nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = statusTemplate.Execute(w, page)
}

// statusView works out what the page shows of st at now. It reads st and
// changes nothing.
func statusView(st *engine.State, now time.Time) statusPage {
	page := statusPage{Now: statusTime(now), NowISO: now.UTC().Format(time.RFC3339), Clock: fmt.Sprintf("time scale %g", st.Clock.Scale)}
	tasks := make(map[string]*engine.TaskState, len(st.Tasks))
	for _, tk := range st.Tasks {
		tasks[tk.ID] = tk
	}
	for _, cs := range st.Clusters {
		page.Clusters = append(page.Clusters, statusOfCluster(st, cs, tasks, now))
	}
	return page
}

func statusOfCluster(st *engine.State, cs *engine.ClusterState, tasks map[string]*engine.TaskState, now time.Time) statusCluster {
	c := &cs.Cluster
	sc := statusCluster{Name: c.Name, Supercluster: c.Supercluster}
	if l := cs.Lease; l != nil {
		sc.LeaseOwner = l.Owner
	}

	settleDue := map[string]time.Time{} // node -> when its settle time ends (S17)
	for _, tm := range st.Timers {
		if tm.Action != engine.ActSettleDone || tm.Cluster != c.Name {
			continue
		}
		if at, ok := settleDue[tm.Node]; !ok || tm.At.Before(at) {
			settleDue[tm.Node] = tm.At // the first one due ends the settling
		}
	}
	for _, n := range c.Nodes {
		sc.Nodes = append(sc.Nodes, statusOfNode(cs, n, tasks, settleDue, now))
	}
	moving := map[string]string{} // resource -> the node it is moving to
	for _, tk := range st.Tasks {
		if tk.Cluster == c.Name && tk.Kind == engine.TaskMove && !tk.Done() {
			moving[tk.Resource] = tk.Node
		}
	}
	for _, r := range c.Resources {
		host := ""
		if n := c.Node(r.CurrentNode); n != nil {
			host = string(n.State)
		}
		sc.Resources = append(sc.Resources, statusOfResource(r, host, moving[r.Name]))
	}

	// What is wrong (red) and what is under way (amber), in words.
	var bad, busy, offline []string
	for _, sn := range sc.Nodes {
		switch appliance.NodeState(sn.State) {
		case appliance.NodeDown:
			bad = append(bad, fmt.Sprintf("node %s is down", sn.Name))
		case appliance.NodeRebooting, appliance.NodeSettling:
			busy = append(busy, strings.TrimSpace(fmt.Sprintf("%s %s %s", sn.Name, sn.State, parenthesized(sn.StateNote))))
		case appliance.NodeOffline:
			// Taken out of service on purpose: part of an update under way,
			// or else a reason why the cluster is not healthy.
			offline = append(offline, fmt.Sprintf("node %s is offline", sn.Name))
		}
		if sn.Staging != "" {
			busy = append(busy, fmt.Sprintf("%s staging %s", sn.Name, sn.Staging))
		}
	}
	sc.Members, sc.MembersClass = fmt.Sprintf("%d of %d members reported", c.ReportedMembers, len(c.Nodes)), classOK
	if c.ReportedMembers < len(c.Nodes) {
		sc.MembersClass = classBad
		bad = append(bad, fmt.Sprintf("the cluster reports %d of its %d members", c.ReportedMembers, len(c.Nodes)))
	}
	// An outage going on now outside a declared window is what "zero
	// outage" forbids.
	for _, o := range cs.Outages {
		if o.End == nil && !o.Declared {
			bad = append(bad, fmt.Sprintf("outage: %s since %s", outageWhat(o), statusTime(o.Start)))
		}
	}
	// A failed task counts while it is the latest task on its target: a
	// later success (a retry, a revert) clears it.
	latest := map[string]*engine.TaskState{}
	for _, tk := range st.Tasks {
		if tk.Cluster != c.Name {
			continue
		}
		if prev := latest[tk.Target]; prev == nil || !tk.CreatedAt.Before(prev.CreatedAt) {
			latest[tk.Target] = tk
		}
	}
	for _, tk := range st.Tasks { // in task order, so that the reasons read the same way each time
		if tk.Cluster != c.Name {
			continue
		}
		switch {
		case tk.State == api.TaskFailed && latest[tk.Target] == tk:
			why := ""
			if tk.Error != nil {
				why = ": " + tk.Error.Message + " (" + tk.Error.Code + ")"
			}
			bad = append(bad, fmt.Sprintf("%s %s on %s failed%s", tk.Kind, tk.ID, tk.Target, why))
		case !tk.Done() && tk.Kind != engine.TaskStage && tk.Kind != engine.TaskActivate && tk.Kind != engine.TaskRevert && tk.Kind != engine.TaskMove:
			// Stages, reboots and moves show on their node or resource.
			busy = append(busy, fmt.Sprintf("%s %s on %s running", tk.Kind, tk.ID, tk.Target))
		}
	}
	for _, sr := range sc.Resources {
		if sr.State == appliance.ResourceMoving || sr.State == appliance.ResourceUpgrade {
			busy = append(busy, strings.TrimSpace(fmt.Sprintf("resource %s %s %s", sr.Name, sr.State, parenthesized(sr.Remark))))
		}
	}
	switch {
	case len(bad) > 0:
		sc.Verdict, sc.VerdictClass, sc.Reasons = verdictBad, classBad, bad
	case len(busy) > 0 || c.Rollout != nil:
		sc.Verdict, sc.VerdictClass, sc.Reasons = verdictUpdating, classWarn, append(busy, offline...)
	case !c.Healthy:
		// Not healthy by its own account, with nothing under way to explain it.
		sc.Verdict, sc.VerdictClass, sc.Reasons = verdictBad, classBad, offline
		for _, n := range c.Nodes {
			if n.State == appliance.NodeRunning && !n.Healthy {
				sc.Reasons = append(sc.Reasons, fmt.Sprintf("node %s runs but is not healthy", n.Name))
			}
		}
		for _, r := range c.Resources {
			if r.State != appliance.ResourceOnline {
				sc.Reasons = append(sc.Reasons, fmt.Sprintf("resource %s is %s", r.Name, r.State))
			}
		}
		if len(sc.Reasons) == 0 {
			sc.Reasons = []string{"the cluster reports itself not healthy"}
		}
	default:
		sc.Verdict, sc.VerdictClass = verdictHealthy, classOK
	}
	if len(sc.Reasons) > statusReasons {
		more := len(sc.Reasons) - statusReasons + 1
		sc.Reasons = append(sc.Reasons[:statusReasons-1], fmt.Sprintf("and %d more", more))
	}
	if ro := c.Rollout; ro != nil {
		sc.Rollout = fmt.Sprintf("update to %s: %d/%d nodes on %s", ro.TargetVersion, ro.Done, ro.Total, ro.TargetVersion)
	}

	sc.Ledger = statusOfLedger(cs)

	ev := cs.Events
	if len(ev) > statusEvents {
		ev = ev[len(ev)-statusEvents:]
	}
	for i := len(ev) - 1; i >= 0; i-- {
		sc.Events = append(sc.Events, statusEvent{Time: statusTime(ev[i].Time), ISO: ev[i].Time.UTC().Format(time.RFC3339), Message: ev[i].Message})
	}
	return sc
}

func statusOfNode(cs *engine.ClusterState, n appliance.Node, tasks map[string]*engine.TaskState, settleDue map[string]time.Time, now time.Time) statusNode {
	sn := statusNode{Name: n.Name, Role: string(n.Role), HAGroup: n.HAGroup, State: string(n.State), Active: n.Active.Version}
	ni := cs.Nodes[n.Name] // not cs.internal: the page changes nothing
	if ni == nil {
		ni = &engine.NodeInternal{}
	}
	tk := tasks[ni.Task]
	if tk != nil && tk.Done() {
		tk = nil
	}
	progress := func() string {
		if tk == nil {
			return ""
		}
		return fmt.Sprintf("%d%%", tk.View(now).Progress)
	}
	switch n.State {
	case appliance.NodeRunning:
		sn.StateClass = classOK
	case appliance.NodeRebooting:
		sn.StateClass = classWarn
		if tk != nil {
			switch {
			case tk.Kind == engine.TaskActivate && tk.Phase == engine.PhaseRevert:
				sn.StateNote = fmt.Sprintf("reverting to %s, %s", n.Active.Version, progress())
			case tk.Kind == engine.TaskActivate && tk.Phase != engine.PhaseSame:
				sn.StateNote = fmt.Sprintf("activating %s, %s", n.Alternate.Version, progress())
			default:
				sn.StateNote = fmt.Sprintf("%s, %s", tk.Kind, progress())
			}
		}
	case appliance.NodeSettling:
		sn.StateClass, sn.StateNote = classWarn, "rejoining the cluster"
		if at, ok := settleDue[n.Name]; ok {
			sn.StateNote += ", healthy by " + statusTime(at)
		}
	case appliance.NodeDown:
		sn.StateClass = classBad
	default:
		sn.StateClass = classOff
	}
	switch {
	case n.State == appliance.NodeRunning && n.Healthy:
		sn.Health, sn.HealthClass = "healthy", classOK
	case n.State == appliance.NodeSettling:
		sn.Health, sn.HealthClass = "not yet healthy", classWarn
	case n.State == appliance.NodeRebooting:
		sn.Health, sn.HealthClass = "not serving", classWarn
	case n.State == appliance.NodeOffline:
		sn.Health, sn.HealthClass = "not serving", classOff
	case n.State == appliance.NodeDown:
		sn.Health, sn.HealthClass = "not serving", classBad
	default:
		sn.Health, sn.HealthClass = "not healthy", classBad
	}
	if ni.NotJoined {
		sn.Health, sn.HealthClass = sn.Health+", not counted as a member", classBad
	}

	// The alternate partition: a newer version is staged (ready to
	// activate), an older one is the previous version (the rollback target,
	// S21), unless an irreversible feature forbids booting it (S9).
	sn.Alternate, sn.AltClass = n.Alternate.Version, ""
	var notes []string
	if alt := n.Alternate.Version; alt == "" {
		sn.Alternate, sn.AltClass = "empty", classOff
	} else {
		c, err := rules.CompareNames(n.Active.Version, alt)
		switch {
		case err != nil:
		case c < 0:
			notes = append(notes, "staged")
		case c > 0:
			notes = append(notes, "previous")
		default:
			notes = append(notes, "same as active")
		}
		if !n.Alternate.Bootable {
			notes = append(notes, "not bootable")
			sn.AltClass = classOff
		}
	}
	sn.AltNote = strings.Join(notes, ", ")

	if n.Staging != "" {
		what := n.Staging // an image id, only if the image is gone
		if im := cs.Image(n.Staging); im != nil {
			what = im.Manifest.Version
		}
		if tk != nil && tk.Kind == engine.TaskStage {
			what += ", " + progress()
		}
		sn.Staging = what
	}
	return sn
}

// statusOfResource shows a resource; host is the state of the node it is
// on ("" when none), movingTo the node a move under way takes it to.
func statusOfResource(r appliance.Resource, host, movingTo string) statusResource {
	sr := statusResource{Name: r.Name, State: r.State, On: r.CurrentNode, Preferred: r.PreferredNode}
	if sr.On == "" {
		sr.On = "none"
	}
	served := host != "" && appliance.NodeState(host).Serving()
	switch r.State {
	case appliance.ResourceOnline, appliance.ResourceMoving:
		sr.StateClass = classOK
		if r.State == appliance.ResourceMoving {
			sr.StateClass = classWarn
		}
		switch {
		case !served:
			// Online by its own account, but on a node that serves nobody:
			// an outage (the ledger has it too).
			sr.StateClass, sr.Remark, sr.RemarkClass = classBad, fmt.Sprintf("not served: %s is %s", sr.On, orWord(host, "gone")), classBad
		case r.State == appliance.ResourceMoving && movingTo != "":
			sr.Remark, sr.RemarkClass = fmt.Sprintf("moving from %s to %s", sr.On, movingTo), classWarn
		case r.State == appliance.ResourceOnline && r.CurrentNode != r.PreferredNode:
			sr.Remark, sr.RemarkClass = fmt.Sprintf("on %s, prefers %s", r.CurrentNode, r.PreferredNode), classWarn
		}
	case appliance.ResourceUpgrade:
		sr.StateClass = classWarn
		sr.Remark, sr.RemarkClass = "offline for the shared-media upgrade (declared)", classWarn
	default:
		sr.StateClass = classBad
		sr.Remark, sr.RemarkClass = "offline: no node serves it", classBad
	}
	return sr
}

// orWord returns s, or word when s is empty.
func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}

func statusOfLedger(cs *engine.ClusterState) statusLedger {
	var l statusLedger
	undeclared, declared, open := 0, 0, 0
	for _, o := range cs.Outages {
		if o.Declared {
			declared++
			continue
		}
		undeclared++
		if o.End == nil {
			open++
		}
	}
	l.Undeclared, l.Class = plural(undeclared, "outage"), classOK
	if undeclared > 0 {
		l.Class = classBad
		if open > 0 {
			l.Undeclared += fmt.Sprintf(" (%d going on now)", open)
		}
	}
	l.Declared = plural(declared, "outage") + " inside declared windows"
	if w := cs.Window; w != nil {
		l.Window = fmt.Sprintf("declared %s window open since %s", w.Reason, statusTime(w.Start))
	}
	for i := len(cs.Outages) - 1; i >= 0 && len(l.Listed) < statusOutagesListed; i-- {
		o := cs.Outages[i]
		if o.Declared {
			continue
		}
		so := statusOutage{What: outageWhat(o), From: statusTime(o.Start), To: "going on"}
		if o.End != nil {
			so.To = statusTime(*o.End)
		}
		l.Listed = append(l.Listed, so)
	}
	return l
}

// parenthesized returns "(s)", or "" for an empty s.
func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// outageWhat says what an outage of the ledger is.
func outageWhat(o api.Outage) string {
	switch o.Kind {
	case engine.OutageHAGroup:
		return "HA group " + o.Subject + " below its minimum"
	case engine.OutageResource:
		return "resource " + o.Subject + " not served"
	}
	return o.Kind + " " + o.Subject
}

// plural writes n and a noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
