# The connector's ARM ID (an extension resource of the workspace):
terraform import defender_sentinel_connector.this /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel/providers/Microsoft.SecurityInsights/dataConnectors/2b618f1f-ce3f-5bd4-89d5-04e9b43c4efd
