# A minor release across supercluster sc1, keeping the service up: each
# cluster leaves, upgrades and joins a new supercluster on 1.1 in turn
# ("incremental"). "maintenance_window" upgrades every cluster together while
# the service is down, which is much faster; a patch release needs neither
# and rolls one cluster at a time ("auto" picks that).
locals {
  clusters = ["dma1", "dma2", "dma3"]
}

resource "appliance_software_image" "v1_1" {
  count       = length(local.clusters)
  cluster     = local.clusters[count.index]
  source_file = "${path.module}/appliance-1.1.bundle"
}

resource "appliance_supercluster_version" "sc1" {
  supercluster = "sc1"
  version      = "1.1"
  strategy     = "incremental"
  images       = zipmap(local.clusters, appliance_software_image.v1_1[*].id)
}

output "unavailability" {
  value = appliance_supercluster_version.sc1.expected_unavailability
}
