# Import by cluster name. Needs Terraform 1.5 or newer.
import {
  to = appliance_cluster_active_version.demo
  id = "demo"
}
