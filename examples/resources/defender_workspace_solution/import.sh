# The solution's ARM ID, named {solution}({workspace}) in the workspace's resource group:
terraform import defender_workspace_solution.security "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-security/providers/Microsoft.OperationsManagement/solutions/Security(law-security)"
