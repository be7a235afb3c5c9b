# The security contacts of two subscriptions (those without one are skipped).
list "defender_security_contact" "all" {
  provider         = defender
  include_resource = true

  config {
    subscription_ids = [
      "00000000-0000-0000-0000-000000000000",
      "11111111-1111-1111-1111-111111111111",
    ]
  }
}
