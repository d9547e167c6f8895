package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Inspection is what verifying a bundle file found.
type Inspection struct {
	Manifest  appliance.Manifest `json:"manifest"`
	SHA256    string             `json:"sha256"`
	SizeBytes int64              `json:"size_bytes"`
	// BytesRead is how much of the file this inspection read: 0 when an
	// earlier verification of the unchanged file was remembered.
	BytesRead int64 `json:"-"`
}

// fileIdentity is a file's size, times and inode: when none of them
// changed, neither did the content (short of a deliberate forgery, which the
// upload's own check against the planned sha256 still catches).
type fileIdentity struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
	Dev     uint64 `json:"dev"`
	Inode   uint64 `json:"inode"`
}

// InspectFile verifies the bundle at path like VerifyFile, but remembers
// the result by the file's identity (path, size, mtime, ctime, inode): a
// file verified before and unchanged since is not read again. That is what
// keeps Terraform's second plan of a resource at apply from re-reading a
// multi-GB bundle. The memory lasts the process; a small record in the
// user's cache directory carries it to the next process (terraform plan
// and terraform apply run separate provider processes), see CacheDir.
// Concurrent inspections of one file share a single read.
func InspectFile(path string) (*Inspection, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	id := identity(fi)
	id.Path = abs

	cache.mu.Lock()
	if in, ok := cache.done[id]; ok {
		cache.mu.Unlock()
		hit := *in
		hit.BytesRead = 0
		return &hit, nil
	}
	if f, ok := cache.flight[id]; ok {
		cache.mu.Unlock()
		<-f.done
		if f.err != nil {
			return nil, f.err
		}
		hit := *f.in
		hit.BytesRead = 0
		return &hit, nil
	}
	f := &flight{done: make(chan struct{})}
	cache.flight[id] = f
	cache.mu.Unlock()

	f.in, f.err = inspect(abs, id)
	cache.mu.Lock()
	delete(cache.flight, id)
	if f.err == nil {
		cache.done[id] = f.in
	}
	cache.mu.Unlock()
	close(f.done)
	if f.err != nil {
		return nil, f.err
	}
	out := *f.in
	return &out, nil
}

// inspect finds the result in the on-disk cache or reads the file.
func inspect(abs string, id fileIdentity) (*Inspection, error) {
	if in := loadRecord(id); in != nil {
		return in, nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose on Close
	m, sum, size, err := verifyOpenFile(f)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Manifest: *m, SHA256: sum, SizeBytes: size, BytesRead: size}
	// Remember it only if the file did not change while it was read.
	if fi, err := f.Stat(); err == nil {
		after := identity(fi)
		after.Path = abs
		if after == id && size == id.Size {
			storeRecord(id, in)
		}
	}
	return in, nil
}

// VerifiedUnchanged reports whether the file at path is, by its identity
// (path, size, mtime, ctime, inode), the very file an earlier inspection in
// this or an earlier process found to have this sha256: then an upload
// need not hash it again to know it is still the planned file. It reads
// nothing but the file's metadata and the cache record.
func VerifiedUnchanged(path, sha256hex string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	fi, err := os.Stat(abs)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	id := identity(fi)
	id.Path = abs
	if id.CtimeNs == 0 && id.Inode == 0 {
		return false // the platform gives only size and mtime: too weak alone
	}
	cache.mu.Lock()
	in, ok := cache.done[id]
	cache.mu.Unlock()
	if !ok {
		in = loadRecord(id)
	}
	return in != nil && strings.EqualFold(in.SHA256, sha256hex)
}

// Identity is a file's identity as VerifiedUnchanged compares it, for a
// caller that checks a file did not change while it read it.
type Identity = fileIdentity

// IdentityOf returns the identity of the file at path.
func IdentityOf(path string) (Identity, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Identity{}, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Identity{}, err
	}
	id := identity(fi)
	id.Path = abs
	return id, nil
}

type flight struct {
	done chan struct{}
	in   *Inspection
	err  error
}

var cache = struct {
	mu     sync.Mutex
	done   map[fileIdentity]*Inspection
	flight map[fileIdentity]*flight
}{done: map[fileIdentity]*Inspection{}, flight: map[fileIdentity]*flight{}}

// ForgetInspections empties the process's memory of inspected files (the
// on-disk records stay), as a new provider process starts: for tests.
func ForgetInspections() {
	cache.mu.Lock()
	cache.done = map[fileIdentity]*Inspection{}
	cache.mu.Unlock()
}

// CacheDirEnv names the environment variable that sets where verified
// bundles are remembered between processes; "off" turns that off. The
// default is terraform-provider-appliance/verified-bundles under the
// user's cache directory ($XDG_CACHE_HOME or ~/.cache).
const CacheDirEnv = "APPLIANCE_BUNDLE_CACHE_DIR"

// CacheDir is the directory of the on-disk records, or "" when off.
func CacheDir() string {
	switch d := os.Getenv(CacheDirEnv); d {
	case "off":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "terraform-provider-appliance", "verified-bundles")
	default:
		return d
	}
}

// record is one on-disk entry: the identity it was made for and the result.
type record struct {
	Identity   fileIdentity `json:"identity"`
	Inspection Inspection   `json:"inspection"`
}

func recordPath(dir string, id fileIdentity) string {
	sum := sha256.Sum256([]byte(id.Path))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".json")
}

// loadRecord returns the remembered inspection of exactly this identity,
// or nil. A missing, unreadable or stale record is simply not a hit.
func loadRecord(id fileIdentity) *Inspection {
	dir := CacheDir()
	if dir == "" {
		return nil
	}
	data, err := os.ReadFile(recordPath(dir, id))
	if err != nil {
		return nil
	}
	var rec record
	if json.Unmarshal(data, &rec) != nil || rec.Identity != id || rec.Inspection.SizeBytes != id.Size {
		return nil
	}
	if rec.Inspection.Manifest.Validate() != nil || len(rec.Inspection.SHA256) != 64 {
		return nil
	}
	in := rec.Inspection
	in.BytesRead = 0
	return &in
}

// storeRecord writes the record atomically (temp file and rename). It is
// an optimisation: a failure only means the next process reads the file.
func storeRecord(id fileIdentity, in *Inspection) {
	dir := CacheDir()
	if dir == "" || os.MkdirAll(dir, 0o700) != nil {
		return
	}
	data, err := json.Marshal(record{Identity: id, Inspection: *in})
	if err != nil {
		return
	}
	writeAtomically(dir, recordPath(dir, id), data)
}

// Reads counts the passes over bundle files this process made and the bytes
// they read (verification and, through NoteRead, uploads), so that tests
// and logs can show how often a bundle was read.
type Reads struct {
	Passes int64
	Bytes  int64
}

var reads struct{ passes, bytes atomic.Int64 }

// ReadsSoFar returns the passes counted so far.
func ReadsSoFar() Reads {
	return Reads{Passes: reads.passes.Load(), Bytes: reads.bytes.Load()}
}

// NoteRead counts one pass of n bytes over a bundle file made outside this
// package (the upload's).
func NoteRead(n int64) { countRead(n) }

func countRead(n int64) {
	reads.passes.Add(1)
	reads.bytes.Add(n)
}
