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

// The golden tables (testdata/golden.json): real release spellings and
// upgrade paths of the vendor documents (NetWare 6 -> 6.5 SP6/SP8, a build
// 4.2.1-b37, an appliance release 1.45.455b66-rev4), with the answer an
// appliance gives. Every row runs through the domain code the provider
// plans with (package appliance, package rollout) AND through the
// simulator's own rules (package rules), and each must give the golden
// answer: a rule changed on one side only fails here.

// golden reads testdata/golden.json.
func golden(t *testing.T) *rules.Golden {
	t.Helper()
	g, err := rules.ReadGolden("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGolden_VersionOrdering(t *testing.T) {
	for _, row := range golden(t).Order {
		name := fmt.Sprintf("%s vs %s", row.A, row.B)
		t.Run("domain/"+name, func(t *testing.T) {
			got, err := appliance.CompareVersions(row.A, row.B)
			if err != nil || got != row.Want {
				t.Errorf("appliance.CompareVersions(%q, %q) = %d, %v; golden %d", row.A, row.B, got, err, row.Want)
			}
			if back, err := appliance.CompareVersions(row.B, row.A); err != nil || back != -row.Want {
				t.Errorf("appliance.CompareVersions(%q, %q) = %d, %v; golden %d", row.B, row.A, back, err, -row.Want)
			}
			if same := appliance.SameVersion(row.A, row.B); same != (row.Want == 0) {
				t.Errorf("appliance.SameVersion(%q, %q) = %v; golden %v", row.A, row.B, same, row.Want == 0)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			got, err := rules.CompareNames(row.A, row.B)
			if err != nil || got != row.Want {
				t.Errorf("rules.CompareNames(%q, %q) = %d, %v; golden %d", row.A, row.B, got, err, row.Want)
			}
			if back, err := rules.CompareNames(row.B, row.A); err != nil || back != -row.Want {
				t.Errorf("rules.CompareNames(%q, %q) = %d, %v; golden %d", row.B, row.A, back, err, -row.Want)
			}
			if same := rules.Same(row.A, row.B); same != (row.Want == 0) {
				t.Errorf("rules.Same(%q, %q) = %v; golden %v", row.A, row.B, same, row.Want == 0)
			}
		})
	}
}

func TestGolden_UnreadableSpellingsAreRefused(t *testing.T) {
	for _, s := range golden(t).Unreadable {
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
	for _, row := range golden(t).Paths {
		name := fmt.Sprintf("%s to %s from %v", row.Running, row.Target, row.SupportedFrom)
		t.Run("domain/"+name, func(t *testing.T) {
			if got := domainVerdict(row.Running, row.Target, row.SupportedFrom); got != row.Want {
				t.Errorf("the domain says %s; golden %s", got, row.Want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			if got := rules.UpdateVerdict(row.Running, row.Target, row.SupportedFrom); got != row.Want {
				t.Errorf("the simulator's rules say %s; golden %s", got, row.Want)
			}
		})
	}
}

func TestGolden_SuperclusterCompatibility(t *testing.T) {
	for _, row := range golden(t).Compatible {
		name := fmt.Sprintf("%s with %s", row.A, row.B)
		t.Run("domain/"+name, func(t *testing.T) {
			a, errA := appliance.ParseVersion(row.A)
			b, errB := appliance.ParseVersion(row.B)
			if err := errors.Join(errA, errB); err != nil {
				t.Fatal(err)
			}
			if got := a.CompatibleWith(b); got != row.Want {
				t.Errorf("CompatibleWith = %v; golden %v", got, row.Want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			a, errA := rules.Parse(row.A)
			b, errB := rules.Parse(row.B)
			if err := errors.Join(errA, errB); err != nil {
				t.Fatal(err)
			}
			if got := rules.Compatible(a, b); got != row.Want {
				t.Errorf("rules.Compatible = %v; golden %v", got, row.Want)
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
	c := tp.Clusters[0].Clone()
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
	for _, row := range golden(t).Rollback {
		name := fmt.Sprintf("%s back to %s with %v", row.Active, row.Target, row.IrreversibleFeatures)
		t.Run("domain/"+name, func(t *testing.T) {
			if got := domainRollbackAllowed(t, row.Active, row.Target, row.IrreversibleFeatures); got != row.Want {
				t.Errorf("the planner allows the rollback: %v; golden %v", got, row.Want)
			}
		})
		t.Run("simulator/"+name, func(t *testing.T) {
			if got := rules.RollbackAllowed(row.IrreversibleFeatures, row.Active, row.Target); got != row.Want {
				t.Errorf("rules.RollbackAllowed = %v; golden %v", got, row.Want)
			}
		})
	}
}
