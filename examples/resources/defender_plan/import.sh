# A subscription's plan, by the pricing's ARM ID:
terraform import defender_plan.servers /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/pricings/VirtualMachines

# A resource-level pricing:
terraform import defender_plan.one_vm /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/vm-1/providers/Microsoft.Security/pricings/VirtualMachines
