# Store the "Common" set of Windows security events in a custom workspace.
resource "defender_security_events" "this" {
  workspace_id = azurerm_log_analytics_workspace.security.id
  tier         = "Common"
}
