package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

// Signed bundles. A bundle is signed by a detached signature file beside it,
// BUNDLE.sig, so that the bundle's bytes (and its sha256) stay what they
// were. The signature is ed25519 over a statement of the bundle's sha256 and
// size: checking it costs no second read of a multi-GB file, since the
// verification pass computes the sha256 anyway, and a cluster can check the
// same signature against the bytes it received.
//
// Keys are the PEM forms OpenSSL writes (`openssl genpkey -algorithm
// ed25519` for the private key, `openssl pkey -pubout` for the public one),
// or `terraform-provider-appliance bundle keygen`.

// SignatureFormat names the signature file's format and version.
const SignatureFormat = "appliance-bundle-signature/v1"

// SignatureSuffix is appended to a bundle's path to name its signature.
const SignatureSuffix = ".sig"

// maxSignatureSize bounds how much of a .sig file is read.
const maxSignatureSize = 64 << 10

// Signature is the content of a .sig file.
type Signature struct {
	Format    string `json:"format"`
	Algorithm string `json:"algorithm"`
	// KeyID names the signing key: the first 16 hex digits of the sha256
	// of its raw public key.
	KeyID     string `json:"key_id"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"size_bytes"`
	// Value is the ed25519 signature, base64.
	Value string `json:"signature"`
}

// statement is what is signed: domain-separated, so a signature over a
// bundle can never be taken for a signature over anything else.
func statement(sha256hex string, size int64) []byte {
	return fmt.Appendf(nil, "%s\nsha256 %s\nsize %d\n", SignatureFormat, strings.ToLower(sha256hex), size)
}

// KeyID returns the short name of a public key used in signatures and messages.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKeyOf returns key's public half. ed25519.PrivateKey.Public gives a
// crypto.PublicKey that is always an ed25519.PublicKey; this says so once,
// for every caller.
func PublicKeyOf(key ed25519.PrivateKey) ed25519.PublicKey {
	pub, _ := key.Public().(ed25519.PublicKey)
	return pub
}

// Sign signs a bundle with the given sha256 and size.
func Sign(key ed25519.PrivateKey, sha256hex string, size int64) *Signature {
	return &Signature{
		Format:    SignatureFormat,
		Algorithm: "ed25519",
		KeyID:     KeyID(PublicKeyOf(key)),
		SHA256:    strings.ToLower(sha256hex),
		SizeBytes: size,
		Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(key, statement(sha256hex, size))),
	}
}

// Encode returns the signature as the bytes of a .sig file.
func (s *Signature) Encode() []byte {
	data, _ := json.MarshalIndent(s, "", "  ") // plain strings and an int: cannot fail
	return append(data, '\n')
}

// ParseSignature reads the bytes of a .sig file.
func ParseSignature(data []byte) (*Signature, error) {
	if len(data) > maxSignatureSize {
		return nil, fmt.Errorf("signature is %d bytes, more than the %d allowed", len(data), maxSignatureSize)
	}
	var s Signature
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("signature is not %s JSON: %v", SignatureFormat, err)
	}
	if s.Format != SignatureFormat || s.Algorithm != "ed25519" {
		return nil, fmt.Errorf("signature format %q, algorithm %q: want %s, ed25519", s.Format, s.Algorithm, SignatureFormat)
	}
	return &s, nil
}

// SignFile signs the bundle at path with key and writes path.sig. It
// verifies the bundle first: a signature vouches for a well-formed bundle.
func SignFile(path string, key ed25519.PrivateKey) (*Signature, error) {
	in, err := InspectFile(path)
	if err != nil {
		return nil, err
	}
	sig := Sign(key, in.SHA256, in.SizeBytes)
	if err := writeFileAtomic(path+SignatureSuffix, sig.Encode()); err != nil {
		return nil, err
	}
	return sig, nil
}

// ReadSignatureFile reads path.sig; a bundle without one gives (nil, nil).
func ReadSignatureFile(path string) (*Signature, error) {
	f, err := os.Open(path + SignatureSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	data, err := io.ReadAll(io.LimitReader(f, maxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", path, SignatureSuffix, err)
	}
	s, err := ParseSignature(data)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", path, SignatureSuffix, err)
	}
	return s, nil
}

// CheckSignature checks sig against a bundle of the given sha256 and size
// and the trusted keys, and returns the ID of the key that signed it. With
// no trusted keys every bundle passes and the signer is "". A missing
// signature is a *driver.Error with CodeUnsigned; one that does not match
// the bundle or no trusted key, CodeBadSignature.
func CheckSignature(sig *Signature, sha256hex string, size int64, trusted []ed25519.PublicKey) (string, error) {
	if len(trusted) == 0 {
		return "", nil
	}
	if sig == nil {
		return "", driver.Errorf(driver.CodeUnsigned, "the bundle is not signed, and trusted_keys requires a signature by one of %s: sign it with `terraform-provider-appliance bundle sign`", keyList(trusted))
	}
	if !strings.EqualFold(sig.SHA256, sha256hex) || sig.SizeBytes != size {
		return "", driver.Errorf(driver.CodeBadSignature, "the signature (key %s) is for a bundle with sha256 %s and %d bytes, not this one (sha256 %s, %d bytes): the bundle changed after it was signed", sig.KeyID, sig.SHA256, sig.SizeBytes, sha256hex, size)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil || len(value) != ed25519.SignatureSize {
		return "", driver.Errorf(driver.CodeBadSignature, "the signature (key %s) is not a valid ed25519 signature", sig.KeyID)
	}
	msg := statement(sha256hex, size)
	for _, k := range trusted {
		if ed25519.Verify(k, msg, value) {
			return KeyID(k), nil
		}
	}
	return "", driver.Errorf(driver.CodeBadSignature, "the bundle is signed by key %s, which is not one of the trusted keys %s, or the signature is forged", sig.KeyID, keyList(trusted))
}

func keyList(keys []ed25519.PublicKey) string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = KeyID(k)
	}
	return strings.Join(ids, ", ")
}

// GenerateKey makes a new signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	return priv, err
}

// EncodePrivateKey returns a private key as PKCS #8 PEM ("PRIVATE KEY").
func EncodePrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKey returns a public key as PKIX PEM ("PUBLIC KEY").
func EncodePublicKey(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PKCS #8 PEM ed25519 private key. The error never
// quotes the key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" (PKCS #8) block, as `openssl genpkey -algorithm ed25519` or `bundle keygen` writes")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the PRIVATE KEY block is not a valid PKCS #8 key")
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey reads an ed25519 public key: PKIX PEM ("PUBLIC KEY"), or
// the 32 raw bytes in base64.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	text = strings.TrimSpace(text)
	if block, _ := pem.Decode([]byte(text)); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("a PEM %q block is not a public key: want \"PUBLIC KEY\"", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the PUBLIC KEY block is not a valid key: %v", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T, not ed25519", k)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not an ed25519 public key: want a PEM \"PUBLIC KEY\" block or the 32 key bytes in base64")
	}
	return ed25519.PublicKey(raw), nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
