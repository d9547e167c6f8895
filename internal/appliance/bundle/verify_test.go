package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

func TestVerifyNamesEveryKindOfCorruption(t *testing.T) {
	good, m := buildBytes(t, testSpec())
	mj := manifestJSON(t, m)
	osData := payloadOf(t, good, m, "os")
	storage := bytes.Repeat([]byte("S"), 4096)

	damaged := bytes.Clone(good)
	damaged[bytes.Index(damaged, storage)+100] ^= 0xff

	smaller := *m
	smaller.Components = append([]appliance.Component(nil), m.Components...)
	smaller.Components[1].Size = 4095

	big := *m
	big.Description = string(bytes.Repeat([]byte("x"), maxManifestSize))

	cases := []struct {
		name      string
		archive   []byte
		fragments []string
	}{
		{"empty input", nil, []string{"missing manifest.json"}},
		{"empty archive", rawTar(t), []string{"missing manifest.json"}},
		{"missing manifest", rawTar(t, file("payloads/os", osData)), []string{"missing manifest.json"}},
		{"manifest not first", rawTar(t, file("payloads/os", osData), file("manifest.json", mj), file("payloads/storage", storage)), []string{"not the first entry", "payloads/os"}},
		{"bad json", rawTar(t, file("manifest.json", []byte(`{"version":`))), []string{"bad manifest.json"}},
		{"invalid manifest", rawTar(t, file("manifest.json", []byte(`{"version":"1.0","supported_from":[],"components":[]}`))), []string{"bad manifest.json", "supported_from"}},
		{"manifest too large", rawTar(t, file("manifest.json", manifestJSON(t, &big))), []string{"manifest.json is", "allowed"}},
		{"manifest is a directory", rawTar(t, entry{name: "manifest.json", typ: '5', size: -1}), []string{"not a regular file"}},
		{"payload missing", rawTar(t, file("manifest.json", mj), file("payloads/os", osData)), []string{`component "storage"`, "missing"}},
		{"extra entry", rawTar(t, file("manifest.json", mj), file("payloads/os", osData), file("payloads/storage", storage), file("README", []byte("hi"))), []string{"unexpected extra entry", "README"}},
		{"second manifest", rawTar(t, file("manifest.json", mj), file("manifest.json", mj)), []string{"manifest.json appears twice"}},
		{"duplicate payload", rawTar(t, file("manifest.json", mj), file("payloads/os", osData), file("payloads/os", osData)), []string{`component "os"`, "twice"}},
		{"unsafe name", rawTar(t, file("manifest.json", mj), file("../etc/passwd", nil)), []string{"unsafe entry name"}},
		{"payload is a symlink", rawTar(t, file("manifest.json", mj), entry{name: "payloads/os", typ: '2', size: -1}), []string{`component "os"`, "not a regular file"}},
		{"damaged header", append(rawTar(t, file("manifest.json", mj))[:1024], bytes.Repeat([]byte{'x'}, 2048)...), []string{"damaged archive header"}},
		{"size mismatch", rawTar(t, file("manifest.json", manifestJSON(t, &smaller)), file("payloads/os", osData), file("payloads/storage", storage)), []string{`component "storage"`, "size mismatch", "4095", "4096"}},
		{"sha256 mismatch", damaged, []string{`component "storage"`, "sha256 mismatch", m.Components[1].SHA256}},
		{"truncated in a payload", good[:len(good)/2], []string{"truncated"}},
		{"truncated in the manifest", good[:600], []string{"truncated"}},
		{"not a tar archive", []byte("PK\x03\x04 this is a zip file, not a tar, and it is long enough to fill a block" + string(make([]byte, 512))), []string{"not a tar archive"}},
		{"short junk", []byte("{}"), []string{"not a tar archive"}},
		{"data after the end", append(bytes.Clone(good), []byte("appended")...), []string{"after the end of the archive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Verify(bytes.NewReader(tc.archive))
			if m != nil {
				t.Errorf("returned a manifest with the error")
			}
			wantCorrupt(t, err, tc.fragments...)
			// The single-read, two-core verifier finds the same.
			m, sum, _, serr := VerifyStream(bytes.NewReader(tc.archive))
			if m != nil || sum != "" {
				t.Errorf("VerifyStream returned a manifest or sha256 with the error")
			}
			wantCorrupt(t, serr, tc.fragments...)
			if serr.Error() != err.Error() {
				t.Errorf("VerifyStream said %q, Verify %q", serr, err)
			}
		})
	}
}

func TestVerifyAcceptsWhatTarToolsAdd(t *testing.T) {
	good, m := buildBytes(t, testSpec())
	mj := manifestJSON(t, m)
	withDirs := rawTar(t,
		file("./manifest.json", mj),
		entry{name: "payloads/", typ: '5', size: -1},
		file("./payloads/os", payloadOf(t, good, m, "os")),
		file("payloads/storage", bytes.Repeat([]byte("S"), 4096)),
	)
	withDirs = append(withDirs, make([]byte, 10240)...) // GNU tar pads to a 10 KiB record
	if _, err := Verify(bytes.NewReader(withDirs)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyReportsAReaderErrorAsSuchNotAsCorruption(t *testing.T) {
	good, _ := buildBytes(t, testSpec())
	dropped := errors.New("connection reset by peer")
	r := iotest.TimeoutReader(bytes.NewReader(good)) // fails on the second read
	_, err := Verify(r)
	var ce *CorruptError
	if errors.As(err, &ce) || !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("err = %v, want the reader's error unwrapped from a non-corrupt error", err)
	}
	_, err = Verify(iotest.ErrReader(dropped))
	if errors.As(err, &ce) || !errors.Is(err, dropped) {
		t.Fatalf("err = %v, want %v", err, dropped)
	}
}

func TestVerifyReadsItsInputToTheEnd(t *testing.T) {
	good, _ := buildBytes(t, testSpec())
	padded := append(bytes.Clone(good), make([]byte, 10240)...)
	r := bytes.NewReader(padded)
	if _, err := Verify(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left unread: a tee'd hash would miss them", r.Len())
	}
}

func TestVerifyFileReportsCorruptionAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, _, _, err := VerifyFile(filepath.Join(dir, "nope.tar")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	path := filepath.Join(dir, "junk.tar")
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := VerifyFile(path)
	wantCorrupt(t, err, "not a tar archive")
}

// payloadOf regenerates a component's bytes from a built bundle.
func payloadOf(t *testing.T, archive []byte, m *appliance.Manifest, name string) []byte {
	t.Helper()
	for _, c := range m.Components {
		if c.Name == name {
			data := make([]byte, c.Size)
			copy(data, archive[bytes.Index(archive, []byte(c.Payload+"\x00"))+512:])
			return data
		}
	}
	t.Fatalf("no component %q", name)
	return nil
}
