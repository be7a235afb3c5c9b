# Every plan of the provider's subscription.
data "defender_plans" "all" {}

output "enabled_plans" {
  value = [for p in data.defender_plans.all.plans : p.name if p.tier == "Standard"]
}

# Two plans of another subscription.
data "defender_plans" "servers_and_vaults" {
  subscription_id = "11111111-1111-1111-1111-111111111111"
  names           = ["VirtualMachines", "KeyVaults"]
}
