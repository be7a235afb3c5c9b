resource "defender_security_contact" "this" {
  emails = ["secops@contoso.com", "cloud-admins@contoso.com"]
  phone  = "+1-214-275-4038"

  # Also email the subscription's owners.
  notify_roles = ["Owner"]

  alert_minimal_severity         = "Medium"   # High | Medium | Low
  attack_path_minimal_risk_level = "Critical" # Critical | High | Medium | Low
}
