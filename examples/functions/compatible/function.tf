# Patch releases and service packs of one series are compatible; another major
# or minor release is not.
output "same_series" {
  value = provider::appliance::compatible("6.5.2", "6.5 SP8")
}
