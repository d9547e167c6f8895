package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// Remember and Recall keep what a check of a file outside this package
// found (a RAUC driver's `rauc info` against a keyring, say) under the
// file's identity and a key naming the check and its inputs, in memory and
// as a record in CacheDir beside InspectFile's: Terraform's re-plan of a
// resource at apply, in another process, then does not repeat the check of
// a file that did not change. A record is an optimisation only; whatever
// consumes the file must still refuse bytes that are not what was checked
// (RAUC nodes verify a bundle again when they install it).

var remembered = struct {
	mu sync.Mutex
	m  map[rememberKey][]byte
}{m: map[rememberKey][]byte{}}

type rememberKey struct {
	id  fileIdentity
	key string
}

// rememberedRecord is one on-disk entry of Remember.
type rememberedRecord struct {
	Identity fileIdentity    `json:"identity"`
	Key      string          `json:"key"`
	Value    json.RawMessage `json:"value"`
}

// Remember stores v (JSON-encoded) for the file whose identity was id when
// the check began, if the file still has that identity now: a file that
// changed while it was checked is not remembered.
func Remember(id Identity, key string, v any) {
	now, err := IdentityOf(id.Path)
	if err != nil || now != id || (id.CtimeNs == 0 && id.Inode == 0) {
		return // changed, gone, or a platform whose identity is too weak
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	remembered.mu.Lock()
	remembered.m[rememberKey{id, key}] = data
	remembered.mu.Unlock()
	dir := CacheDir()
	if dir == "" || os.MkdirAll(dir, 0o700) != nil {
		return
	}
	rec, err := json.Marshal(rememberedRecord{Identity: id, Key: key, Value: data})
	if err != nil {
		return
	}
	writeAtomically(dir, rememberedPath(dir, id.Path, key), rec)
}

// Recall decodes into v what Remember stored for the file at path under
// key, and reports whether there was such a record for the file's
// identity now. The identity it compared is returned for a caller that
// checks the file afresh (and then Remembers) on a miss.
func Recall(path, key string, v any) (Identity, bool) {
	id, err := IdentityOf(path)
	if err != nil {
		return id, false
	}
	remembered.mu.Lock()
	data, ok := remembered.m[rememberKey{id, key}]
	remembered.mu.Unlock()
	if !ok {
		data, ok = loadRemembered(id, key)
	}
	if !ok || json.Unmarshal(data, v) != nil {
		return id, false
	}
	return id, true
}

// ForgetRemembered empties the process's memory of Remember (the on-disk
// records stay), as a new provider process starts: for tests.
func ForgetRemembered() {
	remembered.mu.Lock()
	remembered.m = map[rememberKey][]byte{}
	remembered.mu.Unlock()
}

func rememberedPath(dir, path, key string) string {
	sum := sha256.Sum256([]byte(path + "\x00" + key))
	return filepath.Join(dir, "r-"+hex.EncodeToString(sum[:16])+".json")
}

func loadRemembered(id fileIdentity, key string) ([]byte, bool) {
	dir := CacheDir()
	if dir == "" {
		return nil, false
	}
	data, err := os.ReadFile(rememberedPath(dir, id.Path, key))
	if err != nil {
		return nil, false
	}
	var rec rememberedRecord
	if json.Unmarshal(data, &rec) != nil || rec.Identity != id || rec.Key != key {
		return nil, false
	}
	remembered.mu.Lock()
	remembered.m[rememberKey{id, key}] = rec.Value
	remembered.mu.Unlock()
	return rec.Value, true
}

// writeAtomically writes data to file in dir through a temporary file and a
// rename; a failure leaves no partial record.
func writeAtomically(dir, file string, data []byte) {
	tmp, err := os.CreateTemp(dir, ".record-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), file) != nil {
		_ = os.Remove(tmp.Name())
	}
}
