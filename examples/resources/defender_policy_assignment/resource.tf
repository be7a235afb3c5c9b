# The Azure Policy add-on on every AKS cluster of the subscription, with its identity, its two
# roles, and a remediation task for the clusters that exist already.
resource "defender_policy_assignment" "kubernetes_addon" {
  policy   = "kubernetes-policy-addon"
  scope    = "/subscriptions/00000000-0000-0000-0000-000000000000"
  location = "westeurope"

  remediation = {
    mode = "ExistingNonCompliant"
    wait = true
  }
}

# Defender for Containers on AKS at a management group (names there are at most 24
# characters), sending to a central workspace: the identity also gets its roles on the
# workspace, which the parameter marks with assignPermissions.
resource "defender_policy_assignment" "defender_containers" {
  policy   = "defender-containers-aks"
  scope    = "/providers/Microsoft.Management/managementGroups/landing-zones"
  name     = "mdc-containers-aks"
  location = "westeurope"

  parameters = {
    logAnalyticsWorkspaceResourceId = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/security/providers/Microsoft.OperationalInsights/workspaces/central"
  }
}

# Any definition or initiative by ID; parameters are checked against it at plan time.
resource "defender_policy_assignment" "custom" {
  policy_definition_id = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/policyDefinitions/deploy-diagnostics"
  scope                = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/apps"
  location             = "westeurope"
  enforcement_mode     = "DoNotEnforce"

  identity = {
    type         = "UserAssigned"
    identity_ids = ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/policy"]
  }

  parameters = {
    workspaceId = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/security/providers/Microsoft.OperationalInsights/workspaces/central"
  }

  non_compliance_messages = [
    { message = "Diagnostic settings are deployed by policy; see the platform wiki." },
  ]
}
