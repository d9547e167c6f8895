# Upgrade a cluster of four RAUC appliances (two HA pairs, n1 the primary)
# from 1.0 to 1.1 over SSH: the plan shows the rollout, the apply installs
# the bundle into each node's other slot, reboots the nodes primary first
# (partners never together), checks their health and marks the new slot
# good.
#
# Rehearse it on the lab, which runs real RAUC, D-Bus and OpenSSH on this
# machine (as root):
#
#   make rauc-lab LAB_DIR=/tmp/rauc-lab      # in one terminal; Ctrl-C stops it
#   terraform apply -var lab=/tmp/rauc-lab/lab.json
#
# Against real appliances, write their addresses, your key, known_hosts
# and keyring in place of the lab's.

terraform {
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

variable "lab" {
  type        = string
  description = "Path of the lab.json that `make rauc-lab` writes: node addresses, key, known_hosts, keyring, bundles."
}

locals {
  lab = jsondecode(file(var.lab))
}

provider "appliance" {
  rauc {
    cluster          = "lab"
    private_key      = file(local.lab.private_key_path)
    known_hosts_file = local.lab.known_hosts_path
    keyring_file     = local.lab.keyring_path

    # The lab plays the hardware: its reboot command, its health check and
    # where its booted root keeps os-release. On a real appliance the
    # defaults (`systemctl reboot`, VERSION_ID of /etc/os-release) usually do,
    # plus a health command of your own.
    reboot_command  = "reboot"
    health_command  = "lab-health"
    version_command = "sed -n 's/^VERSION_ID=//p' \"$RAUC_LAB_ROOT/etc/os-release\""

    node {
      name       = "n1"
      address    = local.lab.nodes[0].address
      role       = "primary"
      ha_partner = "n2"
      work_dir   = local.lab.nodes[0].work_dir
    }
    node {
      name       = "n2"
      address    = local.lab.nodes[1].address
      role       = "secondary"
      ha_partner = "n1"
      work_dir   = local.lab.nodes[1].work_dir
    }
    node {
      name       = "n3"
      address    = local.lab.nodes[2].address
      role       = "secondary"
      ha_partner = "n4"
      work_dir   = local.lab.nodes[2].work_dir
    }
    node {
      name       = "n4"
      address    = local.lab.nodes[3].address
      role       = "secondary"
      ha_partner = "n3"
      work_dir   = local.lab.nodes[3].work_dir
    }
  }
}

# The bundle is verified at plan time by `rauc info` against the keyring:
# a corrupt one, one signed by another key, or one for another compatible
# string fails the plan before anything is copied.
resource "appliance_software_image" "next" {
  cluster     = "lab"
  source_file = local.lab.bundles["1.1"]
}

resource "appliance_cluster_active_version" "lab" {
  cluster  = "lab"
  version  = appliance_software_image.next.version
  image_id = appliance_software_image.next.id
  strategy = {
    order = "primary_first"
  }
}

output "node_versions" {
  value = appliance_cluster_active_version.lab.node_versions
}
