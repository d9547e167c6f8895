# -1, 0 or 1: "6.10" is newer than "6.9", and "6.5" is the same release as "6.5.0".
output "newer" {
  value = provider::appliance::compare_versions("6.10", "6.9") > 0
}
