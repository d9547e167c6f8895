package simulator

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// The status page read from Go, for the states a browser test would take
// long to reach (failures, S9, S22); statuspage_browser_test.go checks in
// a real browser what a person sees of a rollout. Both read the page with
// the helpers below: its text, and its tables by their column headers.

// statusPageHTML fetches the status page, without a token.
func (h *harness) statusPageHTML() string {
	h.t.Helper()
	resp, err := http.Get(h.ts.URL + "/")
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("status page: HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

func TestStatusPage_NodeThatNeverReturnsIsRed(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultNeverReturns, Node: "n1", Count: 1})
	act := h.activate("demo", "n1", true)
	h.advance(30 * time.Second)
	if page := h.statusPageHTML(); verdictOf(t, page, "demo") != verdictUpdating {
		t.Errorf("while n1 reboots the cluster shows %q, want updating", verdictOf(t, page, "demo"))
	}
	h.finish(act)
	page := h.statusPageHTML()
	text := pageText(page)
	if v := verdictOf(t, page, "demo"); v != verdictBad {
		t.Errorf("with n1 down the cluster shows %q, want %q", v, verdictBad)
	}
	for _, want := range []string{"node n1 is down", "(node_timeout)", "3 of 4 members reported", "the cluster reports 3 of its 4 members"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q: %s", want, text)
		}
	}
	nt := nodeTableOf(t, page)
	if got := nt.cell("n1", "state"); got != "down" {
		t.Errorf("n1 shows state %q, want down", got)
	}
	if got := nt.cell("n1", "health"); got != "not serving" {
		t.Errorf("n1 shows health %q, want \"not serving\"", got)
	}
	if !strings.Contains(page, `<td class="bad">down</td>`) {
		t.Errorf("n1's state is not drawn red")
	}
}

func TestStatusPage_FewerMembersIsRed(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultFewerMembers, Node: "n1", Count: 1})
	h.succeed(h.activate("demo", "n1", true)) // the node itself booted (S22)
	page := h.statusPageHTML()
	if v := verdictOf(t, page, "demo"); v != verdictBad {
		t.Errorf("with a member missing the cluster shows %q, want %q", v, verdictBad)
	}
	if text := pageText(page); !strings.Contains(text, "the cluster reports 3 of its 4 members") {
		t.Errorf("the page does not say why: %s", text)
	}
	if got := nodeTableOf(t, page).cell("n1", "health"); got != "healthy, not counted as a member" {
		t.Errorf("n1 shows health %q", got)
	}
}

// A failed task is red while it is the latest on its target; the retry
// that succeeds clears it.
func TestStatusPage_FailedTaskIsRedUntilARetrySucceeds(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	h.addFault(api.Fault{Kind: api.FaultBootFailure, Node: "n1", Count: 1})
	failed := h.finish(h.activate("demo", "n1", true))
	if failed.State != api.TaskFailed {
		t.Fatalf("activation with a boot failure: %+v", failed)
	}
	page := h.statusPageHTML()
	if v := verdictOf(t, page, "demo"); v != verdictBad {
		t.Errorf("after a failed activation (reverted) the cluster shows %q, want %q", v, verdictBad)
	}
	if reasons := reasonsOf(page); !strings.Contains(reasons, "activate "+failed.ID+" on n1 failed") || !strings.Contains(reasons, "(boot_failed)") {
		t.Errorf("the page does not name the failed task as the reason: %q", reasons)
	}
	// The revert left 1.1 staged: n1 can try again.
	if got := nodeTableOf(t, page).cell("n1", "alternate"); got != "1.1 (staged)" {
		t.Errorf("after the revert n1 shows alternate %q, want \"1.1 (staged)\"", got)
	}
	h.succeed(h.activate("demo", "n1", true))
	page = h.statusPageHTML()
	if v := verdictOf(t, page, "demo"); v != verdictUpdating {
		t.Errorf("after the retry succeeded (1 of 4 nodes on 1.1) the cluster shows %q, want %q", v, verdictUpdating)
	}
	if reasons := reasonsOf(page); strings.Contains(reasons, "failed") {
		t.Errorf("the page still gives the failure a retry cleared as a reason: %s", reasons)
	}
}

// A reboot that leaves a resource with no serving node is an outage, not
// an update: red, and the resource row says why (S15 moves it first).
func TestStatusPage_UndeclaredOutageIsRed(t *testing.T) {
	h := newHarness(t, engine.PresetNetWare)
	h.call("POST", "/v1/clusters/ncs/licenses", api.LicenseRequest{Series: "6.5"}, 200, nil)
	im := h.image("ncs", spec("6.5", []string{"6.0"}))
	h.succeed(h.stage("ncs", "nw3", im.ID))
	act := h.activate("ncs", "nw3", true) // POOL3 is still on nw3
	h.advance(10 * time.Second)
	page := h.statusPageHTML()
	if v := verdictOf(t, page, "ncs"); v != verdictBad {
		t.Errorf("with POOL3 unserved the cluster shows %q, want %q", v, verdictBad)
	}
	if reasons := reasonsOf(page); !strings.Contains(reasons, "outage: resource POOL3 not served since 2026-01-01 00:00:30 UTC") {
		t.Errorf("reasons %q do not name the outage", reasons)
	}
	rows := pageRows(page)
	rt := nodeTable{t: t, rows: rows, header: rowStartingWith(rows, "resource")}
	if got := rt.cell("POOL3", "remark"); got != "not served: nw3 is rebooting" {
		t.Errorf("POOL3 remark %q", got)
	}
	if text := pageText(page); !strings.Contains(text, "availability ledger: 1 outage (1 going on now)") {
		t.Errorf("the ledger line: %s", lineWith(text, "ledger"))
	}
	h.succeed(act)
	page = h.statusPageHTML()
	if v := verdictOf(t, page, "ncs"); v != verdictUpdating {
		t.Errorf("after nw3 is back the cluster shows %q, want %q (the outage is history)", v, verdictUpdating)
	}
	if text := pageText(page); !strings.Contains(text, "availability ledger: 1 outage ") {
		t.Errorf("the ledger line forgot the outage: %s", lineWith(text, "ledger"))
	}
}

// S9: an image with irreversible features makes the previous one
// unbootable; the page says so in words.
func TestStatusPage_PreviousVersionNotBootable(t *testing.T) {
	h := newHarness(t, "")
	s := spec("1.1", []string{"1.0"})
	s.IrreversibleFeatures = []string{"new-disk-format"}
	im := h.image("demo", s)
	h.upgrade("demo", "n1", im.ID)
	nt := nodeTableOf(t, h.statusPageHTML())
	if got := nt.cell("n1", "alternate"); got != "1.0 (previous, not bootable)" {
		t.Errorf("n1 shows alternate %q, want \"1.0 (previous, not bootable)\"", got)
	}
}

func TestStatusPage_ResourceRemarks(t *testing.T) {
	r := func(state, on, preferred string) appliance.Resource {
		return appliance.Resource{Name: "POOL1", State: state, CurrentNode: on, PreferredNode: preferred}
	}
	cases := []struct {
		r                  appliance.Resource
		host, movingTo     string
		state, on, remark  string
		stateClass, rClass string
	}{
		{r(appliance.ResourceOnline, "nw1", "nw1"), "running", "", "online", "nw1", "", classOK, ""},
		{r(appliance.ResourceOnline, "nw2", "nw1"), "settling", "", "online", "nw2", "on nw2, prefers nw1", classOK, classWarn},
		{r(appliance.ResourceOnline, "nw1", "nw1"), "rebooting", "", "online", "nw1", "not served: nw1 is rebooting", classBad, classBad},
		{r(appliance.ResourceMoving, "nw1", "nw1"), "running", "nw2", "moving", "nw1", "moving from nw1 to nw2", classWarn, classWarn},
		{r(appliance.ResourceUpgrade, "", "nw1"), "", "", "upgrade", "none", "offline for the shared-media upgrade (declared)", classWarn, classWarn},
		{r(appliance.ResourceOffline, "", "nw1"), "", "", "offline", "none", "offline: no node serves it", classBad, classBad},
	}
	for _, c := range cases {
		got := statusOfResource(c.r, c.host, c.movingTo)
		want := statusResource{Name: "POOL1", State: c.state, StateClass: c.stateClass, On: c.on, Preferred: "nw1", Remark: c.remark, RemarkClass: c.rClass}
		if got != want {
			t.Errorf("%s on %q (%s):\n got %+v\nwant %+v", c.r.State, c.r.CurrentNode, c.host, got, want)
		}
	}
}

func TestStatusPage_LedgerCountsUndeclaredOutagesApart(t *testing.T) {
	at := func(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }
	end := func(m int) *time.Time { e := at(m); return &e }
	cs := &engine.ClusterState{Outages: []api.Outage{
		{Kind: engine.OutageHAGroup, Subject: "g1", Start: at(1), End: end(2)},
		{Kind: engine.OutageResource, Subject: "POOL1", Start: at(3), End: end(4), Declared: true},
		{Kind: engine.OutageResource, Subject: "POOL2", Start: at(3), End: end(4), Declared: true},
		{Kind: engine.OutageResource, Subject: "DHCP", Start: at(5)},
	}, Window: &engine.DeclaredWindow{Reason: "maintenance", Start: at(5)}}
	l := statusOfLedger(cs)
	if l.Undeclared != "2 outages (1 going on now)" || l.Class != classBad {
		t.Errorf("undeclared: %q (%s)", l.Undeclared, l.Class)
	}
	if l.Declared != "2 outages inside declared windows" {
		t.Errorf("declared: %q", l.Declared)
	}
	if l.Window != "declared maintenance window open since 2026-01-01 00:05:00 UTC" {
		t.Errorf("window: %q", l.Window)
	}
	want := []statusOutage{
		{What: "resource DHCP not served", From: "2026-01-01 00:05:00 UTC", To: "going on"},
		{What: "HA group g1 below its minimum", From: "2026-01-01 00:01:00 UTC", To: "2026-01-01 00:02:00 UTC"},
	}
	if !slices.Equal(l.Listed, want) {
		t.Errorf("listed: %+v, want %+v", l.Listed, want)
	}
	if l := statusOfLedger(&engine.ClusterState{}); l.Undeclared != "0 outages" || l.Class != classOK || l.Declared != "0 outages inside declared windows" || l.Window != "" || l.Listed != nil {
		t.Errorf("an empty ledger: %+v", l)
	}
}

// A node taken offline with no update under way is a reason the cluster is
// not healthy, not an update.
func TestStatusPage_OfflineNodeWithoutAnUpdateIsRed(t *testing.T) {
	tp, err := engine.Preset(engine.PresetNetWare)
	if err != nil {
		t.Fatal(err)
	}
	cs := &engine.ClusterState{Cluster: tp.Clusters[0].Cluster}
	cs.Cluster.Node("nw3").State, cs.Cluster.Node("nw3").Healthy = appliance.NodeOffline, false
	engine.UpdateHealth(cs)
	sc := statusView(&engine.State{Clusters: []*engine.ClusterState{cs}}, epoch).Clusters[0]
	if sc.Verdict != verdictBad || !slices.Contains(sc.Reasons, "node nw3 is offline") {
		t.Errorf("verdict %q, reasons %q; want %q with nw3 offline as a reason", sc.Verdict, sc.Reasons, verdictBad)
	}
	if n := sc.Nodes[2]; n.State != "offline" || n.Health != "not serving" || n.StateClass != classOff {
		t.Errorf("nw3 shows %+v", n)
	}
}

// The page reads the state and changes nothing: no node record is made
// for a node that has none.
func TestStatusPage_ChangesNothing(t *testing.T) {
	tp, err := engine.Preset(engine.PresetNetWare)
	if err != nil {
		t.Fatal(err)
	}
	cs := &engine.ClusterState{Cluster: tp.Clusters[0].Cluster}
	st := &engine.State{Clusters: []*engine.ClusterState{cs}}
	page := statusView(st, epoch)
	if cs.Nodes != nil {
		t.Errorf("the status view made node records: %+v", cs.Nodes)
	}
	if len(page.Clusters) != 1 || page.Clusters[0].Verdict != verdictHealthy || page.Now != "2026-01-01 00:00:00 UTC" {
		t.Errorf("page %+v", page)
	}
}

// nodeTable is the node table of a page, read by its column headers.
type nodeTable struct {
	t      *testing.T
	rows   [][]string
	header []string
}

func nodeTableOf(t *testing.T, dom string) nodeTable {
	t.Helper()
	rows := pageRows(dom)
	header := rowStartingWith(rows, "node")
	if header == nil {
		t.Fatalf("no node table with a header row on the page; rows: %q", rows)
	}
	return nodeTable{t: t, rows: rows, header: header}
}

// cell returns what row first (a node, a resource) shows in column col.
func (nt nodeTable) cell(first, col string) string {
	nt.t.Helper()
	i := slices.Index(nt.header, col)
	if i < 0 {
		nt.t.Fatalf("the table has no %q column: %q", col, nt.header)
	}
	row := rowStartingWith(nt.rows, first)
	if row == nil || len(row) <= i {
		nt.t.Fatalf("no row for %s (or too short): %q", first, row)
	}
	return row[i]
}

// verdictOf returns the status word shown next to a cluster's name in its
// heading.
func verdictOf(t *testing.T, dom, cluster string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<h2 id="cluster-` + regexp.QuoteMeta(cluster) + `"[^>]*>(.*?)</h2>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no heading for cluster %s on the page", cluster)
	}
	b := regexp.MustCompile(`(?s)<span class="badge[^"]*">(.*?)</span>`).FindStringSubmatch(m[1])
	if b == nil {
		t.Fatalf("the heading of %s shows no status: %s", cluster, pageText(m[1]))
	}
	return pageText(b[1])
}

var pageReasonsRE = regexp.MustCompile(`(?s)<ul class="reasons[^"]*">(.*?)</ul>`)

// reasonsOf returns the text of the reasons given for the first cluster's
// verdict, or "".
func reasonsOf(dom string) string {
	if m := pageReasonsRE.FindStringSubmatch(dom); m != nil {
		return pageText(m[1])
	}
	return ""
}

var pageUTCTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`)

var (
	pageTagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
	pageSpaceRE  = regexp.MustCompile(`\s+`)
	pageRowRE    = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	pageCellRE   = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	pageHiddenRE = regexp.MustCompile(`(?is)<(head|script|style)[^>]*>.*?</(head|script|style)>`)
)

// pageText is the text of the body, tags dropped, spaces collapsed:
// roughly what a person reads.
func pageText(dom string) string {
	s := pageHiddenRE.ReplaceAllString(dom, " ")
	s = pageTagRE.ReplaceAllString(s, " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&nbsp;", " ", "&middot;", "·").Replace(s)
	return strings.TrimSpace(pageSpaceRE.ReplaceAllString(s, " "))
}

// lineWith returns the words around the first occurrence of sub in text.
func lineWith(text, sub string) string {
	i := strings.Index(text, sub)
	if i < 0 {
		return ""
	}
	return "..." + text[max(0, i-60):min(len(text), i+len(sub)+60)] + "..."
}

// pageRows returns the text of every cell of every table row.
func pageRows(dom string) [][]string {
	var rows [][]string
	for _, r := range pageRowRE.FindAllStringSubmatch(dom, -1) {
		var cells []string
		for _, c := range pageCellRE.FindAllStringSubmatch(r[1], -1) {
			cells = append(cells, pageText(c[1]))
		}
		rows = append(rows, cells)
	}
	return rows
}

// rowStartingWith returns the first row whose first cell is first.
func rowStartingWith(rows [][]string, first string) []string {
	for _, r := range rows {
		if len(r) > 0 && r[0] == first {
			return r
		}
	}
	return nil
}
