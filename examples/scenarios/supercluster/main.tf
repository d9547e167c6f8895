# Supercluster "sc1": clusters dma1, dma2 and dma3 of two servers each, on
# 1.0, move to the minor release 1.1 in a maintenance window.
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
    topology   = "supercluster"
  }
}

locals {
  clusters = ["dma1", "dma2", "dma3"]
}

resource "appliance_software_image" "next" {
  count       = length(local.clusters)
  cluster     = local.clusters[count.index]
  source_file = "${path.module}/appliance-1.1.bundle"
}

# 1.1 is a minor release: the clusters of one supercluster cannot run 1.0 and
# 1.1 side by side, so a strategy must be chosen. "maintenance_window" takes
# every cluster down and upgrades them together; "incremental" keeps the
# service up but takes far longer (see the guide on supercluster strategies).
resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = "1.1"
  strategy     = "maintenance_window"
  images       = zipmap(local.clusters, appliance_software_image.next[*].id)
}

output "rollout_plan" {
  value = appliance_supercluster_version.sc1.rollout_plan
}

output "expected_unavailability" {
  value = appliance_supercluster_version.sc1.expected_unavailability
}

output "cluster_versions" {
  value = appliance_supercluster_version.sc1.cluster_versions
}
