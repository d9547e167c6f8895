variable "cluster" {
  description = "Name of the cluster to upgrade."
  type        = string
}

variable "bundle_file" {
  description = "Path of the image bundle to upload and stage."
  type        = string
}

variable "activate" {
  description = "Roll the cluster onto the staged image. false stages only, e.g. days before the change window."
  type        = bool
  default     = true
}

variable "series" {
  description = "Release series (MAJOR.MINOR, e.g. \"6.5\") the cluster is pinned to: a bundle of another series fails the plan. null: any."
  type        = string
  default     = null
}

variable "strategy" {
  description = "The rollout's strategy, as appliance_cluster_active_version takes it; null: the defaults."
  type = object({
    order              = optional(string)
    max_unavailable    = optional(string)
    ha_mode            = optional(bool)
    failover_resources = optional(bool)
    auto_revert        = optional(bool)
    min_healthy_time   = optional(string)
    healthy_deadline   = optional(string)
    settle_time        = optional(string)
  })
  default = null
}
