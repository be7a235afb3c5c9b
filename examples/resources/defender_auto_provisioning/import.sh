# The setting's ARM ID:
terraform import defender_auto_provisioning.this /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/autoProvisioningSettings/default
