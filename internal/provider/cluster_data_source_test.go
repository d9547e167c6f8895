package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccDataSourcesAndFunctions_S8_ClusterTopologyRolloutPlanUpgradePathAndVersionFunctionsChangeNothingAndBadInputNamesTheFix
// reads every data source against one primary-ha cluster, which they must
// leave as it is:
//   - appliance_cluster reports the topology and the partitions of the
//     cluster as the simulator starts it (1.0 on every node, nothing staged);
//   - with a 1.1 image uploaded but not staged, appliance_rollout_plan
//     computes the plan the resource would run, at the lower bound, without
//     running it;
//   - appliance_upgrade_path (S8): 1.3 updates only from 1.1, so from 1.0 the
//     path goes through 1.1: one image is on the cluster and the other only
//     on disk, as a cluster refuses 1.3 while it runs 1.0; 1.4, which updates
//     only from 1.3, is reached by no image;
//   - appliance_cluster of a cluster the endpoint does not manage fails,
//     naming the fix;
//   - the provider functions compare_versions and compatible order and match
//     releases however they are spelled, and a malformed version fails,
//     naming it (provider-defined functions came with Terraform 1.8).
//
// (One test case: each costs the CLI commands of its own setup and
// teardown, and these share the cluster and the uploaded image.)
func TestAccDataSourcesAndFunctions_S8_ClusterTopologyRolloutPlanUpgradePathAndVersionFunctionsChangeNothingAndBadInputNamesTheFix(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	images := uploadOnly(sim, map[string]string{"v1_1": sim.bundle("1.1", []string{"1.0"})})
	cluster := "data.appliance_cluster.demo"
	plan := "data.appliance_rollout_plan.next"
	path := "data.appliance_upgrade_path.to_1_3"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_8_0)},
		Steps: []resource.TestStep{
			{
				// Read at plan time, before the image is uploaded.
				Config: images + `data "appliance_cluster" "demo" { name = "demo" }
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
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("uniform"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("ha_enabled"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("nodes"), knownvalue.ListSizeExact(4)),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("role"), knownvalue.StringExact("primary")),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("active_version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("alternate_version"), knownvalue.StringExact("")),
					statecheck.ExpectKnownValue(cluster, tfjsonpath.New("ha_groups"), knownvalue.ListSizeExact(2)),
				},
			},
			{
				Config: images + fmt.Sprintf(`data "appliance_rollout_plan" "next" {
  cluster = "demo"
  version = "1.1"
}
output "steps" { value = data.appliance_rollout_plan.next.steps }

data "appliance_upgrade_path" "to_1_3" {
  cluster      = "demo"
  to           = "1.3"
  bundle_files = [%q]
}

# 1.4 updates only from 1.3, which no image on the cluster or on disk reaches.
data "appliance_upgrade_path" "to_1_4" {
  cluster      = "demo"
  to           = "1.4"
  bundle_files = [%q]
}`, sim.bundle("1.3", []string{"1.1", "1.2"}), sim.bundle("1.4", []string{"1.3"})),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("order"), knownvalue.StringExact("primary_first")),
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("waves"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("lower_bound"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("rollback"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("from_version"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(plan, tfjsonpath.New("steps"), knownvalue.ListSizeExact(12)),
					statecheck.ExpectKnownValue(path, tfjsonpath.New("from"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(path, tfjsonpath.New("direct"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(path, tfjsonpath.New("reachable"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(path, tfjsonpath.New("hops"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("1.0"), knownvalue.StringExact("1.1"), knownvalue.StringExact("1.3")})),
					statecheck.ExpectKnownValue(path, tfjsonpath.New("summary"), knownvalue.StringExact("1.0 -> 1.1 -> 1.3: apply 1.1 first")),
					statecheck.ExpectKnownValue("data.appliance_upgrade_path.to_1_4", tfjsonpath.New("reachable"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.appliance_upgrade_path.to_1_4", tfjsonpath.New("hops"), knownvalue.ListSizeExact(0)),
					afterApply(func() error {
						for _, n := range sim.cluster("demo").Nodes {
							if n.Active.Version != "1.0" {
								return fmt.Errorf("a data source changed %s to %s", n.Name, n.Active.Version)
							}
						}
						return nil
					}),
				},
			},
			{
				// Before the last step: the harness destroys with the last configuration.
				Config:      images + `output "bad" { value = provider::appliance::compare_versions("six", "6.5") }`,
				ExpectError: regexp.MustCompile(`malformed version "six"`),
			},
			{
				Config:      images + `data "appliance_cluster" "x" { name = "nope" }`,
				ExpectError: regexp.MustCompile(`no cluster named "nope"`),
			},
		},
	})
}
