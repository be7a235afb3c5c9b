# Keep the retired Log Analytics (MMA) agent auto-provisioning off.
resource "defender_auto_provisioning" "this" {
  enabled = false
}

# In another subscription than the provider's:
resource "defender_auto_provisioning" "other" {
  subscription_id = "11111111-1111-1111-1111-111111111111"
  enabled         = false
}
