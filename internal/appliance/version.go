// Package appliance is the vendor-neutral domain of clustered appliances:
// versions, image manifests and cluster snapshots. It does no I/O, so that the
// planner, the client, the simulator and the provider can all share it.
package appliance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is an appliance software version in one of the forms appliances
// really use:
//
//	6.5          major.minor
//	6.5.2        major.minor.patch
//	4.2.1-b37    with a build number
//	6.5 SP8      with a service pack (NetWare style; "6.5SP8" and "6.5-sp8" too)
//	1.45.455b66-rev4  a build written against the patch, and a revision
//
// Versions order by major, minor, patch, service pack, build, then
// revision. A missing
// part counts as zero, so 6.5 and 6.5.0 are equal, and the original spelling
// is kept for display.
type Version struct {
	Major, Minor, Patch int
	ServicePack         int
	Build               int
	Revision            int
	raw                 string
}

var versionPattern = regexp.MustCompile(`^[vV]?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9})(?:[bB](\d{1,9}))?)?(?:\s*[-_ ]?\s*[sS][pP]\s*(\d{1,9}))?(?:-[bB](\d{1,9}))?(?:-[rR][eE][vV](\d{1,9}))?$`)

// ParseVersion parses s, or explains which forms are accepted.
func ParseVersion(s string) (Version, error) {
	t := strings.TrimSpace(s)
	m := versionPattern.FindStringSubmatch(t)
	if m == nil {
		return Version{}, fmt.Errorf("malformed version %q: use major.minor[.patch][-bBUILD][-revN] or \"major.minor SPn\", for example 6.5, 6.5.2, 4.2.1-b37, 1.45.455b66-rev4 or 6.5 SP8", s)
	}
	if m[4] != "" && m[6] != "" {
		return Version{}, fmt.Errorf("malformed version %q: it names its build twice", s)
	}
	num := func(x string) int {
		if x == "" {
			return 0
		}
		n, _ := strconv.Atoi(x) // the pattern admits digits only, at most 9
		return n
	}
	return Version{
		Major:       num(m[1]),
		Minor:       num(m[2]),
		Patch:       num(m[3]),
		ServicePack: num(m[5]),
		Build:       num(m[4] + m[6]),
		Revision:    num(m[7]),
		raw:         t,
	}, nil
}

// MustParseVersion is ParseVersion for constants in tests and presets.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version as it was written.
func (v Version) String() string {
	if v.raw != "" {
		return v.raw
	}
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Patch != 0 {
		s += fmt.Sprintf(".%d", v.Patch)
	}
	if v.ServicePack != 0 {
		s += fmt.Sprintf(" SP%d", v.ServicePack)
	}
	if v.Build != 0 {
		s += fmt.Sprintf("-b%d", v.Build)
	}
	if v.Revision != 0 {
		s += fmt.Sprintf("-rev%d", v.Revision)
	}
	return s
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v Version) Compare(w Version) int {
	for _, d := range [...]int{
		v.Major - w.Major,
		v.Minor - w.Minor,
		v.Patch - w.Patch,
		v.ServicePack - w.ServicePack,
		v.Build - w.Build,
		v.Revision - w.Revision,
	} {
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
	}
	return 0
}

// Equal reports whether v and w denote the same release, whatever their spelling.
func (v Version) Equal(w Version) bool { return v.Compare(w) == 0 }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// CompatibleWith reports whether clusters running v and w can work together
// (S23): patch releases are compatible, major and minor releases are not.
func (v Version) CompatibleWith(w Version) bool {
	return v.Major == w.Major && v.Minor == w.Minor
}

// CompareVersions parses and compares two version strings.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// SameVersion reports whether two version strings denote the same release;
// a malformed string is equal only to itself.
func SameVersion(a, b string) bool {
	c, err := CompareVersions(a, b)
	if err != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return c == 0
}
