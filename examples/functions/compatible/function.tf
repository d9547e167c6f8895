# Patch releases are compatible; major and minor releases are not (S23).
output "same_series" {
  value = provider::appliance::compatible("6.5.2", "6.5 SP8")
}
