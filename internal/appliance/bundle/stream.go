package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// VerifyStream verifies the bundle read from r and returns, from that one
// read, its manifest and the sha256 (hex) and size of every byte r gave:
// what plan-time verification of a file and a cluster receiving an upload
// both need. The two digests, the whole stream's and the payloads'
// (together nearly every byte twice), run on two goroutines, so on two
// cores the read costs about one sha256 pass of wall time, not two. r is
// read in blocks of up to 256 KiB, and memory stays at a few MiB whatever
// the size of the stream.
//
// The errors are Verify's: a *CorruptError for a bundle that is not well
// formed, and an error of r (wrapped) for a failing source. A corrupt
// bundle is not read further. size is the bytes read, also when err is set.
func VerifyStream(r io.Reader) (m *appliance.Manifest, sha256hex string, size int64, err error) {
	return verifyStreamSized(r, -1)
}

// verifyStreamSized is VerifyStream knowing r's size when sizeHint >= 0, so
// that a small file gets small buffers.
func verifyStreamSized(r io.Reader, sizeHint int64) (*appliance.Manifest, string, int64, error) {
	whole := newAsyncHasher(sha256.New(), sizeHint)
	m, err := Verify(io.TeeReader(r, whole))
	sum, n := whole.finish()
	if err != nil {
		return nil, "", n, err
	}
	return m, hex.EncodeToString(sum), n, nil
}
