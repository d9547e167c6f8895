package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Uploads (S2): a multi-GB bundle is streamed through sha256 and the
// bundle's own verification and never kept; only its manifest, sha256 and
// size are recorded.

// verifyStream verifies a bundle stream, hashing every byte of it, and
// keeps nothing but the manifest, the sha256 and the size. The whole
// stream's sha256 and the payloads' digests run side by side on two
// cores from one read (bundle.VerifyStream), as a cluster
// with more than one core would verify what it receives. A
// *bundle.CorruptError is the bundle's fault (S6); any other error is the
// stream's (a dropped connection) and says nothing about the bundle.
func verifyStream(r io.Reader) (m *appliance.Manifest, sha string, size int64, readErr, bundleErr error) {
	m, sha, size, err := verifyBundle(r)
	if err != nil {
		var ce *bundle.CorruptError
		if errors.As(err, &ce) {
			return nil, "", size, nil, err
		}
		return nil, "", size, err, nil
	}
	return m, sha, size, nil, nil
}

// handleUpload answers POST /v1/clusters/{c}/images: the bundle is
// streamed through sha256 and bundle verification without being kept, and
// without holding the state lock while the bytes arrive.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	want := strings.ToLower(strings.TrimSpace(r.Header.Get(api.HeaderContentSHA256)))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		writeError(w, engine.BadRequest("the %s header must carry the bundle's sha256 in hex", api.HeaderContentSHA256))
		return
	}
	sigText, sigErr := uploadSignature(r.Header.Get(api.HeaderBundleSignature))
	if sigErr != nil {
		writeError(w, sigErr)
		return
	}
	var existing *api.Image
	var faultStatus int
	drop := false
	err := s.eng.Tx(func(t *engine.Tx) error {
		cs, err := clusterOf(t, r)
		if err != nil {
			return err
		}
		if faultStatus = t.HTTPFault(cs.Cluster.Name); faultStatus != 0 {
			return nil
		}
		if im := cs.ImageBySHA(want); im != nil {
			existing = &im.Image
			return nil
		}
		if e := t.DiskFull(cs, r.ContentLength); e != nil {
			return e
		}
		if _, ok := t.St.TakeFault(api.FaultDropUpload, cs.Cluster.Name, ""); ok {
			drop, t.Dirty = true, true
		}
		return nil
	})
	switch {
	case faultStatus != 0:
		writeFault(w, faultStatus)
		return
	case err != nil:
		writeError(w, asAPIError(err))
		return
	case existing != nil:
		writeJSON(w, http.StatusOK, existing)
		return
	case drop:
		dropConnection(w, r)
		return
	}
	m, sha, size, readErr, bundleErr := verifyStream(r.Body)
	if readErr != nil {
		writeError(w, engine.BadRequest("the upload was interrupted: %v", readErr))
		return
	}
	if bundleErr != nil {
		writeError(w, engine.Unprocessable(api.CodeCorruptImage, "%v", bundleErr))
		return
	}
	if sha != want {
		writeError(w, engine.Unprocessable(api.CodeCorruptImage, "the uploaded bytes have sha256 %s, but %s says %s", sha, api.HeaderContentSHA256, want))
		return
	}
	if e := s.checkSignature(sigText, sha, size); e != nil {
		writeError(w, e)
		return
	}
	var out api.Image
	created := false
	err = s.eng.Tx(func(t *engine.Tx) error {
		cs, err := clusterOf(t, r)
		if err != nil {
			return err
		}
		if cs.ImageBySHA(sha) == nil {
			// The size announced may have been unknown (chunked upload).
			if e := engine.Capacity(cs, size); e != nil {
				return e
			}
		}
		im, c, e := t.AddImage(cs, m, sha, size, "upload")
		if e != nil {
			return e
		}
		out, created = im.Image, c
		return nil
	})
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, out)
}

// dropConnection reads a little of the body and closes the connection
// without an answer: the "dropped connection" fault.
func dropConnection(w http.ResponseWriter, r *http.Request) {
	_, _ = io.CopyN(io.Discard, r.Body, 64<<10)
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		// HTTP/2 cannot be hijacked: abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.SetDeadline(time.Now())
	_ = conn.Close() // dropping it is the point; nobody to report to
}
