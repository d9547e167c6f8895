package simulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/ftpget/ftptest"
)

// Staging: S1-S5.

func TestSim_S1_DownloadByURLFromBuiltInSite(t *testing.T) {
	h := newHarness(t, "")
	site := h.ts.URL + "/site/bundles/1.1.tar"
	resp, err := http.Get(site + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // fully read
	sum := strings.Fields(string(b))[0]
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: site, SHA256: sum}, 202, &tk)
	if tk.Kind != engine.TaskDownload || tk.State != api.TaskRunning {
		t.Fatalf("download task %+v", tk)
	}
	got := h.succeed(tk)
	id := got.Result["image_id"]
	var im api.Image
	h.call("GET", "/v1/clusters/demo/images/"+id, nil, 200, &im)
	if im.SHA256 != sum || im.Manifest.Version != "1.1" || im.Source != site {
		t.Fatalf("image %+v", im)
	}
	if got.FinishedAt.Sub(got.CreatedAt) < engine.DefaultDownloadSeconds*time.Second {
		t.Errorf("download took %s simulated, less than %ds", got.FinishedAt.Sub(got.CreatedAt), engine.DefaultDownloadSeconds)
	}
	// The downloaded image stages like an uploaded one.
	h.succeed(h.stage("demo", "n1", id))

	// A wrong expected sha256 fails the task as a corrupt image.
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: site + "?size=10", SHA256: strings.Repeat("0", 64)}, 202, &tk)
	if got := h.finish(tk); got.State != api.TaskFailed || got.Error.Code != api.CodeCorruptImage {
		t.Fatalf("wrong sha: %+v", got)
	}
	// An unreachable URL fails with download_failed.
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: "http://127.0.0.1:1/x.tar"}, 202, &tk)
	if got := h.finish(tk); got.State != api.TaskFailed || got.Error.Code != api.CodeDownloadFailed {
		t.Fatalf("unreachable: %+v", got)
	}
	h.fail("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: "file:///etc/passwd"}, 400, api.CodeInvalidRequest)
}

func TestSim_S1_DownloadThroughProxy(t *testing.T) {
	h := newHarness(t, "")
	var proxied atomic.Int32
	target, _ := url.Parse(h.ts.URL)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A forward proxy receives the absolute URL of the origin.
		if r.URL.Host != target.Host {
			http.Error(w, "bad proxy request", 400)
			return
		}
		proxied.Add(1)
		h.srv.Handler().ServeHTTP(w, r)
	}))
	defer proxy.Close()
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: h.ts.URL + "/site/bundles/1.1.tar", Proxy: proxy.URL}, 202, &tk)
	got := h.succeed(tk)
	if proxied.Load() != 1 || got.Result["image_id"] == "" {
		t.Fatalf("proxied %d, task %+v", proxied.Load(), got)
	}
}

func TestSim_S1_DownloadByFTP(t *testing.T) {
	h := newHarness(t, "")
	var data strings.Builder
	if _, err := bundle.Build(&data, spec("1.1", []string{"1.0"})); err != nil {
		t.Fatal(err)
	}
	addr := ftptest.Serve(t, "pub/1.1.tar", []byte(data.String()))
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: "ftp://" + addr + "/pub/1.1.tar"}, 202, &tk)
	got := h.succeed(tk)
	var im api.Image
	h.call("GET", "/v1/clusters/demo/images/"+got.Result["image_id"], nil, 200, &im)
	if im.Manifest.Version != "1.1" {
		t.Fatalf("image %+v", im)
	}
}

func TestSim_S1_CorruptDownloadFault(t *testing.T) {
	h := newHarness(t, "")
	h.addFault(api.Fault{Kind: api.FaultCorruptDownload, Count: 1})
	var tk api.Task
	h.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: h.ts.URL + "/site/bundles/1.1.tar"}, 202, &tk)
	if got := h.finish(tk); got.State != api.TaskFailed || got.Error.Code != api.CodeCorruptImage {
		t.Fatalf("corrupt download: %+v", got)
	}
	var l api.ImageList
	h.call("GET", "/v1/clusters/demo/images", nil, 200, &l)
	if len(l.Images) != 0 {
		t.Fatalf("a corrupt download left an image: %+v", l.Images)
	}
}

func TestSim_S2_UploadIsStreamedAndIdempotent(t *testing.T) {
	h := newHarness(t, "")
	const size = 48 << 20
	s := bundle.Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []bundle.ComponentSpec{{Name: "os", Size: size}}}
	// The sha256 is computed ahead, as the provider does, without keeping the bytes.
	sum := sha256Of(t, s)
	pr, pw := io.Pipe()
	go func() { _, err := bundle.Build(pw, s); pw.CloseWithError(err) }()
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/clusters/demo/images", pr)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sum)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // fully read
	runtime.ReadMemStats(&after)
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	// Client, bundle generator and server share this process: all together
	// must stay far below the 48 MiB that buffering the image would cost.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap grew by %d MiB during a 48 MiB upload", grew>>20)
	}
	var im api.Image
	h.call("GET", "/v1/clusters/demo/images", nil, 200, nil)
	data, _ := readAllJSON(body, &im)
	_ = data
	if im.SizeBytes < size || im.SHA256 != sum {
		t.Fatalf("image %+v", im)
	}
	// The same sha256 again: 200 with the same image, and no body needed.
	req, _ = http.NewRequest("POST", h.ts.URL+"/v1/clusters/demo/images", strings.NewReader(""))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sum)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close() // fully read
	var again api.Image
	if _, err := readAllJSON(body, &again); err != nil {
		t.Fatalf("re-upload: %d %s: %v", resp.StatusCode, body, err)
	}
	if resp.StatusCode != 200 || again.ID != im.ID {
		t.Fatalf("re-upload: %d %s", resp.StatusCode, body)
	}
}

func TestSim_S2_DroppedUploadLeavesNothing(t *testing.T) {
	h := newHarness(t, "")
	h.addFault(api.Fault{Kind: api.FaultDropUpload, Count: 1})
	data, sum := build(t, bundle.Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []bundle.ComponentSpec{{Name: "os", Size: 1 << 20}}})
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/clusters/demo/images", strings.NewReader(string(data)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(api.HeaderContentSHA256, sum)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close() // the test fails on the status alone
		t.Fatalf("dropped upload answered %d", resp.StatusCode)
	}
	var l api.ImageList
	h.call("GET", "/v1/clusters/demo/images", nil, 200, &l)
	if len(l.Images) != 0 {
		t.Fatal("a dropped upload left an image")
	}
	if status, _ := h.upload("demo", data, sum); status != 201 { // the retry works
		t.Fatalf("retry: %d", status)
	}
}

func TestSim_S2_DiskFull(t *testing.T) {
	h := newHarness(t, "")
	h.addFault(api.Fault{Kind: api.FaultDiskFull, Cluster: "demo", Count: 1})
	data, sum := build(t, spec("1.1", []string{"1.0"}))
	status, b := h.upload("demo", data, sum)
	if status != 507 || !strings.Contains(string(b), api.CodeDiskFull) {
		t.Fatalf("disk full: %d %s", status, b)
	}
}

func TestSim_S3_StagingDoesNotInterruptService(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		h.stage("demo", n, im.ID)
	}
	h.advance(10 * time.Second)
	c := h.cluster("demo")
	for _, n := range c.Nodes {
		if n.State != appliance.NodeRunning || !n.Healthy || n.Staging != im.ID || n.Active.Version != "1.0" {
			t.Errorf("node %s while staging: %+v", n.Name, n)
		}
	}
	if !c.Healthy {
		t.Error("cluster unhealthy while staging")
	}
	h.advance(engine.DefaultStageSeconds * time.Second)
	if l := h.ledger("demo"); len(l) != 0 {
		t.Fatalf("staging caused outages: %+v", l)
	}
}

func TestSim_S4_AlternateShowsWhatIsStaged(t *testing.T) {
	h := newHarness(t, "")
	s := spec("1.1", []string{"1.0"})
	s.Description = "Avere OS 1.1 maintenance release"
	im := h.image("demo", s)
	h.succeed(h.stage("demo", "n2", im.ID))
	n := h.node("demo", "n2")
	if n.Alternate.Version != "1.1" || n.Alternate.ImageID != im.ID || n.Alternate.Description != s.Description || !n.Alternate.Bootable || n.Staging != "" {
		t.Fatalf("alternate %+v", n.Alternate)
	}
	if !hasEvent(h.events("demo"), engine.EventImageStaged, "alternate partition holds 1.1") {
		t.Error("no image_staged event")
	}
}

func TestSim_S5_ComponentsLandSeparately(t *testing.T) {
	h := newHarness(t, engine.PresetMasterStandby)
	im := h.image("vca", spec("1.1", []string{"1.0"}, "mgmt_image", "hmp_image", "ovm_image"))
	h.succeed(h.stage("vca", "mgmt2", im.ID))
	n := h.node("vca", "mgmt2")
	for _, c := range []string{"mgmt_image", "hmp_image", "ovm_image"} {
		if n.Alternate.Components[c] != "1.1" || n.Active.Components[c] != "1.0" {
			t.Errorf("component %s: alternate %q active %q", c, n.Alternate.Components[c], n.Active.Components[c])
		}
	}
}

func TestStagingTheSameImageAgainIsANoOp(t *testing.T) {
	h := newHarness(t, "")
	im := h.image("demo", spec("1.1", []string{"1.0"}))
	h.succeed(h.stage("demo", "n1", im.ID))
	again := h.stage("demo", "n1", im.ID)
	if again.State != api.TaskSucceeded || again.Result["already"] != "true" {
		t.Fatalf("second stage %+v", again)
	}
	if n := h.node("demo", "n1"); n.Alternate.ImageID != im.ID || n.Staging != "" {
		t.Fatalf("n1 %+v", n)
	}
}

// A download whose simulator process died is failed by the next process
// that looks, once its heartbeat is stale, instead of running forever.
func TestOrphanedDownloadIsFailed(t *testing.T) {
	release := make(chan struct{})
	blocking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer blocking.Close()
	defer close(release)
	path := t.TempDir() + "/state.json"
	clock := NewManualClock(epoch)
	a := newHarnessOpts(t, Options{StatePath: path, Clock: clock})
	var tk api.Task
	a.call("POST", "/v1/clusters/demo/downloads", api.DownloadRequest{URL: blocking.URL + "/x.tar"}, 202, &tk)
	b := newHarnessOpts(t, Options{StatePath: path, Clock: clock})
	if got := b.task(tk.ID); got.Done() {
		t.Fatalf("failed while its process lives: %+v", got)
	}
	old := engine.WallNow
	engine.WallNow = func() time.Time { return old().Add(2 * engine.OrphanAfter) }
	defer func() { engine.WallNow = old }()
	got := b.task(tk.ID)
	if got.State != api.TaskFailed || got.Error.Code != api.CodeDownloadFailed || !strings.Contains(got.Error.Message, "interrupted") {
		t.Fatalf("orphan %+v", got)
	}
}
