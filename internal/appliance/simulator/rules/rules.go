// Package rules is the simulator's own reading of the vendor rules it
// enforces: how release names order (S7), which running releases an image
// may update (S8), when a rollback is forbidden (S9) and which releases
// can share a supercluster (S23).
//
// It is written separately from package appliance, on purpose and without
// sharing a line with it: the provider predicts these rules with package
// appliance and the simulator enforces them with this one, so that a bug
// on one side shows up as a disagreement (the golden tables in
// golden_test.go are checked against both) instead of sitting on both
// sides of every test.
//
// Release names, as the vendor documents spell them:
//
//	6.5, 6.5.0          a release (a missing part is zero: the same release)
//	6.5 SP8             a service pack (also 6.5SP8, 6.5-sp8, 6.5_SP8)
//	4.2.1-b37           a build of 4.2.1 (also -B37)
//	1.45.455b66-rev4    a build written against the patch, and a revision
//	v1.2                a leading v is ignored
//
// A release is newer than another by major, then minor, then patch, then
// service pack, then build, then revision.
package rules

import (
	"fmt"
	"strings"
)

// Release is a parsed release name.
type Release struct {
	Major, Minor, Patch, ServicePack, Build, Revision int
	// parts is how many of major.minor.patch were written: "6.5" names a
	// series when it appears in a supported-from list.
	parts int
	// hasSP, hasBuild and hasRev say which qualifiers were written.
	hasSP, hasBuild, hasRev bool
}

// scanner reads a release name left to right.
type scanner struct {
	s string
	i int
}

func (sc *scanner) done() bool { return sc.i >= len(sc.s) }

func (sc *scanner) peek() byte {
	if sc.done() {
		return 0
	}
	return sc.s[sc.i]
}

// number reads 1 to 9 decimal digits.
func (sc *scanner) number() (int, bool) {
	start := sc.i
	n := 0
	for !sc.done() && sc.peek() >= '0' && sc.peek() <= '9' {
		n = n*10 + int(sc.peek()-'0')
		sc.i++
		if sc.i-start > 9 {
			return 0, false
		}
	}
	return n, sc.i > start
}

// word consumes w, ignoring case, if it comes next.
func (sc *scanner) word(w string) bool {
	if len(sc.s)-sc.i >= len(w) && strings.EqualFold(sc.s[sc.i:sc.i+len(w)], w) {
		sc.i += len(w)
		return true
	}
	return false
}

// Parse reads a release name.
func Parse(name string) (Release, error) {
	bad := func() (Release, error) {
		return Release{}, fmt.Errorf("%q is not a release name", name)
	}
	sc := &scanner{s: strings.TrimSpace(name)}
	if sc.peek() == 'v' || sc.peek() == 'V' {
		sc.i++
	}
	var r Release
	nums := [3]*int{&r.Major, &r.Minor, &r.Patch}
	for k := 0; k < 3; k++ {
		if k > 0 {
			if sc.peek() != '.' {
				break
			}
			sc.i++
		}
		n, ok := sc.number()
		if !ok {
			return bad()
		}
		*nums[k] = n
		r.parts++
	}
	if r.parts < 2 {
		return bad()
	}
	// A build may be written against the patch: 455b66.
	if r.parts == 3 && (sc.peek() == 'b' || sc.peek() == 'B') {
		sc.i++
		n, ok := sc.number()
		if !ok {
			return bad()
		}
		r.Build, r.hasBuild = n, true
	}
	// Service pack: separated by spaces, '-' or '_', or not at all.
	if !r.hasBuild {
		save := sc.i
		for sc.peek() == ' ' || sc.peek() == '\t' {
			sc.i++
		}
		if sc.peek() == '-' || sc.peek() == '_' {
			sc.i++
		}
		for sc.peek() == ' ' || sc.peek() == '\t' {
			sc.i++
		}
		if sc.word("sp") {
			for sc.peek() == ' ' {
				sc.i++
			}
			n, ok := sc.number()
			if !ok {
				return bad()
			}
			r.ServicePack, r.hasSP = n, true
		} else {
			sc.i = save
		}
	}
	// Build: -b37.
	if !r.hasBuild && sc.word("-b") {
		n, ok := sc.number()
		if !ok {
			return bad()
		}
		r.Build, r.hasBuild = n, true
	}
	// Revision: -rev4.
	if sc.word("-rev") {
		n, ok := sc.number()
		if !ok {
			return bad()
		}
		r.Revision, r.hasRev = n, true
	}
	if !sc.done() {
		return bad()
	}
	return r, nil
}

// Compare returns -1, 0 or +1 as a is older than, the same release as, or
// newer than b.
func Compare(a, b Release) int {
	pa := [...]int{a.Major, a.Minor, a.Patch, a.ServicePack, a.Build, a.Revision}
	pb := [...]int{b.Major, b.Minor, b.Patch, b.ServicePack, b.Build, b.Revision}
	for i := range pa {
		if pa[i] < pb[i] {
			return -1
		}
		if pa[i] > pb[i] {
			return 1
		}
	}
	return 0
}

// CompareNames parses and compares two release names.
func CompareNames(a, b string) (int, error) {
	ra, err := Parse(a)
	if err != nil {
		return 0, err
	}
	rb, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return Compare(ra, rb), nil
}

// Same reports whether two names denote one release; an unreadable name
// is the same only as itself.
func Same(a, b string) bool {
	c, err := CompareNames(a, b)
	if err != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return c == 0
}

// Series is the "major.minor" a release belongs to, as licenses name it.
func Series(r Release) string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

// Compatible reports whether clusters running a and b may share a
// supercluster (S23): patch releases are compatible, so the same series
// is; another major or minor release is not.
func Compatible(a, b Release) bool { return a.Major == b.Major && a.Minor == b.Minor }

// Covers reports whether one entry of an image's supported-from list
// admits a node running r (S8). An entry "major.minor" names the whole
// series. Any other entry names one release: it admits that release and
// its rebuilds (a build or revision counts only where the entry writes
// one), but not another patch or service pack.
func Covers(entry string, r Release) bool {
	e, err := Parse(entry)
	if err != nil {
		return false
	}
	if e.Major != r.Major || e.Minor != r.Minor {
		return false
	}
	if e.parts == 2 && !e.hasSP && !e.hasBuild && !e.hasRev {
		return true
	}
	if e.Patch != r.Patch || e.ServicePack != r.ServicePack {
		return false
	}
	if e.hasBuild && e.Build != r.Build {
		return false
	}
	if e.hasRev && e.Revision != r.Revision {
		return false
	}
	return true
}

// Verdict is the appliance's answer to "may an image of target update a
// node running running?".
type Verdict string

// Verdicts of UpdateVerdict.
const (
	Allowed         Verdict = "allowed"
	NotNewer        Verdict = "not_newer"        // S7: same or older needs a re-image
	UnsupportedPath Verdict = "unsupported_path" // S8: not in the image's supported-from list
	Unreadable      Verdict = "unreadable"       // a name that is not a release name
)

// UpdateVerdict applies S7 then S8.
func UpdateVerdict(running, target string, supportedFrom []string) Verdict {
	r, err := Parse(running)
	if err != nil {
		return Unreadable
	}
	t, err := Parse(target)
	if err != nil {
		return Unreadable
	}
	if Compare(r, t) >= 0 {
		return NotNewer
	}
	for _, e := range supportedFrom {
		if Covers(e, r) {
			return Allowed
		}
	}
	return UnsupportedPath
}

// RollbackAllowed applies S9: once a release with irreversible features is
// active, no earlier image may be booted again; a newer one may.
func RollbackAllowed(activeIrreversible []string, active, target string) bool {
	c, err := CompareNames(target, active)
	if err != nil {
		return len(activeIrreversible) == 0
	}
	return c > 0 || len(activeIrreversible) == 0
}
