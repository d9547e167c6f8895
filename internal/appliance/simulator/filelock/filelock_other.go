//go:build !unix

package filelock

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// Lock, on systems without flock, is an exclusively created lock file.
// A lock file older than staleLock is taken to be left by a crash.
type Lock struct {
	path string
	held bool
}

const staleLock = 30 * time.Second

// Lock blocks until the lock is held.
func (l *Lock) Lock() error {
	for {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			l.held = true
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		if fi, err := os.Stat(l.path); err == nil && time.Since(fi.ModTime()) > staleLock {
			_ = os.Remove(l.path)
			continue
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Unlock releases the lock (the lock file stays).
func (l *Lock) Unlock() {
	if l.held {
		_ = os.Remove(l.path)
		l.held = false
	}
}

// Close releases the lock file.
func (l *Lock) Close() error { return nil }
