# A NetWare-style cluster of three or more nodes refuses 6.5 until the 6.5
# cluster licences are installed. Declared here, the licence is installed by
# the same apply, before the upgrade that lists it in depends_on:
#
#   resource "appliance_cluster_active_version" "ncs" {
#     cluster    = "ncs"
#     version    = "6.5"
#     depends_on = [appliance_cluster_license.v6_5]
#   }
#
# (examples/scenarios/netware has the whole upgrade.)
resource "appliance_cluster_license" "v6_5" {
  cluster = "ncs"
  series  = "6.5"
}
