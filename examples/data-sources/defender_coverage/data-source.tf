# Coverage of the provider's subscription.
data "defender_coverage" "this" {}

# Fail the plan when a high or critical protection is missing.
check "defender_coverage" {
  assert {
    condition     = !contains(["high", "critical"], coalesce(data.defender_coverage.this.worst_severity, "none"))
    error_message = join("\n", [for f in data.defender_coverage.this.findings : "${f.severity}: ${f.message} (${join(", ", f.public_rule_ids)})" if contains(["high", "critical"], f.severity)])
  }
}

# Several subscriptions, with the auto-provisioning assignments of their management group.
data "defender_coverage" "landing_zones" {
  subscription_ids = [
    "11111111-1111-1111-1111-111111111111",
    "22222222-2222-2222-2222-222222222222",
  ]
  management_group_id = "landing-zones"
}

output "plans_off" {
  value = {
    for s in data.defender_coverage.landing_zones.subscriptions :
    s.subscription_id => [for p in s.plans : p.name if p.tier == "Free" && !p.deprecated]
  }
}

output "identities_missing_roles" {
  value = flatten([
    for s in data.defender_coverage.landing_zones.subscriptions : [
      for a in s.assignments : a.id if !a.roles_complete
    ]
  ])
}
