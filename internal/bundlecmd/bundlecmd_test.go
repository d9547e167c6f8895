package bundlecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestBundleKeygenSignAndVerifyWithTheTrustedKey(t *testing.T) {
	t.Setenv("APPLIANCE_BUNDLE_CACHE_DIR", "off")
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	if code, out := run(t, "keygen", "--out", prefix); code != 0 {
		t.Fatalf("keygen: %d %s", code, out)
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if code, out := run(t, "keygen", "--out", prefix); code == 0 || !strings.Contains(out, "exists") {
		t.Fatalf("keygen overwrote an existing key: %d %s", code, out)
	}
	b := filepath.Join(dir, "a.bundle")
	if code, out := run(t, "--out", b, "--version", "1.1", "--supported-from", "1.0", "--sign-key", prefix+".key"); code != 0 || !strings.Contains(out, "signed by key") {
		t.Fatalf("build and sign: %d %s", code, out)
	}
	if code, out := run(t, "verify", "--trusted-key", prefix+".pub", b); code != 0 || !strings.Contains(out, "signed by trusted key") {
		t.Fatalf("verify: %d %s", code, out)
	}

	// Another key's public half does not vouch for it.
	if code, out := run(t, "keygen", "--out", filepath.Join(dir, "other")); code != 0 {
		t.Fatal(out)
	}
	if code, out := run(t, "verify", "--trusted-key", filepath.Join(dir, "other.pub"), b); code != 1 || !strings.Contains(out, "bad_signature") {
		t.Fatalf("verify with the wrong key: %d %s", code, out)
	}
	// An unsigned bundle fails when a key is trusted; sign adds the signature.
	u := filepath.Join(dir, "u.bundle")
	if code, out := run(t, "--out", u, "--version", "1.1", "--supported-from", "1.0"); code != 0 {
		t.Fatal(out)
	}
	if code, out := run(t, "verify", "--trusted-key", prefix+".pub", u); code != 1 || !strings.Contains(out, "unsigned") {
		t.Fatalf("verify unsigned: %d %s", code, out)
	}
	if code, out := run(t, "sign", "--key", prefix+".key", u); code != 0 {
		t.Fatalf("sign: %d %s", code, out)
	}
	if code, out := run(t, "verify", "--trusted-key", prefix+".pub", u); code != 0 {
		t.Fatalf("verify after sign: %d %s", code, out)
	}
}
