output "version" {
  description = "The version of the staged image."
  value       = appliance_software_image.this.version
}

output "staged_nodes" {
  description = "The nodes that hold the image in either partition."
  value       = appliance_software_image.this.staged_nodes
}

output "rollout_plan" {
  description = "The steps of the rollout; empty when activate is false."
  value       = try(appliance_cluster_active_version.this[0].rollout_plan, [])
}

output "node_versions" {
  description = "The version each node runs after the apply (before it, when activate is false)."
  value       = try(appliance_cluster_active_version.this[0].node_versions, { for n in data.appliance_cluster.this.nodes : n.name => n.active_version })
}

output "rollback_to" {
  description = "What a rollback would return to."
  value       = try(appliance_cluster_active_version.this[0].previous_version, null)
}
