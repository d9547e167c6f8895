package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccUpgradePathDataSource_S8_ChainThroughKnownImages: 1.3 updates only
// from 1.1, so from 1.0 the path goes through 1.1: here one image is on the
// cluster and the other only on disk, as a cluster refuses 1.3 while it runs 1.0.
func TestAccUpgradePathDataSource_S8_ChainThroughKnownImages(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	images := uploadOnly(sim, map[string]string{"v1_1": sim.bundle("1.1", []string{"1.0"})})
	addr := "data.appliance_upgrade_path.to_1_3"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: images},
			{
				Config: images + fmt.Sprintf(`data "appliance_upgrade_path" "to_1_3" {
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
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("from"), knownvalue.StringExact("1.0")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("direct"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("reachable"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("hops"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("1.0"), knownvalue.StringExact("1.1"), knownvalue.StringExact("1.3")})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("summary"), knownvalue.StringExact("1.0 -> 1.1 -> 1.3: apply 1.1 first")),
					statecheck.ExpectKnownValue("data.appliance_upgrade_path.to_1_4", tfjsonpath.New("reachable"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.appliance_upgrade_path.to_1_4", tfjsonpath.New("hops"), knownvalue.ListSizeExact(0)),
				},
			},
		},
	})
}
