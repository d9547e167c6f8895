package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
	"time"
)

// TestVerifyStreamGivesTheDigestsOfSeparatePasses compares the one read on
// two goroutines with a bare sha256 of the bytes and Verify alone, at
// sizes around the hasher's chunk size (a stream that ends exactly at a
// block's end, one that ends a little after), with tar's zero padding
// after the archive, and with sources that give a few bytes per read.
func TestVerifyStreamGivesTheDigestsOfSeparatePasses(t *testing.T) {
	for _, payload := range []int64{1, 100_000, hasherChunk - 3072, hasherChunk - 2560, 3*hasherChunk + 17} {
		data, m := buildBytes(t, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
			{Name: "os", Size: payload}, {Name: "storage", Size: 4096},
		}})
		for _, padding := range []int{0, 10240} {
			in := append(bytes.Clone(data), make([]byte, padding)...)
			want := sha256.Sum256(in)
			separate, err := Verify(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string]io.Reader{
				"whole reads": bytes.NewReader(in),
				"half reads":  iotest.HalfReader(bytes.NewReader(in)),
			}
			if len(in) < 200_000 {
				sources["one byte a read"] = iotest.OneByteReader(bytes.NewReader(in))
			}
			for name, r := range sources {
				what := fmt.Sprintf("payload %d, padding %d, %s", payload, padding, name)
				got, sum, size, err := VerifyStream(r)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if sum != hex.EncodeToString(want[:]) || size != int64(len(in)) {
					t.Fatalf("%s: sha256 %s, %d bytes; want %x, %d", what, sum, size, want, len(in))
				}
				if got.Version != separate.Version || len(got.Components) != 2 || got.Components[0].SHA256 != m.Components[0].SHA256 {
					t.Fatalf("%s: manifest %+v, want %+v", what, got, separate)
				}
			}
		}
	}
}

// TestVerifyFileOfASmallFileTakesOneSmallChunk: a fleet plan verifies many
// small bundles at once; each must not cost the hasher's full ring.
func TestVerifyFileOfASmallFileTakesOneSmallChunk(t *testing.T) {
	data, _ := buildBytes(t, testSpec())
	a := newAsyncHasher(sha256.New(), int64(len(data)))
	if _, err := Verify(io.TeeReader(bytes.NewReader(data), a)); err != nil {
		t.Fatal(err)
	}
	sum, n := a.finish()
	if want := sha256.Sum256(data); !bytes.Equal(sum, want[:]) || n != int64(len(data)) {
		t.Fatalf("hashed %d bytes to %x, want %d, %x", n, sum, len(data), want)
	}
	if a.chunk != len(data) || a.made > 2 {
		t.Fatalf("a %d-byte file took %d chunks of %d bytes", len(data), a.made, a.chunk)
	}
	big := newAsyncHasher(sha256.New(), 1<<30)
	big.finish()
	if big.chunk != hasherChunk {
		t.Fatalf("a 1 GiB file is hashed in chunks of %d bytes, want %d", big.chunk, hasherChunk)
	}
}

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestVerifyStreamStopsReadingACorruptBundle: a payload damaged near the
// start of a large upload is refused without receiving the rest, and no
// goroutine of the verification is left behind.
func TestVerifyStreamStopsReadingACorruptBundle(t *testing.T) {
	data, m := buildBytes(t, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
		{Name: "storage", Size: 4096, Content: bytes.NewReader(bytes.Repeat([]byte("S"), 4096))},
		{Name: "os", Size: 40 << 20},
	}})
	data[bytes.Index(data, bytes.Repeat([]byte("S"), 4096))+7] ^= 0xff
	goroutines := runtime.NumGoroutine()
	src := &countingReader{r: bytes.NewReader(data)}
	_, sum, _, err := VerifyStream(src)
	wantCorrupt(t, err, `component "storage"`, "sha256 mismatch", m.Components[0].SHA256)
	if sum != "" {
		t.Errorf("a corrupt bundle got a sha256 %s", sum)
	}
	if limit := int64(2 * copyBufferSize); src.n > limit {
		t.Errorf("read %d of %d bytes of a bundle corrupt in its first KiB, want at most %d", src.n, len(data), limit)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after the verification, %d before", n, goroutines)
	}
}

// TestVerifyStreamReportsAFailingSourceAsSuch: a dropped connection is the
// stream's failure, not a corrupt bundle, also when the source says
// io.ErrUnexpectedEOF (an HTTP body cut short does) and also when it fails
// after the archive's end, in the padding.
func TestVerifyStreamReportsAFailingSourceAsSuch(t *testing.T) {
	good, _ := buildBytes(t, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{{Name: "os", Size: 3 * hasherChunk}}})
	padded := append(bytes.Clone(good), make([]byte, 10240)...)
	dropped := errors.New("connection reset by peer")
	for name, r := range map[string]io.Reader{
		"reset in a payload":       io.MultiReader(bytes.NewReader(good[:len(good)/2]), iotest.ErrReader(dropped)),
		"cut short in a payload":   io.MultiReader(bytes.NewReader(good[:len(good)/2]), iotest.ErrReader(io.ErrUnexpectedEOF)),
		"reset in the padding":     io.MultiReader(bytes.NewReader(padded[:len(padded)-100]), iotest.ErrReader(dropped)),
		"fails on the second read": iotest.TimeoutReader(bytes.NewReader(good)),
	} {
		t.Run(name, func(t *testing.T) {
			m, sum, _, err := VerifyStream(r)
			var ce *CorruptError
			if err == nil || errors.As(err, &ce) || m != nil || sum != "" {
				t.Fatalf("VerifyStream = %v, %q, %v; want the source's error, not corruption", m, sum, err)
			}
			if !errors.Is(err, dropped) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, iotest.ErrTimeout) {
				t.Fatalf("err = %v does not wrap the source's error", err)
			}
		})
	}
}
