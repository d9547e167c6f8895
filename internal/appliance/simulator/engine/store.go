package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/filelock"
)

// store keeps the State in a JSON file shared by every simulator (in this
// process or another) that names the same path. Each transaction takes the
// file lock, reloads the state if another writer changed it, runs, and saves
// atomically if anything changed; the lock is never held between
// transactions, so a provider process that starts an embedded simulator
// does not lock out the next `terraform` command.
type store struct {
	path string // "" keeps the state in memory only
	// create builds the state of a missing file from the topology.
	create func() (*State, error)

	mu    sync.Mutex // orders this store's transactions; the file lock orders processes
	lock  *filelock.Lock
	cache *State
	// cacheOf is the file content the cache was decoded from or encoded
	// to. Comparing bytes (not inode, size and mtime, which a coarse clock
	// and inode reuse can make equal for different content) tells whether
	// another writer changed the file; decoding only then keeps the common
	// case cheap.
	cacheOf []byte
}

func newStore(path string, create func() (*State, error)) *store {
	s := &store{path: path, create: create}
	if path != "" {
		s.lock = filelock.New(path + ".lock")
		removeStaleTemps(path)
	}
	return s
}

// staleTemp is the age from which a temporary state file is taken to be
// left by a process killed between writing it and renaming it.
const staleTemp = 10 * time.Minute

// removeStaleTemps deletes temporary files that a killed writer left next
// to the state; a fresh one may belong to a writer at work and is kept.
func removeStaleTemps(path string) {
	matches, _ := filepath.Glob(path + ".tmp-*")
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(m)
		}
	}
}

// update runs fn on the current state inside a transaction. fn reports
// whether it changed the state; the state is saved when it did, even if fn
// also returns an error (lazy advancement done before a refused request is
// real and must not be lost).
func (s *store) update(fn func(st *State) (dirty bool, err error)) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path != "" {
		if err := s.lock.Lock(); err != nil {
			return fmt.Errorf("locking simulator state %s: %w", s.path, err)
		}
		defer s.lock.Unlock()
	}
	created, err := s.load()
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			s.cache = nil // a panic left the cache half-changed: reload next time
		}
	}()
	dirty, ferr := fn(s.cache)
	ok = true
	if dirty || created {
		if serr := s.save(); serr != nil {
			s.cache = nil
			return serr
		}
	} else if ferr != nil && s.path != "" {
		// A refused request must leave no trace: reload from the file next
		// time. (A memory-only state has nothing to reload from; handlers
		// validate before they change anything, so there is nothing to undo.)
		s.cache = nil
	}
	return ferr
}

// load makes s.cache the state on disk, decoding the file only when
// another writer changed it since we last saw it. A missing file is created from
// the topology; a damaged one is an error, never a silent reset.
func (s *store) load() (created bool, err error) {
	if s.path == "" {
		if s.cache == nil {
			st, err := s.create()
			if err != nil {
				return false, err
			}
			s.cache = st
		}
		return false, nil
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		st, err := s.create()
		if err != nil {
			return false, err
		}
		s.cache, s.cacheOf = st, nil
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading simulator state: %w", err)
	}
	if s.cache != nil && bytes.Equal(data, s.cacheOf) {
		return false, nil
	}
	st, err := decodeState(data)
	if err != nil {
		return false, fmt.Errorf("simulator state file %s is damaged (%v); move it away to start again from the topology", s.path, err)
	}
	s.cache, s.cacheOf = st, data
	return false, nil
}

func decodeState(data []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	if st.Schema != stateSchema {
		return nil, fmt.Errorf("schema %d, this simulator reads schema %d", st.Schema, stateSchema)
	}
	if len(st.Clusters) == 0 {
		return nil, errors.New("it holds no cluster")
	}
	return &st, nil
}

// save writes the state atomically: a temporary file in the same
// directory, fsync, rename over the old one, fsync of the directory. A
// reader (or a crash) sees the old state or the new one, never half of one.
func (s *store) save() error {
	if s.path == "" {
		return nil
	}
	data, err := json.Marshal(s.cache)
	if err != nil {
		return fmt.Errorf("encoding simulator state: %w", err)
	}
	dir := filepath.Dir(s.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving simulator state: %w", err)
	}
	// Best effort, and a no-op once renamed: a temporary file left behind
	// is removed by removeStaleTemps once stale.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("saving simulator state: %w", errors.Join(err, tmp.Close()))
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("saving simulator state: %w", errors.Join(err, tmp.Close()))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving simulator state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving simulator state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()  // best effort: makes the rename itself durable
		_ = d.Close() // opened read-only for the Sync above: nothing to lose
	}
	s.cacheOf = data
	return nil
}

// close releases the lock file.
func (s *store) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	return s.lock.Close()
}
