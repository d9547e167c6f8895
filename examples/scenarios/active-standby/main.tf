# An active (is1) and a standby (is2) appliance, cluster "streamer" on 1.0,
# each with appliance and storage software, move to 1.1. The cluster takes 45
# minutes (simulated) to re-form afterwards.
terraform {
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

# The simulator bundled in the provider plays the cluster; it lives in
# .appliance-sim.json next to this file (delete it to start again).
provider "appliance" {
  simulator {
    state_file = "${path.root}/.appliance-sim.json"
    topology   = "active-standby"
  }
}

# Uploaded and checked at plan time, then staged into every node's alternate
# partition while the nodes keep serving.
resource "appliance_software_image" "next" {
  cluster     = "streamer"
  source_file = "${path.module}/appliance-1.1.bundle"
}

resource "appliance_cluster_active_version" "streamer" {
  cluster  = "streamer"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
}

output "rollout_plan" {
  value = appliance_cluster_active_version.streamer.rollout_plan
}

output "node_versions" {
  value = appliance_cluster_active_version.streamer.node_versions
}
