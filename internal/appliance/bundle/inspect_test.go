package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// freshCache points the on-disk records at a temporary directory and
// empties the process's memory, as a new provider process would start.
func freshCache(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(CacheDirEnv, dir)
	ForgetInspections()
	t.Cleanup(ForgetInspections)
	return dir
}

func writeBundle(t *testing.T, spec Spec) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.bundle")
	if _, err := BuildFile(path, spec); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVerifyFileGivesTheWholeFileSHA256InTheSamePass(t *testing.T) {
	path := writeBundle(t, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
		{Name: "os", Size: 3<<20 + 17}, {Name: "storage", Size: 1 << 20},
	}})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	before := ReadsSoFar()
	m, sum, size, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum != hex.EncodeToString(want[:]) || size != int64(len(data)) || m.Version != "2.0" {
		t.Fatalf("got %s %d %s, want %x %d 2.0", sum, size, m.Version, want, len(data))
	}
	if got := ReadsSoFar(); got.Passes-before.Passes != 1 || got.Bytes-before.Bytes != size {
		t.Fatalf("VerifyFile made %d passes over %d bytes, want 1 over %d", got.Passes-before.Passes, got.Bytes-before.Bytes, size)
	}
}

func TestInspectFileDoesNotReadAnUnchangedFileAgain(t *testing.T) {
	freshCache(t)
	path := writeBundle(t, testSpec())
	first, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if first.BytesRead != first.SizeBytes {
		t.Fatalf("first inspection read %d of %d bytes", first.BytesRead, first.SizeBytes)
	}
	again, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.BytesRead != 0 || again.SHA256 != first.SHA256 {
		t.Fatalf("second inspection in the same process read %d bytes (sha %s vs %s)", again.BytesRead, again.SHA256, first.SHA256)
	}
	// A new process (terraform apply after terraform plan) finds the record on disk.
	ForgetInspections()
	next, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if next.BytesRead != 0 || next.SHA256 != first.SHA256 || next.Manifest.Version != first.Manifest.Version {
		t.Fatalf("inspection in a new process read %d bytes, sha %s version %s", next.BytesRead, next.SHA256, next.Manifest.Version)
	}
}

func TestInspectFileReadsAFileChangedBehindAnUnchangedSizeAndMtime(t *testing.T) {
	freshCache(t)
	path := writeBundle(t, testSpec())
	first, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	// Same size, a different version, and the mtime set back: only the
	// inode and ctime tell.
	spec := testSpec()
	spec.Version = "6.5.3"
	other := writeBundle(t, spec)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Now(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	ForgetInspections()
	got, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.BytesRead == 0 || got.SHA256 == first.SHA256 || got.Manifest.Version != "6.5.3" {
		t.Fatalf("changed file: read %d bytes, sha %s (was %s), version %s", got.BytesRead, got.SHA256, first.SHA256, got.Manifest.Version)
	}
}

func TestConcurrentInspectionsOfOneFileShareOneRead(t *testing.T) {
	freshCache(t)
	path := writeBundle(t, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{{Name: "os", Size: 8 << 20}}})
	before := ReadsSoFar()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var read int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, err := InspectFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			read += in.BytesRead
			mu.Unlock()
		}()
	}
	wg.Wait()
	if passes := ReadsSoFar().Passes - before.Passes; passes != 1 {
		t.Fatalf("20 concurrent inspections made %d passes over the file, want 1", passes)
	}
	if fi, _ := os.Stat(path); read != fi.Size() {
		t.Fatalf("BytesRead over all callers = %d, want the file's size %d once", read, fi.Size())
	}
}

func TestInspectFileRemembersNothingWhenCachingIsOff(t *testing.T) {
	t.Setenv(CacheDirEnv, "off")
	ForgetInspections()
	t.Cleanup(ForgetInspections)
	path := writeBundle(t, testSpec())
	if _, err := InspectFile(path); err != nil {
		t.Fatal(err)
	}
	ForgetInspections()
	in, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if in.BytesRead == 0 {
		t.Fatal("with the cache off a new process must read the file again")
	}
}

func TestVerifiedUnchangedVouchesOnlyForTheInspectedFileAndSum(t *testing.T) {
	freshCache(t)
	path := writeBundle(t, testSpec())
	if VerifiedUnchanged(path, "00") {
		t.Fatal("a file never inspected was vouched for")
	}
	in, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ForgetInspections() // as in the apply process: only the record on disk
	if !VerifiedUnchanged(path, in.SHA256) {
		t.Fatal("the inspected, unchanged file was not recognised")
	}
	if VerifiedUnchanged(path, strings.Repeat("a", 64)) {
		t.Fatal("vouched for another sha256")
	}
	spec := testSpec()
	spec.Version = "6.5.3"
	other := writeBundle(t, spec)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if VerifiedUnchanged(path, in.SHA256) {
		t.Fatal("vouched for a file replaced since it was inspected")
	}
}
