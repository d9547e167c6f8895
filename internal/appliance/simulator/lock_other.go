//go:build !unix

package simulator

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// fileLock on systems without flock: an exclusively created lock file.
// A lock file older than staleLock is taken to be left by a crash.
type fileLock struct {
	path string
	held bool
}

const staleLock = 30 * time.Second

func (l *fileLock) lock() error {
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

func (l *fileLock) unlock() {
	if l.held {
		_ = os.Remove(l.path)
		l.held = false
	}
}

func (l *fileLock) close() error { return nil }
