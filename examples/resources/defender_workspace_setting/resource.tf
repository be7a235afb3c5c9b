# Send the data Defender for Cloud collects from this subscription's machines to a workspace
# of your own instead of its default workspaces.
resource "azurerm_log_analytics_workspace" "security" {
  name                = "law-security"
  location            = "westeurope"
  resource_group_name = "rg-security"
  sku                 = "PerGB2018"
  retention_in_days   = 90
}

resource "defender_workspace_setting" "this" {
  workspace_id = azurerm_log_analytics_workspace.security.id
}

# Only the machines of one resource group, in another subscription than the provider's:
resource "defender_workspace_setting" "other" {
  subscription_id = "11111111-1111-1111-1111-111111111111"
  workspace_id    = azurerm_log_analytics_workspace.security.id
  scope           = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-servers"
}
