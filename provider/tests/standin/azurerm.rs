//! A stand-in for `hashicorp/azurerm` in the `moved {}` acceptance test.
//!
//! Terraform insists that the source provider of a cross-provider move is installed (it reads
//! the source state with it), and the real azurerm cannot be downloaded on a machine without
//! the public registry. This stand-in serves, over the same plugin channel as our provider,
//! only the schemas of the azurerm types our resources take over, as azurerm 4.x declares them
//! (their `timeouts` blocks left out): `azurerm_security_center_auto_provisioning`,
//! `azurerm_security_center_setting`, `azurerm_security_center_contact`,
//! `azurerm_security_center_subscription_pricing` and
//! `azurerm_security_center_server_vulnerability_assessments_setting`, the subscription,
//! management group and resource group policy assignments, `azurerm_log_analytics_solution` and
//! `azurerm_sentinel_data_connector_azure_security_center`. It never talks to ARM: reads return
//! the state unchanged and writes are refused.

use std::sync::Arc;

use defender::framework::{
    Ctx, Diagnostic, OpResult, ProviderDef, ProviderEntry, Registry, Resource, ResourceEntry,
};
use defender::protocol::handshake::{self, PluginEnv};
use defender::protocol::server::ProviderService;
use defender::provider::ProviderData;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Stand-in for azurerm's provider block (no attributes needed).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
struct Empty {}

struct StandinProvider;

impl ProviderDef for StandinProvider {
    type Model = Empty;
    async fn configure(
        &self,
        _config: Empty,
        _terraform_version: &str,
        _cancel: tokio_util::sync::CancellationToken,
    ) -> Result<ProviderData, defender::framework::Diagnostics> {
        Ok(ProviderData::offline())
    }
}

/// azurerm_security_center_auto_provisioning (schema version 0).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct AutoProvisioning {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// "On" or "Off".
    auto_provision: String,
}

struct AutoProvisioningResource;

fn refuse<T>() -> OpResult<T, AutoProvisioning> {
    refused()
}

impl Resource for AutoProvisioningResource {
    type Model = AutoProvisioning;
    const TYPE_NAME: &'static str = "azurerm_security_center_auto_provisioning";
    async fn create(
        &self,
        _: &Ctx,
        _: AutoProvisioning,
    ) -> OpResult<AutoProvisioning, AutoProvisioning> {
        refuse()
    }
    async fn read(
        &self,
        _: &Ctx,
        state: AutoProvisioning,
    ) -> OpResult<Option<AutoProvisioning>, AutoProvisioning> {
        Ok(Some(state))
    }
    async fn update(
        &self,
        _: &Ctx,
        _: AutoProvisioning,
        _: AutoProvisioning,
    ) -> OpResult<AutoProvisioning, AutoProvisioning> {
        refuse()
    }
    async fn delete(&self, _: &Ctx, _: AutoProvisioning) -> OpResult<(), AutoProvisioning> {
        refuse()
    }
}

/// azurerm_security_center_workspace (schema version 0): `id` computed, `scope` and
/// `workspace_id` required (security_center_workspace_resource.go; `timeouts` left out).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SecurityCenterWorkspace {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// The scope of VMs to send their security data to the workspace.
    scope: String,
    /// The ID of the Log Analytics workspace.
    workspace_id: String,
}

struct SecurityCenterWorkspaceResource;

impl Resource for SecurityCenterWorkspaceResource {
    type Model = SecurityCenterWorkspace;
    const TYPE_NAME: &'static str = "azurerm_security_center_workspace";
    async fn create(
        &self,
        _: &Ctx,
        _: SecurityCenterWorkspace,
    ) -> OpResult<SecurityCenterWorkspace, SecurityCenterWorkspace> {
        refused()
    }
    async fn read(
        &self,
        _: &Ctx,
        state: SecurityCenterWorkspace,
    ) -> OpResult<Option<SecurityCenterWorkspace>, SecurityCenterWorkspace> {
        Ok(Some(state))
    }
    async fn update(
        &self,
        _: &Ctx,
        _: SecurityCenterWorkspace,
        _: SecurityCenterWorkspace,
    ) -> OpResult<SecurityCenterWorkspace, SecurityCenterWorkspace> {
        refused()
    }
    async fn delete(
        &self,
        _: &Ctx,
        _: SecurityCenterWorkspace,
    ) -> OpResult<(), SecurityCenterWorkspace> {
        refused()
    }
}

fn refused<T, M>() -> OpResult<T, M> {
    Err(Diagnostic::error("stand-in", "the azurerm stand-in does not manage resources").into())
}

/// A read-only stand-in resource for a model: reads return the state, writes are refused.
macro_rules! standin_resource {
    ($resource:ident, $model:ty, $type_name:literal, $version:literal) => {
        struct $resource;

        impl Resource for $resource {
            type Model = $model;
            const TYPE_NAME: &'static str = $type_name;
            const SCHEMA_VERSION: i64 = $version;
            async fn create(&self, _: &Ctx, _: $model) -> OpResult<$model, $model> {
                refused()
            }
            async fn read(&self, _: &Ctx, state: $model) -> OpResult<Option<$model>, $model> {
                Ok(Some(state))
            }
            async fn update(&self, _: &Ctx, _: $model, _: $model) -> OpResult<$model, $model> {
                refused()
            }
            async fn delete(&self, _: &Ctx, _: $model) -> OpResult<(), $model> {
                refused()
            }
        }
    };
}

/// azurerm_security_center_setting (schema version 1; its `timeouts` block left out).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SecurityCenterSetting {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// MCAS, WDATP, WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW, WDATP_UNIFIED_SOLUTION or Sentinel.
    #[schemars(extend("requires_replace" = true))]
    setting_name: String,
    /// Whether the setting is on.
    enabled: bool,
}
standin_resource!(
    SecurityCenterSettingResource,
    SecurityCenterSetting,
    "azurerm_security_center_setting",
    1
);

/// azurerm_security_center_contact (schema version 0, api-version 2017-08-01-preview).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SecurityCenterContact {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// The contact's name.
    #[schemars(extend("requires_replace" = true))]
    name: String,
    /// The email address.
    email: String,
    /// The phone number.
    phone: Option<String>,
    /// Whether alerts are emailed.
    alert_notifications: bool,
    /// Whether alerts go to the subscription's admins.
    alerts_to_admins: bool,
}
standin_resource!(
    SecurityCenterContactResource,
    SecurityCenterContact,
    "azurerm_security_center_contact",
    0
);

/// azurerm_security_center_server_vulnerability_assessments_setting (schema version 0).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct ServerVulnerabilityAssessmentsSetting {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// "MdeTvm".
    vulnerability_assessment_provider: String,
}
standin_resource!(
    ServerVulnerabilityAssessmentsSettingResource,
    ServerVulnerabilityAssessmentsSetting,
    "azurerm_security_center_server_vulnerability_assessments_setting",
    0
);

/// azurerm_security_center_subscription_pricing (schema version 1; its `timeouts` block left
/// out). azurerm declares `extension` as a set of blocks; a set of nested attributes has the
/// same value type, which is all a moved state needs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SubscriptionPricing {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// "Free" or "Standard".
    tier: String,
    /// The plan; azurerm defaults it to "VirtualMachines".
    resource_type: Option<String>,
    /// The sub-plan.
    #[schemars(extend("requires_replace" = true))]
    subplan: Option<String>,
    /// The enabled extensions.
    extension: Option<std::collections::BTreeSet<SubscriptionPricingExtension>>,
}

/// One `extension` block.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
struct SubscriptionPricingExtension {
    /// The extension's name.
    name: String,
    /// Its `additionalExtensionProperties`.
    additional_extension_properties: Option<std::collections::BTreeMap<String, String>>,
}
standin_resource!(
    SubscriptionPricingResource,
    SubscriptionPricing,
    "azurerm_security_center_subscription_pricing",
    1
);

/// An `identity` block of the azurerm policy assignment resources
/// (`commonschema.SystemOrUserAssignedIdentityOptional`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct PolicyAssignmentIdentity {
    /// "SystemAssigned" or "UserAssigned".
    r#type: String,
    /// User-assigned identity IDs.
    identity_ids: Option<std::collections::BTreeSet<String>>,
    /// The principal ID.
    #[schemars(extend("computed" = true))]
    principal_id: Option<String>,
    /// The tenant ID.
    #[schemars(extend("computed" = true))]
    tenant_id: Option<String>,
}

/// A `non_compliance_message` block.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct PolicyAssignmentMessage {
    /// The message.
    content: String,
    /// The initiative member.
    policy_definition_reference_id: Option<String>,
}

/// A `selectors` block of `overrides` and `resource_selectors`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct PolicyAssignmentSelector {
    /// Values selected.
    r#in: Option<Vec<String>>,
    /// The selector kind.
    kind: Option<String>,
    /// Values excluded.
    not_in: Option<Vec<String>>,
}

/// An `overrides` block.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct PolicyAssignmentOverride {
    /// The effect.
    value: String,
    /// Which members.
    selectors: Option<Vec<PolicyAssignmentSelector>>,
}

/// A `resource_selectors` block.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct PolicyAssignmentResourceSelector {
    /// The selector's name.
    name: Option<String>,
    /// Its selectors.
    selectors: Vec<PolicyAssignmentSelector>,
}

/// azurerm_{subscription,management_group,resource_group}_policy_assignment (schema version 0;
/// `assignment_resource_base.go` + the scope attribute; `timeouts` left out). Blocks are
/// nested attribute lists here: the same value type, which is all a moved state needs.
macro_rules! policy_assignment_standin {
    ($model:ident, $resource:ident, $type_name:literal, $scope:ident) => {
        /// A policy assignment at one kind of scope.
        #[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
        struct $model {
            /// The ID.
            #[schemars(extend("computed" = true))]
            id: Option<String>,
            /// The assignment's name.
            #[schemars(extend("requires_replace" = true))]
            name: String,
            /// The scope's ID.
            #[schemars(extend("requires_replace" = true))]
            $scope: String,
            /// The definition or initiative.
            #[schemars(extend("requires_replace" = true))]
            policy_definition_id: String,
            /// A description.
            description: Option<String>,
            /// A display name.
            display_name: Option<String>,
            /// The identity's region.
            location: Option<String>,
            /// The identity.
            identity: Option<Vec<PolicyAssignmentIdentity>>,
            /// Enforced (enforcementMode Default) or not (DoNotEnforce).
            enforce: Option<bool>,
            /// Metadata JSON.
            #[schemars(extend("optional" = true, "computed" = true))]
            metadata: Option<String>,
            /// Excluded scopes.
            not_scopes: Option<Vec<String>>,
            /// Non-compliance messages.
            non_compliance_message: Option<Vec<PolicyAssignmentMessage>>,
            /// Parameters JSON (`{name: {value}}`).
            parameters: Option<String>,
            /// Effect overrides.
            overrides: Option<Vec<PolicyAssignmentOverride>>,
            /// Resource selectors.
            resource_selectors: Option<Vec<PolicyAssignmentResourceSelector>>,
        }
        standin_resource!($resource, $model, $type_name, 0);
    };
}

policy_assignment_standin!(
    SubscriptionPolicyAssignment,
    SubscriptionPolicyAssignmentResource,
    "azurerm_subscription_policy_assignment",
    subscription_id
);
policy_assignment_standin!(
    ManagementGroupPolicyAssignment,
    ManagementGroupPolicyAssignmentResource,
    "azurerm_management_group_policy_assignment",
    management_group_id
);
policy_assignment_standin!(
    ResourceGroupPolicyAssignment,
    ResourceGroupPolicyAssignmentResource,
    "azurerm_resource_group_policy_assignment",
    resource_group_id
);

/// The `plan` block of azurerm_log_analytics_solution.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct LogAnalyticsSolutionPlan {
    /// `{solution_name}({workspace_name})`.
    #[schemars(extend("computed" = true))]
    name: Option<String>,
    /// The publisher, "Microsoft" for the gallery solutions.
    #[schemars(extend("requires_replace" = true))]
    publisher: String,
    /// A promotion code.
    #[schemars(extend("requires_replace" = true))]
    promotion_code: Option<String>,
    /// The product, "OMSGallery/{solution}".
    #[schemars(extend("requires_replace" = true))]
    product: String,
}

/// azurerm_log_analytics_solution (schema version 1, log_analytics_solution_resource.go; its
/// `timeouts` block left out). `plan` is a block list of at most one; a list of nested
/// attributes has the same value type, which is all a moved state needs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct LogAnalyticsSolution {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// The solution, e.g. "Security" or "SecurityInsights".
    #[schemars(extend("requires_replace" = true))]
    solution_name: String,
    /// The workspace's name.
    #[schemars(extend("requires_replace" = true))]
    workspace_name: String,
    /// The workspace's ID.
    #[schemars(extend("requires_replace" = true))]
    workspace_resource_id: String,
    /// The region.
    #[schemars(extend("requires_replace" = true))]
    location: String,
    /// The solution's (and the workspace's) resource group.
    #[schemars(extend("requires_replace" = true))]
    resource_group_name: String,
    /// The plan.
    plan: Vec<LogAnalyticsSolutionPlan>,
    /// Tags.
    tags: Option<std::collections::BTreeMap<String, String>>,
}
standin_resource!(
    LogAnalyticsSolutionResource,
    LogAnalyticsSolution,
    "azurerm_log_analytics_solution",
    1
);

/// azurerm_sentinel_data_connector_azure_security_center (schema version 0,
/// sentinel_data_connector_azure_security_center_resource.go; its `timeouts` block left out).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SentinelAscConnector {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// The connector's name.
    #[schemars(extend("requires_replace" = true))]
    name: String,
    /// The Sentinel workspace's ID.
    #[schemars(extend("requires_replace" = true))]
    log_analytics_workspace_id: String,
    /// The subscription whose alerts stream in; azurerm defaults it to the workspace's.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    subscription_id: Option<String>,
}
standin_resource!(
    SentinelAscConnectorResource,
    SentinelAscConnector,
    "azurerm_sentinel_data_connector_azure_security_center",
    0
);

fn main() -> std::process::ExitCode {
    let env = match PluginEnv::from_lookup(|k| std::env::var(k).ok()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let registry = Registry::new(ProviderEntry::new(StandinProvider))
        .resource(ResourceEntry::new(AutoProvisioningResource))
        .resource(ResourceEntry::new(SubscriptionPolicyAssignmentResource))
        .resource(ResourceEntry::new(ManagementGroupPolicyAssignmentResource))
        .resource(ResourceEntry::new(ResourceGroupPolicyAssignmentResource))
        .resource(ResourceEntry::new(SubscriptionPricingResource))
        .resource(ResourceEntry::new(SecurityCenterWorkspaceResource))
        .resource(ResourceEntry::new(SecurityCenterSettingResource))
        .resource(ResourceEntry::new(SecurityCenterContactResource))
        .resource(ResourceEntry::new(
            ServerVulnerabilityAssessmentsSettingResource,
        ))
        .resource(ResourceEntry::new(LogAnalyticsSolutionResource))
        .resource(ResourceEntry::new(SentinelAscConnectorResource));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let r = rt.block_on(handshake::serve(
        ProviderService::new(Arc::new(registry)),
        env,
    ));
    rt.shutdown_background();
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
