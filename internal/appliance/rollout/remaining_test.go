package rollout

import (
	"errors"
	"strings"
	"testing"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance"
)

func remainingCluster() *appliance.Cluster {
	c := &appliance.Cluster{Name: "c"}
	for _, n := range []string{"n1", "n2", "n3"} {
		c.Nodes = append(c.Nodes, appliance.Node{Name: n, State: appliance.NodeRunning, Healthy: true, Active: appliance.Partition{Version: "1.0"}})
	}
	c.HAGroups = []appliance.HAGroup{{Name: "g", Members: []string{"n1", "n2"}, MinAvailable: 1}}
	c.Resources = []appliance.Resource{{Name: "pool", CurrentNode: "n3", PreferredNode: "n3", State: appliance.ResourceOnline}}
	return c
}

func TestProveRemaining_AcceptsWhatIsStillSafe(t *testing.T) {
	steps := []Step{
		{Wave: 1, Kind: StepActivate, Node: "n1", Version: "2.0"},
		{Wave: 1, Kind: StepAwaitHealthy, Node: "n1"},
		{Wave: 2, Kind: StepMoveResource, Resource: "pool", From: "n3", To: "n1"},
		{Wave: 2, Kind: StepActivate, Node: "n2", Version: "2.0"},
		{Wave: 2, Kind: StepActivate, Node: "n3", Version: "2.0"},
		{Wave: 2, Kind: StepAwaitHealthy, Node: "n2"},
		{Wave: 2, Kind: StepAwaitHealthy, Node: "n3"},
	}
	if err := ProveRemaining(remainingCluster(), &Plan{KeepsHA: true, MovesResources: true, Steps: steps}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestProveRemaining_RefusesWhatTheClusterNoLongerAllows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mess  func(*appliance.Cluster)
		steps []Step
		want  []string
	}{
		{
			name:  "partner down out of band",
			mess:  func(c *appliance.Cluster) { c.Node("n1").State = appliance.NodeDown },
			steps: []Step{{Wave: 2, Kind: StepActivate, Node: "n2", Version: "2.0"}},
			want:  []string{"HA group g would have 0 of its 2 members serving", "n1 is down (out of band)"},
		},
		{
			name:  "resource left on a rebooting node",
			mess:  func(*appliance.Cluster) {},
			steps: []Step{{Wave: 1, Kind: StepActivate, Node: "n3", Version: "2.0"}},
			want:  []string{"resource pool would have no serving node", "on n3"},
		},
		{
			name:  "resource moved to a node that is down",
			mess:  func(c *appliance.Cluster) { c.Node("n2").State = appliance.NodeOffline },
			steps: []Step{{Wave: 1, Kind: StepMoveResource, Resource: "pool", From: "n3", To: "n2"}},
			want:  []string{"resource pool would move to n2, which is offline (out of band)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := remainingCluster()
			tc.mess(c)
			err := ProveRemaining(c, &Plan{KeepsHA: true, MovesResources: true, Steps: tc.steps}, 0)
			var v *SafetyViolation
			if !errors.As(err, &v) {
				t.Fatalf("want a SafetyViolation, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

// An activation that already happened takes nothing down again.
func TestProveRemaining_DoneActivationsTakeNothingDown(t *testing.T) {
	c := remainingCluster()
	c.Node("n1").State = appliance.NodeDown
	c.Node("n2").Active.Version = "2.0"
	steps := []Step{{Wave: 2, Kind: StepActivate, Node: "n2", Version: "2.0"}, {Wave: 2, Kind: StepAwaitHealthy, Node: "n2"}}
	if err := ProveRemaining(c, &Plan{KeepsHA: true, MovesResources: true, Steps: steps}, 0); err != nil {
		t.Fatal(err)
	}
}

// Inside a maintenance window (HA mode off) partners may go together.
func TestProveRemaining_FollowsThePlansOwnPolicy(t *testing.T) {
	c := remainingCluster()
	steps := []Step{{Wave: 1, Kind: StepActivate, Node: "n1", Version: "2.0"}, {Wave: 1, Kind: StepActivate, Node: "n2", Version: "2.0"}, {Wave: 1, Kind: StepActivate, Node: "n3", Version: "2.0"}}
	if err := ProveRemaining(c, &Plan{Steps: steps}, 0); err != nil {
		t.Fatalf("a plan without HA mode or fail-over was refused: %v", err)
	}
	if err := ProveRemaining(c, &Plan{KeepsHA: true, Steps: steps}, 0); err == nil {
		t.Fatal("a plan keeping HA let both partners go")
	}
}

// A node rebooting into the target (an interrupted apply's) is planned as
// back on it; one rebooting for any other reason is left as it is.
func TestAssumeInFlight_ReadsARebootUnderWayAsDone(t *testing.T) {
	c := remainingCluster()
	c.Node("n1").State, c.Node("n1").Healthy = appliance.NodeRebooting, false
	c.Node("n1").Alternate = appliance.Partition{Version: "2.0", Bootable: true}
	c.Node("n2").State = appliance.NodeRebooting // nothing staged: a reboot of its own
	got := AssumeInFlight(c, "2.0")
	if n := got.Node("n1"); n.State != appliance.NodeRunning || !n.Healthy || n.Active.Version != "2.0" || n.Alternate.Version != "1.0" {
		t.Errorf("n1 = %+v, want running 2.0 with 1.0 in the alternate", n)
	}
	if n := got.Node("n2"); n.State != appliance.NodeRebooting {
		t.Errorf("n2 = %s, want left rebooting", n.State)
	}
	if c.Node("n1").State != appliance.NodeRebooting {
		t.Error("AssumeInFlight changed its input")
	}
	if InFlight(c)[0] != "n1" || len(InFlight(c)) != 2 {
		t.Errorf("InFlight = %v", InFlight(c))
	}
}
