import {
  to = defender_sentinel_connector.this
  identity = {
    workspace_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel"
    name         = "763f9fa1-c2d3-4fa2-93e9-bccd4899aa12" # the connector's name (derived: a GUID)
  }
}
