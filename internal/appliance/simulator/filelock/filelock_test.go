package filelock

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// Two locks on one file exclude each other, as two processes sharing a
// simulator state file do.
func TestTwoLocksOnOneFileExcludeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json.lock")
	a, b := New(path), New(path)
	if err := a.Lock(); err != nil {
		t.Fatal(err)
	}
	var got atomic.Bool
	done := make(chan error, 1)
	go func() {
		err := b.Lock()
		got.Store(true)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if got.Load() {
		t.Fatal("the second lock was granted while the first was held")
	}
	a.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second lock was not granted after the first was released")
	}
	b.Unlock()
	for _, l := range []*Lock{a, b} {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
