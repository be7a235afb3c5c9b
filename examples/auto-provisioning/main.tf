# Auto provisioning as code: the extension toggles of Defender for Cloud's "Environment
# settings → Settings & monitoring" page, each a DeployIfNotExists policy assignment with its
# managed identity, the role assignments its deployments need, and a remediation task for the
# resources that already exist.
#
# Against the local emulator: start target/debug/arm-emulator and set the ARM_* variables as
# scripts/demo.sh does for examples/quickstart, then
#   terraform -chdir=examples/auto-provisioning apply -var subscription_id=$ARM_SUBSCRIPTION_ID
# The acceptance test provider/tests/acceptance/policy_assignment.rs runs exactly this file.
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

variable "subscription_id" {
  type        = string
  description = "The subscription whose machines and clusters get the agents."
}

variable "location" {
  type        = string
  default     = "westeurope"
  description = "Where the assignments' managed identities live."
}

locals {
  scope = "/subscriptions/${var.subscription_id}"
}

# "Azure Policy for Kubernetes": the Azure Policy add-on on every AKS cluster.
resource "defender_policy_assignment" "kubernetes_addon" {
  policy   = "kubernetes-policy-addon"
  scope    = local.scope
  location = var.location

  remediation = {
    mode = "ExistingNonCompliant"
    wait = true
  }
}

# "Dependency agent" (VM insights), Windows and Linux virtual machines.
resource "defender_policy_assignment" "dependency_agent_windows" {
  policy   = "dependency-agent-windows"
  scope    = local.scope
  location = var.location

  remediation = {
    wait = true
  }
}

resource "defender_policy_assignment" "dependency_agent_linux" {
  policy   = "dependency-agent-linux"
  scope    = local.scope
  location = var.location

  remediation = {
    wait = true
  }
}

# "Defender for Endpoint": the initiative's four members (Windows and Linux virtual machines,
# Windows and Linux Arc machines), one remediation task each.
resource "defender_policy_assignment" "mde" {
  policy   = "mde"
  scope    = local.scope
  location = var.location

  remediation = {
    mode                 = "ReEvaluateCompliance"
    parallel_deployments = 10
    wait                 = true
  }
}

output "principal_ids" {
  description = "The managed identity of each assignment."
  value = {
    kubernetes_addon         = defender_policy_assignment.kubernetes_addon.principal_id
    dependency_agent_windows = defender_policy_assignment.dependency_agent_windows.principal_id
    dependency_agent_linux   = defender_policy_assignment.dependency_agent_linux.principal_id
    mde                      = defender_policy_assignment.mde.principal_id
  }
}

output "role_assignments" {
  description = "Role definition ID → role assignment ID, per assignment."
  value = {
    kubernetes_addon         = defender_policy_assignment.kubernetes_addon.role_assignments
    dependency_agent_windows = defender_policy_assignment.dependency_agent_windows.role_assignments
    dependency_agent_linux   = defender_policy_assignment.dependency_agent_linux.role_assignments
    mde                      = defender_policy_assignment.mde.role_assignments
  }
}
