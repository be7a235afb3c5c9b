# Every Defender for Cloud integration setting of the provider's subscription.
list "defender_setting" "all" {
  provider         = defender
  include_resource = true
}
