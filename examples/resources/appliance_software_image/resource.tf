# Upload a bundle from this machine and stage it into the alternate partition
# of every node that runs an older version. Service is not interrupted (S3).
resource "appliance_software_image" "v6_5" {
  cluster     = "prod-east"
  source_file = "${path.module}/images/appliance-6.5.bundle"
}

# Or let the cluster download it itself, through a proxy (S1).
resource "appliance_software_image" "v6_5_sp1" {
  cluster    = "prod-west"
  source_url = "https://downloads.example.com/appliance/6.5-sp1.bundle"
  sha256     = "9f2c0e5b7d3a41c8e6f0b2a4d6c8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3"
  proxy      = "http://proxy.example.com:3128"
}
