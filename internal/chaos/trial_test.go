package chaos

import (
	"strings"
	"testing"
)

func TestFirstErrors_JoinsTheWrappedDetailOfEachError(t *testing.T) {
	out := `Stopping operation...

Error: execution halted


Error: Rollout of cluster chaos failed

  with appliance_cluster_active_version.cluster,
  on main.tf line 15, in resource "appliance_cluster_active_version" "cluster":
  15: resource "appliance_cluster_active_version" "cluster" {

rollout stopped at step 23 (wave 3: activate n4 -> 1.1 (after HA partner n3
in wave 2)): GET /v1/tasks/task-18: context canceled.

Second paragraph, not kept.
`
	got := firstErrors(out)
	want := "Error: execution halted / Error: Rollout of cluster chaos failed: rollout stopped at step 23 (wave 3: activate n4 -> 1.1 (after HA partner n3 in wave 2)): GET /v1/tasks/task-18: context canceled."
	if got != want {
		t.Fatalf("firstErrors =\n%s\nwant\n%s", got, want)
	}
}

func TestClassify_NamesTheCauseOfAFailedReapply(t *testing.T) {
	for out, want := range map[string]string{
		"Error: Rollout of cluster chaos failed: taking the rollout lease: cluster chaos is leased by terraform-provider-appliance/dev pid 1": "lease_held",
		"Error: Rollout refused: node n4 is rebooting.": "node_rebooting",
		"Error: Error acquiring the state lock":         "state_lock",
		"Error: something new":                          "other",
	} {
		if got := classify(out); got != want {
			t.Errorf("classify(%q) = %s, want %s", strings.SplitN(out, ":", 2)[1], got, want)
		}
	}
}

func TestSummaryLine_CountsWhatTheTrialsRecorded(t *testing.T) {
	s := Summary{Seed: 7, Uninterrupted: 10e9, Trials: []Trial{
		{Converged: true, Reapplies: 1, ConvergeTime: 15e9, Refusals: map[string]int{}},
		{Converged: true, Reapplies: 3, ConvergeTime: 25e9, Refusals: map[string]int{"lease_held": 2}, Record: Record{DoubleActivations: []string{"n3 x2"}}},
		{Converged: false, Reapplies: 40, ConvergeTime: 300e9, Refusals: map[string]int{"lease_held": 40}, Record: Record{OutageSeconds: 90}},
	}}
	want := "chaos: N=3 converged=2/3 reapplies(median/max)=3/40 converge_time(median)=20.0s uninterrupted=10.0s ratio=2.00 double_activations=1 outage_seconds=90 failed_reapplies=lease_held:42 seed=7"
	if got := s.Line(); got != want {
		t.Fatalf("Line =\n%s\nwant\n%s", got, want)
	}
	if s.Clean() {
		t.Fatal("a run with a double activation, an outage and a trial that did not converge is not clean")
	}
}
