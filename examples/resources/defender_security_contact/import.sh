# The contact's ARM ID (a subscription has one contact, `default`):
terraform import defender_security_contact.this /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/securityContacts/default
