package tfrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse_NamesTheRunFromTerraformsCommandLine(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want Run
		ok   bool
	}{
		{"plan -out=F", []string{"/usr/bin/terraform", "plan", "-input=false", "-out=tfplan"}, Run{Key: "plan file /work/tfplan", MakesSavedPlan: true}, true},
		{"plan -out F after -var x=1", []string{"terraform", "plan", "-var", "x=1", "-out", "p.bin"}, Run{Key: "plan file /work/p.bin", MakesSavedPlan: true}, true},
		{"-chdir before the subcommand", []string{"tofu", "-chdir=infra", "plan", "--out=/tmp/p"}, Run{Key: "plan file /tmp/p", MakesSavedPlan: true}, true},
		{"apply F", []string{"terraform", "apply", "-auto-approve", "-parallelism", "4", "tfplan"}, Run{Key: "plan file /work/tfplan", AppliesSavedPlan: true}, true},
		{"apply F after --", []string{"terraform", "apply", "--", "tfplan"}, Run{Key: "plan file /work/tfplan", AppliesSavedPlan: true}, true},
		{"apply without a plan file", []string{"terraform", "apply", "-auto-approve", "-var-file", "prod.tfvars", "-target", "x.y"}, Run{Key: "terraform process 42 started 7"}, true},
		{"plan without -out cannot be applied", []string{"terraform", "plan"}, Run{}, false},
		{"terraform test", []string{"terraform", "test"}, Run{}, false},
		{"not terraform", []string{"/usr/local/go/bin/go", "test", "./..."}, Run{}, false},
		{"no subcommand", []string{"terraform", "-version"}, Run{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := parse(process{args: c.args, cwd: "/work", id: "42 started 7"})
			if ok != c.ok || got != c.want {
				t.Errorf("parse(%q) = %+v, %v; want %+v, %v", strings.Join(c.args, " "), got, ok, c.want, c.ok)
			}
		})
	}
}

const (
	sumA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sumB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// TestLedger_SavedPlanAppliedAfterTheFileChangedIsCaught: plan -out and
// apply run in separate processes (separate Ledgers on one directory).
func TestLedger_SavedPlanAppliedAfterTheFileChangedIsCaught(t *testing.T) {
	dir := t.TempDir()
	plan := Run{Key: "plan file /w/tfplan", MakesSavedPlan: true}
	apply := Run{Key: "plan file /w/tfplan", AppliesSavedPlan: true}
	(&Ledger{Dir: dir}).Check(plan, "/w/b.bundle", sumA)

	if planned, changed := (&Ledger{Dir: dir}).Check(apply, "/w/b.bundle", sumB); !changed || planned != sumA {
		t.Errorf("apply of the saved plan with the file changed: planned %q, changed %v; want %q, true", planned, changed, sumA)
	}
	if _, changed := (&Ledger{Dir: dir}).Check(apply, "/w/b.bundle", sumA); changed {
		t.Error("apply of the saved plan with the file unchanged was refused")
	}
	// A new plan into the same plan file, after the edit, plans the new file.
	(&Ledger{Dir: dir}).Check(plan, "/w/b.bundle", sumB)
	if _, changed := (&Ledger{Dir: dir}).Check(apply, "/w/b.bundle", sumB); changed {
		t.Error("apply of a plan made after the edit was refused")
	}
	// Another plan file is another run.
	other := Run{Key: "plan file /w/other", AppliesSavedPlan: true}
	if _, changed := (&Ledger{Dir: dir}).Check(other, "/w/b.bundle", sumA); changed {
		t.Error("a run that planned nothing was refused")
	}
}

// TestLedger_ApplyWithoutAPlanFileComparesItsTwoPlans: terraform apply's
// plan and its final plan share the terraform process's run.
func TestLedger_ApplyWithoutAPlanFileComparesItsTwoPlans(t *testing.T) {
	dir := t.TempDir()
	run := Run{Key: "terraform process 42 started 7"}
	if _, changed := (&Ledger{Dir: dir}).Check(run, "/w/b.bundle", sumA); changed {
		t.Fatal("the first plan of a run was refused")
	}
	if _, changed := (&Ledger{Dir: dir}).Check(run, "/w/b.bundle", sumA); changed {
		t.Error("the final plan of an unchanged file was refused")
	}
	if planned, changed := (&Ledger{Dir: dir}).Check(run, "/w/b.bundle", sumB); !changed || planned != sumA {
		t.Errorf("the final plan of a changed file: planned %q, changed %v; want %q, true", planned, changed, sumA)
	}
	// The next terraform apply is another process: it plans the new file.
	next := Run{Key: "terraform process 43 started 9"}
	if _, changed := (&Ledger{Dir: dir}).Check(next, "/w/b.bundle", sumB); changed {
		t.Error("a new terraform apply after the edit was refused")
	}
}

// TestLedger_ResourcesSharingABundleRecordItOnce: a configuration whose
// images share one bundle file writes its record once per process, and a
// changed sum is written again.
func TestLedger_ResourcesSharingABundleRecordItOnce(t *testing.T) {
	dir := t.TempDir()
	plan := Run{Key: "plan file /w/tfplan", MakesSavedPlan: true}
	l := &Ledger{Dir: dir}
	l.Check(plan, "/w/b.bundle", sumA)
	record := filepath.Join(dir, ledgerKey(plan, "/w/b.bundle")+".json")
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(record, past, past); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		l.Check(plan, "/w/b.bundle", sumA)
	}
	if fi, err := os.Stat(record); err != nil || !fi.ModTime().Equal(past) {
		t.Fatalf("the unchanged record was written again (%v)", err)
	}
	l.Check(plan, "/w/b.bundle", sumB)
	if got, ok := (&Ledger{Dir: dir}).Planned(plan, "/w/b.bundle"); !ok || got != sumB {
		t.Fatalf("after the file changed the record holds %q, %v; want %q", got, ok, sumB)
	}
}
