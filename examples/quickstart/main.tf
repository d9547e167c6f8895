# Quickstart: upgrade a simulated 4-node cluster from 1.0 to 1.1.
#
# The provider starts its bundled simulator: cluster "demo" with a primary
# (n1) and three secondaries, in HA pairs n1/n2 and n3/n4, all running 1.0.
# `terraform plan` shows the whole rollout before anything changes; `terraform
# apply` stages the image into every node's alternate partition and activates
# it, primary first, never rebooting two HA partners together.

terraform {
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

provider "appliance" {
  simulator {
    # The simulated cluster lives here, so every terraform command sees the
    # same cluster. Delete the file to start again from 1.0.
    state_file = "${path.root}/.appliance-sim.json"
  }
}

# The image: a small bundle checked in beside this file (made with
# `terraform-provider-appliance bundle`). It is read at plan time, so a
# corrupt or unsuitable bundle fails the plan, not the apply.
resource "appliance_software_image" "v1_1" {
  cluster     = "demo"
  source_file = "${path.module}/appliance-1.1.bundle"
}

# The version the cluster should run. The plan shows every step in rollout_plan.
resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.v1_1.version
  image_id = appliance_software_image.v1_1.id
}

output "rollout_plan" {
  description = "The steps of the rollout, in order."
  value       = appliance_cluster_active_version.demo.rollout_plan
}

output "node_versions" {
  description = "The version each node runs."
  value       = appliance_cluster_active_version.demo.node_versions
}

output "rollback_to" {
  description = "What a rollback would return to: the version left in the alternate partitions."
  value       = appliance_cluster_active_version.demo.previous_version
}
