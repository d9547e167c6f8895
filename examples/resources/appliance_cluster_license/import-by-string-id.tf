# Import by cluster and series. Needs Terraform 1.5 or newer.
import {
  to = appliance_cluster_license.v6_5
  id = "ncs/6.5"
}
