# Import by cluster name.
terraform import appliance_cluster_active_version.demo demo
