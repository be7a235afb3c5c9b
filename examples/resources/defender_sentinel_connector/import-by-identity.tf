import {
  to = defender_sentinel_connector.this
  identity = {
    workspace_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel"
    name         = "2b618f1f-ce3f-5bd4-89d5-04e9b43c4efd" # the connector's name (derived: a GUID)
  }
}
