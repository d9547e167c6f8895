package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

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
