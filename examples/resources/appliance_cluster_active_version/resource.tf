resource "appliance_cluster_active_version" "prod_east" {
  cluster  = "prod-east"
  version  = appliance_software_image.v6_5.version
  image_id = appliance_software_image.v6_5.id

  strategy = {
    order            = "auto" # primary_first, standby_first, active_first or rolling
    max_unavailable  = "25%"
    auto_revert      = true
    min_healthy_time = "2m"
    healthy_deadline = "45m"
  }

  timeouts {
    create = "4h"
    update = "4h"
  }
}

# Stop a plan that would leave the cluster on an incompatible version.
check "cluster_on_6_5_series" {
  assert {
    condition     = provider::appliance::compatible(appliance_cluster_active_version.prod_east.version, "6.5")
    error_message = "prod-east is not on the 6.5 series."
  }
}
