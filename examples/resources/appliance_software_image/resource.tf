# Upload a bundle from this machine and stage it into the alternate partition
# of every node that runs an older version. The nodes keep serving from their
# active partition while it is written.
resource "appliance_software_image" "v1_1" {
  cluster     = "demo"
  source_file = "${path.module}/appliance-1.1.bundle"
}

# Or let the cluster download the bundle itself, through a proxy when it has
# no direct way out (checked by the cluster at apply, not at plan):
#
# resource "appliance_software_image" "v1_1" {
#   cluster    = "demo"
#   source_url = "https://downloads.example.com/appliance/1.1.bundle"
#   sha256     = "9f2c0e5b7d3a41c8e6f0b2a4d6c8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3"
#   proxy_wo   = "http://user:password@proxy.example.com:3128" # write-only: never in the state
# }

output "staged_on" {
  value = appliance_software_image.v1_1.staged_nodes
}
