resource "appliance_software_image" "v1_1" {
  cluster     = "demo"
  source_file = "${path.module}/appliance-1.1.bundle"
}

resource "appliance_cluster_active_version" "demo" {
  cluster  = "demo"
  version  = appliance_software_image.v1_1.version
  image_id = appliance_software_image.v1_1.id

  strategy = {
    order            = "auto" # primary_first, standby_first, active_first or rolling
    max_unavailable  = "25%"
    auto_revert      = true
    healthy_deadline = "45m"
    min_healthy_time = "2m" # each wave stays healthy this long before the next
  }

  timeouts {
    create = "4h"
    update = "4h"
  }
}

# Stop a plan that would leave the cluster on another series than 1.1.
check "cluster_on_1_1_series" {
  assert {
    condition     = provider::appliance::compatible(appliance_cluster_active_version.demo.version, "1.1")
    error_message = "demo is not on the 1.1 series."
  }
}
