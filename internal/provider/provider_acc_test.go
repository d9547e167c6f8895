package provider

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/applianceops/terraform-provider-appliance/internal/appliance/client"
	"github.com/applianceops/terraform-provider-appliance/internal/appliance/simulator"
)

// TestAccProvider_EmbeddedSimulatorPersistsCluster: with a simulator block
// the provider starts the simulator itself, and the cluster it upgrades is
// in the state file afterwards, where a separate simulator finds it.
func TestAccProvider_EmbeddedSimulatorPersistsCluster(t *testing.T) {
	testAccPreCheck(t)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "embedded.json")
	helper := startSim(t, "primary-ha") // only for making a bundle
	cfg := fmt.Sprintf("provider \"appliance\" {\n  simulator {\n    state_file = %q\n  }\n}\n", statePath) +
		upgradeResources(helper.bundle("1.1", []string{"1.0"}), "")

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{expectRolloutPlan(activeVersionAddr, checkPrimaryFirstHA)},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.1")),
			},
		}},
	})

	// A second simulator on the same file, as the next terraform process
	// would start, sees the upgraded cluster.
	srv, err := simulator.Start(context.Background(), simulator.Options{StatePath: statePath, Token: "second-process", TimeScale: 6000})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	}()
	c, err := client.New(client.Config{Endpoint: srv.URL(), Token: srv.Token()})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.GetCluster(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range snap.Nodes {
		if n.Active.Version != "1.1" || n.Alternate.Version != "1.0" {
			t.Errorf("%s in the state file: active %s, alternate %s; want 1.1 and 1.0", n.Name, n.Active.Version, n.Alternate.Version)
		}
	}
}

func TestAccClusterDataSource_ReportsTopologyAndPartitions(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	addr := "data.appliance_cluster.demo"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: sim.providerConfig() + `data "appliance_cluster" "demo" { name = "demo" }`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("version"), knownvalue.StringExact("1.0")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("uniform"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("ha_enabled"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("nodes"), knownvalue.ListSizeExact(4)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("role"), knownvalue.StringExact("primary")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("active_version"), knownvalue.StringExact("1.0")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("alternate_version"), knownvalue.StringExact("")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("ha_groups"), knownvalue.ListSizeExact(2)),
			},
		}},
	})
}

func TestAccClusterDataSource_UnknownClusterNamesTheFix(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      sim.providerConfig() + `data "appliance_cluster" "x" { name = "nope" }`,
			ExpectError: regexp.MustCompile(`no cluster named "nope"`),
		}},
	})
}

func TestAccFunctions_CompareAndCompatible(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		// Provider-defined functions came with Terraform 1.8.
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []resource.TestStep{
			{
				Config: sim.providerConfig() + `
output "newer"  { value = provider::appliance::compare_versions("6.10", "6.9") }
output "same"   { value = provider::appliance::compare_versions("6.5", "6.5.0") }
output "sp"     { value = provider::appliance::compare_versions("6.5 SP8", "6.5.2") }
output "compat" { value = provider::appliance::compatible("6.5.2", "6.5 SP8") }
output "incompat" { value = provider::appliance::compatible("6.5", "6.6") }
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownOutputValue("newer", knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownOutputValue("same", knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownOutputValue("sp", knownvalue.Int64Exact(-1)),
					statecheck.ExpectKnownOutputValue("compat", knownvalue.Bool(true)),
					statecheck.ExpectKnownOutputValue("incompat", knownvalue.Bool(false)),
				},
			},
			{
				Config:      sim.providerConfig() + `output "bad" { value = provider::appliance::compare_versions("six", "6.5") }`,
				ExpectError: regexp.MustCompile(`malformed version "six"`),
			},
		},
	})
}

func TestAccProvider_MissingEndpointIsAClearError(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv(EnvEndpoint, "")
	t.Setenv(EnvToken, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      `data "appliance_cluster" "x" { name = "demo" }`,
			ExpectError: regexp.MustCompile(`(?s)No appliance endpoint.*APPLIANCE_ENDPOINT.*simulator`),
		}},
	})
}

// TestAccClusterActiveVersion_S21_RollbackToAlternate: after 1.0 -> 1.1,
// setting version back to 1.0 is a rollback to the alternate partition: the
// plan activates every node without staging, and the nodes run 1.0 again.
func TestAccClusterActiveVersion_S21_RollbackToAlternate(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"})
	rollback := sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}

resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.0"
}
`, img)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: upgradeConfig(sim, img, "")},
			{
				Config: rollback,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(activeVersionAddr, plancheck.ResourceActionUpdate),
						expectRolloutPlan(activeVersionAddr, func(lines []string) error {
							for _, l := range lines {
								if regexp.MustCompile(`: stage `).MatchString(l) {
									return fmt.Errorf("a rollback stages nothing, got %q", l)
								}
							}
							if w := activationWaves(lines); len(w) != 4 {
								return fmt.Errorf("want all 4 nodes activated, got %v", w)
							}
							for _, l := range lines {
								if strings.Contains(l, ": activate ") {
									return fmt.Errorf("a rollback's activation is not labelled as one: %q", l)
								}
							}
							return checkPrimaryFirstHA(lines)
						}),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("node_versions"), allNodes("1.0")),
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("previous_version"), knownvalue.StringExact("1.1")),
				},
				Check: func(*terraform.State) error { return sim.expectNoOutage("demo") },
			},
		},
	})
}

// TestAccClusterActiveVersion_S9_IrreversibleFeatureBlocksRollback: once an
// image with an irreversible feature is active, asking for the previous
// version fails at plan time and says why.
func TestAccClusterActiveVersion_S9_IrreversibleFeatureBlocksRollback(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	img := sim.bundle("1.1", []string{"1.0"}, "dedup-v2-on-disk-format")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: upgradeConfig(sim, img, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(activeVersionAddr, tfjsonpath.New("rollback_available"), knownvalue.Bool(false)),
				},
			},
			{
				Config: sim.providerConfig() + fmt.Sprintf(`
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = %q
}
resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "1.0"
}
`, img),
				ExpectError: regexp.MustCompile(`(?s)dedup-v2-on-disk-format`),
			},
		},
	})
}

// TestAccClusterActiveVersion_BadStrategyFailsValidation: every malformed
// strategy value is refused before anything is read or changed, naming the
// attribute and the accepted form.
func TestAccClusterActiveVersion_BadStrategyFailsValidation(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	withStrategy := func(s string) string {
		return sim.providerConfig() + fmt.Sprintf(`
resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = "1.0"
  strategy = { %s }
}`, s)
	}
	cases := []struct{ strategy, want string }{
		{`order = "sideways"`, `(?s)strategy.order.*value must be one of`},
		{`max_unavailable = "150%"`, `(?s)strategy.max_unavailable.*percentage such as 25%`},
		{`max_unavailable = "0"`, `(?s)strategy.max_unavailable.*whole number such as 2`},
		{`min_healthy_time = "soon"`, `(?s)Invalid Time Duration String Value.*"2h45m".*Given Value: soon`},
		{`min_healthy_time = "-5s"`, `(?s)Invalid duration.*"-5s" must not be negative`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: withStrategy(c.strategy), PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	steps = append(steps, resource.TestStep{
		Config: sim.providerConfig() + `
resource "appliance_cluster_active_version" "demo" {
  cluster = "demo"
  version = "one.two"
}`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Invalid version.*malformed version "one.two".*6\.5\s+SP8`),
	})
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}

func TestAccProvider_SimulatorAndEndpointConflict(t *testing.T) {
	testAccPreCheck(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
provider "appliance" {
  endpoint = "https://appliances.example.com"
  simulator {
    state_file = "sim.json"
  }
}
data "appliance_cluster" "x" { name = "demo" }`,
			ExpectError: regexp.MustCompile(`(?s)simulator.*endpoint|endpoint.*simulator`),
		}},
	})
}
