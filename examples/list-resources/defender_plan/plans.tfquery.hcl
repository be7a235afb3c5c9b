# The Defender plans that are on in two subscriptions. Run:
#   terraform query -generate-config-out=plans.tf
# then review plans.tf (one defender_plan and one import block per plan) and apply it.
list "defender_plan" "on" {
  provider         = defender
  include_resource = true

  config {
    subscription_ids = [
      "00000000-0000-0000-0000-000000000000",
      "11111111-1111-1111-1111-111111111111",
    ]
    tier = "Standard"
  }
}
