# On demand: terraform apply -invoke=action.defender_compliance_scan.subscription
action "defender_compliance_scan" "subscription" {
  config {
    scope = "/subscriptions/00000000-0000-0000-0000-000000000000"
  }
}

# After an assignment is created, so its compliance shows without waiting for the next
# periodic evaluation.
resource "defender_policy_assignment" "mde" {
  policy   = "mde"
  scope    = "/subscriptions/00000000-0000-0000-0000-000000000000"
  location = "westeurope"

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.defender_compliance_scan.subscription]
    }
  }
}
