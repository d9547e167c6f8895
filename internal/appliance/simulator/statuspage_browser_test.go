//go:build unix

package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// The status page is for a person with a browser, so it is checked in a
// real one: headless Chromium loads it, runs whatever the page does, and
// the test reads the DOM Chromium ends up with and a screenshot of it.
// Reading the HTML from Go alone would miss a page that only renders
// right in a browser (or not at all).

// browserTimeout bounds each Chromium run: a wedged browser must fail the
// test, not hang it until go test's own timeout.
const browserTimeout = 60 * time.Second

// statusScreenshotEnv names a file to keep the screenshot in, for a person
// to look at (the test's own copy is in a temporary directory).
const statusScreenshotEnv = "STATUSPAGE_SCREENSHOT"

// chromiumOrSkip returns the Chromium binary. Without one the test is
// skipped on a developer's machine, but fails in CI, where a skipped
// browser test would look like a passing one.
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("chromium is not installed (CI is set, so this test may not skip): run scripts/ensure-chromium.sh")
	}
	t.Skip("chromium is not installed: run scripts/ensure-chromium.sh to run this browser test")
	return ""
}

// runChromium runs headless Chromium with args and returns its stdout. It
// runs in a process group of its own, killed whole when it ends or times
// out, because Chromium leaves helper processes (zygote, GPU, network
// service) that would otherwise outlive the test.
func runChromium(t *testing.T, chromium string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		// Containers give /dev/shm 64 MB, too little for a renderer.
		"--disable-dev-shm-usage",
		// A fresh profile per run: no state shared between runs or with a
		// person's own browser.
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	killGroup := func() error {
		if cmd.Process == nil {
			return nil
		}
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return nil // the group has already gone
		}
		return err
	}
	cmd.Cancel = killGroup
	// Output goes to files, not pipes: Wait then returns when Chromium
	// exits, even if a helper it left behind still holds the output open
	// (killGroup ends the helpers right after).
	dir := t.TempDir()
	stdout, stderr := createFile(t, filepath.Join(dir, "stdout")), createFile(t, filepath.Join(dir, "stderr"))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	_ = killGroup()    // the helpers of a browser that exited by itself
	_ = stdout.Close() // our ends of the pipes, already drained
	_ = stderr.Close()
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	if ctx.Err() != nil {
		t.Fatalf("chromium %s did not finish within %v; stderr:\n%s", strings.Join(args, " "), browserTimeout, lastChars(string(errOut), 2000))
	}
	if err != nil {
		t.Fatalf("chromium %s: %v; stderr:\n%s", strings.Join(args, " "), err, lastChars(string(errOut), 2000))
	}
	return out
}

func createFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func lastChars(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// browserClient drives the simulator's API over HTTP, as the provider would.
type browserClient struct {
	t       *testing.T
	base    string
	token   string
	leaseID string
	manual  bool // the simulator runs on a manual clock: await advances it
}

func (c *browserClient) do(method, path string, body io.Reader, want int, out any, header ...string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.leaseID != "" {
		req.Header.Set(api.HeaderLeaseID, c.leaseID)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only body
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}

func (c *browserClient) post(path string, req any, want int, out any) {
	c.t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.do("POST", path, bytes.NewReader(b), want, out, "Content-Type", "application/json")
}

// await waits for a task and requires success. With a manual clock it
// moves simulated time on (advance) until the task is done; with a scaled
// clock it long-polls.
func (c *browserClient) await(tk api.Task) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !tk.Done() {
		if time.Now().After(deadline) {
			c.t.Fatalf("task %s %s on %s did not finish: %+v", tk.ID, tk.Kind, tk.Target, tk)
		}
		if c.manual {
			c.advance(10 * time.Second)
			c.do("GET", "/v1/tasks/"+tk.ID, nil, http.StatusOK, &tk)
			continue
		}
		c.do("GET", "/v1/tasks/"+tk.ID+"?wait=10s", nil, http.StatusOK, &tk)
	}
	if tk.State != api.TaskSucceeded {
		c.t.Fatalf("task %s %s on %s: %s: %+v", tk.ID, tk.Kind, tk.Target, tk.State, tk.Error)
	}
}

// advance moves a manual clock on by d of simulated time.
func (c *browserClient) advance(d time.Duration) {
	c.t.Helper()
	c.post("/v1/clock/advance", AdvanceRequest{Seconds: d.Seconds()}, http.StatusOK, nil)
}

// startBrowserSim starts a simulator on preset with a manual clock, so that
// the page can be caught in the middle of a reboot, and a client holding
// the cluster's lease.
func startBrowserSim(t *testing.T, preset, cluster, token string) (*Server, *browserClient) {
	t.Helper()
	// Closed by the test itself, not by a context: one Close, at the end.
	srv, err := Start(context.Background(), Options{
		StatePath: filepath.Join(t.TempDir(), "state.json"),
		Topology:  preset,
		Token:     token,
		Clock:     NewManualClock(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	c := &browserClient{t: t, base: srv.URL(), token: token, manual: true}
	var lease api.Lease
	c.post("/v1/clusters/"+cluster+"/lease", api.LeaseRequest{Owner: "browser-test", OperationKey: cluster + "-upgrade", TTLSeconds: 3600}, http.StatusOK, &lease)
	c.leaseID = lease.ID
	return srv, c
}

// uploadBundle uploads a one-component bundle of version that updates from
// the versions from.
func (c *browserClient) uploadBundle(cluster, version string, from ...string) api.Image {
	c.t.Helper()
	bundlePath := filepath.Join(c.t.TempDir(), version+".tar")
	if _, err := bundle.BuildFile(bundlePath, bundle.Spec{
		Version: version, SupportedFrom: from, Description: "release " + version,
		Components: []bundle.ComponentSpec{{Name: "os", Size: 4096}},
	}); err != nil {
		c.t.Fatal(err)
	}
	_, sha, _, err := bundle.VerifyFile(bundlePath)
	if err != nil {
		c.t.Fatal(err)
	}
	f, err := os.Open(bundlePath)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // opened read-only
	var im api.Image
	c.do("POST", "/v1/clusters/"+cluster+"/images", f, http.StatusCreated, &im,
		"Content-Type", "application/octet-stream", api.HeaderContentSHA256, sha)
	return im
}

func (c *browserClient) startTask(path string, req any) api.Task {
	c.t.Helper()
	var tk api.Task
	c.post(path, req, http.StatusAccepted, &tk)
	return tk
}

func (c *browserClient) stage(cluster, node, imageID string) api.Task {
	c.t.Helper()
	return c.startTask("/v1/clusters/"+cluster+"/nodes/"+node+"/stage", api.StageRequest{ImageID: imageID})
}

func (c *browserClient) activate(cluster, node, version string) api.Task {
	c.t.Helper()
	return c.startTask("/v1/clusters/"+cluster+"/nodes/"+node+"/activate", api.ActivateRequest{ExpectVersion: version, AutoRevert: true})
}

func (c *browserClient) cluster(name string) appliance.Cluster {
	c.t.Helper()
	var cl appliance.Cluster
	c.do("GET", "/v1/clusters/"+name, nil, http.StatusOK, &cl)
	return cl
}

// statusPageDOM loads the status page in Chromium and returns the DOM it
// ends up with.
func statusPageDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	dom := string(runChromium(t, chromium, "--dump-dom", url))
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("chromium dumped no document:\n%s", lastChars(dom, 2000))
	}
	return dom
}

// TestStatusPage_ShowsClustersInABrowser runs a rollout of the default
// cluster through the API, as the provider would, and checks in headless
// Chromium what a person sees on the status page in the middle of it (a
// node rebooting, another staging) and after it: the cluster's verdict,
// every node's state, health and versions, what the alternate partitions
// hold, the availability ledger, the events with their dates, who holds
// the lease; and nothing that grants anything (neither the API token nor
// the lease id). Both pages render to screenshots.
func TestStatusPage_ShowsClustersInABrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)

	const token = "status-page-secret-token-4f1c9e" // distinctive, so a leak is found
	srv, c := startBrowserSim(t, engine.DefaultPreset, "demo", token)
	url := srv.URL() + "/"

	before := c.cluster("demo")
	if len(before.Nodes) == 0 {
		t.Fatal("the default preset has no nodes")
	}

	// The primary n1 goes first (S11): stage 1.1 and activate it, so that n1
	// runs 1.1 with 1.0 in its alternate partition. Then n2 has 1.1 staged
	// and is caught rebooting into it, while n3 is caught staging it.
	im := c.uploadBundle("demo", "1.1", "1.0")
	c.await(c.stage("demo", "n1", im.ID))
	c.await(c.activate("demo", "n1", "1.1"))
	c.await(c.stage("demo", "n2", im.ID))
	n2 := c.activate("demo", "n2", "1.1")
	n3 := c.stage("demo", "n3", im.ID)
	c.advance(15 * time.Second) // half of n3's staging, a sixth of n2's reboot

	mid := c.cluster("demo")
	if n := mid.Node("n2"); n.State != appliance.NodeRebooting {
		t.Fatalf("n2 is %s, want rebooting: the test cannot catch the page mid-reboot", n.State)
	}
	if n := mid.Node("n3"); n.Staging == "" {
		t.Fatalf("n3 is not staging: the test cannot catch the page mid-stage")
	}
	dom := statusPageDOM(t, chromium, url)
	text := pageText(dom)

	t.Run("mid-rollout: the cluster is updating, not failing", func(t *testing.T) {
		if v := verdictOf(t, dom, "demo"); v != "updating" {
			t.Errorf("during a planned reboot the cluster shows %q, want \"updating\": %s", v, lineWith(text, "demo"))
		}
		if strings.Contains(text, "not healthy") {
			t.Errorf("during a planned reboot the page says \"not healthy\": %s", lineWith(text, "not healthy"))
		}
		for _, want := range []string{"update to 1.1: 1/4 nodes", "leased by browser-test", "4 of 4 members reported"} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not show %q; it shows:\n%s", want, text)
			}
		}
	})
	t.Run("mid-rollout: nodes show state, health and what their partitions hold", func(t *testing.T) {
		nt := nodeTableOf(t, dom)
		for _, n := range mid.Nodes {
			if got := nt.cell(n.Name, "active"); got != n.Active.Version {
				t.Errorf("node %s: the page shows active %q, the API says %q", n.Name, got, n.Active.Version)
			}
		}
		checks := []struct{ node, col, want string }{
			{"n1", "state", "running"},
			{"n1", "health", "healthy"},
			{"n1", "alternate", "1.0 (previous)"}, // the rollback target (S21)
			{"n2", "alternate", "1.1 (staged)"},   // ready to activate
			{"n2", "health", "not serving"},
			{"n3", "alternate", "empty"}, // being overwritten
			{"n4", "alternate", "empty"},
			{"n4", "staging", ""},
		}
		for _, ck := range checks {
			if got := nt.cell(ck.node, ck.col); got != ck.want {
				t.Errorf("node %s: %s shows %q, want %q", ck.node, ck.col, got, ck.want)
			}
		}
		if got := nt.cell("n2", "state"); !regexp.MustCompile(`^rebooting \(activating 1\.1, \d+%\)$`).MatchString(got) {
			t.Errorf("node n2: state shows %q, want \"rebooting (activating 1.1, N%%)\"", got)
		}
		// The version being staged and how far it got, not an image id.
		if got := nt.cell("n3", "staging"); !regexp.MustCompile(`^1\.1, \d+%$`).MatchString(got) || strings.Contains(got, im.ID) {
			t.Errorf("node n3: staging shows %q, want \"1.1, N%%\"", got)
		}
	})
	t.Run("events are dated, in UTC", func(t *testing.T) {
		rows := pageRows(dom)
		events := 0
		for _, r := range rows {
			if len(r) == 2 && r[0] != "time" && strings.HasPrefix(r[0], "2026-") {
				events++
				if !pageUTCTimeRE.MatchString(r[0]) {
					t.Errorf("event time %q is not \"YYYY-MM-DD hh:mm:ss UTC\"", r[0])
				}
			}
		}
		if events == 0 {
			t.Errorf("the page shows no dated event; rows: %q", rows)
		}
	})
	checkNoSecrets(t, "mid-rollout", dom, token, c.leaseID)
	checkScreenshot(t, chromium, url, "mid-rollout")

	// The rest of the rollout, in HA order: n3 before n4 (group g2).
	c.await(n2)
	c.await(n3)
	c.await(c.activate("demo", "n3", "1.1"))
	c.await(c.stage("demo", "n4", im.ID))
	c.await(c.activate("demo", "n4", "1.1"))
	after := c.cluster("demo")
	for _, n := range after.Nodes {
		if n.Active.Version != "1.1" || n.State != appliance.NodeRunning {
			t.Fatalf("after the rollout node %s is %s on %s", n.Name, n.State, n.Active.Version)
		}
	}
	dom = statusPageDOM(t, chromium, url)
	text = pageText(dom)

	t.Run("after the rollout: healthy, no outage", func(t *testing.T) {
		if v := verdictOf(t, dom, "demo"); v != "healthy" {
			t.Errorf("after a clean rollout the cluster shows %q, want \"healthy\"", v)
		}
		// "Zero outage" rests on the ledger: a rolling upgrade in HA order
		// leaves no HA group below its minimum.
		if !strings.Contains(text, "availability ledger: 0 outages") {
			t.Errorf("the page does not show \"availability ledger: 0 outages\": %s", lineWith(text, "ledger"))
		}
		if !strings.Contains(text, "0 outages inside declared windows") {
			t.Errorf("the page does not show the declared outages apart: %s", lineWith(text, "ledger"))
		}
		nt := nodeTableOf(t, dom)
		for _, n := range after.Nodes {
			if got := nt.cell(n.Name, "alternate"); got != "1.0 (previous)" {
				t.Errorf("node %s: alternate shows %q, want \"1.0 (previous)\"", n.Name, got)
			}
			if got := nt.cell(n.Name, "health"); got != "healthy" {
				t.Errorf("node %s: health shows %q, want \"healthy\"", n.Name, got)
			}
		}
	})
	checkNoSecrets(t, "after-rollout", dom, token, c.leaseID)
	checkScreenshot(t, chromium, url, "after-rollout")
}

// TestStatusPage_NetWareInABrowser catches a NetWare rolling upgrade (S15)
// with nw1 rebooting and its pool failed over to nw2, and checks that the
// page flags the pool away from its preferred node, in words.
func TestStatusPage_NetWareInABrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)
	const token = "status-page-secret-token-netware"
	srv, c := startBrowserSim(t, engine.PresetNetWare, "ncs", token)
	c.post("/v1/clusters/ncs/licenses", api.LicenseRequest{Series: "6.5"}, http.StatusOK, nil)
	im := c.uploadBundle("ncs", "6.5", "6.0")
	c.await(c.stage("ncs", "nw1", im.ID))
	c.await(c.startTask("/v1/clusters/ncs/resources/POOL1/move", api.MoveResourceRequest{Node: "nw2"}))
	c.activate("ncs", "nw1", "6.5")
	c.advance(30 * time.Second)
	if cl := c.cluster("ncs"); cl.Node("nw1").State != appliance.NodeRebooting {
		t.Fatalf("nw1 is %s, want rebooting: the test cannot catch the page mid-reboot", cl.Node("nw1").State)
	}
	dom := statusPageDOM(t, chromium, srv.URL()+"/")

	rows := pageRows(dom)
	header := rowStartingWith(rows, "resource")
	if header == nil {
		t.Fatalf("no resource table on the page; rows: %q", rows)
	}
	rt := nodeTable{t: t, rows: rows, header: header}
	if got := rt.cell("POOL1", "on"); got != "nw2" {
		t.Errorf("POOL1 shows on %q, want nw2", got)
	}
	if got := rt.cell("POOL1", "remark"); got != "on nw2, prefers nw1" {
		t.Errorf("POOL1, away from its preferred node, has remark %q, want \"on nw2, prefers nw1\"", got)
	}
	if got := rt.cell("POOL2", "remark"); got != "" {
		t.Errorf("POOL2, on its preferred node, has remark %q", got)
	}
	if got := nodeTableOf(t, dom).cell("nw2", "alternate"); got != "empty" {
		t.Errorf("nw2 shows alternate %q, want empty", got)
	}
	if v := verdictOf(t, dom, "ncs"); v != "updating" {
		t.Errorf("while nw1 reboots the cluster shows %q, want \"updating\"", v)
	}
	checkNoSecrets(t, "netware", dom, token, c.leaseID)
	checkScreenshot(t, chromium, srv.URL()+"/", "netware")
}

// TestStatusPage_SettlingInABrowser catches an Image Streamer appliance
// settling after its update (S17): serving, not yet healthy, and not
// shown as healthy.
func TestStatusPage_SettlingInABrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)
	const token = "status-page-secret-token-streamer"
	srv, c := startBrowserSim(t, engine.PresetActiveStandby, "streamer", token)
	im := c.uploadBundle("streamer", "1.1", "1.0")
	c.await(c.stage("streamer", "is1", im.ID))
	c.await(c.activate("streamer", "is1", "1.1"))
	if cl := c.cluster("streamer"); cl.Node("is1").State != appliance.NodeSettling {
		t.Fatalf("is1 is %s after its reboot, want settling", cl.Node("is1").State)
	}
	dom := statusPageDOM(t, chromium, srv.URL()+"/")
	nt := nodeTableOf(t, dom)
	// Settling takes 45 simulated minutes (S17) from the end of the reboot.
	if got := nt.cell("is1", "state"); !regexp.MustCompile(`^settling \(rejoining the cluster, healthy by 2026-11-22 0\d:\d\d:\d\d UTC\)$`).MatchString(got) {
		t.Errorf("is1 shows state %q, want \"settling (rejoining the cluster, healthy by <date> UTC)\"", got)
	}
	if got := nt.cell("is1", "health"); got != "not yet healthy" {
		t.Errorf("is1, settling, shows health %q, want \"not yet healthy\"", got)
	}
	if !regexp.MustCompile(`<td class="warn">settling`).MatchString(dom) {
		t.Errorf("is1's settling state is not drawn as work under way (amber)")
	}
	if got := nt.cell("is2", "health"); got != "healthy" {
		t.Errorf("is2 shows health %q, want healthy", got)
	}
	if v := verdictOf(t, dom, "streamer"); v != "updating" {
		t.Errorf("while is1 settles the cluster shows %q, want \"updating\"", v)
	}
	checkNoSecrets(t, "settling", dom, token, c.leaseID)
}

// checkNoSecrets checks that the page, which needs no token, shows nothing
// that grants anything: not the API token, and not the lease id (with it,
// a client could act inside another rollout's lease).
func checkNoSecrets(t *testing.T, label, dom, token, leaseID string) {
	t.Helper()
	t.Run(label+": shows no token", func(t *testing.T) {
		if strings.Contains(dom, token) {
			t.Errorf("the page shows the API token %q", token)
		}
	})
	t.Run(label+": shows no lease id", func(t *testing.T) {
		if leaseID == "" {
			t.Fatal("the test holds no lease")
		}
		if strings.Contains(dom, leaseID) {
			t.Errorf("the page shows the lease id %q (only its owner should show): %s", leaseID, lineWith(pageText(dom), leaseID))
		}
	})
}

// checkScreenshot renders the page to a 1280x900 screenshot and checks
// that something was drawn. With STATUSPAGE_SCREENSHOT=/tmp/x.png the
// screenshot is kept as /tmp/x-<label>.png, for a person to look at.
func checkScreenshot(t *testing.T, chromium, url, label string) {
	t.Helper()
	t.Run("screenshot "+label, func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "status.png")
		runChromium(t, chromium, "--screenshot="+shot, "--window-size=1280,900", url)
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("chromium wrote no screenshot: %v", err)
		}
		if keep := os.Getenv(statusScreenshotEnv); keep != "" {
			ext := filepath.Ext(keep)
			keep = strings.TrimSuffix(keep, ext) + "-" + label + ext
			if err := os.WriteFile(keep, b, 0o644); err != nil {
				t.Errorf("keeping the screenshot: %v", err)
			}
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("the screenshot is not a PNG (starts %q)", b[:min(len(b), 8)])
		}
		// A blank 1280x900 PNG is a few kB; a page with tables and text is
		// tens of kB. Anything huge is a broken encoder.
		if len(b) < 10<<10 || len(b) > 20<<20 {
			t.Errorf("the screenshot is %d bytes: not a rendered page", len(b))
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decoding the screenshot: %v", err)
		}
		if sz := img.Bounds().Size(); sz.X != 1280 || sz.Y != 900 {
			t.Errorf("the screenshot is %dx%d, want 1280x900", sz.X, sz.Y)
		}
		// Something was drawn: a share of the pixels is not background.
		bg := img.At(0, 0)
		drawn, total := 0, 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
				total++
				if img.At(x, y) != bg {
					drawn++
				}
			}
		}
		if drawn*200 < total {
			t.Errorf("only %d of %d sampled pixels differ from the background: the page looks blank", drawn, total)
		}
	})
}
