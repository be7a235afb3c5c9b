# The Defender for Endpoint and Kubernetes add-on assignments the portal made at a
# subscription. Run:
#   terraform query -generate-config-out=assignments.tf
list "defender_policy_assignment" "auto_provisioning" {
  provider         = defender
  include_resource = true

  config {
    scope    = "/subscriptions/00000000-0000-0000-0000-000000000000"
    policies = ["mde", "kubernetes-policy-addon"]
  }
}
