# The assignment's ARM ID (management group, subscription or resource group scope). The role
# assignments this provider would make for its identity are found and adopted.
terraform import defender_policy_assignment.kubernetes_addon /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/policyAssignments/kubernetes-policy-addon
