terraform {
  required_providers {
    appliance = {
      source = "applianceops/appliance"
    }
  }
}

# Against the bundled simulator, started inside the provider: for trying
# things out, for tests, and for rehearsing a change window.
provider "appliance" {
  simulator {
    state_file = "${path.root}/.appliance-sim.json"
    topology   = "primary-ha"
  }
}

# Against an Appliance Management API endpoint. The token is better given in
# the APPLIANCE_TOKEN environment variable than written here; the CA file is
# only needed when the endpoint's certificate is signed by a private CA.
provider "appliance" {
  alias       = "site_a"
  endpoint    = "https://appliances.example.com"
  ca_cert_pem = fileexists("${path.module}/appliance-ca.pem") ? file("${path.module}/appliance-ca.pem") : null
}

data "appliance_cluster" "demo" {
  name = "demo"
}

# A resource or data source on the endpoint names its provider:
#
# data "appliance_cluster" "prod" {
#   provider = appliance.site_a
#   name     = "prod"
# }
