# Review the rollout of 1.1 on demo without running it, e.g. to attach it to
# a change ticket or to check it with a policy. The image must be on the
# cluster: here it is uploaded and staged (which never interrupts service),
# and nothing is activated.
resource "appliance_software_image" "v1_1" {
  cluster     = "demo"
  source_file = "${path.module}/appliance-1.1.bundle"
}

data "appliance_rollout_plan" "demo" {
  cluster  = "demo"
  version  = "1.1"
  image_id = appliance_software_image.v1_1.id
  strategy = {
    max_unavailable = "25%"
  }
}

check "rollout_fits_the_window" {
  assert {
    condition     = data.appliance_rollout_plan.demo.waves <= 6
    error_message = "The rollout needs ${data.appliance_rollout_plan.demo.waves} waves; the change window allows 6."
  }
}

# The steps themselves are in data.appliance_rollout_plan.demo.steps; they
# shrink as the cluster gets closer (staged nodes drop their stage steps).
output "waves" {
  value = data.appliance_rollout_plan.demo.waves
}
