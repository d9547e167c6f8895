package appliance

import (
	"encoding/json"
	"testing"
)

// FuzzParseVersion: ParseVersion never panics; what it accepts survives a
// round trip through both spellings (as written and canonical) unchanged in
// value, and Compare is a consistent order on it.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"6.5", "6.5.2", "4.2.1-b37", "6.5 SP8", "6.5SP8", "6.5-sp8", "v1.0", " 1.0 ", "1", "1.2.3.4", "", "6.5 SP", "999999999.1", "1.0-b", "٣.٤"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		w, err := ParseVersion(v.String())
		if err != nil || !w.Equal(v) {
			t.Fatalf("%q -> %q does not parse back equal: %v", s, v.String(), err)
		}
		canon := Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch, ServicePack: v.ServicePack, Build: v.Build}
		c, err := ParseVersion(canon.String())
		if err != nil || !c.Equal(v) {
			t.Fatalf("canonical %q of %q does not parse back equal: %v", canon.String(), s, err)
		}
		if v.Compare(v) != 0 || v.Less(v) {
			t.Fatalf("%q is not equal to itself", s)
		}
		next := canon
		next.Build++
		if !v.Less(next) || next.Compare(v) != 1 {
			t.Fatalf("%q is not older than its next build", s)
		}
	})
}

// FuzzParseManifest: ParseManifest never panics; what it accepts validates
// and survives a JSON round trip.
func FuzzParseManifest(f *testing.F) {
	good := `{"version":"1.1","supported_from":["1.0"],"components":[{"name":"os","payload":"os.img","sha256":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `","size":1}]}`
	for _, s := range []string{
		good,
		`{"version":"1.1"}`,
		`{"version":"x","supported_from":["1.0"],"components":[]}`,
		`{"version":"1.1","supported_from":["1.0"],"components":[{"name":"os","payload":"../etc/passwd","sha256":"00","size":1}]}`,
		`{"version":"1.1","unknown":true}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted manifest does not validate: %v", err)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("round trip of %s fails: %v", out, err)
		}
		out2, _ := json.Marshal(m2)
		if string(out) != string(out2) {
			t.Fatalf("round trip changed the manifest:\n%s\n%s", out, out2)
		}
		_ = m.Supports(m.ParsedVersion())
	})
}
