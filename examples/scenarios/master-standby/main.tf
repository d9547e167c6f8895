# Management nodes mgmt1 (master) and mgmt2 (standby) and compute nodes
# cn1..cn4, cluster "vca" on 1.0, move to 1.1; the image carries three
# components (mgmt_image, hmp_image, ovm_image).
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
    topology   = "master-standby"
  }
}

# Uploaded and checked at plan time, then staged into every node's alternate
# partition while the nodes keep serving.
resource "appliance_software_image" "next" {
  cluster     = "vca"
  source_file = "${path.module}/appliance-1.1.bundle"
}

resource "appliance_cluster_active_version" "vca" {
  cluster  = "vca"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
}

output "rollout_plan" {
  value = appliance_cluster_active_version.vca.rollout_plan
}

output "node_versions" {
  value = appliance_cluster_active_version.vca.node_versions
}
