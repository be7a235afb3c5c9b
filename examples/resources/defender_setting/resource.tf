# The portal's "Endpoint protection" toggle: Defender for Cloud's integration with
# Microsoft Defender for Endpoint.
resource "defender_setting" "endpoint_protection" {
  name    = "WDATP"
  enabled = true
}

# An exclusion, so the meaning is inverted: enabled = false puts Linux machines INTO the
# Defender for Endpoint integration.
resource "defender_setting" "endpoint_protection_linux" {
  name    = "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW"
  enabled = false
}

# Defender for Cloud Apps integration, in another subscription than the provider's.
resource "defender_setting" "cloud_apps" {
  subscription_id = "11111111-1111-1111-1111-111111111111"
  name            = "MCAS"
  enabled         = true
}
