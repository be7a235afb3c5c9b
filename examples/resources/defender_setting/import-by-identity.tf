import {
  to = defender_setting.endpoint_protection
  identity = {
    name            = "WDATP"
    subscription_id = "00000000-0000-0000-0000-000000000000" # optional: the provider's by default
  }
}
