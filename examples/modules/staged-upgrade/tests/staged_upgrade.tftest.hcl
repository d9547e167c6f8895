# Runs against the simulator bundled in the provider (make test runs it with
# `terraform test`). The simulated cluster lives in the state file below,
# which make test deletes before each run, so every run starts from 1.0.
provider "appliance" {
  simulator {
    state_file = "tests/.sim-staged-upgrade.json"
    topology   = "primary-ha"
  }
}

variables {
  cluster     = "demo"
  bundle_file = "tests/appliance-1.1.bundle"
}

run "stage_only_leaves_every_node_on_its_version" {
  variables {
    activate = false
  }

  assert {
    condition     = length(output.staged_nodes) == 4
    error_message = "The image is not staged on every node: ${jsonencode(output.staged_nodes)}"
  }
  assert {
    condition     = alltrue([for v in values(output.node_versions) : v == "1.0"])
    error_message = "Staging changed what a node runs: ${jsonencode(output.node_versions)}"
  }
}

run "activate_plans_the_primary_first" {
  command = plan

  assert {
    condition     = strcontains([for step in output.rollout_plan : step if strcontains(step, ": activate ")][0], "activate n1 ")
    error_message = "The first activation is not the primary n1: ${jsonencode(output.rollout_plan)}"
  }
}

run "activate_rolls_every_node" {
  assert {
    condition     = output.node_versions == tomap({ n1 = "1.1", n2 = "1.1", n3 = "1.1", n4 = "1.1" })
    error_message = "Not every node runs 1.1: ${jsonencode(output.node_versions)}"
  }
  assert {
    condition     = output.rollback_to == "1.0"
    error_message = "The rollback target is ${coalesce(output.rollback_to, "unset")}, want 1.0"
  }
}

run "a_bundle_outside_the_pinned_series_fails_the_plan" {
  command = plan

  variables {
    series = "2.0"
  }

  expect_failures = [appliance_cluster_active_version.this]
}
