# The task's scope and name. Write the same `name` in the resource block, and no `triggers`:
# without a name the resource derives one of its own, and `triggers` is not stored in Azure,
# so either would plan a new task in place of the imported one.
import {
  to = defender_policy_remediation.mde_linux
  identity = {
    scope = "/subscriptions/00000000-0000-0000-0000-000000000000"
    name  = "0d6f3b54-7c1e-5a52-9d0e-6f2a3c4b5d6e"
  }
}
