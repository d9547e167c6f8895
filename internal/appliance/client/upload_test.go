package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

// writeFile writes size random bytes and returns the path and their sha256.
func writeFile(t *testing.T, size int64) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// hashingUpload is a fake upload handler: it hashes the body as it streams,
// and answers 201 when the body matches X-Content-SHA256 and Content-Length.
func hashingUpload(t *testing.T, w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		t.Errorf("reading the upload: %v", err)
		return
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case r.Header.Get("Content-Length") != strconv.FormatInt(n, 10) || r.ContentLength != n:
		writeAPIError(w, 400, api.CodeInvalidRequest, "Content-Length %q, body %d bytes", r.Header.Get("Content-Length"), n)
	case r.Header.Get(api.HeaderContentSHA256) != sum:
		writeAPIError(w, 422, api.CodeCorruptImage, "sha256 %s, header says %s", sum, r.Header.Get(api.HeaderContentSHA256))
	case r.Header.Get("Content-Type") != "application/octet-stream":
		writeAPIError(w, 400, api.CodeInvalidRequest, "Content-Type %q", r.Header.Get("Content-Type"))
	default:
		writeJSON(w, 201, api.Image{ID: "img-" + sum[:8], SHA256: sum, SizeBytes: n, Source: "upload"})
	}
}

func TestUploadStreamsTheFileWithItsSHA256AndContentLength(t *testing.T) {
	path, sum := writeFile(t, 3<<20+17)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/clusters/c1/images" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		hashingUpload(t, w, r)
	})
	img, err := newClient(t, f).UploadImage(context.Background(), "c1", path)
	if err != nil {
		t.Fatal(err)
	}
	if img.SHA256 != sum || img.SizeBytes != 3<<20+17 {
		t.Fatalf("image %+v, want sha256 %s", img, sum)
	}
	if got := f.requests()[0].Header.Get("Transfer-Encoding"); got != "" {
		t.Fatalf("Transfer-Encoding %q: the upload must have a Content-Length", got)
	}
}

func TestAnUploadRetriedAfterADroppedConnectionResendsTheWholeBody(t *testing.T) {
	path, sum := writeFile(t, 2<<20)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			// Take part of the body, then drop the connection.
			_, _ = io.CopyN(io.Discard, r.Body, 512<<10)
			dropConnection(t, w)
			return
		}
		hashingUpload(t, w, r)
	})
	img, err := newClient(t, f).UploadImage(context.Background(), "c1", path)
	if err != nil {
		t.Fatal(err)
	}
	if img.SHA256 != sum || f.count() != 2 {
		t.Fatalf("image %+v after %d requests", img, f.count())
	}
}

func TestAnUploadRetriedAfterA503ResendsTheWholeBody(t *testing.T) {
	path, sum := writeFile(t, 1<<20)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeAPIError(w, 503, api.CodeUnavailable, "busy")
			return
		}
		hashingUpload(t, w, r)
	})
	img, err := newClient(t, f).UploadImage(context.Background(), "c1", path)
	if err != nil || img.SHA256 != sum {
		t.Fatalf("UploadImage = %+v, %v", img, err)
	}
}

func TestAnUploadRejectedAsCorruptReportsTheCode(t *testing.T) {
	path, _ := writeFile(t, 4096)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeAPIError(w, 422, api.CodeCorruptImage, "corrupt image bundle: not a tar archive")
	})
	_, err := newClient(t, f).UploadImage(context.Background(), "c1", path)
	if ErrorCode(err) != api.CodeCorruptImage || f.count() != 1 {
		t.Fatalf("err %v after %d requests", err, f.count())
	}
}

func TestUploadRefusesAMissingOrEmptyFileWithoutContactingTheServer(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(500) })
	c := newClient(t, f)
	if _, err := c.UploadImage(context.Background(), "c1", filepath.Join(t.TempDir(), "nope.tar")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.tar")
	_ = os.WriteFile(empty, nil, 0o600)
	if _, err := c.UploadImage(context.Background(), "c1", empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := c.UploadImage(context.Background(), "c1", t.TempDir()); err == nil {
		t.Error("a directory was uploaded")
	}
	if f.count() != 0 {
		t.Fatalf("%d requests", f.count())
	}
}

// TestUploadDoesNotHoldTheFileInMemory uploads 64 MiB and checks that the
// client and the fake server together allocated a small fraction of it.
func TestUploadDoesNotHoldTheFileInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB")
	}
	const size = 64 << 20
	path, sum := writeFile(t, size)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { hashingUpload(t, w, r) })
	c := newClient(t, f)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	img, err := c.UploadImage(context.Background(), "c1", path)
	runtime.ReadMemStats(&after)
	if err != nil || img.SHA256 != sum {
		t.Fatalf("UploadImage = %+v, %v", img, err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > size/8 {
		t.Fatalf("allocated %d MiB to upload %d MiB", allocated>>20, size>>20)
	} else {
		t.Logf("allocated %d KiB to upload %d MiB", allocated>>10, size>>20)
	}
}

func TestUploadStopsWhenTheContextEnds(t *testing.T) {
	path, _ := writeFile(t, 1<<20)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { hashingUpload(t, w, r) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, f).UploadImage(ctx, "c1", path); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
