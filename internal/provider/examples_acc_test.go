package provider

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// examplesDir is the repository's examples/, seen from this package.
const examplesDir = "../../examples"

// exampleChecks says, for every directory under examples/ that holds a
// configuration, what its apply must leave behind. A directory missing here
// fails TestAccExamples_EveryDirectoryIsTested, so a new example cannot go
// untested. (examples/modules/ is tested by `terraform test`, see make test.)
var exampleChecks = map[string][]statecheck.StateCheck{
	"quickstart": {
		statecheck.ExpectKnownOutputValue("node_versions", allNodes("1.1")),
		statecheck.ExpectKnownOutputValue("rollback_to", knownvalue.StringExact("1.0")),
	},
	"provider": {
		statecheck.ExpectKnownValue("data.appliance_cluster.demo", tfjsonpath.New("version"), knownvalue.StringExact("1.0")),
	},
	"resources/appliance_software_image": {
		statecheck.ExpectKnownOutputValue("staged_on", knownvalue.ListExact([]knownvalue.Check{
			knownvalue.StringExact("n1"), knownvalue.StringExact("n2"), knownvalue.StringExact("n3"), knownvalue.StringExact("n4"),
		})),
	},
	"resources/appliance_cluster_active_version": {
		statecheck.ExpectKnownValue("appliance_cluster_active_version.demo", tfjsonpath.New("node_versions"), allNodes("1.1")),
		statecheck.ExpectKnownValue("appliance_cluster_active_version.demo", tfjsonpath.New("previous_version"), knownvalue.StringExact("1.0")),
	},
	"resources/appliance_supercluster_version": {
		statecheck.ExpectKnownValue("appliance_supercluster_version.sc1", tfjsonpath.New("cluster_versions"), allClusters("1.1")),
	},
	"resources/appliance_cluster_license": {
		statecheck.ExpectKnownValue("appliance_cluster_license.v6_5", tfjsonpath.New("id"), knownvalue.StringExact("ncs/6.5")),
	},
	"data-sources/appliance_cluster": {
		statecheck.ExpectKnownOutputValueAtPath("partitions", tfjsonpath.New("n1"), knownvalue.StringExact("active 1.0, alternate ")),
	},
	"data-sources/appliance_rollout_plan": {
		statecheck.ExpectKnownValue("data.appliance_rollout_plan.demo", tfjsonpath.New("order"), knownvalue.StringExact("primary_first")),
		statecheck.ExpectKnownValue("data.appliance_rollout_plan.demo", tfjsonpath.New("waves"), knownvalue.Int64Exact(4)),
	},
	"data-sources/appliance_upgrade_path": {
		statecheck.ExpectKnownOutputValue("path", knownvalue.StringRegexp(regexp.MustCompile(`^1\.0 -> 1\.1 -> 1\.2: apply 1\.1 first`))),
	},
	"functions/compare_versions": {
		statecheck.ExpectKnownOutputValue("newer", knownvalue.Bool(true)),
	},
	"functions/compatible": {
		statecheck.ExpectKnownOutputValue("same_series", knownvalue.Bool(true)),
	},
	"scenarios/primary-ha": {
		statecheck.ExpectKnownOutputValue("node_versions", allNodes("1.1")),
	},
	"scenarios/active-standby": {
		statecheck.ExpectKnownOutputValue("node_versions", knownvalue.MapExact(map[string]knownvalue.Check{
			"is1": knownvalue.StringExact("1.1"), "is2": knownvalue.StringExact("1.1"),
		})),
	},
	"scenarios/master-standby": {
		statecheck.ExpectKnownOutputValue("node_versions", knownvalue.MapExact(map[string]knownvalue.Check{
			"mgmt1": knownvalue.StringExact("1.1"), "mgmt2": knownvalue.StringExact("1.1"),
			"cn1": knownvalue.StringExact("1.1"), "cn2": knownvalue.StringExact("1.1"),
			"cn3": knownvalue.StringExact("1.1"), "cn4": knownvalue.StringExact("1.1"),
		})),
	},
	"scenarios/netware": {
		statecheck.ExpectKnownOutputValue("node_versions", knownvalue.MapExact(map[string]knownvalue.Check{
			"nw1": knownvalue.StringExact("6.5"), "nw2": knownvalue.StringExact("6.5"),
			"nw3": knownvalue.StringExact("6.5"), "nw4": knownvalue.StringExact("6.5"),
		})),
		statecheck.ExpectKnownValue("appliance_cluster_license.v6_5", tfjsonpath.New("id"), knownvalue.StringExact("ncs/6.5")),
	},
	"scenarios/supercluster": {
		statecheck.ExpectKnownOutputValue("cluster_versions", allClusters("1.1")),
	},
}

// testedElsewhere names the example directories that need more than the
// simulator (a state backend server) and the test that runs them.
var testedElsewhere = map[string]string{
	"ci-pg-backend": "internal/statelock (against a throwaway PostgreSQL server)",
}

// exampleDirs lists the directories under examples/ that hold *.tf files,
// relative to examples/, leaving out the reusable modules.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(examplesDir, p)
		if d.IsDir() && (rel == "modules" || strings.HasPrefix(d.Name(), ".")) && rel != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".tf") {
			dir := filepath.ToSlash(filepath.Dir(rel))
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}

// TestExamples_EveryDirectoryIsTested: every example directory has its
// expectations in exampleChecks, and every entry there is a directory.
func TestExamples_EveryDirectoryIsTested(t *testing.T) {
	dirs := exampleDirs(t)
	for _, d := range dirs {
		_, elsewhere := testedElsewhere[d]
		if _, ok := exampleChecks[d]; !ok && !elsewhere {
			t.Errorf("examples/%s has no entry in exampleChecks: say what its apply must leave behind", d)
		}
	}
	for d := range exampleChecks {
		if !slices.Contains(dirs, d) {
			t.Errorf("exampleChecks names examples/%s, which holds no configuration", d)
		}
	}
	for d := range testedElsewhere {
		if !slices.Contains(dirs, d) {
			t.Errorf("testedElsewhere names examples/%s, which holds no configuration", d)
		}
	}
}

// copyExample copies the files of an example directory to a fresh one, as
// a user's checkout would hold them: without a simulator or Terraform state
// left by a run by hand, and without the import-by-string-id.tf files, which
// import objects the example does not create (TestAccExamples_ImportBlocks
// runs those).
//
// The provider runs inside this test process, not in Terraform's working
// directory, so a relative path in the example would resolve against this
// package's directory. path.module and path.root ("." when Terraform runs
// the copy) are therefore written as the copy's absolute path: the same
// directory, and each example gets its own simulator state file, so the
// examples can run in parallel.
func copyExample(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(filepath.Join(examplesDir, dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "import-by-string-id.tf" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "terraform.tfstate") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(examplesDir, dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".tf") {
			abs := filepath.ToSlash(dst)
			b = []byte(strings.NewReplacer("${path.module}", abs, "${path.root}", abs).Replace(string(b)))
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestAccExamples_ApplyThroughTheCLI applies every example directory as it
// is, through the real Terraform CLI, against the simulator the example's
// own provider block starts: the versions (or outputs) come out as the
// example says, and the plan after the apply is empty (terraform-plugin-
// testing fails a step whose next plan is not).
func TestAccExamples_ApplyThroughTheCLI(t *testing.T) {
	testAccPreCheck(t)
	if os.Getenv("TF_ACC_PROVIDER_NAMESPACE") != "applianceops" {
		t.Fatal("the examples name the provider by its registry address applianceops/appliance: run with TF_ACC_PROVIDER_NAMESPACE=applianceops (make test does)")
	}
	for _, dir := range exampleDirs(t) {
		checks, ok := exampleChecks[dir]
		if !ok {
			continue // reported by TestExamples_EveryDirectoryIsTested
		}
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			setup := exampleSetups[dir]
			if setup == nil {
				// Each example has its own simulator: they run side by side.
				// One with a setup (environment, a lab) runs alone, first.
				t.Parallel()
			}
			work := copyExample(t, dir)
			if setup != nil {
				setup(t)
			}
			resource.Test(t, resource.TestCase{
				TerraformVersionChecks: exampleVersionChecks(work),
				Steps: []resource.TestStep{{
					// The example's own provider block configures the provider.
					ProtoV6ProviderFactories: testProviders,
					ConfigDirectory:          config.StaticDirectory(work),
					ConfigStateChecks:        checks,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
				}},
			})
		})
	}
}

// exampleVersionChecks skips an example on a CLI too old for what it uses:
// provider functions need Terraform 1.8, check blocks and import blocks 1.5.
func exampleVersionChecks(dir string) []tfversion.TerraformVersionCheck {
	var text strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		text.Write(b)
	}
	switch s := text.String(); {
	case strings.Contains(s, "provider::"):
		return []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)}
	case strings.Contains(s, "check \"") || strings.Contains(s, "import {"):
		return []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_5_0)}
	}
	return nil
}

// TestAccExamples_ImportBlocks applies each resource's
// import-by-string-id.tf next to its resource.tf, against a simulator where
// the object already exists: the import block adopts it, and the apply
// converges on the example's configuration.
func TestAccExamples_ImportBlocks(t *testing.T) {
	testAccPreCheck(t)
	cases := []struct {
		resource, preset, address string
		// prepare creates the object out of band.
		prepare func(sim *testSim)
		checks  []statecheck.StateCheck
	}{
		{
			resource: "appliance_cluster_active_version", preset: "primary-ha", address: "appliance_cluster_active_version.demo",
			checks: []statecheck.StateCheck{statecheck.ExpectKnownValue("appliance_cluster_active_version.demo", tfjsonpath.New("node_versions"), allNodes("1.1"))},
		},
		{
			resource: "appliance_supercluster_version", preset: "supercluster", address: "appliance_supercluster_version.sc1",
			checks: []statecheck.StateCheck{statecheck.ExpectKnownValue("appliance_supercluster_version.sc1", tfjsonpath.New("cluster_versions"), allClusters("1.1"))},
		},
		{
			resource: "appliance_cluster_license", preset: "netware", address: "appliance_cluster_license.v6_5",
			prepare: func(sim *testSim) { sim.installLicense("ncs", "6.5") },
			checks:  []statecheck.StateCheck{statecheck.ExpectKnownValue("appliance_cluster_license.v6_5", tfjsonpath.New("id"), knownvalue.StringExact("ncs/6.5"))},
		},
		{
			resource: "appliance_software_image", preset: "primary-ha", address: "appliance_software_image.v1_1",
			prepare: func(sim *testSim) {
				// The simulator names an image after its sha256, which the example's import ID relies on.
				img, err := sim.client.UploadImage(context.Background(), "demo", filepath.Join(examplesDir, "resources/appliance_software_image/appliance-1.1.bundle"))
				if err != nil {
					sim.t.Fatalf("uploading the example's bundle: %v", err)
				}
				if img.ID != "img-ce6eb2166241" {
					sim.t.Fatalf("the example's bundle became image %s; update import-by-string-id.tf and import.sh", img.ID)
				}
			},
			checks: []statecheck.StateCheck{statecheck.ExpectKnownValue("appliance_software_image.v1_1", tfjsonpath.New("version"), knownvalue.StringExact("1.1"))},
		},
	}
	for _, tc := range cases {
		t.Run(tc.resource, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, tc.preset)
			if tc.prepare != nil {
				tc.prepare(sim)
			}
			dir := filepath.Join(examplesDir, "resources", tc.resource)
			res, err := os.ReadFile(filepath.Join(dir, "resource.tf"))
			if err != nil {
				t.Fatal(err)
			}
			imp, err := os.ReadFile(filepath.Join(dir, "import-by-string-id.tf"))
			if err != nil {
				t.Fatalf("%s has no import-by-string-id.tf: %v", tc.resource, err)
			}
			cfg := sim.providerConfig() + strings.ReplaceAll(string(res), "${path.module}", filepath.ToSlash(mustAbs(t, dir))) + "\n" + string(imp)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_5_0)},
				Steps: []resource.TestStep{{
					Config: cfg,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						expectImporting(tc.address),
					}},
					ConfigStateChecks: tc.checks,
				}},
			})
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// expectImporting checks that the plan imports address (an import block took effect).
func expectImporting(address string) plancheck.PlanCheck { return importingCheck{address} }

type importingCheck struct{ address string }

func (c importingCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address == c.address {
			if rc.Change == nil || rc.Change.Importing == nil {
				resp.Error = fmt.Errorf("%s is planned without importing: the import block did not apply", c.address)
			}
			return
		}
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.address)
}
