# A minor release across the DMA supercluster, keeping the service up: each
# cluster leaves, upgrades and joins the new supercluster in turn (S26).
resource "appliance_supercluster_version" "dma" {
  supercluster = "dma-global"
  version      = "10.1"
  strategy     = "incremental" # or "maintenance_window" (S25); patch releases roll with "auto" (S24)
  images = {
    dma-east = appliance_software_image.dma_east.id
    dma-west = appliance_software_image.dma_west.id
  }
}

output "unavailability" {
  value = appliance_supercluster_version.dma.expected_unavailability
}
