resource "defender_policy_assignment" "deps" {
  policy   = "dependency-agent-windows"
  scope    = "/subscriptions/00000000-0000-0000-0000-000000000000"
  location = "westeurope"

  # Remediate what exists whenever the assignment is created or changed.
  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.defender_remediate.deps]
    }
  }
}

# Or on demand: terraform apply -invoke=action.defender_remediate.deps
action "defender_remediate" "deps" {
  config {
    policy_assignment_id = defender_policy_assignment.deps.id
    mode                 = "ReEvaluateCompliance"
    parallel_deployments = 20
  }
}
