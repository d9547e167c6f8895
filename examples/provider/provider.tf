# Against an Appliance Management API endpoint. The token is better given in
# the APPLIANCE_TOKEN environment variable than written here.
provider "appliance" {
  endpoint    = "https://appliances.example.com"
  ca_cert_pem = file("${path.module}/appliance-ca.pem")
}

# Against the bundled simulator, started inside the provider: for trying
# things out, for tests, and for rehearsing a change window.
provider "appliance" {
  alias = "sim"
  simulator {
    state_file = "${path.root}/.appliance-sim.json"
    topology   = "primary-ha"
  }
}
