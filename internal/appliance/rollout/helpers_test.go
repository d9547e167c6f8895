package rollout

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

const sha = "0000000000000000000000000000000000000000000000000000000000000000"

// manifest returns a valid manifest for version v updating from the given versions.
func manifest(v string, from ...string) *appliance.Manifest {
	return &appliance.Manifest{Version: v, SupportedFrom: from,
		Components: []appliance.Component{{Name: "os", Payload: "os.img", SHA256: sha, Size: 1}}}
}

// node returns a healthy running node on version v whose alternate holds alt.
func node(name string, role appliance.Role, group, v, alt string) appliance.Node {
	return appliance.Node{Name: name, Role: role, HAGroup: group, State: appliance.NodeRunning, Healthy: true,
		Active:    appliance.Partition{Version: v, Bootable: true},
		Alternate: appliance.Partition{Version: alt, Bootable: alt != ""}}
}

// avere4 is the 4-node preset: n1 primary, n2..n4 secondaries, HA pairs (n1,n2), (n3,n4).
func avere4() *appliance.Cluster {
	return &appliance.Cluster{Name: "avere", HAEnabled: true, Healthy: true, ReportedMembers: 4,
		Nodes: []appliance.Node{
			node("n1", appliance.RolePrimary, "p1", "1.0", ""),
			node("n2", appliance.RoleSecondary, "p1", "1.0", ""),
			node("n3", appliance.RoleSecondary, "p2", "1.0", ""),
			node("n4", appliance.RoleSecondary, "p2", "1.0", ""),
		},
		HAGroups: []appliance.HAGroup{
			{Name: "p1", Members: []string{"n1", "n2"}, MinAvailable: 1},
			{Name: "p2", Members: []string{"n3", "n4"}, MinAvailable: 1},
		}}
}

func mustCompute(t *testing.T, req Request) *Plan {
	t.Helper()
	p, err := Compute(req)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return p
}

func wantLines(t *testing.T, p *Plan, want string) {
	t.Helper()
	got := strings.Join(p.Lines(), "\n")
	want = strings.TrimSpace(want)
	if got != want {
		t.Errorf("plan lines:\n%s\n\nwant:\n%s", got, want)
	}
}

func validationError(t *testing.T, err error, code string) *ValidationError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T), want *ValidationError with code %s", err, err, code)
	}
	if ve.Code != code {
		t.Fatalf("code %s, want %s (%v)", ve.Code, code, ve)
	}
	return ve
}

// wavesOf returns, per activation wave, the nodes activated in it.
func wavesOf(p *Plan) map[int][]string {
	out := map[int][]string{}
	for _, s := range p.Steps {
		if s.Kind == StepActivate {
			out[s.Wave] = append(out[s.Wave], s.Node)
		}
	}
	return out
}

func lines(p *Plan) string { return strings.Join(p.Lines(), "\n") }

// describe renders a request compactly for failure messages.
func describe(req Request) string {
	var b strings.Builder
	c := req.Cluster
	fmt.Fprintf(&b, "policy %+v ha_enabled=%v finalize=%v settle=%d\n", req.Policy, c.HAEnabled, c.NeedsFinalize, c.SettleSeconds)
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "  node %s %s group=%s state=%s healthy=%v active=%s alt=%s/%v\n", n.Name, n.Role, n.HAGroup, n.State, n.Healthy, n.Active.Version, n.Alternate.Version, n.Alternate.Bootable)
	}
	for _, g := range c.HAGroups {
		fmt.Fprintf(&b, "  group %s %v min=%d\n", g.Name, g.Members, g.MinAvailable)
	}
	for _, r := range c.Resources {
		fmt.Fprintf(&b, "  resource %s on=%s pref=%s allowed=%v\n", r.Name, r.CurrentNode, r.PreferredNode, r.AllowedNodes)
	}
	return b.String()
}
