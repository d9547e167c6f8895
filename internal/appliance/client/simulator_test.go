package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// simulated is a real simulator (manual clock, default topology) and a client of it.
type simulated struct {
	srv *simulator.Server
	c   *Client
}

func newSimulated(t *testing.T, opts simulator.Options) *simulated {
	t.Helper()
	opts.Token = testToken
	if opts.Clock == nil {
		opts.Clock = simulator.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	srv, err := simulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	c, err := New(Config{Endpoint: ts.URL, Token: testToken, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &simulated{srv: srv, c: c}
}

func bundleFile(t *testing.T, version string, size int64) (string, *bundle.Inspection) {
	t.Helper()
	t.Setenv(bundle.CacheDirEnv, "off")
	path := filepath.Join(t.TempDir(), "b-"+version+".bundle")
	if _, err := bundle.BuildFile(path, bundle.Spec{Version: version, SupportedFrom: []string{"1.0"},
		Components: []bundle.ComponentSpec{{Name: "os", Size: size}}}); err != nil {
		t.Fatal(err)
	}
	in, err := bundle.InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, in
}

func TestUploadWithThePlannedSHA256ReadsTheFileOnce(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	path, in := bundleFile(t, "1.1", 2<<20)
	before := bundle.ReadsSoFar()
	img, err := s.c.UploadImageExpecting(context.Background(), "demo", path, Expected{SHA256: in.SHA256, SizeBytes: in.SizeBytes})
	if err != nil {
		t.Fatal(err)
	}
	if img.SHA256 != in.SHA256 {
		t.Fatalf("image sha256 %s, want %s", img.SHA256, in.SHA256)
	}
	after := bundle.ReadsSoFar()
	if after.Passes-before.Passes != 1 || after.Bytes-before.Bytes != in.SizeBytes {
		t.Fatalf("the upload made %d passes over %d bytes, want 1 over %d", after.Passes-before.Passes, after.Bytes-before.Bytes, in.SizeBytes)
	}
}

// TestUploadOfAFileVerifiedAtPlanIsSentInOneReadWithoutHashing: a file
// that plan verified and that has not changed since is read once, every
// byte of it through the unhashed body, and not hashed again (the cluster
// checks the bytes against the planned sha256).
func TestUploadOfAFileVerifiedAtPlanIsSentInOneReadWithoutHashing(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	path, in := bundleFile(t, "1.1", 4<<20) // inspected, as terraform plan does
	sent := sentUnhashed.Load()
	before := bundle.ReadsSoFar()
	img, err := s.c.UploadImageExpecting(context.Background(), "demo", path, Expected{SHA256: in.SHA256, SizeBytes: in.SizeBytes})
	if err != nil || img.SHA256 != in.SHA256 {
		t.Fatalf("upload: %+v, %v", img, err)
	}
	if n := sentUnhashed.Load() - sent; n != in.SizeBytes {
		t.Fatalf("%d bytes were sent without hashing, want all %d (the file is unchanged since plan verified it)", n, in.SizeBytes)
	}
	if got := bundle.ReadsSoFar(); got.Passes-before.Passes != 1 || got.Bytes-before.Bytes != in.SizeBytes {
		t.Fatalf("the upload counted %d passes over %d bytes, want 1 over %d", got.Passes-before.Passes, got.Bytes-before.Bytes, in.SizeBytes)
	}
}

func TestUploadOfAFileChangedSincePlanIsRefusedAndTheClusterKeepsNothing(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	path, planned := bundleFile(t, "1.1", 1<<20)
	// The file is replaced by another bundle of the same size after plan.
	other, _ := bundleFile(t, "1.2", 1<<20)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	_, err := s.c.UploadImageExpecting(context.Background(), "demo", path, Expected{SHA256: planned.SHA256, SizeBytes: planned.SizeBytes})
	var changed *FileChangedError
	if !errors.As(err, &changed) {
		t.Fatalf("got %v, want a FileChangedError", err)
	}
	for _, want := range []string{path, planned.SHA256, changed.Now, "changed since terraform plan", "run terraform plan again"} {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	images, err := s.c.ListImages(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 0 {
		t.Fatalf("the cluster kept %d images of a refused upload: %+v", len(images), images)
	}
}

func TestUploadOfAFileWhoseSizeChangedIsRefusedWithoutSendingIt(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	path, planned := bundleFile(t, "1.1", 1<<20)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(make([]byte, 512))
	_ = f.Close()
	before := s.srv.Stats().Requests
	_, err = s.c.UploadImageExpecting(context.Background(), "demo", path, Expected{SHA256: planned.SHA256, SizeBytes: planned.SizeBytes})
	if !errors.As(err, new(*FileChangedError)) || !strings.Contains(err.Error(), "bytes now") {
		t.Fatalf("got %v", err)
	}
	if n := s.srv.Stats().Requests - before; n != 0 {
		t.Fatalf("%d requests sent for a file known to have changed", n)
	}
}

func TestAClusterRequiringSignaturesTakesOnlyBundlesSignedByATrustedKey(t *testing.T) {
	key, _ := bundle.GenerateKey()
	other, _ := bundle.GenerateKey()
	pubKey, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		t.Fatalf("the key's public half is a %T, not an ed25519.PublicKey", key.Public())
	}
	pubPEM, _ := bundle.EncodePublicKey(pubKey)
	s := newSimulated(t, simulator.Options{TrustedKeys: []string{string(pubPEM)}})
	ctx := context.Background()

	unsigned, _ := bundleFile(t, "1.1", 4096)
	_, err := s.c.UploadImage(ctx, "demo", unsigned)
	if code := apiCode(err); code != api.CodeUnsigned {
		t.Fatalf("unsigned bundle: %v (code %q), want %s", err, code, api.CodeUnsigned)
	}

	wrong, _ := bundleFile(t, "1.2", 4096)
	if _, err := bundle.SignFile(wrong, other); err != nil {
		t.Fatal(err)
	}
	_, err = s.c.UploadImage(ctx, "demo", wrong)
	if code := apiCode(err); code != api.CodeBadSignature {
		t.Fatalf("bundle signed by an untrusted key: %v (code %q), want %s", err, code, api.CodeBadSignature)
	}

	good, in := bundleFile(t, "1.3", 4096)
	if _, err := bundle.SignFile(good, key); err != nil {
		t.Fatal(err)
	}
	img, err := s.c.UploadImageExpecting(ctx, "demo", good, Expected{SHA256: in.SHA256, SizeBytes: in.SizeBytes})
	if err != nil || img.Manifest.Version != "1.3" {
		t.Fatalf("signed bundle: %+v %v", img, err)
	}
}

func apiCode(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestACachedClientReadsEachClusterOnceUntilAChange(t *testing.T) {
	s := newSimulated(t, simulator.Options{Topology: engine.PresetSupercluster})
	ctx := context.Background()
	cached := s.c.Cached()
	for range 5 {
		for _, name := range []string{"dma1", "dma2"} {
			if _, err := cached.GetCluster(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	gets := s.srv.Stats().ClusterGets
	if gets["dma1"] != 1 || gets["dma2"] != 1 {
		t.Fatalf("10 cached reads of two clusters made GETs %v, want one each", gets)
	}
	// Concurrent readers share one GET.
	done := make(chan error)
	for range 8 {
		go func() { _, err := cached.GetCluster(ctx, "dma3"); done <- err }()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := s.srv.Stats().ClusterGets["dma3"]; n != 1 {
		t.Fatalf("8 concurrent cached reads made %d GETs, want 1", n)
	}

	// A change through any copy of the client (here a lease, through the
	// uncached one) makes the next read of that cluster fresh; others stay.
	if _, err := s.c.AcquireLease(ctx, "dma1", api.LeaseRequest{Owner: "test", OperationKey: "op", TTLSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.GetCluster(ctx, "dma1"); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.GetCluster(ctx, "dma2"); err != nil {
		t.Fatal(err)
	}
	gets = s.srv.Stats().ClusterGets
	if gets["dma1"] != 2 || gets["dma2"] != 1 {
		t.Fatalf("after a lease on dma1: GETs %v, want dma1 read again and dma2 not", gets)
	}
	// The uncached client always reads.
	for range 3 {
		if _, err := s.c.GetCluster(ctx, "dma2"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.srv.Stats().ClusterGets["dma2"]; n != 4 {
		t.Fatalf("uncached reads: %d GETs of dma2, want 4", n)
	}
}

func TestACachedSnapshotCannotBeChangedByItsReader(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	cached := s.c.Cached()
	a, err := cached.GetCluster(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	a.Nodes[0].Active.Version = "9.9"
	b, err := cached.GetCluster(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if b.Nodes[0].Active.Version == "9.9" {
		t.Fatal("a change to one reader's snapshot showed in the next reader's")
	}
}

// A plan's images and active versions each list their cluster's images: a
// cached client lists each cluster once, until a change through any copy
// of the client (here an upload through the uncached one) makes the next
// list fresh; no reader can change another's list.
func TestACachedClientListsEachClustersImagesOnceUntilAChange(t *testing.T) {
	s := newSimulated(t, simulator.Options{})
	ctx := context.Background()
	cached := s.c.Cached()
	before := s.srv.Stats().Requests
	for range 5 {
		imgs, err := cached.ListImages(ctx, "demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) != 0 {
			t.Fatalf("a fresh cluster lists %d images", len(imgs))
		}
	}
	if n := s.srv.Stats().Requests - before; n != 1 {
		t.Fatalf("5 cached lists made %d requests, want 1", n)
	}
	path, in := bundleFile(t, "1.1", 64<<10)
	if _, err := s.c.UploadImage(ctx, "demo", path); err != nil {
		t.Fatal(err)
	}
	a, err := cached.ListImages(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || a[0].SHA256 != in.SHA256 {
		t.Fatalf("after an upload the cached list is %+v, want the uploaded image", a)
	}
	a[0].Manifest.SupportedFrom[0] = "9.9"
	a[0].SHA256 = "changed"
	b, err := cached.ListImages(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if b[0].SHA256 != in.SHA256 || b[0].Manifest.SupportedFrom[0] != "1.0" {
		t.Fatalf("a change to one reader's list showed in the next reader's: %+v", b[0])
	}
	// The uncached client always asks.
	before = s.srv.Stats().Requests
	for range 3 {
		if _, err := s.c.ListImages(ctx, "demo"); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.srv.Stats().Requests - before; n != 3 {
		t.Fatalf("3 uncached lists made %d requests, want 3", n)
	}
}
