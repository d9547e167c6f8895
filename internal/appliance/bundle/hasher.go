package bundle

import (
	"hash"
	"sync"
)

// asyncHasher is an io.Writer that hashes on a goroutine of its own: the
// whole-file sha256 of a bundle then runs on one core while the tar reader
// hashes the payloads on another, so verifying a file costs about one
// sha256 pass of wall time, not two. Writes copy into a small ring of
// buffers, so memory stays at depth*chunk whatever the file's size.
type asyncHasher struct {
	h    hash.Hash
	full chan []byte
	free chan []byte
	done chan struct{}
	once sync.Once
	n    int64
}

const (
	hasherChunk = 256 << 10
	hasherDepth = 8
)

func newAsyncHasher(h hash.Hash) *asyncHasher {
	a := &asyncHasher{
		h:    h,
		full: make(chan []byte, hasherDepth),
		free: make(chan []byte, hasherDepth),
		done: make(chan struct{}),
	}
	for range hasherDepth {
		a.free <- make([]byte, hasherChunk)
	}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.h.Write(b)
			a.n += int64(len(b))
			a.free <- b[:cap(b)]
		}
	}()
	return a
}

func (a *asyncHasher) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		b := <-a.free
		n := copy(b, p)
		a.full <- b[:n]
		p = p[n:]
	}
	return written, nil
}

// finish waits for every written byte to be hashed and returns the sum and
// the byte count. It is safe to call more than once, and must be called
// (also on error paths) so that the goroutine ends.
func (a *asyncHasher) finish() ([]byte, int64) {
	a.once.Do(func() { close(a.full) })
	<-a.done
	return a.h.Sum(nil), a.n
}
