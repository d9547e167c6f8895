package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// Spec describes a bundle to build.
type Spec struct {
	Version              string
	SupportedFrom        []string
	IrreversibleFeatures []string
	Description          string
	Components           []ComponentSpec
}

// ComponentSpec is one payload of a bundle to build.
type ComponentSpec struct {
	Name string
	// Size is the payload's length in bytes; Content must yield exactly that.
	Size int64
	// Content is the payload. Nil means deterministic pseudo-random bytes
	// seeded from the name and the version, generated as they are written,
	// so a bundle of any size costs no memory.
	Content io.Reader
}

// entryTime stamps every entry, so that the same spec gives the same bytes
// (and the same sha256) on every run.
var entryTime = time.Unix(0, 0).UTC()

// Build writes the bundle described by spec to w and returns its manifest.
// The manifest precedes the payloads in the archive, so every payload is
// hashed before anything is written: generated payloads are generated
// twice, a seekable Content is read twice, and any other Content is spooled
// to a temporary file.
func Build(w io.Writer, spec Spec) (*appliance.Manifest, error) {
	m := &appliance.Manifest{
		Version:              spec.Version,
		SupportedFrom:        spec.SupportedFrom,
		IrreversibleFeatures: spec.IrreversibleFeatures,
		Description:          spec.Description,
	}
	for _, c := range spec.Components {
		m.Components = append(m.Components, appliance.Component{
			Name:    c.Name,
			Payload: payloadDir + c.Name,
			SHA256:  strings.Repeat("0", 64), // placeholder: lets Validate run before the hashing
			Size:    c.Size,
		})
	}
	// Validate before hashing, so that a bad spec fails at once and not
	// after reading gigabytes.
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bundle spec: %w", err)
	}

	sources := make([]*source, len(spec.Components))
	defer func() {
		for _, s := range sources {
			if s != nil {
				s.close()
			}
		}
	}()
	buf := make([]byte, copyBufferSize)
	for i, c := range spec.Components {
		s, sum, err := prepare(spec.Version, c, buf)
		if err != nil {
			return nil, fmt.Errorf("bundle component %q: %w", c.Name, err)
		}
		sources[i] = s
		m.Components[i].SHA256 = sum
	}

	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(w)
	if err := writeEntry(tw, manifestName, int64(len(data)), bytes.NewReader(data), buf); err != nil {
		return nil, err
	}
	for i, c := range m.Components {
		r, err := sources[i].open()
		if err != nil {
			return nil, fmt.Errorf("bundle component %q: %w", c.Name, err)
		}
		if err := writeEntry(tw, c.Payload, c.Size, r, buf); err != nil {
			return nil, fmt.Errorf("bundle component %q: %w", c.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

// BuildFile builds a bundle at path. It writes a temporary file next to it
// and renames it into place, so a failed build never leaves half a bundle.
func BuildFile(path string, spec Spec) (*appliance.Manifest, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	m, err := Build(f, spec)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		// Best effort: the build already failed, and that is the error to
		// report; a leftover hidden .tmp file is harmless.
		_ = os.Remove(tmp)
		return nil, err
	}
	return m, nil
}

func writeEntry(tw *tar.Writer, name string, size int64, r io.Reader, buf []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  entryTime,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(tw, r, buf)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("content changed while building: wrote %d bytes, expected %d", n, size)
	}
	return nil
}

// source re-creates a component's payload for the writing pass.
type source struct {
	open  func() (io.Reader, error)
	close func()
}

// prepare hashes a component's payload and returns how to read it again.
func prepare(version string, c ComponentSpec, buf []byte) (*source, string, error) {
	h := sha256.New()
	if c.Content == nil {
		if _, err := io.CopyBuffer(h, generatedPayload(version, c.Name, c.Size), buf); err != nil {
			return nil, "", err
		}
		return &source{
			open:  func() (io.Reader, error) { return generatedPayload(version, c.Name, c.Size), nil },
			close: func() {},
		}, hex.EncodeToString(h.Sum(nil)), nil
	}

	if rs, ok := c.Content.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, "", err
		}
		if err := copyExactly(h, rs, c.Size, buf); err != nil {
			return nil, "", err
		}
		return &source{
			open: func() (io.Reader, error) {
				_, err := rs.Seek(start, io.SeekStart)
				return io.LimitReader(rs, c.Size), err
			},
			close: func() {},
		}, hex.EncodeToString(h.Sum(nil)), nil
	}

	// A plain stream can be read once only: spool it while hashing.
	f, err := os.CreateTemp("", "appliance-bundle-*.payload")
	if err != nil {
		return nil, "", err
	}
	// The spool is scratch space: once the bundle is written (or failed)
	// its content is of no use, so closing and removing it is best effort.
	cleanup := func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
	if err := copyExactly(io.MultiWriter(h, f), c.Content, c.Size, buf); err != nil {
		cleanup()
		return nil, "", err
	}
	return &source{
		open: func() (io.Reader, error) {
			_, err := f.Seek(0, io.SeekStart)
			return f, err
		},
		close: cleanup,
	}, hex.EncodeToString(h.Sum(nil)), nil
}

// copyExactly copies r to w and fails unless r holds exactly size bytes.
func copyExactly(w io.Writer, r io.Reader, size int64, buf []byte) error {
	n, err := io.CopyBuffer(w, io.LimitReader(r, size+1), buf)
	if err != nil {
		return err
	}
	switch {
	case n < size:
		return fmt.Errorf("content has %d bytes, but Size says %d", n, size)
	case n > size:
		return errors.New("content is longer than Size")
	}
	return nil
}
