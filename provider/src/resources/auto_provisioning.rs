//! `defender_auto_provisioning`: Microsoft.Security/autoProvisioningSettings/default.
//!
//! The setting behind the portal's legacy "Log Analytics agent" auto-provisioning toggle.
//! A singleton that always exists in every subscription (arm-api.md §1): create adopts it,
//! destroy puts `Off`. The service has retired the Log Analytics (MMA) agent and answers
//! `autoProvision: On` with 400 `Deprecated`; `Off` works. Agents are deployed today by
//! DeployIfNotExists policies (Azure Monitor Agent, Defender for Endpoint).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{arm_error, plan_subscription, subscription, validate_subscription_id};
use super::discovery::SubscriptionIdentity;
use crate::arm::ArmError;
use crate::arm::ids::AutoProvisioningSettingId;
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Only api-version of Microsoft.Security/autoProvisioningSettings (arm-api.md §0).
pub const API_VERSION: &str = "2017-08-01-preview";
/// The only setting name in use (policies 6df2fee6/8e7da0a5 PUT `default`).
const SETTING_NAME: &str = "default";

/// What the service's retirement means for users, and where to go instead.
pub const RETIREMENT: &str = "Log Analytics agent (MMA) auto-provisioning is retired: Azure \
refuses autoProvision \"On\" with 400 Deprecated. Deploy agents with DeployIfNotExists \
policies instead: Defender for Endpoint (defender_policy_assignment with policy = \"mde\", \
initiative e20d08c5-6d64-656d-6465-ce9e37fd0ebc) and the Azure Monitor Agent \
(policy = \"ama-windows\" / \"ama-linux\", definitions ca817e41-e85a-4783-bc7f-dc532d36235e and \
a4034bc6-ae50-406d-bf76-50f4ee5a7811). Keep enabled = false here.";

/// Manages the legacy auto-provisioning setting of the Log Analytics (MMA) agent for a
/// subscription. The setting always exists: creating this resource adopts it and destroying it
/// sets it back to `Off`.
///
/// The Log Analytics agent is retired and Azure refuses to turn this setting on; manage it to
/// keep it off, and deploy agents with `defender_policy_assignment` (Defender for Endpoint,
/// Azure Monitor Agent).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_auto_provisioning")]
pub struct AutoProvisioningModel {
    /// The ARM ID of the setting:
    /// `/subscriptions/{subscription_id}/providers/Microsoft.Security/autoProvisioningSettings/default`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The subscription whose setting this is. Defaults to the provider's subscription.
    #[schemars(extend(
        "optional" = true,
        "computed" = true,
        "requires_replace" = true,
        "case_insensitive" = true
    ))]
    pub subscription_id: Option<String>,
    /// Whether the Log Analytics agent is auto-provisioned (`autoProvision` = `On`). Azure
    /// refuses `true` since the agent's retirement; `false` is the supported value.
    pub enabled: bool,
}

pub struct AutoProvisioning;

fn setting_id(subscription_id: &str) -> AutoProvisioningSettingId {
    AutoProvisioningSettingId {
        subscription_id: subscription_id.to_string(),
        name: SETTING_NAME.to_string(),
    }
}

/// `Auto Provisioning Setting (Subscription "…" / Name "default")` for messages.
fn describe(id: &AutoProvisioningSettingId) -> String {
    format!(
        "Auto Provisioning Setting (Subscription {:?} / Name {:?})",
        id.subscription_id, id.name
    )
}

fn auto_provision_value(enabled: bool) -> &'static str {
    if enabled { "On" } else { "Off" }
}

/// The service's casing is not guaranteed; compare as ARM does.
fn parse_auto_provision(body: &serde_json::Value) -> Option<bool> {
    let v = body.pointer("/properties/autoProvision")?.as_str()?;
    Some(v.eq_ignore_ascii_case("On"))
}

impl AutoProvisioning {
    async fn put(
        &self,
        ctx: &Ctx,
        id: &AutoProvisioningSettingId,
        enabled: bool,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        let body = json!({ "properties": { "autoProvision": auto_provision_value(enabled) } });
        match arm.put(&id.to_string(), API_VERSION, &body).await {
            Ok(_) => Ok(()),
            Err(e) if enabled && is_retired(&e) => Err(Diagnostic::error(
                "Log Analytics agent auto-provisioning is retired",
                format!("{operation} {}: {e}\n\n{RETIREMENT}", describe(id)),
            )
            .at(AttrPath::root("enabled"))),
            Err(e) => Err(arm_error(operation, describe(id), &e)),
        }
    }

    async fn get(
        &self,
        ctx: &Ctx,
        id: &AutoProvisioningSettingId,
    ) -> Result<Option<bool>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => parse_auto_provision(&resp.body).map(Some).ok_or_else(|| {
                Diagnostic::error(
                    "Unexpected response",
                    format!(
                        "reading {}: the response has no properties.autoProvision",
                        describe(id)
                    ),
                )
            }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", describe(id), &e)),
        }
    }
}

fn is_retired(e: &ArmError) -> bool {
    e.code()
        .is_some_and(|c| c.eq_ignore_ascii_case("Deprecated"))
}

impl Resource for AutoProvisioning {
    type Model = AutoProvisioningModel;
    const TYPE_NAME: &'static str = "defender_auto_provisioning";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        validate_subscription_id(config.model.subscription_id.as_deref(), diags);
        if config.model.enabled {
            diags.warning_at(
                AttrPath::root("enabled"),
                "Log Analytics agent auto-provisioning is retired",
                RETIREMENT,
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        plan_subscription(
            ctx,
            plan.config_unknown("subscription_id"),
            &mut plan.planned.subscription_id,
        );
        if let Some(sub) = &plan.planned.subscription_id {
            plan.planned.id = Some(setting_id(sub).to_string());
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        self.put(ctx, &id, planned.enabled, "creating").await?;
        Ok(AutoProvisioningModel {
            id: Some(id.to_string()),
            subscription_id: Some(sub),
            ..planned
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        // The singleton always exists; a 404 means the subscription is gone.
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|enabled| AutoProvisioningModel {
                id: Some(id.to_string()),
                subscription_id: Some(sub),
                enabled,
            }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        if let Err(d) = self.put(ctx, &id, planned.enabled, "updating").await {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(AutoProvisioningModel {
            id: Some(id.to_string()),
            subscription_id: Some(sub),
            ..planned
        })
    }

    /// Destroy sets the singleton back to the service default, `Off`.
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        self.put(ctx, &setting_id(&sub), false, "deleting").await?;
        Ok(())
    }
}

impl Import for AutoProvisioning {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = AutoProvisioningSettingId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{e}. Expected /subscriptions/{{subscription_id}}/providers/Microsoft.Security/\
                     autoProvisioningSettings/default"
                ),
            )
        })?;
        let enabled = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", describe(&parsed)),
            )
        })?;
        Ok(AutoProvisioningModel {
            id: Some(parsed.to_string()),
            subscription_id: Some(parsed.subscription_id.clone()),
            enabled,
        })
    }
}

/// `moved { from = azurerm_security_center_auto_provisioning.x  to = defender_auto_provisioning.x }`:
/// azurerm stores `id` and `auto_provision` ("On"/"Off").
impl MoveState for AutoProvisioning {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_security_center_auto_provisioning" {
            return None;
        }
        Some((|| {
            let id = source
                .state
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let parsed = AutoProvisioningSettingId::parse(id).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {id:?}: {e}"),
                )
            })?;
            let enabled = source
                .state
                .get("auto_provision")
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.eq_ignore_ascii_case("On"));
            Ok(AutoProvisioningModel {
                id: Some(parsed.to_string()),
                subscription_id: Some(parsed.subscription_id.clone()),
                enabled,
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

/// Imports by the subscription (the setting is always `default`).
impl crate::framework::Identity for AutoProvisioning {
    type Identity = SubscriptionIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SubscriptionIdentity> {
        SubscriptionIdentity::of(state.subscription_id.as_deref())
    }

    fn import_id(&self, ctx: &Ctx, identity: &SubscriptionIdentity) -> Result<String, Diagnostics> {
        let sub = identity.subscription(ctx)?;
        Ok(setting_id(&sub).to_string())
    }
}
