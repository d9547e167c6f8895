package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestBuildThenVerifyRoundTrips(t *testing.T) {
	data, built := buildBytes(t, testSpec())
	got, err := Verify(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Version != "6.5.2" || got.Description != "test image" || len(got.Components) != 2 {
		t.Fatalf("manifest = %+v", got)
	}
	for i, c := range got.Components {
		if c != built.Components[i] {
			t.Errorf("component %d: verified %+v, built %+v", i, c, built.Components[i])
		}
	}
	want := sha256.Sum256(bytes.Repeat([]byte("S"), 4096))
	if got.Components[1].SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("storage sha256 = %s, want the hash of its content", got.Components[1].SHA256)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, _ := buildBytes(t, Spec{Version: "1.0", SupportedFrom: []string{"0.9"}, Components: []ComponentSpec{{Name: "os", Size: 70_000}}})
	b, _ := buildBytes(t, Spec{Version: "1.0", SupportedFrom: []string{"0.9"}, Components: []ComponentSpec{{Name: "os", Size: 70_000}}})
	if !bytes.Equal(a, b) {
		t.Fatal("the same spec built twice gave different bytes")
	}
	c, _ := buildBytes(t, Spec{Version: "1.1", SupportedFrom: []string{"0.9"}, Components: []ComponentSpec{{Name: "os", Size: 70_000}}})
	if bytes.Equal(a, c) {
		t.Fatal("a different version gave the same bytes: payloads must be seeded from the version")
	}
}

func TestBuildPutsManifestFirst(t *testing.T) {
	data, _ := buildBytes(t, testSpec())
	if name := string(bytes.TrimRight(data[:100], "\x00")); name != "manifest.json" {
		t.Fatalf("first entry is %q", name)
	}
}

func TestBuildSpoolsAPlainStreamContent(t *testing.T) {
	content := strings.Repeat("payload!", 10_000)
	spec := Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
		// OneByteReader hides the Seek method: Build must spool it.
		{Name: "mgmt_image", Size: int64(len(content)), Content: iotest.OneByteReader(strings.NewReader(content))},
	}}
	data, m := buildBytes(t, spec)
	if _, err := Verify(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(content))
	if m.Components[0].SHA256 != hex.EncodeToString(want[:]) {
		t.Fatal("wrong sha256 for a spooled component")
	}
}

func TestBuildRejectsContentOfTheWrongSize(t *testing.T) {
	for _, size := range []int64{9, 11} {
		_, err := Build(io.Discard, Spec{Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
			{Name: "os", Size: size, Content: strings.NewReader("0123456789")},
		}})
		if err == nil || !strings.Contains(err.Error(), `"os"`) {
			t.Errorf("Size %d for 10 bytes: err = %v", size, err)
		}
	}
}

func TestBuildRejectsAnInvalidSpecBeforeHashing(t *testing.T) {
	cases := map[string]Spec{
		"bad version":    {Version: "latest", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{{Name: "os", Size: 1}}},
		"no components":  {Version: "2.0", SupportedFrom: []string{"1.0"}},
		"duplicate name": {Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{{Name: "os", Size: 1}, {Name: "os", Size: 1}}},
		"escaping name":  {Version: "2.0", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{{Name: "../os", Size: 1}}},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			// Size is huge: if Build hashed before validating, the test would hang.
			for i := range spec.Components {
				spec.Components[i].Size = 1 << 40
			}
			if _, err := Build(io.Discard, spec); err == nil {
				t.Fatal("Build accepted an invalid spec")
			}
		})
	}
}

func TestBuildFileThenVerifyFileReportsWholeFileHashAndSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "image.tar")
	if _, err := BuildFile(path, testSpec()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, sum, size, err := VerifyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(raw)
	if sum != hex.EncodeToString(want[:]) || size != int64(len(raw)) || m.Version != "6.5.2" {
		t.Fatalf("VerifyFile = %s, %d; want %x, %d", sum, size, want, len(raw))
	}
}

func TestBuildFileLeavesNothingBehindOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "image.tar")
	if _, err := BuildFile(path, Spec{Version: "bad"}); err == nil {
		t.Fatal("want an error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left %d files behind", len(entries))
	}
}
