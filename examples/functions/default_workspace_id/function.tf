# The ID of the workspace Defender for Cloud creates in North Europe, known at plan time:
output "default_workspace" {
  value = provider::defender::default_workspace_id("00000000-0000-0000-0000-000000000000", "northeurope")
}
