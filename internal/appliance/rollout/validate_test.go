package rollout

import (
	"fmt"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/api"
)

func TestValidate_S6_CorruptImage(t *testing.T) {
	m := manifest("1.1", "1.0")
	m.Components[0].SHA256 = "xyz"
	_, err := Compute(Request{Cluster: avere4(), Target: m, TargetImageID: "img-7"})
	ve := validationError(t, err, api.CodeCorruptImage)
	if !strings.Contains(ve.Message, "img-7") || !strings.Contains(ve.Message, "sha256") || ve.Fix == "" {
		t.Errorf("unhelpful: %v", ve)
	}
	_, err = Compute(Request{Cluster: avere4(), Target: manifest("one.two", "1.0")})
	_ = validationError(t, err, api.CodeCorruptImage) // asserts the code; the error itself is not needed
}

func TestValidate_S7_SameOrOlder(t *testing.T) {
	_, err := Compute(Request{Cluster: avere4(), Target: manifest("0.9", "0.8")})
	ve := validationError(t, err, api.CodeVersionNotNewer)
	if !strings.Contains(ve.Error(), "re-image") || !strings.Contains(ve.Message, "n1") {
		t.Errorf("message should name the node and the re-image: %v", ve)
	}
	// The same version, spelt differently, is nothing to do, not a downgrade.
	p := mustCompute(t, Request{Cluster: avere4(), Target: manifest("1.0.0", "0.9")})
	if len(p.Steps) != 0 {
		t.Errorf("1.0.0 on a 1.0 cluster planned %d steps", len(p.Steps))
	}
}

func TestValidate_S8_UnsupportedPathChain(t *testing.T) {
	known := []appliance.Manifest{*manifest("1.1", "1.0"), *manifest("1.2", "1.1"), *manifest("1.2.1", "1.0")}
	_, err := Compute(Request{Cluster: avere4(), Target: manifest("1.3", "1.2"), Known: known})
	ve := validationError(t, err, api.CodeUnsupportedPath)
	// 1.0 -> 1.1 -> 1.2 -> 1.3 works, but 1.2.1 supports 1.0 and 1.3
	// supports the 1.2 series it belongs to: the shortest chain.
	if ve.Fix != "upgrade 1.0 -> 1.2.1 -> 1.3: apply 1.2.1 first" {
		t.Errorf("want the shortest chain through 1.2.1, got %q", ve.Fix)
	}
	_, err = Compute(Request{Cluster: avere4(), Target: manifest("2.0", "1.9"), Known: known})
	ve = validationError(t, err, api.CodeUnsupportedPath)
	if !strings.Contains(ve.Fix, "no chain") {
		t.Errorf("fix %q, want an explanation that no chain exists", ve.Fix)
	}
}

func TestUpgradeChain(t *testing.T) {
	known := []appliance.Manifest{
		*manifest("1.1", "1.0"), *manifest("1.2", "1.1"), *manifest("1.3", "1.2"),
		*manifest("1.5", "1.3"), *manifest("0.5", "0.4"), *manifest("1.4", "1.0"),
	}
	for _, tc := range []struct {
		from, to string
		toFrom   []string
		want     string
	}{
		{"1.0", "1.1", []string{"1.0"}, "[1.0 1.1]"},
		{"1.0", "1.6", []string{"1.5"}, "[1.0 1.1 1.2 1.3 1.5 1.6]"},
		{"1.0", "1.6", []string{"1.5", "1.4"}, "[1.0 1.4 1.6]"},
		{"1.0", "2.0", []string{"1.9"}, "[]"},
		{"junk", "2.0", []string{"1.9"}, "[]"},
	} {
		got := UpgradeChain(tc.from, manifest(tc.to, tc.toFrom...), known)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("UpgradeChain(%s, %s) = %v, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestValidate_S9_IrreversibleBlocksRollback(t *testing.T) {
	c := avere4()
	for i := range c.Nodes {
		c.Nodes[i].Active.Version = "1.1"
		c.Nodes[i].Alternate = appliance.Partition{Version: "1.0", Bootable: i != 2}
	}
	known := []appliance.Manifest{*manifest("1.1", "1.0")}
	known[0].IrreversibleFeatures = []string{"dedup-v2"}
	_, err := Compute(Request{Cluster: c, Target: manifest("1.0", "0.9"), Known: known})
	ve := validationError(t, err, api.CodeIrreversibleFeature)
	if !strings.Contains(ve.Message, "dedup-v2") || !strings.Contains(ve.Message, "n3") || !strings.Contains(ve.Fix, "re-image") {
		t.Errorf("unhelpful: %v", ve)
	}
}

// TestValidate_S9_KnownManifestBlocksRollback: the running image's manifest
// alone is enough to refuse, even if the nodes still report bootable.
func TestValidate_S9_KnownManifestBlocksRollback(t *testing.T) {
	c := avere4()
	for i := range c.Nodes {
		c.Nodes[i].Active.Version = "1.1"
		c.Nodes[i].Alternate = appliance.Partition{Version: "1.0", Bootable: true}
	}
	known := []appliance.Manifest{*manifest("1.1", "1.0")}
	if _, err := Compute(Request{Cluster: c, Target: manifest("1.0", "0.9"), Known: known}); err != nil {
		t.Fatalf("a reversible rollback is refused: %v", err)
	}
	known[0].IrreversibleFeatures = []string{"dedup-v2"}
	_, err := Compute(Request{Cluster: c, Target: manifest("1.0", "0.9"), Known: known})
	if ve := validationError(t, err, api.CodeIrreversibleFeature); !strings.Contains(ve.Message, "dedup-v2") {
		t.Errorf("%v", ve)
	}
}

func TestValidate_S9_WarnsIrreversibleFeatures(t *testing.T) {
	m := manifest("1.1", "1.0")
	m.IrreversibleFeatures = []string{"dedup-v2"}
	p := mustCompute(t, Request{Cluster: avere4(), Target: m})
	if len(p.Warnings) != 1 || p.Warnings[0] != "after this rollout, rollback to 1.0 is impossible: feature dedup-v2" {
		t.Errorf("warnings %q", p.Warnings)
	}
}

func TestValidate_S10_Licenses(t *testing.T) {
	c := netware()
	_, err := Compute(Request{Cluster: c, Target: manifest("6.6", "6.5")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if !strings.HasPrefix(ve.Fix, "install the 6.6 cluster licenses first") || !strings.Contains(ve.Fix, `appliance_cluster_license with series = "6.6"`) {
		t.Errorf("fix %q", ve.Fix)
	}
	// Two nodes ship with licenses (LicenseMinNodes 3): no check.
	c.Nodes = c.Nodes[:2]
	c.Resources = c.Resources[:1]
	mustCompute(t, Request{Cluster: c, Target: manifest("6.6", "6.5")})
}

func TestValidate_S10_HAPartnerDown(t *testing.T) {
	c := avere4()
	c.Nodes[3].State, c.Nodes[3].Healthy = appliance.NodeDown, false
	c.Nodes[3].Active.Version = "1.1" // not ours to activate, but down
	_, err := Compute(Request{Cluster: c, Target: manifest("1.1", "1.0")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if !strings.Contains(ve.Message, "n4") || !strings.Contains(ve.Message, "n3") || !strings.Contains(ve.Fix, "n4") {
		t.Errorf("should name the down partner n4 and the blocked n3: %v", ve)
	}
	// Without HA mode the down partner does not block.
	off := false
	mustCompute(t, Request{Cluster: c, Target: manifest("1.1", "1.0"), Policy: Policy{HAMode: &off}})
}

// A partner that is only rebooting (a reboot under way, perhaps from an
// interrupted apply) is waited for, not "brought back"; a down one is.
func TestValidate_S10_RebootingPartnerIsWaitedFor(t *testing.T) {
	c := avere4()
	c.Nodes[3].State, c.Nodes[3].Healthy = appliance.NodeRebooting, false
	c.Nodes[3].Active.Version = "1.1"
	_, err := Compute(Request{Cluster: c, Target: manifest("1.1", "1.0")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if !strings.Contains(ve.Fix, "wait until n4 is back") {
		t.Errorf("a rebooting partner should be waited for: %v", ve)
	}
	c.Nodes[3].State = appliance.NodeDown
	_, err = Compute(Request{Cluster: c, Target: manifest("1.1", "1.0")})
	ve = validationError(t, err, api.CodePreconditionFailed)
	if !strings.Contains(ve.Fix, "bring n4 back") {
		t.Errorf("a down partner should be brought back: %v", ve)
	}
}

// Defect 9: a plan refused because a node is rebooting named nobody; when
// the reboot belongs to a rollout that holds the cluster's lease, the
// refusal names that holder.
func TestValidate_Defect9_RebootingNodeNamesTheLeaseHolder(t *testing.T) {
	c := avere4()
	c.Nodes[3].State, c.Nodes[3].Healthy = appliance.NodeRebooting, false
	c.Nodes[3].Active.Version = "1.1"
	owner := "terraform-provider-appliance/1.2.0 pid 4242 on ci-runner-7"
	c.Rollout = &appliance.RolloutStatus{TargetVersion: "1.1", Owner: owner, Step: "n4 rebooting", Done: 1, Total: 4}
	_, err := Compute(Request{Cluster: c, Target: manifest("1.1", "1.0")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if !strings.Contains(ve.Fix, "wait until n4 is back") || !strings.Contains(ve.Fix, owner) || !strings.Contains(ve.Fix, "lease") {
		t.Errorf("the refusal should name the lease holder %q: %v", owner, ve)
	}
}

func TestValidate_S10_NodeUnhealthy(t *testing.T) {
	c := avere4()
	c.Nodes[2].Healthy = false
	_, err := Compute(Request{Cluster: c, Target: manifest("1.1", "1.0")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if ve.Message != "node n3 is unhealthy" || !strings.Contains(ve.Fix, "n3") {
		t.Errorf("%v", ve)
	}
}

func TestValidate_S10_ResourceWithoutOtherHost(t *testing.T) {
	c := netware()
	c.Resources[1].AllowedNodes = []string{"s2"}
	_, err := Compute(Request{Cluster: c, Target: manifest("6.5 SP8", "6.5")})
	ve := validationError(t, err, api.CodePreconditionFailed)
	if !strings.Contains(ve.Message, "vol2") || !strings.Contains(ve.Fix, "failover_resources") {
		t.Errorf("%v", ve)
	}
}

func TestValidate_PolicyAndSnapshot(t *testing.T) {
	for name, tc := range map[string]struct {
		req  Request
		code string
		want string
	}{
		"bad max":        {Request{Cluster: avere4(), Target: manifest("1.1", "1.0"), Policy: Policy{MaxUnavailable: "lots"}}, api.CodeInvalidRequest, "max_unavailable"},
		"bad order":      {Request{Cluster: avere4(), Target: manifest("1.1", "1.0"), Policy: Policy{Order: "random"}}, api.CodeInvalidRequest, "unknown order"},
		"no cluster":     {Request{Target: manifest("1.1", "1.0")}, api.CodeInvalidRequest, "no cluster"},
		"no target":      {Request{Cluster: avere4()}, api.CodeInvalidRequest, "no target"},
		"malformed node": {Request{Cluster: func() *appliance.Cluster { c := avere4(); c.Nodes[1].Active.Version = "latest"; return c }(), Target: manifest("1.1", "1.0")}, api.CodePreconditionFailed, "n2"},
		"unknown member": {Request{Cluster: func() *appliance.Cluster { c := avere4(); c.HAGroups[0].Members[1] = "n9"; return c }(), Target: manifest("1.1", "1.0")}, api.CodeInvalidRequest, "n9"},
		"duplicate node": {Request{Cluster: func() *appliance.Cluster { c := avere4(); c.Nodes[1].Name = "n1"; return c }(), Target: manifest("1.1", "1.0")}, api.CodeInvalidRequest, "twice"},
		"bad min":        {Request{Cluster: func() *appliance.Cluster { c := avere4(); c.HAGroups[0].MinAvailable = 2; return c }(), Target: manifest("1.1", "1.0")}, api.CodeInvalidRequest, "min_available"},
		"max all down": {Request{Cluster: func() *appliance.Cluster {
			c := netware()
			c.Nodes[0].State = appliance.NodeDown
			c.Nodes[0].Active.Version = "6.5 SP8"
			return c
		}(), Target: manifest("6.5 SP8", "6.5"), Policy: Policy{MaxUnavailable: "1"}}, api.CodePreconditionFailed, "already down"},
		"unknown res node": {Request{Cluster: func() *appliance.Cluster { c := netware(); c.Resources[0].AllowedNodes = []string{"zz"}; return c }(), Target: manifest("6.5 SP8", "6.5")}, api.CodeInvalidRequest, "zz"},
	} {
		_, err := Compute(tc.req)
		ve := validationError(t, err, tc.code)
		if !strings.Contains(ve.Error(), tc.want) {
			t.Errorf("%s: %v, want mention of %q", name, ve, tc.want)
		}
	}
}
