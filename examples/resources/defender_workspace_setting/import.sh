# The setting's ARM ID (its name is always "default"):
terraform import defender_workspace_setting.this /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/workspaceSettings/default
