data "appliance_cluster" "demo" {
  name = "demo"
}

output "partitions" {
  value = {
    for n in data.appliance_cluster.demo.nodes :
    n.name => "active ${n.active_version}, alternate ${n.alternate_version}"
  }
}
