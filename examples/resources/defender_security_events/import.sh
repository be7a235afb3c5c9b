# The workspace's data source ID:
terraform import defender_security_events.this /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-security/providers/Microsoft.OperationalInsights/workspaces/law-security/dataSources/SecurityEventCollectionConfiguration
