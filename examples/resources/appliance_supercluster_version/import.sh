# Import by supercluster name.
terraform import appliance_supercluster_version.sc1 sc1
