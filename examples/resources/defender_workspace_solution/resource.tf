# The Defender for Cloud solution on a custom workspace (Defender for Servers plan on):
resource "defender_workspace_solution" "security" {
  workspace_id = azurerm_log_analytics_workspace.security.id
  solution     = "Security"
}

# The free tier's solution, in an explicit region:
resource "defender_workspace_solution" "free" {
  workspace_id = azurerm_log_analytics_workspace.free.id
  solution     = "SecurityCenterFree"
  location     = "northeurope"
}
