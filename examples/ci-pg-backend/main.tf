# Rolling a cluster from CI with the Terraform state in PostgreSQL.
#
# Two safety nets stop two pipelines from acting at once:
#   - the state lock of the pg backend: two applies of the SAME state never
#     run together; the second fails at once with "Error acquiring the state
#     lock" (or waits, with -lock-timeout);
#   - the cluster's rollout lease, taken by the provider: an apply from a
#     DIFFERENT state (another database, another repository, someone's
#     laptop) that targets the same cluster is refused, naming the holder.
#
# The connection string comes from the environment, so that no password is
# written here. Give each state a database of its own: Terraform's pg
# backend takes its advisory locks per database, and states in two schemas
# of one database lock each other out.
#   export PG_CONN_STR="postgres://terraform@db.example.com/appliance_prod?sslmode=verify-full"
#   export APPLIANCE_ENDPOINT=https://appliances.example.com APPLIANCE_TOKEN=...
#   terraform init && terraform apply -lock-timeout=0s -var bundle=./appliance-1.1.bundle

terraform {
  backend "pg" {}

  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

# endpoint and token come from APPLIANCE_ENDPOINT and APPLIANCE_TOKEN.
provider "appliance" {}

variable "cluster" {
  description = "The cluster to roll."
  type        = string
  default     = "demo"
}

variable "bundle" {
  description = "Path of the image bundle to install."
  type        = string
}

resource "appliance_software_image" "target" {
  cluster     = var.cluster
  source_file = var.bundle
}

resource "appliance_cluster_active_version" "cluster" {
  cluster  = var.cluster
  version  = appliance_software_image.target.version
  image_id = appliance_software_image.target.id
}

output "node_versions" {
  description = "The version each node runs."
  value       = appliance_cluster_active_version.cluster.node_versions
}
