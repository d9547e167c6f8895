# How do we get demo from 1.0 to 1.2? The 1.2 image updates only from 1.1, so
# the cluster would refuse it; the bundles on disk say which hops work.
data "appliance_upgrade_path" "to_1_2" {
  cluster      = "demo"
  to           = "1.2"
  bundle_files = ["${path.module}/appliance-1.1.bundle", "${path.module}/appliance-1.2.bundle"]
}

output "path" {
  value = data.appliance_upgrade_path.to_1_2.summary # "1.0 -> 1.1 -> 1.2: apply 1.1 first"
}
