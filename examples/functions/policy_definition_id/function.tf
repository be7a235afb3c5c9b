# The definition ID of a catalog key, e.g. for azurerm's policy assignment resources.
output "dependency_agent_linux" {
  value = provider::defender::policy_definition_id("dependency-agent-linux")
  # "/providers/Microsoft.Authorization/policyDefinitions/4da21710-ce6f-4e06-8cdb-5cc4c93ffbee"
}
