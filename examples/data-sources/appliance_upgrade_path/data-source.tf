# How do we get prod-east to 7.2? The cluster refuses an image it cannot
# update from, so the later hops are bundles on disk.
data "appliance_upgrade_path" "to_7_2" {
  cluster      = "prod-east"
  to           = "7.2"
  bundle_files = ["${path.module}/images/appliance-7.0.bundle", "${path.module}/images/appliance-7.2.bundle"]
}

output "path" {
  value = data.appliance_upgrade_path.to_7_2.summary # e.g. "6.5 -> 7.0 -> 7.2: apply 7.0 first"
}
