package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// testSpec is a small two-component bundle: one generated payload, one
// with known content so tests can find and damage it.
func testSpec() Spec {
	return Spec{
		Version:       "6.5.2",
		SupportedFrom: []string{"6.4", "6.5.1"},
		Description:   "test image",
		Components: []ComponentSpec{
			{Name: "os", Size: 100_000},
			{Name: "storage", Size: 4096, Content: bytes.NewReader(bytes.Repeat([]byte("S"), 4096))},
		},
	}
}

func buildBytes(t testing.TB, spec Spec) ([]byte, *appliance.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := Build(&buf, spec)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return buf.Bytes(), m
}

type entry struct {
	name string
	typ  byte
	data []byte
	size int64 // header size; -1: len(data)
}

func file(name string, data []byte) entry {
	return entry{name: name, typ: tar.TypeReg, data: data, size: -1}
}

// rawTar writes entries exactly as given, to make archives Build never would.
func rawTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		size := e.size
		if size < 0 {
			size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.typ, Size: size, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil && !errors.Is(err, tar.ErrWriteTooLong) {
			t.Fatal(err)
		}
	}
	// Close fails when an entry is shorter than its header says; the
	// bytes written so far are what the test wants.
	_ = tw.Close()
	return buf.Bytes()
}

func manifestJSON(t testing.TB, m *appliance.Manifest) []byte {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// wantCorrupt asserts err is a *CorruptError whose reason mentions every fragment.
func wantCorrupt(t *testing.T, err error, fragments ...string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CorruptError, got %T: %v", err, err)
	}
	if !strings.HasPrefix(ce.Error(), "corrupt image bundle: ") {
		t.Errorf("Error() = %q, want the corrupt image bundle prefix", ce.Error())
	}
	for _, f := range fragments {
		if !strings.Contains(ce.Reason, f) {
			t.Errorf("reason %q does not mention %q", ce.Reason, f)
		}
	}
}
