data "defender_security_event_ids" "this" {}

# For example, a query over the events the Minimal tier keeps:
locals {
  minimal_events_query = "SecurityEvent | where EventID in (${join(", ", data.defender_security_event_ids.this.minimal)})"
}
