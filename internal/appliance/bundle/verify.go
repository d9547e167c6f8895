package bundle

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// copyBufferSize is the most that is read, and hashed, at a time, and the
// hasher's chunk (hasherChunk) is the same: 256 KiB stays in a core's L2
// cache between the read, the payload hash and the copy to the whole-file
// hasher. 1 MiB reads with 2 MiB chunks were measured slower: a 256 MiB
// file took a median 1.2 s against 0.7 s (10 alternating runs on the
// loaded 2-core machine, the same 0.5 s of CPU); the system calls at
// 256 KiB cost about 10 ms per GiB. The buffer is smaller when every
// payload is.
const copyBufferSize = 256 << 10

// Verify reads a bundle from r in one streaming pass and returns its
// manifest once every payload has been checked against it. It reads r to
// the end, so a caller that tees r into a file or a hash sees all of it.
//
// A bundle that is not well formed gives a *CorruptError naming the
// problem. An error of r itself (a dropped connection, a failing disk) is
// returned wrapped as it is, because it says nothing about the bundle.
func Verify(r io.Reader) (*appliance.Manifest, error) {
	src := &recordingReader{r: r}
	m, err := verify(src, src)
	if src.err != nil {
		// Whatever tar made of it, the source failed first.
		return nil, fmt.Errorf("reading image bundle: %w", src.err)
	}
	return m, err
}

// VerifyFile verifies the bundle at path and also returns the sha256 (hex)
// and size of the whole file, computed in the same single read pass on two
// cores (VerifyStream). It always reads the file; InspectFile remembers
// what it found.
func VerifyFile(path string) (m *appliance.Manifest, sha256hex string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", 0, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose on Close
	return verifyOpenFile(f)
}

func verifyOpenFile(f *os.File) (*appliance.Manifest, string, int64, error) {
	hint := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		hint = fi.Size()
	}
	m, sum, n, err := verifyStreamSized(f, hint)
	countRead(n)
	if err != nil {
		return nil, "", 0, err
	}
	return m, sum, n, nil
}

func verify(r io.Reader, src *recordingReader) (*appliance.Manifest, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, corruptf("missing manifest.json: the archive is empty")
		}
		// Not even one header: a zip, a JSON file, a few stray bytes.
		return nil, corruptf("not a tar archive (%v)", err)
	}
	if entryName(hdr.Name) != manifestName {
		return nil, manifestNotFirst(tr, hdr.Name)
	}
	m, err := readManifest(tr, hdr)
	if err != nil {
		return nil, err
	}

	byPath := make(map[string]*appliance.Component, len(m.Components))
	for i := range m.Components {
		c := &m.Components[i]
		p := entryName(c.Payload)
		if byPath[p] != nil {
			return nil, corruptf("components %q and %q share the payload path %q", byPath[p].Name, c.Name, c.Payload)
		}
		byPath[p] = c
	}
	seen := make(map[string]bool, len(m.Components))
	largest := int64(0)
	for _, c := range m.Components {
		largest = max(largest, c.Size)
	}
	buf := make([]byte, min(copyBufferSize, max(largest, 64<<10)))
	h := sha256.New()
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, tarError(err)
		}
		name := entryName(hdr.Name)
		if !safeName(name) {
			return nil, corruptf("unsafe entry name %q", hdr.Name)
		}
		if hdr.Typeflag == tar.TypeDir {
			continue // harmless, and what `tar cf b.tar manifest.json payloads/` writes
		}
		c := byPath[name]
		if c == nil {
			if name == manifestName {
				return nil, corruptf("manifest.json appears twice")
			}
			return nil, corruptf("unexpected extra entry %q: the manifest names no such payload", hdr.Name)
		}
		if seen[name] {
			return nil, corruptf("component %q: payload %q appears twice", c.Name, hdr.Name)
		}
		seen[name] = true
		if err := checkPayload(&expansionGuard{r: tr, src: src, start: src.n}, hdr, c, h, buf); err != nil {
			return nil, err
		}
	}
	for i := range m.Components {
		c := &m.Components[i]
		if !seen[entryName(c.Payload)] {
			return nil, corruptf("component %q: payload %q is missing from the archive", c.Name, c.Payload)
		}
	}
	if err := checkTrailer(r, buf); err != nil {
		return nil, err
	}
	return m, nil
}

func readManifest(tr *tar.Reader, hdr *tar.Header) (*appliance.Manifest, error) {
	if hdr.Typeflag != tar.TypeReg {
		return nil, corruptf("manifest.json is not a regular file")
	}
	if hdr.Size > maxManifestSize {
		return nil, corruptf("manifest.json is %d bytes, more than the %d allowed", hdr.Size, maxManifestSize)
	}
	data, err := io.ReadAll(io.LimitReader(tr, maxManifestSize))
	if err != nil {
		return nil, tarError(err)
	}
	m, err := appliance.ParseManifest(data)
	if err != nil {
		return nil, corruptf("bad manifest.json: %v", err)
	}
	return m, nil
}

func checkPayload(tr io.Reader, hdr *tar.Header, c *appliance.Component, h hash.Hash, buf []byte) error {
	if hdr.Typeflag != tar.TypeReg || isSparse(hdr) {
		return corruptf("component %q: payload %q is not a regular file", c.Name, hdr.Name)
	}
	if hdr.Size != c.Size {
		return corruptf("component %q: size mismatch: the manifest says %d bytes, the archive holds %d", c.Name, c.Size, hdr.Size)
	}
	h.Reset()
	if _, err := io.CopyBuffer(h, tr, buf); err != nil {
		return tarError(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, c.SHA256) {
		return corruptf("component %q: sha256 mismatch: the manifest says %s, the payload hashes to %s", c.Name, c.SHA256, got)
	}
	return nil
}

// isSparse reports a GNU sparse file, whose holes archive/tar fills with
// zeros it never reads: a tiny archive could claim an exabyte of payload.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// expansionGuard fails a payload that yields more bytes than its archive
// holds. isSparse already rejects the formats archive/tar expands; this
// keeps the verifier's cost bounded by its input whatever tar learns next.
type expansionGuard struct {
	r      io.Reader
	src    *recordingReader
	start  int64
	hashed int64
}

func (g *expansionGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.hashed += int64(n)
	if g.hashed > g.src.n-g.start+maxManifestSize {
		return n, corruptf("payload expands beyond the bytes in the archive")
	}
	return n, err
}

// manifestNotFirst reads on to tell a misplaced manifest from a missing one:
// the two call for different fixes.
func manifestNotFirst(tr *tar.Reader, first string) error {
	for {
		hdr, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return corruptf("missing manifest.json (the first entry is %q)", first)
			}
			return tarError(err)
		}
		if entryName(hdr.Name) == manifestName {
			return corruptf("manifest.json is not the first entry (the first is %q)", first)
		}
	}
}

// checkTrailer reads what follows the end-of-archive marker. Tar tools pad
// with zeros; anything else was appended and is not part of the bundle.
func checkTrailer(r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return corruptf("unexpected data after the end of the archive")
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err // recorded by recordingReader: Verify reports it
		}
	}
}

// tarError turns an error of archive/tar into the corruption it reveals.
func tarError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return corruptf("truncated archive")
	case errors.As(err, new(*CorruptError)):
		return err
	case errors.Is(err, tar.ErrHeader):
		return corruptf("damaged archive header (%v)", err)
	default:
		return corruptf("unreadable archive: %v", err)
	}
}

// entryName normalises an entry name, so that "./manifest.json", as written
// by `tar cf b.tar -C dir .`, is manifest.json.
func entryName(name string) string {
	return strings.TrimPrefix(name, "./")
}

// safeName rejects names that would escape a directory if a consumer ever
// extracted the archive by entry name.
func safeName(name string) bool {
	if strings.HasPrefix(name, "/") {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// recordingReader keeps the first error of the underlying reader other than
// io.EOF, so that Verify can tell a failing source from a corrupt bundle.
type recordingReader struct {
	r   io.Reader
	n   int64 // bytes read so far
	err error
}

func (rr *recordingReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	rr.n += int64(n)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}
