package bundle

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestBuildAndVerifyA256MiBBundleInConstantMemory streams a bundle from
// Build straight into Verify through a pipe and samples the heap meanwhile:
// neither side may hold a payload.
func TestBuildAndVerifyA256MiBBundleInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB twice")
	}
	const size = 256 << 20
	const limit = 16 << 20 // far below the payload size, well above the buffers
	spec := Spec{Version: "7.0", SupportedFrom: []string{"6.5"}, Components: []ComponentSpec{
		{Name: "os", Size: size - 8<<20},
		{Name: "storage", Size: 8 << 20},
	}}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	pr, pw := io.Pipe()
	go func() {
		_, err := Build(pw, spec)
		pw.CloseWithError(err)
	}()
	m, err := Verify(pr)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	if m.Components[0].Size+m.Components[1].Size != size {
		t.Fatalf("verified %d bytes of payload", m.Components[0].Size+m.Components[1].Size)
	}
	if grown := peak.Load() - min(peak.Load(), before.HeapAlloc); grown > limit {
		t.Errorf("heap grew by %d MiB while streaming %d MiB", grown>>20, size>>20)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > limit {
		t.Errorf("allocated %d MiB in total while streaming %d MiB", allocated>>20, size>>20)
	}
	t.Logf("peak heap %d KiB, allocated %d KiB", peak.Load()>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
}

// BenchmarkVerify measures the verifier alone on a 64 MiB bundle in memory.
func BenchmarkVerify(b *testing.B) {
	data, _ := buildBytes(b, Spec{Version: "7.0", SupportedFrom: []string{"6.5"}, Components: []ComponentSpec{
		{Name: "os", Size: 56 << 20},
		{Name: "storage", Size: 8 << 20},
	}})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBaselineSHA256 hashes the same 64 MiB with nothing else:
// the floor Verify is measured against (bench/run.sh reports the ratio).
func BenchmarkVerifyBaselineSHA256(b *testing.B) {
	data, _ := buildBytes(b, Spec{Version: "7.0", SupportedFrom: []string{"6.5"}, Components: []ComponentSpec{
		{Name: "os", Size: 56 << 20},
		{Name: "storage", Size: 8 << 20},
	}})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.New()
		if _, err := io.Copy(h, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild measures building a 64 MiB bundle of generated payloads,
// which generates every byte twice (to hash, then to write).
func BenchmarkBuild(b *testing.B) {
	spec := Spec{Version: "7.0", SupportedFrom: []string{"6.5"}, Components: []ComponentSpec{{Name: "os", Size: 64 << 20}}}
	b.SetBytes(64 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(io.Discard, spec); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFile is a 256 MiB bundle on disk (in the page cache after the first
// read, as a bundle just built or downloaded is).
func benchFile(b *testing.B) string {
	b.Helper()
	path := b.TempDir() + "/bench.bundle"
	if _, err := BuildFile(path, Spec{Version: "7.0", SupportedFrom: []string{"6.5"}, Components: []ComponentSpec{
		{Name: "os", Size: 248 << 20}, {Name: "storage", Size: 8 << 20},
	}}); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkVerifyFile is plan-time verification of a file: payload hashes
// and the whole-file sha256 from one read. Its baseline is
// BenchmarkVerifyFileBaselineSHA256, one bare sha256 pass over the same
// file: the target is about x1.0 on two cores.
func BenchmarkVerifyFile(b *testing.B) {
	path := benchFile(b)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for b.Loop() {
		if _, _, _, err := VerifyFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyFileBaselineSHA256(b *testing.B) {
	path := benchFile(b)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	buf := make([]byte, copyBufferSize)
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, f, buf); err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
	}
}
