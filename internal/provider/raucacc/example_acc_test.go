package raucacc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/driver/rauc/lab"
)

// TestAccRAUC_ExampleUpgradesTheLab applies examples/rauc as it is, through
// the real CLI, against a lab described by the lab.json `make rauc-lab`
// writes: every node ends on 1.1 and the next plan is empty.
func TestAccRAUC_ExampleUpgradesTheLab(t *testing.T) {
	testAccPreCheck(t)
	t.Parallel()
	l := lab.New(t, lab.Options{Nodes: 4})
	desc, err := l.WriteDescription("1.1")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	// The lab's description, as a user passes it with -var.
	if err := os.WriteFile(filepath.Join(work, "terraform.tfvars"), []byte(fmt.Sprintf("lab = %q\n", desc)), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../../examples/rauc/*.tf")
	if len(files) == 0 {
		t.Fatal("examples/rauc has no configuration")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		Steps: []resource.TestStep{{
			ProtoV6ProviderFactories: testProviders,
			ConfigDirectory:          config.StaticDirectory(work),
			ConfigStateChecks:        []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("node_versions", allNodes("1.1"))},
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
		}},
	})
	for _, n := range l.Nodes {
		if slot, v := n.Booted(); slot != "B" || !strings.HasPrefix(v, "1.1") {
			t.Errorf("%s runs %s %s after the example, want B 1.1", n.Name, slot, v)
		}
	}
}
