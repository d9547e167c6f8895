package bundle

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzVerify feeds Verify arbitrary bytes: it must never panic, and must
// either accept a bundle with a valid manifest or say why it is corrupt.
// The seeds make it run as an ordinary test.
func FuzzVerify(f *testing.F) {
	small := Spec{Version: "1.1", SupportedFrom: []string{"1.0"}, Components: []ComponentSpec{
		{Name: "os", Size: 700},
		{Name: "storage", Size: 3},
	}}
	good, m := buildBytes(f, small)
	f.Add(good)
	f.Add(good[:len(good)-1024]) // no end-of-archive marker
	f.Add(good[:1000])
	f.Add(append(bytes.Clone(good), 1))
	f.Add([]byte{})
	f.Add(make([]byte, 1024))
	f.Add([]byte("not a tar"))
	f.Add(rawTar(f, file("manifest.json", manifestJSON(f, m))))
	f.Add(rawTar(f, file("manifest.json", []byte("{"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Verify(bytes.NewReader(data))
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("a bytes.Reader cannot fail, yet err is %T: %v", err, err)
			}
			if got != nil {
				t.Fatal("manifest returned with an error")
			}
			return
		}
		if verr := got.Validate(); verr != nil {
			t.Fatalf("accepted an invalid manifest: %v", verr)
		}
	})
}
