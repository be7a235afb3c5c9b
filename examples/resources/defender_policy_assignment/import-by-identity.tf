import {
  to = defender_policy_assignment.mde
  identity = {
    scope = "/subscriptions/00000000-0000-0000-0000-000000000000"
    name  = "mde"
  }
}
