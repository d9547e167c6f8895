package rollout

import (
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

// A node whose bootloader was left pointing at the freshly written
// alternate (a RAUC stage interrupted before the boot order was put back)
// is drift: not counted as staged, and staged again, which repairs it.
func TestStaging_ArmedNodeIsNotStagedAndIsStagedAgain(t *testing.T) {
	c := &appliance.Cluster{Name: "c", Nodes: []appliance.Node{
		{Name: "a", Role: appliance.RoleMember, Active: appliance.Partition{Version: "1.0"}, Alternate: appliance.Partition{Version: "1.1", ImageID: "img"}},
		{Name: "b", Role: appliance.RoleMember, Active: appliance.Partition{Version: "1.0"}, Alternate: appliance.Partition{Version: "1.1", ImageID: "img"}, Armed: true},
	}}
	if got := StagedNodes(c, "img", "1.1"); len(got) != 1 || got[0] != "a" {
		t.Fatalf("staged nodes %v, want only a", got)
	}
	p := Staging(c, "img", "1.1")
	if len(p.Steps) != 1 || p.Steps[0].Node != "b" || p.Steps[0].Kind != StepStage {
		t.Fatalf("staging plan %v, want one stage step on b", p.Lines())
	}
}
