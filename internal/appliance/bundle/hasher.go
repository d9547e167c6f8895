package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// asyncHasher is an io.Writer that hashes on a goroutine of its own: the
// whole-file sha256 of a bundle then runs on one core while the tar reader
// hashes the payloads on another, so verifying a file costs about one
// sha256 pass of wall time, not two. Writes copy into a small ring of
// buffers, allocated as they are first needed and no larger than the file
// (a small bundle needs one small one), so memory stays at depth*chunk
// whatever the file's size.
//
// The reading stays with the writer's goroutine (the verifier), which
// never waits for data; only the hasher waits, for a chunk, and it has
// depth chunks of slack before the verifier waits for it. On a loaded
// machine every such wait costs a wake-up, so the pipeline has as few as
// it can.
type asyncHasher struct {
	h     hash.Hash
	full  chan []byte
	free  chan []byte
	made  int
	cur   []byte // the chunk being filled
	done  chan struct{}
	once  sync.Once
	n     int64
	chunk int
}

const (
	hasherChunk = 256 << 10
	hasherDepth = 8
)

// newAsyncHasher hashes with h; sizeHint is the size of what will be
// written when known (>= 0), so that a small file gets a small chunk.
func newAsyncHasher(h hash.Hash, sizeHint int64) *asyncHasher {
	a := &asyncHasher{
		h:     h,
		full:  make(chan []byte, hasherDepth),
		free:  make(chan []byte, hasherDepth),
		done:  make(chan struct{}),
		chunk: hasherChunk,
	}
	if sizeHint >= 0 && sizeHint < hasherChunk {
		a.chunk = int(max(sizeHint, 512))
	}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.h.Write(b)
			a.n += int64(len(b))
			a.free <- b[:cap(b)] // never blocks: free holds every chunk
		}
	}()
	return a
}

// Write copies p into the current chunk and hands each full chunk to the
// hasher: small writes (tar's 512-byte headers) share a chunk.
func (a *asyncHasher) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = a.next()[:0]
		}
		n := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+n]
		p = p[n:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
	return written, nil
}

// next returns a free chunk, making one while fewer than hasherDepth exist.
func (a *asyncHasher) next() []byte {
	select {
	case b := <-a.free:
		return b
	default:
	}
	if a.made < hasherDepth {
		a.made++
		return make([]byte, a.chunk)
	}
	return <-a.free
}

// finish waits for every written byte to be hashed and returns the sum and
// the byte count. It is safe to call more than once, and must be called
// (also on error paths) so that the goroutine ends.
func (a *asyncHasher) finish() ([]byte, int64) {
	a.once.Do(func() {
		if len(a.cur) > 0 {
			a.full <- a.cur
			a.cur = nil
		}
		close(a.full)
	})
	<-a.done
	return a.h.Sum(nil), a.n
}

// BackgroundSHA256 is a sha256 of what is written to it, computed on a
// goroutine of its own: the writer (an upload that hashes what it sends)
// goes on while the bytes are hashed. Sum must be called once, also when
// the result is not wanted, so that the goroutine ends.
type BackgroundSHA256 struct{ a *asyncHasher }

// NewBackgroundSHA256 starts one; sizeHint is the size of what will be
// written when known (>= 0), else -1.
func NewBackgroundSHA256(sizeHint int64) *BackgroundSHA256 {
	return &BackgroundSHA256{a: newAsyncHasher(sha256.New(), sizeHint)}
}

// Write hashes p (a copy of it: p may be reused at once).
func (b *BackgroundSHA256) Write(p []byte) (int, error) { return b.a.Write(p) }

// Sum waits for what was written to be hashed and returns the sha256
// (hex) and the byte count.
func (b *BackgroundSHA256) Sum() (string, int64) {
	sum, n := b.a.finish()
	return hex.EncodeToString(sum), n
}
