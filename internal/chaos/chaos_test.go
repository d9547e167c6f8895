package chaos

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/applianceops/terraform-provider-appliance/internal/acctest"
)

// TestChaos_InterruptedRolloutsConvergeWithoutDoubleActivationOrOutage is
// `make chaos` at a small N (CHAOS_N, default 3: a SIGINT, a SIGKILL, and a
// SIGINT with the simulator killed and restarted too), run by `make test`.
// It needs the terraform CLI, so it runs with TF_ACC like the acceptance
// tests.
func TestChaos_InterruptedRolloutsConvergeWithoutDoubleActivationOrOutage(t *testing.T) {
	if os.Getenv("TF_ACC") == "" && os.Getenv("CHAOS_N") == "" {
		t.Skip("set TF_ACC (make test) or CHAOS_N to run the chaos harness")
	}
	n := 3
	if v := os.Getenv("CHAOS_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("CHAOS_N=%q is not a positive count", v)
		}
	}
	tf := acctest.TerraformCLI(t)
	dir := t.TempDir()
	provider := acctest.InstallProvider(t, filepath.Join(dir, "terraform-provider-appliance"))

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	sum, err := Run(ctx, Options{
		Trials:    n,
		Terraform: tf,
		Provider:  provider,
		Dir:       filepath.Join(dir, "trials"),
		// Twice make chaos's pace (a 90 s reboot takes 1.5 s), to keep
		// make test short; the kill moments scale with the rollout.
		TimeScale: 60,
		// A SIGKILLed holder's lease lasts LeaseTTL (2m) until crash
		// adoption takes it over: the budget lets such a trial converge
		// all the same, and the summary shows what it cost.
		TrialBudget: 3 * time.Minute,
		Progress:    testWriter{t},
	})
	t.Log(sum.Line())
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range sum.Trials {
		if !tr.Converged {
			t.Errorf("trial %d (%s) did not converge: %s", tr.N, signalName(tr.Signal), tr.describe())
		}
		if len(tr.DoubleActivations) > 0 {
			t.Errorf("trial %d: double activation: %v", tr.N, tr.DoubleActivations)
		}
		if tr.OutageSeconds > 0 {
			t.Errorf("trial %d: %gs of undeclared outage", tr.N, tr.OutageSeconds)
		}
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
