package simulator

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/bundle"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
)

// Signed images: a simulator given trusted keys (Options.TrustedKeys, the
// --trusted-key flag, or a topology's trusted_keys) requires every image to
// carry a detached signature by one of them, as an appliance configured for
// secure boot would. An upload sends the bundle's .sig in
// X-Bundle-Signature; a download fetches URL.sig beside the bundle.

// parseTrustedKeys reads PEM (or base64) ed25519 public keys.
func parseTrustedKeys(texts []string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for i, t := range texts {
		k, err := bundle.ParsePublicKey(t)
		if err != nil {
			return nil, fmt.Errorf("trusted key %d: %w", i+1, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// checkSignature is the cluster's signature check of a received bundle;
// sigText is the .sig file's content, nil when none came.
func (s *Server) checkSignature(sigText []byte, sha string, size int64) *api.Error {
	if len(s.trusted) == 0 {
		return nil
	}
	var sig *bundle.Signature
	if sigText != nil {
		var err error
		if sig, err = bundle.ParseSignature(sigText); err != nil {
			return engine.Unprocessable(api.CodeBadSignature, "the image's signature is unreadable: %v", err)
		}
	}
	if _, err := bundle.CheckSignature(sig, sha, size, s.trusted); err != nil {
		code := api.CodeBadSignature
		if driver.CodeOf(err) == driver.CodeUnsigned {
			code = api.CodeUnsigned
		}
		msg := err.Error()
		if e, ok := err.(*driver.Error); ok {
			msg = e.Message
		}
		return engine.Unprocessable(code, "this cluster requires signed images: %s", msg)
	}
	return nil
}

// uploadSignature decodes X-Bundle-Signature; nil when absent.
func uploadSignature(header string) ([]byte, *api.Error) {
	if header == "" {
		return nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return nil, engine.BadRequest("the %s header must carry the .sig file in base64", api.HeaderBundleSignature)
	}
	return data, nil
}

// fetchSignature downloads u.sig; nil when the server has none.
func (s *Server) fetchSignature(ctx context.Context, u, proxy *url.URL) []byte {
	su := *u
	su.Path += bundle.SignatureSuffix
	su.RawPath = ""
	body, err := s.open(ctx, &su, proxy)
	if err != nil {
		return nil
	}
	defer func() { _ = body.Close() }()
	data, err := io.ReadAll(io.LimitReader(body, 64<<10))
	if err != nil {
		return nil
	}
	return data
}
