# Microsoft Sentinel on a workspace (onboarded with azurerm), and this subscription's Defender
# for Cloud alerts streamed into it.
resource "azurerm_sentinel_log_analytics_workspace_onboarding" "this" {
  workspace_id = azurerm_log_analytics_workspace.sentinel.id
}

resource "defender_sentinel_connector" "this" {
  workspace_id = azurerm_sentinel_log_analytics_workspace_onboarding.this.workspace_id
}

# The alerts of another subscription, into the same workspace:
resource "defender_sentinel_connector" "other" {
  workspace_id    = azurerm_sentinel_log_analytics_workspace_onboarding.this.workspace_id
  subscription_id = "11111111-1111-1111-1111-111111111111"
}
