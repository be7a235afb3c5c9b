# The roles a policy's managed identity needs, e.g. to assign them to an identity you manage.
output "kubernetes_addon_roles" {
  value = [
    for guid in provider::defender::role_definition_ids("kubernetes-policy-addon") :
    "/providers/Microsoft.Authorization/roleDefinitions/${guid}"
  ]
}
