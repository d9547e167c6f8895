# Runs against the simulator bundled in the provider: no appliance needed.
# With the provider built by `make install`, run it as
#   TF_CLI_CONFIG_FILE=../../../.demo/terraformrc terraform apply
# (no `terraform init`); delete .appliance-sim.json to start again.
# Cluster "ncs": nw1..nw4 on 6.0, licensed for 6.0.
terraform {
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

provider "appliance" {
  simulator {
    state_file = "${path.root}/.appliance-sim.json"
    topology   = "netware"
  }
}
