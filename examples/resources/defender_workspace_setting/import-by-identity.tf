import {
  to = defender_workspace_setting.this
  identity = {
    subscription_id = "00000000-0000-0000-0000-000000000000" # optional: the provider's by default
  }
}
