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
	_ = killGroup() // the helpers of a browser that exited by itself
	stdout.Close()
	stderr.Close()
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
	defer resp.Body.Close()
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

// await long-polls a task until it is done, and requires success.
func (c *browserClient) await(tk api.Task) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !tk.Done() {
		if time.Now().After(deadline) {
			c.t.Fatalf("task %s %s on %s did not finish: %+v", tk.ID, tk.Kind, tk.Target, tk)
		}
		c.do("GET", "/v1/tasks/"+tk.ID+"?wait=10s", nil, http.StatusOK, &tk)
	}
	if tk.State != api.TaskSucceeded {
		c.t.Fatalf("task %s %s on %s: %s: %+v", tk.ID, tk.Kind, tk.Target, tk.State, tk.Error)
	}
}

// TestStatusPage_ShowsClustersInABrowser upgrades a node of the default
// cluster through the API, then checks in headless Chromium that the
// status page shows a person what happened (the cluster, every node, the
// active and alternate versions, who holds the lease) and nothing that
// grants anything (neither the API token nor the lease id), and that it
// renders to a screenshot.
func TestStatusPage_ShowsClustersInABrowser(t *testing.T) {
	chromium := chromiumOrSkip(t)

	const token = "status-page-secret-token-4f1c9e" // distinctive, so a leak is found
	// Closed by the test itself, not by a context: one Close, at the end.
	srv, err := Start(context.Background(), Options{
		StatePath: filepath.Join(t.TempDir(), "state.json"),
		Topology:  DefaultPreset,
		Token:     token,
		// A reboot of 90 simulated seconds takes 0.15 s.
		TimeScale: 600,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := &browserClient{t: t, base: srv.URL(), token: token}

	var before appliance.Cluster
	c.do("GET", "/v1/clusters/demo", nil, http.StatusOK, &before)
	if len(before.Nodes) == 0 {
		t.Fatal("the default preset has no nodes")
	}

	// A rollout as the provider runs it: under a lease, upload 1.1, stage it
	// on the primary n1 and activate it (n1 then runs 1.1 with 1.0 in its
	// alternate partition, S11: the primary goes first), and stage it on n2
	// (its alternate partition holds 1.1, not yet active).
	var lease api.Lease
	c.post("/v1/clusters/demo/lease", api.LeaseRequest{Owner: "browser-test", OperationKey: "demo-1.1", TTLSeconds: 600}, http.StatusOK, &lease)
	c.leaseID = lease.ID

	bundlePath := filepath.Join(t.TempDir(), "1.1.tar")
	if _, err := bundle.BuildFile(bundlePath, bundle.Spec{
		Version: "1.1", SupportedFrom: []string{"1.0"}, Description: "release 1.1",
		Components: []bundle.ComponentSpec{{Name: "os", Size: 4096}},
	}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, sha, _, err := bundle.VerifyFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	var im api.Image
	c.do("POST", "/v1/clusters/demo/images", f, http.StatusCreated, &im,
		"Content-Type", "application/octet-stream", api.HeaderContentSHA256, sha)

	var tk api.Task
	c.post("/v1/clusters/demo/nodes/n1/stage", api.StageRequest{ImageID: im.ID}, http.StatusAccepted, &tk)
	c.await(tk)
	c.post("/v1/clusters/demo/nodes/n1/activate", api.ActivateRequest{ExpectVersion: "1.1", AutoRevert: true}, http.StatusAccepted, &tk)
	c.await(tk)
	c.post("/v1/clusters/demo/nodes/n2/stage", api.StageRequest{ImageID: im.ID}, http.StatusAccepted, &tk)
	c.await(tk)

	var after appliance.Cluster
	c.do("GET", "/v1/clusters/demo", nil, http.StatusOK, &after)
	if n1 := after.Node("n1"); n1.Active.Version != "1.1" || n1.Alternate.Version != "1.0" {
		t.Fatalf("after the upgrade n1 runs %q with %q in its alternate partition, want 1.1 and 1.0", n1.Active.Version, n1.Alternate.Version)
	}

	url := srv.URL() + "/"

	dom := string(runChromium(t, chromium, "--dump-dom", url))
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("chromium dumped no document:\n%s", lastChars(dom, 2000))
	}

	t.Run("shows the cluster, every node and its versions", func(t *testing.T) {
		text := pageText(dom)
		for _, want := range []string{after.Name, "active", "alternate", "leased by browser-test"} {
			if !strings.Contains(text, want) {
				t.Errorf("the page does not show %q; it shows:\n%s", want, text)
			}
		}
		// Each node's row shows its name, and its active and alternate
		// versions in the columns headed so.
		rows := pageRows(dom)
		header := rowStartingWith(rows, "node")
		if header == nil {
			t.Fatalf("no node table with a header row on the page; rows: %q", rows)
		}
		col := func(name string) int {
			for i, h := range header {
				if h == name {
					return i
				}
			}
			t.Fatalf("the node table has no %q column: %q", name, header)
			return -1
		}
		activeCol, altCol := col("active"), col("alternate")
		for _, n := range after.Nodes {
			row := rowStartingWith(rows, n.Name)
			switch {
			case row == nil:
				t.Errorf("node %s has no row on the page", n.Name)
			case len(row) <= max(activeCol, altCol):
				t.Errorf("node %s: row %q is too short", n.Name, row)
			default:
				if row[activeCol] != n.Active.Version {
					t.Errorf("node %s: the page shows active %q, the API says %q", n.Name, row[activeCol], n.Active.Version)
				}
				// The alternate cell may add a remark ("(not bootable)").
				if !strings.HasPrefix(row[altCol], n.Alternate.Version) || (n.Alternate.Version == "" && row[altCol] != "") {
					t.Errorf("node %s: the page shows alternate %q, the API says %q", n.Name, row[altCol], n.Alternate.Version)
				}
			}
		}
		for _, v := range []string{"1.0", "1.1"} {
			if !strings.Contains(text, v) {
				t.Errorf("the page never shows version %s", v)
			}
		}
	})

	// The page needs no token, so it must show nothing that grants
	// anything: not the API token, and not the lease id (with it, a client
	// could act inside another rollout's lease; statuspage.go promises "no
	// lease ids").
	t.Run("shows no token", func(t *testing.T) {
		if strings.Contains(dom, token) {
			t.Errorf("the page shows the API token %q", token)
		}
	})
	t.Run("shows no lease id", func(t *testing.T) {
		if strings.Contains(dom, lease.ID) {
			t.Errorf("the page shows the lease id %q (only its owner should show): %s", lease.ID, lineWith(pageText(dom), lease.ID))
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "status.png")
		runChromium(t, chromium, "--screenshot="+shot, "--window-size=1280,900", url)
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatalf("chromium wrote no screenshot: %v", err)
		}
		if keep := os.Getenv(statusScreenshotEnv); keep != "" {
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
