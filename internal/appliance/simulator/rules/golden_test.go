package rules_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/rollout"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/engine"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator/rules"
)

// The golden tables: real release spellings and upgrade paths of the vendor
// documents (NetWare 6 -> 6.5 SP6/SP8, a build 4.2.1-b37, an appliance
// release 1.45.455b66-rev4), with the answer an appliance gives. Every row
// runs through the domain code the provider plans with (package appliance,
// package rollout) AND through the simulator's own rules (package rules),
// and each must give the golden answer: a rule changed on one side only
// fails here.

// orderRows: want is -1, 0 or +1 as a is older than, the same as, or
// newer than b.
var orderRows = []struct {
	a, b string
	want int
}{
	{"6.5", "6.5.0", 0},
	{"1.1", "1.1.0", 0},
	{"v1.2", "1.2", 0},
	{"6.0", "6.5", -1},
	{"6.5 SP8", "6.5SP8", 0},
	{"6.5 SP8", "6.5-sp8", 0},
	{"6.5 SP8", "6.5_SP8", 0},
	{"6.5 SP6", "6.5 SP8", -1},
	{"6.5", "6.5 SP8", -1},
	{"6.5 SP8", "6.0", 1},
	{"6.5 SP8", "7.0", -1},
	{"4.2.1", "4.2.1-b37", -1},
	{"4.2.1-b37", "4.2.1-b38", -1},
	{"4.2.1-b37", "4.2.1-B37", 0},
	{"4.2.1-b99", "4.2.2", -1},
	{"4.2.1-b37", "4.10.0", -1}, // numbers, not text: 10 > 2
	{"1.9", "1.10", -1},
	{"2.0", "1.99.99", 1},
	{"1.45.455b66-rev4", "1.45.455b66-rev5", -1},
	{"1.45.455b66", "1.45.455b66-rev4", -1},
	{"1.45.455b66-rev9", "1.45.455b67", -1},
	{"1.45.455b66-rev4", "1.45.455-b66-rev4", 0},
	{"1.45.455b66-rev4", "1.45.456", -1},
	{"1.45.455b66-rev4", "1.44.999b99-rev99", 1},
}

// unreadable are names no appliance reports: both sides refuse them.
var unreadable = []string{
	"", "6", "NetWare 6.5", "6.5.x", "latest", "6.5 SP", "4.2.1-b", "1.2.3.4",
	"6.5 SP8 beta", "-1.0", "1.45.455b66-rev", "1.45.455b", "1..2",
}

// pathRows: may an image of target, updating from supportedFrom, update a
// node running running? (S7, then S8.)
var pathRows = []struct {
	running, target string
	supportedFrom   []string
	want            rules.Verdict
}{
	{"6.0", "6.5 SP8", []string{"6.0"}, rules.Allowed},
	{"6.0", "6.5 SP8", []string{"6.5"}, rules.UnsupportedPath},
	{"6.5 SP6", "6.5 SP8", []string{"6.5"}, rules.Allowed}, // "6.5": the whole series
	{"6.5 SP6", "6.5 SP8", []string{"6.5 SP7"}, rules.UnsupportedPath},
	{"6.5 SP7", "6.5 SP8", []string{"6.0", "6.5 SP7"}, rules.Allowed},
	{"6.5 SP6", "6.5 SP8", []string{"6.5.0"}, rules.UnsupportedPath}, // 6.5.0 is a release, SP6 another
	{"6.5 SP8", "6.5 SP8", []string{"6.5"}, rules.NotNewer},
	{"6.5 SP8", "6.5SP8", []string{"6.5"}, rules.NotNewer},
	{"6.5 SP8", "6.5 SP6", []string{"6.5"}, rules.NotNewer},
	{"4.2.1-b37", "4.2.2", []string{"4.2.1"}, rules.Allowed}, // a rebuild of 4.2.1
	{"4.2.1-b37", "4.2.2", []string{"4.2.1-b36"}, rules.UnsupportedPath},
	{"4.2.1-b37", "4.2.2", []string{"4.2.1-b37"}, rules.Allowed},
	{"4.2.0", "4.2.2", []string{"4.2.1"}, rules.UnsupportedPath},
	{"4.1.9", "4.2.2", []string{"4.2"}, rules.UnsupportedPath},
	{"4.2.1-b37", "4.2.1-b38", []string{"4.2"}, rules.Allowed},
	{"1.45.455b66-rev4", "1.45.456", []string{"1.45.455b66"}, rules.Allowed},
	{"1.45.455b66-rev4", "1.45.456", []string{"1.45.455b66-rev3"}, rules.UnsupportedPath},
	{"1.45.455b66-rev4", "1.45.455b66-rev5", []string{"1.45"}, rules.Allowed},
	{"1.45.455b66-rev4", "1.45.455b66-rev4", []string{"1.45"}, rules.NotNewer},
	{"1.0", "1.1", []string{"1.0"}, rules.Allowed},
	{"1.1", "1.1.0", []string{"1.1"}, rules.NotNewer},
	{"1.9", "1.10", []string{"1.9"}, rules.Allowed},
}

// compatRows: may clusters on a and b share a supercluster? (S23)
var compatRows = []struct {
	a, b string
	want bool
}{
	{"1.0", "1.0.1", true},
	{"1.0", "1.1", false},
	{"6.5 SP6", "6.5 SP8", true},
	{"6.0", "6.5 SP8", false},
	{"4.2.1-b37", "4.2.2", true},
	{"1.9", "1.10", false},
	{"1.45.455b66-rev4", "1.45.456", true},
	{"1.45.455b66-rev4", "2.45.455b66-rev4", false},
}

// rollbackRows: after activating active (with its irreversible features),
// may the node roll back to target, the previous image? (S9)
var rollbackRows = []struct {
	active, target string
	features       []string
	want           bool
}{
	{"1.1", "1.0", nil, true},
	{"1.1", "1.0", []string{"storage-format-v2"}, false},
	{"6.5 SP8", "6.0", nil, true},
	{"6.5 SP8", "6.0", []string{"nss-media-upgrade"}, false},
	{"1.45.455b66-rev4", "1.45.455b66-rev3", []string{"new-journal"}, false},
	{"4.2.1-b37", "4.2.1-b36", nil, true},
}

func TestGolden_VersionOrdering(t *testing.T) {
	for _, row := range orderRows {
		name := fmt.Sprintf("%s vs %s", row.a, row.b)
		t.Run("domain/"+name, func(t *testing.T) {
			got, err := appliance.CompareVersions(row.a, row.b)
			if err != nil || got != row.want {
				t.Errorf("appliance.CompareVersions(%q, %q) = %d, %v; golden %d", row.a, row.b, got, err, row.want)
			}
			if back, err := appliance.CompareVersions(row.b, row.a); err != nil || back != -row.want {
				t.Errorf("appliance.CompareVersions(%q, %q) = %d, %v; golden %d", row.b, row.a, back, err, -row.want)
			}
			if same := appliance.SameVersion(row.a, row.b); same != (row.want == 0) {
				t.Errorf("appliance.SameVersion(%q, %q) = %v; golden %v", row.a, row.b, same, row.want == 0)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			got, err := rules.CompareNames(row.a, row.b)
			if err != nil || got != row.want {
				t.Errorf("rules.CompareNames(%q, %q) = %d, %v; golden %d", row.a, row.b, got, err, row.want)
			}
			if back, err := rules.CompareNames(row.b, row.a); err != nil || back != -row.want {
				t.Errorf("rules.CompareNames(%q, %q) = %d, %v; golden %d", row.b, row.a, back, err, -row.want)
			}
			if same := rules.Same(row.a, row.b); same != (row.want == 0) {
				t.Errorf("rules.Same(%q, %q) = %v; golden %v", row.a, row.b, same, row.want == 0)
			}
		})
	}
}

func TestGolden_UnreadableSpellingsAreRefused(t *testing.T) {
	for _, s := range unreadable {
		t.Run(fmt.Sprintf("domain/%q", s), func(t *testing.T) {
			if v, err := appliance.ParseVersion(s); err == nil {
				t.Errorf("appliance.ParseVersion(%q) = %+v; golden: refused", s, v)
			}
		})
		t.Run(fmt.Sprintf("simulator/%q", s), func(t *testing.T) {
			if r, err := rules.Parse(s); err == nil {
				t.Errorf("rules.Parse(%q) = %+v; golden: refused", s, r)
			}
		})
	}
}

// domainVerdict is the provider's reading of S7 and S8 (the calls the
// planner makes).
func domainVerdict(running, target string, supportedFrom []string) rules.Verdict {
	r, err := appliance.ParseVersion(running)
	if err != nil {
		return rules.Unreadable
	}
	m := &appliance.Manifest{Version: target, SupportedFrom: supportedFrom}
	tv, err := appliance.ParseVersion(target)
	if err != nil {
		return rules.Unreadable
	}
	if !r.Less(tv) {
		return rules.NotNewer
	}
	if !m.Supports(r) {
		return rules.UnsupportedPath
	}
	return rules.Allowed
}

func TestGolden_UpgradePaths(t *testing.T) {
	for _, row := range pathRows {
		name := fmt.Sprintf("%s to %s from %v", row.running, row.target, row.supportedFrom)
		t.Run("domain/"+name, func(t *testing.T) {
			if got := domainVerdict(row.running, row.target, row.supportedFrom); got != row.want {
				t.Errorf("the domain says %s; golden %s", got, row.want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			if got := rules.UpdateVerdict(row.running, row.target, row.supportedFrom); got != row.want {
				t.Errorf("the simulator's rules say %s; golden %s", got, row.want)
			}
		})
	}
}

func TestGolden_SuperclusterCompatibility(t *testing.T) {
	for _, row := range compatRows {
		name := fmt.Sprintf("%s with %s", row.a, row.b)
		t.Run("domain/"+name, func(t *testing.T) {
			a, errA := appliance.ParseVersion(row.a)
			b, errB := appliance.ParseVersion(row.b)
			if err := errors.Join(errA, errB); err != nil {
				t.Fatal(err)
			}
			if got := a.CompatibleWith(b); got != row.want {
				t.Errorf("CompatibleWith = %v; golden %v", got, row.want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			a, errA := rules.Parse(row.a)
			b, errB := rules.Parse(row.b)
			if err := errors.Join(errA, errB); err != nil {
				t.Fatal(err)
			}
			if got := rules.Compatible(a, b); got != row.want {
				t.Errorf("rules.Compatible = %v; golden %v", got, row.want)
			}
		})
	}
}

// domainRollbackAllowed asks the provider's planner to roll a one-node
// cluster that runs active (whose manifest it knows) back to target,
// which sits bootable in the alternate partition.
func domainRollbackAllowed(t *testing.T, active, target string, features []string) bool {
	t.Helper()
	sha := "0000000000000000000000000000000000000000000000000000000000000000"
	tp, err := engine.Preset(engine.PresetPrimaryHA)
	if err != nil {
		t.Fatal(err)
	}
	c := tp.Clusters[0].Cluster.Clone()
	c.Nodes = c.Nodes[:1]
	c.Nodes[0].HAGroup = ""
	c.HAGroups = nil
	c.Resources = nil
	n := &c.Nodes[0]
	n.Active = appliance.Partition{Version: active, Bootable: true, Components: map[string]string{"os": active}}
	n.Alternate = appliance.Partition{Version: target, Bootable: true, Components: map[string]string{"os": target}}
	_, err = rollout.Compute(rollout.Request{
		Cluster: c,
		Target:  &appliance.Manifest{Version: target, SupportedFrom: []string{target}, Components: []appliance.Component{{Name: "os", Payload: "os.img", SHA256: sha, Size: 1}}},
		Known:   []appliance.Manifest{{Version: active, SupportedFrom: []string{target}, IrreversibleFeatures: features, Components: []appliance.Component{{Name: "os", Payload: "os.img", SHA256: sha, Size: 1}}}},
	})
	var ve *rollout.ValidationError
	if errors.As(err, &ve) && ve.Code == api.CodeIrreversibleFeature {
		return false
	}
	if err != nil {
		t.Fatalf("planning the rollback: %v", err)
	}
	return true
}

func TestGolden_IrreversibleFeaturesForbidRollback(t *testing.T) {
	for _, row := range rollbackRows {
		name := fmt.Sprintf("%s back to %s with %v", row.active, row.target, row.features)
		t.Run("domain/"+name, func(t *testing.T) {
			if got := domainRollbackAllowed(t, row.active, row.target, row.features); got != row.want {
				t.Errorf("the planner allows the rollback: %v; golden %v", got, row.want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			if got := rules.RollbackAllowed(row.features, row.active, row.target); got != row.want {
				t.Errorf("rules.RollbackAllowed = %v; golden %v", got, row.want)
			}
		})
	}
}
