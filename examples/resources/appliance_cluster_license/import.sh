# Import by cluster and series.
terraform import appliance_cluster_license.v6_5 ncs/6.5
