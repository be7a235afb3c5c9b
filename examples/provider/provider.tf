terraform {
  required_providers {
    defender = {
      source = "defenderops/defender"
    }
  }
}

# Credentials and the subscription come from the ARM_* environment variables azurerm uses
# (ARM_TENANT_ID, ARM_CLIENT_ID, ARM_CLIENT_SECRET or ARM_USE_OIDC, ARM_SUBSCRIPTION_ID, ...).
provider "defender" {
  subscription_id = "00000000-0000-0000-0000-000000000000"
}
