# The workspace Defender for Cloud creates for the provider's subscription in West Europe:
# DefaultWorkspace-{subscription}-WEU in resource group DefaultResourceGroup-WEU.
data "defender_default_workspace" "weu" {
  location = "westeurope"
}

output "default_workspace_id" {
  value = data.defender_default_workspace.weu.id
}
