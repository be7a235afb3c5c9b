# Defender for Servers, the way a platform team turns it on for a subscription:
# Plan 2 with agentless scanning, Defender for Endpoint integration (Windows and Linux),
# a security contact, and a custom Log Analytics workspace storing the "Common" set of
# Windows security events.
#
# The workspace itself is managed elsewhere (azurerm, or the platform's landing zone); pass
# its ID in var.workspace_id.
terraform {
  required_version = ">= 1.14"
  required_providers {
    defender = {
      source = "defenderops/defender"
    }
  }
}

provider "defender" {}

variable "workspace_id" {
  description = "ARM ID of the Log Analytics workspace that receives the machines' security data."
  type        = string
}

variable "security_emails" {
  description = "Who Defender for Cloud emails about alerts and attack paths."
  type        = list(string)
  default     = ["secops@contoso.com"]
}

# Defender for Servers Plan 2: agentless vulnerability and secrets scanning, Defender for
# Endpoint licences for the subscription's machines.
resource "defender_plan" "servers" {
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P2"
  extensions = {
    AgentlessVmScanning = {
      enabled    = true
      properties = { ExclusionTags = "[]" }
    }
    MdeDesignatedSubscription = { enabled = false }
  }
}

# The portal's "Endpoint protection" toggle.
resource "defender_setting" "endpoint_protection" {
  name    = "WDATP"
  enabled = true
}

# An exclusion: false puts Linux machines into the Defender for Endpoint integration.
resource "defender_setting" "endpoint_protection_linux" {
  name    = "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW"
  enabled = false
}

resource "defender_security_contact" "this" {
  emails                         = var.security_emails
  notify_roles                   = ["Owner"]
  alert_minimal_severity         = "Medium"
  attack_path_minimal_risk_level = "High"
}

# Machines report to the custom workspace instead of Defender for Cloud's default ones...
resource "defender_workspace_setting" "this" {
  workspace_id = var.workspace_id
}

# ...which needs the Defender for Cloud solution (Plan 2 on: "Security")...
resource "defender_workspace_solution" "security" {
  workspace_id = var.workspace_id
  solution     = "Security"
}

# ...and stores the "Common" set of Windows security events.
resource "defender_security_events" "this" {
  workspace_id = var.workspace_id
  tier         = "Common"
}

output "servers_plan" {
  value = "${defender_plan.servers.tier} ${defender_plan.servers.subplan}"
}
