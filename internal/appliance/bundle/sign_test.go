package bundle

import (
	"crypto/ed25519"
	"os"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver"
)

func mustKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestASignedBundlePassesWithItsKeyTrusted(t *testing.T) {
	freshCache(t)
	path := writeBundle(t, testSpec())
	key := mustKey(t)
	if _, err := SignFile(path, key); err != nil {
		t.Fatal(err)
	}
	in, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ReadSignatureFile(path)
	if err != nil || sig == nil {
		t.Fatalf("signature file: %v %v", sig, err)
	}
	signer, err := CheckSignature(sig, in.SHA256, in.SizeBytes, []ed25519.PublicKey{PublicKeyOf(mustKey(t)), PublicKeyOf(key)})
	if err != nil || signer != KeyID(PublicKeyOf(key)) {
		t.Fatalf("signer %q err %v, want %s", signer, err, KeyID(PublicKeyOf(key)))
	}
}

func TestSignatureFailures(t *testing.T) {
	freshCache(t)
	key, other := mustKey(t), mustKey(t)
	path := writeBundle(t, testSpec())
	in, err := InspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	good := Sign(key, in.SHA256, in.SizeBytes)
	forged := *good
	forged.Value = Sign(other, in.SHA256, in.SizeBytes).Value
	forged.KeyID = good.KeyID
	trusted := []ed25519.PublicKey{PublicKeyOf(key)}

	cases := []struct {
		name     string
		sig      *Signature
		sha      string
		size     int64
		code     driver.Code
		fragment string
	}{
		{"unsigned", nil, in.SHA256, in.SizeBytes, driver.CodeUnsigned, "not signed"},
		{"signed by an untrusted key", Sign(other, in.SHA256, in.SizeBytes), in.SHA256, in.SizeBytes, driver.CodeBadSignature, KeyID(PublicKeyOf(other))},
		{"forged under the trusted key's id", &forged, in.SHA256, in.SizeBytes, driver.CodeBadSignature, "forged"},
		{"bundle changed after signing", good, strings.Repeat("a", 64), in.SizeBytes, driver.CodeBadSignature, "changed after it was signed"},
		{"size changed after signing", good, in.SHA256, in.SizeBytes + 1, driver.CodeBadSignature, "changed after it was signed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckSignature(tc.sig, tc.sha, tc.size, trusted)
			if driver.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.fragment) {
				t.Fatalf("got %v (code %q), want code %s mentioning %q", err, driver.CodeOf(err), tc.code, tc.fragment)
			}
		})
	}
	if signer, err := CheckSignature(nil, in.SHA256, in.SizeBytes, nil); err != nil || signer != "" {
		t.Fatalf("without trusted keys an unsigned bundle passes, got %q %v", signer, err)
	}
}

func TestKeysRoundTripThroughPEMAndBase64(t *testing.T) {
	key := mustKey(t)
	privPEM, err := EncodePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKey(privPEM)
	if err != nil || !back.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}
	pubPEM, err := EncodePublicKey(PublicKeyOf(key))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublicKey(string(pubPEM))
	if err != nil || !p.Equal(PublicKeyOf(key)) {
		t.Fatalf("public key round trip: %v", err)
	}
	if _, err := ParsePublicKey("not a key"); err == nil || !strings.Contains(err.Error(), "PUBLIC KEY") {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := ParsePublicKey(string(privPEM)); err == nil {
		t.Fatal("a private key was accepted as a public key")
	} else if strings.Contains(err.Error(), strings.Split(string(privPEM), "\n")[1]) {
		t.Fatal("the error quotes the private key")
	}
}

func TestAMalformedSignatureFileIsNamed(t *testing.T) {
	path := writeBundle(t, testSpec())
	if err := os.WriteFile(path+SignatureSuffix, []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSignatureFile(path); err == nil || !strings.Contains(err.Error(), ".sig") {
		t.Fatalf("got %v", err)
	}
}
