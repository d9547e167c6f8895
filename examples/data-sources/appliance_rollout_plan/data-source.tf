# Review the rollout of 6.5 on prod-east without running it, e.g. to attach
# it to a change ticket or to check it with a policy.
data "appliance_rollout_plan" "prod_east" {
  cluster = "prod-east"
  version = "6.5"
  strategy = {
    max_unavailable = "25%"
  }
}

check "rollout_fits_the_window" {
  assert {
    condition     = data.appliance_rollout_plan.prod_east.waves <= 6
    error_message = "The rollout needs ${data.appliance_rollout_plan.prod_east.waves} waves; the change window allows 6."
  }
}
