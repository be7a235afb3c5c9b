# The setting's ARM ID (the name is one of WDATP, WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW,
# WDATP_UNIFIED_SOLUTION, MCAS, Sentinel):
terraform import defender_setting.endpoint_protection /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/settings/WDATP
