//go:build unix

package simulator

import (
	"os"
	"syscall"
)

// fileLock is an exclusive flock on a lock file next to the state. flock
// locks belong to the open file description, so two stores in one process
// exclude each other just as two processes do.
type fileLock struct {
	path string
	f    *os.File
}

func (l *fileLock) lock() error {
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

func (l *fileLock) unlock() {
	if l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	}
}

func (l *fileLock) close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
