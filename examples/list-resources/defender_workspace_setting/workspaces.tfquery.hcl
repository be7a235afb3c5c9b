# The custom Log Analytics workspace setting of the provider's subscription, if it has one.
list "defender_workspace_setting" "custom" {
  provider         = defender
  include_resource = true
}
