# A primary (n1) and three secondaries in HA pairs n1/n2 and n3/n4, cluster
# "demo" on 1.0, moves to 1.1.
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
    topology   = "primary-ha"
  }
}

# Uploaded and checked at plan time, then staged into every node's alternate
# partition while the nodes keep serving.
resource "appliance_software_image" "next" {
  cluster     = "demo"
  source_file = "${path.module}/appliance-1.1.bundle"
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
}

output "rollout_plan" {
  value = appliance_cluster_active_version.demo.rollout_plan
}

output "node_versions" {
  value = appliance_cluster_active_version.demo.node_versions
}
