//! Bad input is refused before it reaches ARM: a table of invalid configurations across every
//! resource and the provider block, each run through `terraform plan -json` against one
//! emulator, asserting the exact diagnostic (summary and detail), the attribute it points at
//! (the line of `main.tf` Terraform's diagnostic range starts on, and the source snippet), and
//! that the emulator saw no ARM request at all.
//!
//! The cases run a few at a time (one Terraform + provider process each, in their own working
//! directory). Each case uses its own subscription ID, so an ARM request in the log names the
//! case that caused it.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::common::{SUBSCRIPTION, TfEnv, run};

/// One invalid configuration and the diagnostic it must produce.
struct Case {
    name: &'static str,
    /// The provider block's body.
    provider: String,
    /// Everything after the provider block.
    body: String,
    /// Environment changes: `(name, Some(value))` sets, `(name, None)` removes.
    env: Vec<(&'static str, Option<String>)>,
    summary: &'static str,
    detail: String,
    /// The line the diagnostic points at, trimmed (it must occur once in main.tf).
    line: String,
}

fn case(name: &'static str, body: impl Into<String>) -> Case {
    Case {
        name,
        provider: String::new(),
        body: body.into(),
        env: Vec::new(),
        summary: "",
        detail: String::new(),
        line: String::new(),
    }
}

impl Case {
    fn provider(mut self, p: impl Into<String>) -> Self {
        self.provider = p.into();
        self
    }
    fn env(mut self, k: &'static str, v: Option<&str>) -> Self {
        self.env.push((k, v.map(str::to_owned)));
        self
    }
    fn expect(
        mut self,
        summary: &'static str,
        detail: impl Into<String>,
        line: impl Into<String>,
    ) -> Self {
        self.summary = summary;
        self.detail = detail.into();
        self.line = line.into();
        self
    }
}

const SUB: &str = SUBSCRIPTION;
const RG: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg";

fn ws() -> String {
    format!("{RG}/providers/Microsoft.OperationalInsights/workspaces/ws-main")
}

fn sub_scope() -> String {
    format!("/subscriptions/{SUB}")
}

fn assignment_id() -> String {
    format!(
        "{}/providers/Microsoft.Authorization/policyAssignments/deps",
        sub_scope()
    )
}

fn cases() -> Vec<Case> {
    let ws = ws();
    let scope = sub_scope();
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    let pa = assignment_id();
    let resource_ok = "resource \"defender_auto_provisioning\" \"x\" {\n  enabled = false\n}\n";
    vec![
        // ---- provider block
        case("provider subscription_id not a GUID", resource_ok)
            .provider("  subscription_id = \"not-a-guid\"")
            .expect("Invalid provider configuration", "subscription_id: \"not-a-guid\" is not a valid GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", "subscription_id = \"not-a-guid\""),
        case("provider tenant_id malformed", resource_ok)
            .provider("  tenant_id = \"not a tenant!\"")
            .expect("Invalid provider configuration", "tenant_id: \"not a tenant!\" is not a tenant ID (a GUID) or a tenant domain name", "tenant_id = \"not a tenant!\""),
        case("provider client_id not a GUID", resource_ok)
            .provider("  client_id = \"abc\"")
            .expect("Invalid provider configuration", "client_id: \"abc\" is not a valid GUID", "client_id = \"abc\""),
        case("provider secret and certificate conflict", resource_ok)
            .provider("  client_secret           = \"s3cret\"\n  client_certificate_path = \"/tmp/none.pfx\"")
            .expect("Invalid provider configuration", "client_secret: conflicts with client_certificate / client_certificate_path: configure only one service principal credential", "client_secret           = \"s3cret\""),
        // The secret comes from ARM_CLIENT_SECRET: Terraform can only point at the block.
        case("provider certificate conflicts with the environment's secret", resource_ok)
            .provider("  client_certificate_path = \"/tmp/none.pfx\"")
            .expect("Invalid provider configuration", "client_secret: conflicts with client_certificate / client_certificate_path: configure only one service principal credential", "provider \"defender\" {"),
        case("provider certificate not base64", resource_ok)
            .provider("  client_certificate = \"not base64!!\"")
            .env("ARM_CLIENT_SECRET", None)
            .expect("Invalid provider configuration", "client_certificate: is not valid base64 (expected the base64-encoded PKCS#12 bundle)", "client_certificate = \"not base64!!\""),
        case("provider oidc token and file conflict", resource_ok)
            .provider("  use_oidc             = true\n  oidc_token           = \"eyJhbGciOi\"\n  oidc_token_file_path = \"/tmp/token\"")
            .env("ARM_CLIENT_SECRET", None)
            .expect("Invalid provider configuration", "oidc_token_file_path: conflicts with oidc_token: set only one of them", "oidc_token_file_path = \"/tmp/token\""),
        case("provider http metadata_host not loopback", resource_ok)
            .provider("  metadata_host = \"http://example.com\"")
            .expect("Invalid provider configuration", "metadata_host: http://example.com/ uses plain http; http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost), use https", "metadata_host = \"http://example.com\""),
        case("provider unknown environment", resource_ok)
            .provider("  environment = \"mars\"")
            .env("ARM_METADATA_HOSTNAME", None)
            .expect("Invalid provider configuration", "environment: unknown cloud \"mars\"; possible values are \"public\", \"usgovernment\", \"china\" and \"custom\" (with resource_manager_endpoint and active_directory_authority_host; or use metadata_host for a custom cloud)", "environment = \"mars\""),
        case("provider too many auxiliary tenants", resource_ok)
            .provider(format!("  auxiliary_tenant_ids = [\"{0}\", \"{0}\", \"{0}\", \"{0}\"]", "72f988bf-86f1-41af-91ab-2d7cd011db47"))
            .expect("Invalid provider configuration", "auxiliary_tenant_ids: at most 3 auxiliary tenants are supported, got 4", format!("auxiliary_tenant_ids = [\"{0}\", \"{0}\", \"{0}\", \"{0}\"]", "72f988bf-86f1-41af-91ab-2d7cd011db47")),
        case("provider certificate password without certificate", resource_ok)
            .provider("  client_certificate_password = \"pw\"")
            .expect("Invalid provider configuration", "client_certificate_password: is set but no client_certificate or client_certificate_path is", "client_certificate_password = \"pw\""),
        case("provider http oidc_request_url not loopback", resource_ok)
            .provider("  use_oidc           = true\n  oidc_request_url   = \"http://example.com/token\"\n  oidc_request_token = \"abc\"")
            .env("ARM_CLIENT_SECRET", None)
            .expect("Invalid provider configuration", "oidc_request_url: http://example.com/token uses plain http; http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost), use https", "oidc_request_url   = \"http://example.com/token\""),
        case("provider client_id and client_id_file_path conflict", resource_ok)
            .provider("  client_id_file_path = \"/tmp/client-id\"")
            .expect("Invalid provider configuration", "client_id_file_path: conflicts with client_id: set only one of them", "client_id_file_path = \"/tmp/client-id\""),
        // ---- defender_auto_provisioning
        case("auto_provisioning subscription not a GUID", "resource \"defender_auto_provisioning\" \"x\" {\n  enabled         = false\n  subscription_id = \"not-a-guid\"\n}\n")
            .expect("Invalid subscription ID", "\"not-a-guid\" is not a subscription ID. Expected a GUID such as \"00000000-0000-0000-0000-000000000000\".", "subscription_id = \"not-a-guid\""),
        case("auto_provisioning subscription GUID one digit short", "resource \"defender_auto_provisioning\" \"x\" {\n  enabled         = false\n  subscription_id = \"20ff7fc3-e762-44dd-bd96-b71116dcdc2\"\n}\n")
            .expect("Invalid subscription ID", "\"20ff7fc3-e762-44dd-bd96-b71116dcdc2\" is not a subscription ID. Expected a GUID such as \"00000000-0000-0000-0000-000000000000\".", "subscription_id = \"20ff7fc3-e762-44dd-bd96-b71116dcdc2\""),
        // ---- defender_setting
        case("setting unknown name", "resource \"defender_setting\" \"x\" {\n  name    = \"WDATP_TYPO\"\n  enabled = true\n}\n")
            .expect("Unknown setting name", "\"WDATP_TYPO\" is not a Defender for Cloud setting this provider manages. Allowed values: \"WDATP\", \"WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW\", \"WDATP_UNIFIED_SOLUTION\", \"MCAS\", \"Sentinel\".…", "name    = \"WDATP_TYPO\""),
        case("setting subscription not a GUID", "resource \"defender_setting\" \"x\" {\n  name            = \"MCAS\"\n  enabled         = true\n  subscription_id = \"123\"\n}\n")
            .expect("Invalid subscription ID", "\"123\" is not a subscription ID. Expected a GUID such as \"00000000-0000-0000-0000-000000000000\".", "subscription_id = \"123\""),
        // ---- defender_security_contact
        case("contact malformed email", "resource \"defender_security_contact\" \"x\" {\n  emails = [\"not-an-email\"]\n}\n")
            .expect("Invalid email address", "\"not-an-email\" is not an email address: it has no '@'.", "emails = [\"not-an-email\"]"),
        case("contact two addresses in one", "resource \"defender_security_contact\" \"x\" {\n  emails = [\"a@contoso.com;b@contoso.com\"]\n}\n")
            .expect("Invalid email address", "\"a@contoso.com;b@contoso.com\" is not an email address: it contains ';'; give each address as its own list element.", "emails = [\"a@contoso.com;b@contoso.com\"]"),
        case("contact duplicate email", "resource \"defender_security_contact\" \"x\" {\n  emails = [\"a@contoso.com\", \"A@contoso.com\"]\n}\n")
            .expect("Duplicate email address", "\"A@contoso.com\" is listed more than once (addresses ignore case).", "emails = [\"a@contoso.com\", \"A@contoso.com\"]"),
        case("contact bad phone", "resource \"defender_security_contact\" \"x\" {\n  emails = [\"a@contoso.com\"]\n  phone  = \"call me\"\n}\n")
            .expect("Invalid phone number", "\"call me\" is not a phone number: it contains 'c'. Use digits, spaces and + - ( ) ., e.g. \"+1-214-275-4038\".", "phone  = \"call me\""),
        case("contact unknown role", "resource \"defender_security_contact\" \"x\" {\n  emails       = [\"a@contoso.com\"]\n  notify_roles = [\"Janitor\"]\n}\n")
            .expect("Invalid role", "\"Janitor\" is not a role Defender for Cloud notifies. Allowed values: \"AccountAdmin\", \"ServiceAdmin\", \"Owner\", \"Contributor\".", "notify_roles = [\"Janitor\"]"),
        case("contact unknown severity", "resource \"defender_security_contact\" \"x\" {\n  emails                 = [\"a@contoso.com\"]\n  alert_minimal_severity = \"Critical\"\n}\n")
            .expect("Invalid alert severity", "\"Critical\" is not a alert severity. Allowed values: \"High\", \"Medium\", \"Low\".", "alert_minimal_severity = \"Critical\""),
        case("contact unknown risk level", "resource \"defender_security_contact\" \"x\" {\n  emails                         = [\"a@contoso.com\"]\n  attack_path_minimal_risk_level = \"Extreme\"\n}\n")
            .expect("Invalid attack path risk level", "\"Extreme\" is not a attack path risk level. Allowed values: \"Critical\", \"High\", \"Medium\", \"Low\".", "attack_path_minimal_risk_level = \"Extreme\""),
        case("contact phone with too few digits", "resource \"defender_security_contact\" \"x\" {\n  emails = [\"a@contoso.com\"]\n  phone  = \"+1 2\"\n}\n")
            .expect("Invalid phone number", "\"+1 2\" is not a phone number: it has 2 digits, expected 7 to 15. Use digits, spaces and + - ( ) ., e.g. \"+1-214-275-4038\".", "phone  = \"+1 2\""),
        // ---- defender_server_vulnerability_assessment
        case("vulnerability assessment unknown provider", "resource \"defender_server_vulnerability_assessment\" \"x\" {\n  selected_provider = \"Qualys\"\n}\n")
            .expect("Invalid vulnerability assessment provider", "\"Qualys\" is not a vulnerability assessment provider. Allowed values: \"MdeTvm\".", "selected_provider = \"Qualys\""),
        // ---- defender_workspace_setting
        case("workspace setting workspace_id not an ID", "resource \"defender_workspace_setting\" \"x\" {\n  workspace_id = \"ws1\"\n}\n")
            .expect("Invalid Log Analytics workspace ID", "\"ws1\" is not the ID of a Log Analytics workspace: it does not start with '/'. Expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}, as azurerm_log_analytics_workspace.<name>.id gives it.", "workspace_id = \"ws1\""),
        case("workspace setting workspace_id of another type", format!("resource \"defender_workspace_setting\" \"x\" {{\n  workspace_id = \"{RG}/providers/Microsoft.Storage/storageAccounts/sa1\"\n}}\n"))
            .expect("Invalid Log Analytics workspace ID", "\"/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1\" is not the ID of a Log Analytics workspace: \"providers\" is \"Microsoft.Storage\", …", format!("workspace_id = \"{RG}/providers/Microsoft.Storage/storageAccounts/sa1\"")),
        case("workspace setting scope in another subscription", format!("resource \"defender_workspace_setting\" \"x\" {{\n  workspace_id = \"{ws}\"\n  scope        = \"/subscriptions/00000000-0000-0000-0000-000000000001\"\n}}\n"))
            .expect("Invalid scope", "the scope \"/subscriptions/00000000-0000-0000-0000-000000000001\" is outside subscription \"00000000-0000-4000-8000-000000000029\"; a subscription's workspace setting covers that subscription or one of its resource groups", "scope        = \"/subscriptions/00000000-0000-0000-0000-000000000001\""),
        // ---- defender_plan
        case("plan unknown plan name", "resource \"defender_plan\" \"x\" {\n  name = \"VirtualMachine\"\n  tier = \"Standard\"\n}\n")
            .expect("Unknown plan", "\"VirtualMachine\" is not a Defender plan. Known plans: \"VirtualMachines\", \"StorageAccounts\", \"Containers\", \"CloudPosture\", \"KeyVaults\", \"Arm\", \"Api\", \"AI\", \"AppServices\", \"SqlServers\", \"SqlServerVirtualMachines\", \"OpenSourceRelationalDatabases\", \"CosmosDbs\", \"KubernetesService\", \"ContainerRegistry\" and \"Dns\".", "name = \"VirtualMachine\""),
        case("plan unknown tier", "resource \"defender_plan\" \"x\" {\n  name = \"VirtualMachines\"\n  tier = \"Premium\"\n}\n")
            .expect("Invalid tier", "\"Premium\" is not a tier. Allowed values: \"Free\" and \"Standard\".", "tier = \"Premium\""),
        case("plan unknown sub-plan", "resource \"defender_plan\" \"x\" {\n  name    = \"VirtualMachines\"\n  tier    = \"Standard\"\n  subplan = \"P3\"\n}\n")
            .expect("Sub-plan not allowed for the plan", "\"P3\" is not a sub-plan of VirtualMachines. Allowed values: \"P1\" and \"P2\".", "subplan = \"P3\""),
        case("plan without sub-plans", "resource \"defender_plan\" \"x\" {\n  name    = \"AppServices\"\n  tier    = \"Standard\"\n  subplan = \"P1\"\n}\n")
            .expect("Plan has no sub-plans", "AppServices has no sub-plans; remove subplan.", "subplan = \"P1\""),
        case("plan unknown extension", "resource \"defender_plan\" \"x\" {\n  name       = \"VirtualMachines\"\n  tier       = \"Standard\"\n  subplan    = \"P2\"\n  extensions = { AgentlessScan = { enabled = true } }\n}\n")
            .expect("Unknown extension", "\"AgentlessScan\" is not an extension of VirtualMachines. Allowed for VirtualMachines: \"MdeDesignatedSubscription\", \"AgentlessVmScanning\" and \"FileIntegrityMonitoring\".", "extensions = { AgentlessScan = { enabled = true } }"),
        case("plan scope and subscription_id", format!("resource \"defender_plan\" \"x\" {{\n  name            = \"VirtualMachines\"\n  tier            = \"Standard\"\n  subplan         = \"P1\"\n  scope           = \"{RG}/providers/Microsoft.Compute/virtualMachines/vm1\"\n  subscription_id = \"{SUB}\"\n}}\n"))
            .expect("Conflicting attributes", "subscription_id cannot be set together with scope: a resource-level pricing belongs to the subscription of its machine.", format!("subscription_id = \"{SUB}\"")),
        case("plan per resource not available", format!("resource \"defender_plan\" \"x\" {{\n  name  = \"KeyVaults\"\n  tier  = \"Standard\"\n  scope = \"{RG}/providers/Microsoft.Compute/virtualMachines/vm1\"\n}}\n"))
            .expect("Plan not available per resource", "KeyVaults cannot be set on a resource. Resource-level pricing exists only for \"VirtualMachines\" (Defender for Servers).", "name  = \"KeyVaults\""),
        case("plan scope of a storage account", format!("resource \"defender_plan\" \"x\" {{\n  name  = \"VirtualMachines\"\n  tier  = \"Standard\"\n  scope = \"{RG}/providers/Microsoft.Storage/storageAccounts/sa1\"\n}}\n"))
            .expect("Invalid scope", "\"/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1\" is a Microsoft.Storage/storageAccounts ID. Resource-level pricing is supported on \"Microsoft.Compute/virtualMachines\", \"Microsoft.Compute/virtualMachineScaleSets\" and \"Microsoft.HybridCompute/machines\".", format!("scope = \"{RG}/providers/Microsoft.Storage/storageAccounts/sa1\"")),
        // ---- defender_security_events
        case("security events unknown tier", format!("resource \"defender_security_events\" \"x\" {{\n  workspace_id = \"{ws}\"\n  tier         = \"Most\"\n}}\n"))
            .expect("Invalid tier", "\"Most\" is not a Windows security events tier; use \"None\", \"Minimal\", \"Common\" (the API's \"Recommended\") or \"All\".", "tier         = \"Most\""),
        case("security events workspace_id not a workspace", format!("resource \"defender_security_events\" \"x\" {{\n  workspace_id = \"{RG}\"\n  tier         = \"Minimal\"\n}}\n"))
            .expect("Invalid Log Analytics workspace ID", "\"/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg\" is not the ID of a Log Analytics workspace: the segment \"providers\" is missing. Expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}, as azurerm_log_analytics_workspace.<name>.id gives it.", format!("workspace_id = \"{RG}\"")),
        // ---- defender_workspace_solution
        case("workspace solution unknown solution", format!("resource \"defender_workspace_solution\" \"x\" {{\n  workspace_id = \"{ws}\"\n  solution     = \"SecurityInsights\"\n}}\n"))
            .expect("Invalid solution", "\"SecurityInsights\" is not a Defender for Cloud solution; use \"Security\" or \"SecurityCenterFree\".", "solution     = \"SecurityInsights\""),
        case("workspace solution bad location", format!("resource \"defender_workspace_solution\" \"x\" {{\n  workspace_id = \"{ws}\"\n  solution     = \"Security\"\n  location     = \"West Europe!\"\n}}\n"))
            .expect("Invalid location", "\"West Europe!\" is not an Azure region name: use letters and digits such as \"westeurope\" (or a display name such as \"West Europe\"), or leave it out to use the workspace's region", "location     = \"West Europe!\""),
        // ---- defender_sentinel_connector
        case("sentinel connector bad name", format!("resource \"defender_sentinel_connector\" \"x\" {{\n  workspace_id = \"{ws}\"\n  name         = \"a/b\"\n}}\n"))
            .expect("Invalid connector name", "\"a/b\" cannot name a data connector: it must be 1 to 260 characters without '/', '\\', '?', '#' or '%'. Leave name out to derive a GUID from the workspace and the subscription.", "name         = \"a/b\""),
        case("sentinel connector subscription not a GUID", format!("resource \"defender_sentinel_connector\" \"x\" {{\n  workspace_id    = \"{ws}\"\n  subscription_id = \"sub-1\"\n}}\n"))
            .expect("Invalid subscription ID", "\"sub-1\" is not a subscription ID. Expected a GUID such as \"00000000-0000-0000-0000-000000000000\".", "subscription_id = \"sub-1\""),
        case("sentinel connector workspace not an ID", "resource \"defender_sentinel_connector\" \"x\" {\n  workspace_id = \"my-workspace\"\n}\n")
            .expect("Invalid Log Analytics workspace ID", "\"my-workspace\" is not the ID of a Log Analytics workspace: it does not start with '/'. Expected /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}, as azurerm_log_analytics_workspace.<name>.id gives it.", "workspace_id = \"my-workspace\""),
        // ---- defender_policy_assignment
        case("assignment misspelt parameter", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy     = \"dependency-agent-windows\"\n  scope      = \"{scope}\"\n  location   = \"westeurope\"\n  parameters = {{ efect = \"Disabled\" }}\n}}\n"))
            .expect("Invalid policy parameter", "\"efect\" is not a parameter of dependency-agent-windows. Did you mean \"effect\"? Its parameters: \"listOfImageIdToInclude\", \"effect\". (parameters of policy \"dependency-agent-windows\")", "parameters = { efect = \"Disabled\" }"),
        case("assignment parameter value not allowed", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy     = \"dependency-agent-windows\"\n  scope      = \"{scope}\"\n  location   = \"westeurope\"\n  parameters = {{ effect = \"Audit\" }}\n}}\n"))
            .expect("Invalid policy parameter", "\"Audit\" is not an allowed value of \"effect\"; allowed: \"DeployIfNotExists\", \"Disabled\". (parameters of policy \"dependency-agent-windows\")", "parameters = { effect = \"Audit\" }"),
        case("assignment parameter of the wrong type", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy     = \"dependency-agent-windows\"\n  scope      = \"{scope}\"\n  location   = \"westeurope\"\n  parameters = {{ effect = [\"Disabled\"] }}\n}}\n"))
            .expect("Invalid policy parameter", "\"effect\" must be a String, got a list. (parameters of policy \"dependency-agent-windows\")", "parameters = { effect = [\"Disabled\"] }"),
        case("assignment name too long at a management group", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{mg}\"\n  name     = \"deploy-dependency-agent-w\"\n  location = \"westeurope\"\n}}\n"))
            .expect("Invalid policy assignment name", "\"deploy-dependency-agent-w\": the name is 25 characters long; policy assignment names at management group scope are at most 24 characters (ARM: InvalidPolicyAssignmentName).", "name     = \"deploy-dependency-agent-w\""),
        case("assignment name too long", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{scope}\"\n  name     = \"{}\"\n  location = \"westeurope\"\n}}\n", "n".repeat(65)))
            .expect("Invalid policy assignment name", "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\": the name is 65 characters long; policy assignment names at this scope are at most 64 characters (ARM: InvalidPolicyAssignmentName).", format!("name     = \"{}\"", "n".repeat(65))),
        case("assignment name with a forbidden character", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{scope}\"\n  name     = \"deps:windows\"\n  location = \"westeurope\"\n}}\n"))
            .expect("Invalid policy assignment name", "\"deps:windows\": the name contains ':'; names cannot contain any of < > * % & : \\ ? . + / or control characters.", "name     = \"deps:windows\""),
        case("assignment unknown catalog key", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windos\"\n  scope    = \"{scope}\"\n  location = \"westeurope\"\n}}\n"))
            .expect("Unknown policy", "\"dependency-agent-windos\" is not a catalog key. Did you mean dependency-agent-windows or dependency-agent-windows-ama or dependency-agent-windows-arc? Keys: kubernetes-policy-addon, kubernetes-policy-…", "policy   = \"dependency-agent-windos\""),
        case("assignment scope not a scope", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{SUB}\"\n  location = \"westeurope\"\n}}\n"))
            .expect("Invalid scope", "parsing \"20ff7fc3-e762-44dd-bd96-b71116dcdc23\" as a scope ID: it does not start with '/'; expected /providers/Microsoft.Management/managementGroups/{name}, /subscriptions/{subscriptionId}, /subscriptions/{subscriptionId}/resourceGroups/{name} or a resource ID", format!("scope    = \"{SUB}\"")),
        case("assignment description too long", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy      = \"dependency-agent-windows\"\n  scope       = \"{scope}\"\n  location    = \"westeurope\"\n  description = \"{}\"\n}}\n", "d".repeat(513)))
            .expect("Description too long", "513 characters; at most 512.", format!("description = \"{}\"", "d".repeat(513))),
        case("assignment display name too long", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy       = \"dependency-agent-windows\"\n  scope        = \"{scope}\"\n  location     = \"westeurope\"\n  display_name = \"{}\"\n}}\n", "d".repeat(129)))
            .expect("Display name too long", "129 characters; at most 128.", format!("display_name = \"{}\"", "d".repeat(129))),
        case("assignment unknown enforcement mode", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy           = \"dependency-agent-windows\"\n  scope            = \"{scope}\"\n  location         = \"westeurope\"\n  enforcement_mode = \"Sometimes\"\n}}\n"))
            .expect("Invalid enforcement mode", "\"Sometimes\" is not an enforcement mode. Allowed values: \"Default\", \"DoNotEnforce\", \"Enroll\".", "enforcement_mode = \"Sometimes\""),
        case("assignment malformed definition ID", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy_definition_id = \"/providers/Microsoft.Authorization/policyDefinition/abc\"\n  scope                = \"{scope}\"\n}}\n"))
            .expect("Invalid policy definition ID", "\"/providers/Microsoft.Authorization/policyDefinition/abc\" is not a policy definition or initiative ID. Expected …/providers/Microsoft.Authorization/policyDefinitions/{name} or …/providers/Microsoft.Authorization/policySetDefinitions/{name}.", "policy_definition_id = \"/providers/Microsoft.Authorization/policyDefinition/abc\""),
        case("assignment policy and definition ID", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy               = \"dependency-agent-windows\"\n  policy_definition_id = \"/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04\"\n  scope                = \"{scope}\"\n  location             = \"westeurope\"\n}}\n"))
            .expect("Conflicting attributes", "Set policy (a catalog key) or policy_definition_id (any definition ID), not both.", "policy_definition_id = \"/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04\""),
        case("assignment location global", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{scope}\"\n  location = \"global\"\n}}\n"))
            .expect("Invalid location", "A policy assignment's identity needs a region; \"global\" is not one.", "location = \"global\""),
        case("assignment user identity without IDs", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy   = \"dependency-agent-windows\"\n  scope    = \"{scope}\"\n  location = \"westeurope\"\n  identity = {{ type = \"UserAssigned\" }}\n}}\n"))
            .expect("Missing user-assigned identity", "identity type \"UserAssigned\" needs exactly one user-assigned identity ID in identity_ids (/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}); 0 given.", "identity = { type = \"UserAssigned\" }"),
        case("assignment remediation parallel deployments out of range", format!("resource \"defender_policy_assignment\" \"x\" {{\n  policy      = \"dependency-agent-windows\"\n  scope       = \"{scope}\"\n  location    = \"westeurope\"\n  remediation = {{ parallel_deployments = 31 }}\n}}\n"))
            .expect("Invalid parallel_deployments", "31 is out of range: Azure remediates 1 to 30 resources at once.", "remediation = { parallel_deployments = 31 }"),
        // ---- defender_policy_remediation
        case("remediation assignment ID malformed", "resource \"defender_policy_remediation\" \"x\" {\n  policy_assignment_id = \"deps\"\n}\n")
            .expect("Invalid policy assignment ID", "parsing \"deps\" as a Policy Assignment ID: it does not start with '/'; expected {scope}/providers/Microsoft.Authorization/policyAssignments/{name}", "policy_assignment_id = \"deps\""),
        case("remediation parallel deployments out of range", format!("resource \"defender_policy_remediation\" \"x\" {{\n  policy_assignment_id = \"{pa}\"\n  parallel_deployments = 31\n}}\n"))
            .expect("Invalid parallel_deployments", "31 is out of range: Azure remediates 1 to 30 resources at once.", "parallel_deployments = 31"),
        case("remediation resource count zero", format!("resource \"defender_policy_remediation\" \"x\" {{\n  policy_assignment_id = \"{pa}\"\n  resource_count       = 0\n}}\n"))
            .expect("Invalid resource_count", "0 is out of range: a remediation task takes 1 to 50000 resources.", "resource_count       = 0"),
        case("remediation failure threshold not a fraction", format!("resource \"defender_policy_remediation\" \"x\" {{\n  policy_assignment_id = \"{pa}\"\n  failure_threshold    = 1.5\n}}\n"))
            .expect("Invalid failure_threshold", "1.5 is not a fraction: use 0.0 to 1.0 (0.1 stops the task at 10% failed deployments).", "failure_threshold    = 1.5"),
        case("remediation unknown mode", format!("resource \"defender_policy_remediation\" \"x\" {{\n  policy_assignment_id = \"{pa}\"\n  mode                 = \"Everything\"\n}}\n"))
            .expect("Invalid remediation mode", "\"Everything\" is not a remediation mode. Allowed values: \"ExistingNonCompliant\", \"ReEvaluateCompliance\".", "mode                 = \"Everything\""),
        case("remediation scope outside the assignment", format!("resource \"defender_policy_remediation\" \"x\" {{\n  policy_assignment_id = \"{pa}\"\n  scope                = \"/subscriptions/00000000-0000-0000-0000-000000000001\"\n}}\n"))
            .expect("Scope outside the assignment", "\"/subscriptions/00000000-0000-0000-0000-000000000001\" is not \"/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23\" or below it: a remediation task only reaches what its assignment covers.", "scope                = \"/subscriptions/00000000-0000-0000-0000-000000000001\""),
    ]
}

/// What one case produced.
struct Outcome {
    code: i32,
    /// Error diagnostics: (summary, detail, range start line, snippet code).
    errors: Vec<(String, String, Option<u64>, String)>,
    raw: String,
}

fn subscription_for(i: usize) -> String {
    format!("00000000-0000-4000-8000-{:012}", i + 1)
}

async fn run_case(env: &TfEnv, dir: PathBuf, i: usize, c: &Case) -> Outcome {
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "terraform {{\n  required_providers {{\n    defender = {{ source = \"defenderops/defender\" }}\n  }}\n}}\n\nprovider \"defender\" {{\n{}\n}}\n\n{}",
        c.provider, c.body
    );
    std::fs::write(dir.join("main.tf"), text).unwrap();
    let mut cmd = env.command_in(&dir, &["plan", "-json", "-no-color", "-input=false"]);
    cmd.env("ARM_SUBSCRIPTION_ID", subscription_for(i));
    for (k, v) in &c.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = run(cmd).await;
    let errors = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "diagnostic" && v["diagnostic"]["severity"] == "error")
        .map(|v| {
            let d = &v["diagnostic"];
            (
                d["summary"].as_str().unwrap_or_default().to_owned(),
                d["detail"].as_str().unwrap_or_default().to_owned(),
                d["range"]["start"]["line"].as_u64(),
                d["snippet"]["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Outcome {
        code: out.code,
        errors,
        raw: out.all(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_at_plan_time_on_the_attribute_without_arm_requests() {
    let env = Arc::new(TfEnv::start().await);
    let cases = Arc::new(cases());
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let started = std::time::Instant::now();
    // A few Terraform processes at a time: enough to overlap their start-up on 2 cores.
    let sem = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = Vec::new();
    for i in 0..cases.len() {
        let (env, cases, sem) = (env.clone(), cases.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            let dir = env.path().join(format!("case-{i:02}"));
            run_case(&env, dir, i, &cases[i]).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    eprintln!(
        "{} bad-input cases in {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );

    let discover = std::env::var_os("BAD_INPUT_DISCOVER").is_some();
    let mut failures = Vec::new();
    for (i, (c, o)) in cases.iter().zip(&outcomes).enumerate() {
        let main =
            std::fs::read_to_string(env.path().join(format!("case-{i:02}/main.tf"))).unwrap();
        let lines: Vec<usize> = main
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == c.line)
            .map(|(n, _)| n + 1)
            .collect();
        if discover {
            eprintln!("--- {i} {}: exit {} line {:?}", c.name, o.code, lines);
            for e in &o.errors {
                eprintln!("    {e:?}");
                eprintln!(
                    "DISCOVER {}",
                    serde_json::json!({"i": i, "summary": e.0, "detail": e.1})
                );
            }
            continue;
        }
        let mut why = Vec::new();
        if lines.len() != 1 {
            why.push(format!(
                "the expected line {:?} is in main.tf {} times",
                c.line,
                lines.len()
            ));
        }
        if o.code != 1 {
            why.push(format!("exit code {}", o.code));
        }
        match o.errors.as_slice() {
            [(summary, detail, line, code)] => {
                if summary != c.summary {
                    why.push(format!("summary {summary:?}, want {:?}", c.summary));
                }
                // A detail given with a trailing '…' is a prefix (long lists that grow).
                let detail_ok = match c.detail.strip_suffix('…') {
                    Some(prefix) => detail.starts_with(prefix),
                    None => *detail == c.detail,
                };
                if !detail_ok {
                    why.push(format!("detail {detail:?}, want {:?}", c.detail));
                }
                if line.map(|l| l as usize) != lines.first().copied() {
                    why.push(format!(
                        "points at line {line:?}, want {:?} ({:?})",
                        lines.first(),
                        c.line
                    ));
                }
                if code.trim() != c.line {
                    why.push(format!("snippet {code:?}, want {:?}", c.line));
                }
            }
            other => why.push(format!(
                "{} error diagnostics, want 1: {other:?}",
                other.len()
            )),
        }
        if !why.is_empty() {
            failures.push(format!(
                "case {i} ({}): {}\n{}",
                c.name,
                why.join("; "),
                o.raw
            ));
        }
    }
    // Not one ARM request, for any case (each used its own subscription, so a request's path
    // names its case).
    let arm = env.arm_requests();
    let by_case: Vec<String> = arm
        .iter()
        .map(|r| {
            let case = (0..cases.len())
                .find(|i| r.path.contains(&subscription_for(*i)))
                .map(|i| cases[i].name)
                .unwrap_or("?");
            format!("{case}: {} {}", r.method, r.path)
        })
        .collect();
    assert!(
        by_case.is_empty(),
        "ARM requests for bad input: {by_case:#?}"
    );
    assert!(!discover, "discovery run");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
