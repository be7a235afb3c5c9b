# The task's ARM ID:
terraform import defender_policy_remediation.mde_linux /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.PolicyInsights/remediations/0d6f3b54-7c1e-5a52-9d0e-6f2a3c4b5d6e
