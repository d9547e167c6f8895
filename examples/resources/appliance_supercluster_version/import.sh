# Import by supercluster name.
terraform import appliance_supercluster_version.dma dma-global
