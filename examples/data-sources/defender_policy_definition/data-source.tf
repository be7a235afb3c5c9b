# The Azure Policy add-on for AKS, as auto provisioning assigns it.
data "defender_policy_definition" "kubernetes_addon" {
  key = "kubernetes-policy-addon"
}

output "kubernetes_addon" {
  value = {
    id           = data.defender_policy_definition.kubernetes_addon.id
    display_name = data.defender_policy_definition.kubernetes_addon.display_name
    version      = data.defender_policy_definition.kubernetes_addon.version
    roles        = data.defender_policy_definition.kubernetes_addon.role_definition_ids
    # Parameter defaults and allowed values are JSON-encoded.
    effect_default = jsondecode(data.defender_policy_definition.kubernetes_addon.parameters["effect"].default_value)
  }
}

# An initiative: its members and the roles of all of them.
data "defender_policy_definition" "mde" {
  key = "mde"
}

output "mde_members" {
  value = [for m in data.defender_policy_definition.mde.members : m.key]
}
