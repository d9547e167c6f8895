# Import by supercluster name. Needs Terraform 1.5 or newer.
import {
  to = appliance_supercluster_version.sc1
  id = "sc1"
}
