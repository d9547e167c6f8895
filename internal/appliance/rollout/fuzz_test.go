package rollout

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"testing"
)

// byteSource is a rand.Source driven by the fuzzer's bytes, so that
// mutating the input mutates the topology the generator builds.
type byteSource struct {
	data []byte
	pos  int
}

func (b *byteSource) Int63() int64 { return int64(b.Uint64() >> 1) }
func (b *byteSource) Seed(int64)   {}
func (b *byteSource) Uint64() uint64 {
	var buf [8]byte
	for i := range buf {
		if b.pos < len(b.data) {
			buf[i] = b.data[b.pos]
			b.pos++
		}
	}
	return binary.LittleEndian.Uint64(buf[:])
}

// FuzzCompute: whatever the topology, policy strings and failures, Compute
// never panics and never returns an unsafe plan; its plans reach their
// bound, and on small clusters the bound is the exhaustive optimum.
func FuzzCompute(f *testing.F) {
	f.Add([]byte{}, "", "")
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "2", "rolling")
	f.Add([]byte("primary with pairs and resources"), "25%", "auto")
	f.Add([]byte("standby first, then master"), "", "standby_first")
	f.Add([]byte{255, 0, 255, 0, 128, 64, 32, 16, 8, 4, 2, 1}, "0", "active_first")
	f.Add([]byte("odd"), "101%", "sideways")
	f.Fuzz(func(t *testing.T, data []byte, maxUnavailable, order string) {
		rng := rand.New(&byteSource{data: data})
		req := genRequest(rng, genOptions{maxNodes: 9, maxResources: 4, failures: len(data)%2 == 1})
		if rng.Intn(2) == 0 {
			req.Policy.MaxUnavailable = maxUnavailable
		}
		if rng.Intn(2) == 0 {
			req.Policy.Order = Order(order)
		}
		p, err := Compute(req)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%T %v\n%s", err, err, describe(req))
			}
			if ve.Code == "" || ve.Message == "" {
				t.Fatalf("validation error without code or message: %#v", ve)
			}
			return
		}
		if p.Waves != p.LowerBound {
			t.Fatalf("%d waves, bound %d\n%s\n%s", p.Waves, p.LowerBound, describe(req), lines(p))
		}
		if opt := bruteOptimum(req); opt != p.LowerBound {
			t.Fatalf("optimum %d, bound %d\n%s\n%s", opt, p.LowerBound, describe(req), lines(p))
		}
		if len(p.Lines()) != len(p.Steps) {
			t.Fatal("Lines does not render one line per step")
		}
	})
}
