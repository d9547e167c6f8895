//go:build unix

package filelock

import (
	"os"
	"syscall"
)

// Lock is an exclusive flock on a lock file next to the state. flock
// locks belong to the open file description, so two stores in one process
// exclude each other just as two processes do.
type Lock struct {
	path string
	f    *os.File
}

// Lock blocks until the lock is held.
func (l *Lock) Lock() error {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		l.f = f
	}
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// Unlock releases the lock (the lock file stays).
func (l *Lock) Unlock() {
	if l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	}
}

// Close releases the lock file.
func (l *Lock) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
