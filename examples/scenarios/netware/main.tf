# Four servers nw1..nw4, cluster "ncs" on 6.0, with pools POOL1..POOL3 on
# shared storage and a local DHCP service, move to 6.5. A cluster of three or
# more servers needs the 6.5 licences first: the licence resource installs
# them in the same apply, before the upgrade that depends on it.
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
    topology   = "netware"
  }
}

resource "appliance_cluster_license" "v6_5" {
  cluster = "ncs"
  series  = "6.5"
}

# Uploaded and checked at plan time, then staged into every node's alternate
# partition while the nodes keep serving.
resource "appliance_software_image" "next" {
  cluster     = "ncs"
  source_file = "${path.module}/appliance-6.5.bundle"
}

resource "appliance_cluster_active_version" "ncs" {
  cluster  = "ncs"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id

  depends_on = [appliance_cluster_license.v6_5]
}

output "rollout_plan" {
  value = appliance_cluster_active_version.ncs.rollout_plan
}

output "node_versions" {
  value = appliance_cluster_active_version.ncs.node_versions
}
