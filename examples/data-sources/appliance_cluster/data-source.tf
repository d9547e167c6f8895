data "appliance_cluster" "prod_east" {
  name = "prod-east"
}

output "partitions" {
  value = {
    for n in data.appliance_cluster.prod_east.nodes :
    n.name => "active ${n.active_version}, alternate ${n.alternate_version}"
  }
}
