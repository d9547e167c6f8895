package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

const nextImageAddr = "appliance_software_image.next"

// expectImage checks that the cluster still holds an image of version.
func (s *testSim) expectImage(cluster, version string) error {
	imgs, err := s.client.ListImages(context.Background(), cluster)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if img.Manifest.Version == version {
			return nil
		}
	}
	return fmt.Errorf("cluster %s holds no image of version %s any more: %+v", cluster, version, imgs)
}

// Defect 1: a tainted image that the cluster runs is replaced without
// being deleted: the plan's replacement applies (the upload gets the same
// image back), the cluster keeps its image, and nothing is left to do.
func TestAccSoftwareImage_Defect1_ReplacementNeverDeletesTheImageTheClusterRuns(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Taint:  []string{nextImageAddr},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionReplace)},
				},
				Check: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// Defect 2: an image deleted out of band after its rollout (a node runs
// it) is uploaded again by the next apply instead of leaving the
// configuration refused as "not newer" forever.
func TestAccSoftwareImage_Defect2_ImageDeletedOutOfBandIsRecreated(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					imgs, err := sim.client.ListImages(context.Background(), "demo")
					if err != nil {
						t.Fatal(err)
					}
					for _, img := range imgs {
						if err := sim.client.DeleteImage(context.Background(), "demo", img.ID); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(nextImageAddr, plancheck.ResourceActionCreate)},
				},
				Check: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// Destroying an image a node runs keeps it on the cluster, says so at
// plan time, and removes it from the state only.
func TestAccSoftwareImage_DestroyKeepsAnImageInUse(t *testing.T) {
	testAccPreCheck(t)
	sim := startSim(t, "primary-ha")
	cfg := upgradeConfig(sim, sim.bundle("1.1", []string{"1.0"}), "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Config:  cfg,
				Destroy: true,
				Check:   func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
			},
		},
		CheckDestroy: func(*terraform.State) error { return sim.expectImage("demo", "1.1") },
	})
}
