# Quickstart: run with ./scripts/demo.sh, which starts the local ARM emulator and points the
# provider at it through ARM_METADATA_HOSTNAME, ARM_TENANT_ID, ARM_CLIENT_ID,
# ARM_CLIENT_SECRET and ARM_SUBSCRIPTION_ID — the same variables azurerm reads in CI.
terraform {
  required_version = ">= 1.14"
  required_providers {
    defender = {
      source  = "defenderops/defender"
      version = "~> 0.1"
    }
  }
}

provider "defender" {}

# The retired Log Analytics agent auto-provisioning, kept off.
resource "defender_auto_provisioning" "this" {
  enabled = false
}

output "auto_provisioning_id" {
  value = defender_auto_provisioning.this.id
}
