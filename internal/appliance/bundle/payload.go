package bundle

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
)

// generatedPayload returns the pseudo-random payload of a component without
// content: size bytes of ChaCha8 output seeded from the version and the
// name. The same spec always yields the same bytes, so Build can read the
// stream once to hash it and once more to write it, and tests can make
// bundles of any size without holding them.
func generatedPayload(version, name string, size int64) io.Reader {
	seed := sha256.Sum256([]byte("appliance-bundle\x00" + version + "\x00" + name))
	return io.LimitReader(rand.NewChaCha8(seed), size)
}
