# Staged upgrade of one cluster: the image is uploaded and staged into every
# node's alternate partition (no service interruption), and, when activate is
# true, the cluster is rolled onto it. Preconditions stop a plan that would
# leave the series the cluster is pinned to, or go backwards.

terraform {
  required_version = ">= 1.8" # provider-defined functions
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

data "appliance_cluster" "this" {
  name = var.cluster
}

resource "appliance_software_image" "this" {
  cluster     = var.cluster
  source_file = var.bundle_file
}

resource "appliance_cluster_active_version" "this" {
  count = var.activate ? 1 : 0

  cluster  = var.cluster
  version  = appliance_software_image.this.version
  image_id = appliance_software_image.this.id
  strategy = var.strategy

  lifecycle {
    precondition {
      condition     = var.series == null || provider::appliance::compatible(appliance_software_image.this.version, coalesce(var.series, "0.0"))
      error_message = "The bundle installs ${appliance_software_image.this.version}, which is not in the ${coalesce(var.series, "-")} series this cluster is pinned to (var.series)."
    }
    precondition {
      condition     = provider::appliance::compare_versions(appliance_software_image.this.version, data.appliance_cluster.this.version) >= 0
      error_message = "The bundle installs ${appliance_software_image.this.version}, older than the ${data.appliance_cluster.this.version} that ${var.cluster} runs: going back is a rollback (set the version to the one in the alternate partition), not a staged upgrade."
    }
  }
}
