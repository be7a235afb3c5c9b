# Defender for Servers Plan 2 with agentless scanning (skipping machines tagged scan=skip) and
# file integrity monitoring off.
resource "defender_plan" "servers" {
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P2"
  extensions = {
    AgentlessVmScanning = {
      enabled    = true
      properties = { ExclusionTags = jsonencode([{ Key = "scan", Value = "skip" }]) }
    }
    FileIntegrityMonitoring = { enabled = false }
  }
}

# Defender CSPM; only SensitiveDataDiscovery is managed, the other extensions stay as Azure
# has them.
resource "defender_plan" "cspm" {
  name = "CloudPosture"
  tier = "Standard"
  extensions = {
    SensitiveDataDiscovery = { enabled = true }
  }
}

# Defender for Storage with a malware-scanning cap, in another subscription.
resource "defender_plan" "storage" {
  subscription_id = "11111111-1111-1111-1111-111111111111"
  name            = "StorageAccounts"
  tier            = "Standard"
  subplan         = "DefenderForStorageV2"
  extensions = {
    OnUploadMalwareScanning = {
      enabled    = true
      properties = { CapGBPerMonthPerStorageAccount = "5000" }
    }
  }
}

# Resource-level pricing: Plan 1 on one virtual machine only.
resource "defender_plan" "one_vm" {
  name  = "VirtualMachines"
  tier  = "Standard"
  scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/vm-1"
}

# Exclude a scale set from Defender for Servers.
resource "defender_plan" "excluded" {
  name  = "VirtualMachines"
  tier  = "Free"
  scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/batch/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
}
