import {
  to = defender_plan.servers
  identity = {
    name = "VirtualMachines"
    # subscription_id = "00000000-0000-0000-0000-000000000000" (defaults to the provider's)
    # scope = "/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/virtualMachines/…" (resource-level pricing)
  }
}
