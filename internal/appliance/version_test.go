package appliance

import (
	"strings"
	"testing"
)

func TestParseVersion_FormsAppliancesUse(t *testing.T) {
	cases := []struct {
		in   string
		want Version
	}{
		{"6.5", Version{Major: 6, Minor: 5}},
		{"6.5.2", Version{Major: 6, Minor: 5, Patch: 2}},
		{"4.2.1-b37", Version{Major: 4, Minor: 2, Patch: 1, Build: 37}},
		{"6.5 SP8", Version{Major: 6, Minor: 5, ServicePack: 8}},
		{"6.5SP8", Version{Major: 6, Minor: 5, ServicePack: 8}},
		{"6.5-sp8", Version{Major: 6, Minor: 5, ServicePack: 8}},
		{"v1.0", Version{Major: 1, Minor: 0}},
		{" 6.5.2 ", Version{Major: 6, Minor: 5, Patch: 2}},
	}
	for _, c := range cases {
		got, err := ParseVersion(c.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", c.in, err)
			continue
		}
		got.raw = ""
		if got != c.want {
			t.Errorf("ParseVersion(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseVersion_MalformedSaysWhatIsAccepted(t *testing.T) {
	for _, in := range []string{"", "6", "six.five", "6.5.", "6..5", "6.5.2.1", "6.5 SP", "-1.0", "6.5-rc1", "6.5 SP8 extra"} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) accepted a malformed version", in)
			continue
		}
		if !strings.Contains(err.Error(), "malformed version") || !strings.Contains(err.Error(), "6.5 SP8") {
			t.Errorf("ParseVersion(%q) error %q does not name the accepted forms", in, err)
		}
	}
}

func TestVersion_Ordering(t *testing.T) {
	ordered := []string{"1.0", "1.0.1", "1.0.2-b3", "1.0.2-b10", "1.1", "1.9", "1.10", "6.5", "6.5 SP1", "6.5 SP8", "6.5.1", "7.0"}
	for i := 0; i+1 < len(ordered); i++ {
		a, b := MustParseVersion(ordered[i]), MustParseVersion(ordered[i+1])
		if !a.Less(b) || b.Less(a) || a.Compare(b) != -1 || b.Compare(a) != 1 {
			t.Errorf("want %s < %s", a, b)
		}
	}
	if !MustParseVersion("6.5").Equal(MustParseVersion("6.5.0")) {
		t.Error("6.5 and 6.5.0 are the same release")
	}
	if MustParseVersion("6.5 SP8").String() != "6.5 SP8" {
		t.Error("String must keep the spelling the version was written in")
	}
}

func TestVersion_S23_CompatibleWithinSeries(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"6.5", "6.5.2", true},
		{"6.5.2", "6.5 SP8", true},
		{"6.5", "6.6", false},
		{"6.5", "7.5", false},
	}
	for _, c := range cases {
		if got := MustParseVersion(c.a).CompatibleWith(MustParseVersion(c.b)); got != c.want {
			t.Errorf("%s compatible with %s = %t, want %t", c.a, c.b, got, c.want)
		}
	}
}

func TestManifest_S8_SupportsSeriesAndExactEntries(t *testing.T) {
	m := &Manifest{SupportedFrom: []string{"6.4", "6.3.2", "6.0 SP2"}}
	cases := map[string]bool{
		"6.4": true, "6.4.7": true, "6.4 SP1": true, // "6.4" covers its series
		"6.3.2": true, "6.3.1": false, "6.3": false, // "6.3.2" is exact
		"6.0 SP2": true, "6.0 SP1": false,
		"6.5": false, "5.4": false,
	}
	for v, want := range cases {
		if got := m.Supports(MustParseVersion(v)); got != want {
			t.Errorf("supported_from %v, running %s: Supports = %t, want %t", m.SupportedFrom, v, got, want)
		}
	}
}

func TestParseManifest_S6_RejectsWithTheFieldNamed(t *testing.T) {
	good := `{"version":"1.1","supported_from":["1.0"],"components":[{"name":"os","payload":"payloads/os","sha256":"` + strings.Repeat("ab", 32) + `","size":1}]}`
	if _, err := ParseManifest([]byte(good)); err != nil {
		t.Fatalf("valid manifest refused: %v", err)
	}
	bad := map[string]string{
		"manifest version":        strings.Replace(good, `"1.1"`, `"one"`, 1),
		"supported_from is empty": strings.Replace(good, `["1.0"]`, `[]`, 1),
		"unsafe":                  strings.Replace(good, `payloads/os`, `../etc/passwd`, 1),
		"sha256":                  strings.Replace(good, strings.Repeat("ab", 32), "abc", 1),
		"not valid":               strings.Replace(good, `"version"`, `"versio"`, 1),
	}
	for want, doc := range bad {
		_, err := ParseManifest([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error naming %q, got %v", want, err)
		}
	}
}

func TestCluster_ValidateNamesTheInconsistency(t *testing.T) {
	base := func() *Cluster {
		return &Cluster{
			Name:      "c",
			Nodes:     []Node{{Name: "a", Role: RoleMember}, {Name: "b", Role: RoleMember}},
			HAGroups:  []HAGroup{{Name: "g", Members: []string{"a", "b"}, MinAvailable: 1}},
			Resources: []Resource{{Name: "r", PreferredNode: "a", CurrentNode: "a"}},
		}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("valid cluster refused: %v", err)
	}
	cases := map[string]func(c *Cluster){
		"appears twice":        func(c *Cluster) { c.Nodes[1].Name = "a" },
		"unknown role":         func(c *Cluster) { c.Nodes[0].Role = "boss" },
		"unknown node x":       func(c *Cluster) { c.HAGroups[0].Members[1] = "x" },
		"min_available":        func(c *Cluster) { c.HAGroups[0].MinAvailable = 2 },
		"prefers unknown node": func(c *Cluster) { c.Resources[0].PreferredNode = "x" },
	}
	for want, mutate := range cases {
		c := base()
		mutate(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v", want, err)
		}
	}
}

func TestCluster_CloneIsDeep(t *testing.T) {
	c := &Cluster{Name: "c", Nodes: []Node{{Name: "a", Active: Partition{Components: map[string]string{"os": "1.0"}}}},
		HAGroups: []HAGroup{{Name: "g", Members: []string{"a"}}}}
	d := c.Clone()
	d.Nodes[0].Active.Components["os"] = "2.0"
	d.HAGroups[0].Members[0] = "z"
	if c.Nodes[0].Active.Components["os"] != "1.0" || c.HAGroups[0].Members[0] != "a" {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestCluster_UniformAndLowestVersion(t *testing.T) {
	c := &Cluster{Nodes: []Node{{Name: "a", Active: Partition{Version: "1.10"}}, {Name: "b", Active: Partition{Version: "1.9"}}}}
	if _, ok := c.UniformVersion(); ok {
		t.Error("mixed versions reported as uniform")
	}
	if got := c.LowestVersion(); got != "1.9" {
		t.Errorf("LowestVersion = %s, want 1.9 (versions compare as numbers, not strings)", got)
	}
	c.Nodes[1].Active.Version = "1.10.0"
	if v, ok := c.UniformVersion(); !ok || v != "1.10" {
		t.Errorf("1.10 and 1.10.0 are one release: got %q %t", v, ok)
	}
}

func TestManifest_AnyVersionAdmitsEveryRunningVersion(t *testing.T) {
	m := Manifest{Version: "2.0", SupportedFrom: []string{AnyVersion}, Components: []Component{{Name: "rootfs", Payload: "rootfs.img", SHA256: strings.Repeat("ab", 32)}}}
	if err := m.Validate(); err != nil {
		t.Fatalf("a manifest admitting any version is valid: %v", err)
	}
	for _, v := range []string{"1.0", "0.9.3", "6.4 SP2"} {
		if !m.Supports(MustParseVersion(v)) {
			t.Fatalf("%s not admitted", v)
		}
	}
	m.SupportedFrom = []string{"1.0"}
	if m.Supports(MustParseVersion("0.9")) {
		t.Fatal("an explicit list still limits")
	}
}
