//! `defender_sentinel_connector`: the Microsoft Sentinel data connector of kind
//! `AzureSecurityCenter` that streams a subscription's Defender for Cloud alerts into a
//! workspace (Microsoft.SecurityInsights/dataConnectors, an extension resource on the workspace,
//! arm-api.md §12), api-version 2025-09-01 (the newest stable; its GetDataConnectors example
//! still lists the kind).
//!
//! Sentinel must be onboarded on the workspace first
//! (`{workspace}/providers/Microsoft.SecurityInsights/onboardingStates/default`); otherwise the
//! service answers 400 "Workspace '…' is not onboarded to Microsoft Sentinel" [3p, seen in
//! public issues]. Sentinel cannot be installed on the default workspaces Defender for Cloud
//! creates (MicrosoftDocs sentinel/quickstart-onboard.md), so such a workspace gets a warning.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{arm_error, is_guid, subscription, validate_subscription_id};
use super::workspace_ids::{DataConnectorId, WorkspaceId, validate_workspace_id};
use super::workspace_uses::{Use, note_use};
use crate::arm::ArmError;
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Microsoft.SecurityInsights api-version (arm-api.md §0: newest stable).
pub const API_VERSION: &str = "2025-09-01";
pub const KIND: &str = "AzureSecurityCenter";

/// The namespace of the connector names this provider derives (a UUID v5 namespace of its own,
/// so the same workspace and subscription always give the same name).
const NAME_NAMESPACE: uuid::Uuid = uuid::uuid!("5d1f4a3e-8f0b-5c3e-9a57-0c6b2de1f7a4");

/// The connector name for a workspace and subscription: a GUID derived from both
/// (case-insensitively), stable across runs and machines.
pub fn derived_name(workspace: &WorkspaceId, subscription_id: &str) -> String {
    let key = format!(
        "{}|{}",
        workspace.key(),
        subscription_id.to_ascii_lowercase()
    );
    uuid::Uuid::new_v5(&NAME_NAMESPACE, key.as_bytes()).to_string()
}

/// Streams the security alerts of a subscription's Defender for Cloud into a Microsoft Sentinel
/// workspace: the Sentinel data connector "Subscription-based Microsoft Defender for Cloud"
/// (kind `AzureSecurityCenter`), as in the hybrid monitoring architecture where Defender for
/// Cloud protects and Sentinel correlates.
///
/// Microsoft Sentinel must be onboarded on the workspace first (for example with
/// `azurerm_sentinel_log_analytics_workspace_onboarding`). A workspace's Windows security events
/// are collected by Defender for Cloud or by Sentinel, not both: when one configuration has this
/// connector and a `defender_security_events` tier other than `None` on the same workspace, the
/// plan warns.
///
/// The connector's name is a GUID derived from the workspace and the subscription unless
/// `name` is set, so the same pair always gives the same connector. Destroying this resource
/// deletes the connector.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_sentinel_connector")]
pub struct SentinelConnectorModel {
    /// The connector's ARM ID:
    /// `{workspace_id}/providers/Microsoft.SecurityInsights/dataConnectors/{name}`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The connector's name. Defaults to a GUID derived from `workspace_id` and
    /// `subscription_id`.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub name: Option<String>,
    /// The ARM ID of the Sentinel workspace (a Log Analytics workspace with Microsoft Sentinel).
    ///
    #[schemars(extend("requires_replace" = true, "case_insensitive" = true))]
    pub workspace_id: String,
    /// The subscription whose Defender for Cloud alerts stream in. Defaults to the provider's
    /// subscription.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub subscription_id: Option<String>,
    /// Whether alerts stream in (`dataTypes.alerts.state` `Enabled`). Defaults to `true`.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub alerts_enabled: Option<bool>,
}

pub struct SentinelConnector;

/// What GET answered.
#[derive(Debug, Clone, PartialEq)]
struct Remote {
    kind: String,
    subscription_id: Option<String>,
    alerts_enabled: bool,
}

fn parse_remote(body: &serde_json::Value) -> Remote {
    let s = |p: &str| body.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    Remote {
        kind: s("/kind").unwrap_or_default(),
        subscription_id: s("/properties/subscriptionId"),
        alerts_enabled: s("/properties/dataTypes/alerts/state")
            .is_some_and(|v| v.eq_ignore_ascii_case("Enabled")),
    }
}

fn state_value(enabled: bool) -> &'static str {
    if enabled { "Enabled" } else { "Disabled" }
}

fn parse_workspace(workspace_id: &str) -> Result<WorkspaceId, Diagnostic> {
    WorkspaceId::parse(workspace_id).map_err(|e| {
        Diagnostic::error("Invalid Log Analytics workspace ID", e.to_string())
            .at(AttrPath::root("workspace_id"))
    })
}

/// A failed write, with what to do when Sentinel is not on the workspace.
fn write_error(operation: &str, id: &DataConnectorId, e: &ArmError) -> Diagnostic {
    let mut d = arm_error(operation, id.describe(), e);
    if e.message()
        .is_some_and(|m| m.to_ascii_lowercase().contains("not onboarded"))
    {
        d.detail.push_str(&format!(
            "\n\nOnboard Microsoft Sentinel on workspace {:?} first (the portal's \"Add \
             Microsoft Sentinel\", or azurerm_sentinel_log_analytics_workspace_onboarding), then \
             apply again.",
            id.workspace.name
        ));
        d = d.at(AttrPath::root("workspace_id"));
    }
    d
}

impl SentinelConnector {
    fn id_of(
        &self,
        ctx: &Ctx,
        m: &SentinelConnectorModel,
    ) -> Result<(DataConnectorId, String), Diagnostic> {
        let ws = parse_workspace(&m.workspace_id)?;
        let sub = subscription(ctx, m.subscription_id.as_deref())?;
        let name = m.name.clone().unwrap_or_else(|| derived_name(&ws, &sub));
        Ok((DataConnectorId::new(ws, name), sub))
    }

    async fn get(&self, ctx: &Ctx, id: &DataConnectorId) -> Result<Option<Remote>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => {
                let remote = parse_remote(&resp.body);
                if !remote.kind.eq_ignore_ascii_case(KIND) {
                    return Err(Diagnostic::error(
                        "Not a Defender for Cloud connector",
                        format!(
                            "{} is a {:?} data connector, not {KIND:?}",
                            id.describe(),
                            remote.kind
                        ),
                    ));
                }
                Ok(Some(remote))
            }
            // Also when the workspace is gone.
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    async fn put(
        &self,
        ctx: &Ctx,
        id: &DataConnectorId,
        subscription_id: &str,
        alerts_enabled: bool,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        let body = json!({
            "kind": KIND,
            "properties": {
                "subscriptionId": subscription_id,
                "dataTypes": { "alerts": { "state": state_value(alerts_enabled) } }
            }
        });
        arm.put(&id.to_string(), API_VERSION, &body)
            .await
            .map_err(|e| write_error(operation, id, &e))?;
        Ok(())
    }
}

impl Resource for SentinelConnector {
    type Model = SentinelConnectorModel;
    const TYPE_NAME: &'static str = "defender_sentinel_connector";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        let m = &config.model;
        validate_subscription_id(m.subscription_id.as_deref(), diags);
        if let Some(name) = &m.name
            && (name.trim().is_empty()
                || name.len() > 260
                || name.contains(['/', '\\', '?', '#', '%']))
        {
            diags.error_at(
                AttrPath::root("name"),
                "Invalid connector name",
                format!(
                    "{name:?} cannot name a data connector: it must be 1 to 260 characters \
                     without '/', '\\', '?', '#' or '%'. Leave name out to derive a GUID from \
                     the workspace and the subscription."
                ),
            );
        }
        if config.is_unknown("workspace_id") {
            return;
        }
        validate_workspace_id("workspace_id", Some(&m.workspace_id), diags);
        if let Ok(ws) = WorkspaceId::parse(&m.workspace_id)
            && ws
                .name
                .to_ascii_lowercase()
                .starts_with("defaultworkspace-")
        {
            diags.warning_at(
                AttrPath::root("workspace_id"),
                "A Defender for Cloud default workspace",
                format!(
                    "{:?} looks like a workspace Defender for Cloud created for itself. \
                     Microsoft Sentinel cannot be installed on those; stream the alerts into a \
                     workspace of your own.",
                    ws.name
                ),
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, diags: &mut Diagnostics) {
        if plan.config.subscription_id.is_none() && !plan.config_unknown("subscription_id") {
            plan.planned.subscription_id = ctx
                .provider_opt()
                .and_then(|p| p.default_subscription())
                .map(str::to_string);
        }
        // Defaults come from the configuration, not the proposed state: Terraform proposes the
        // prior value for an unset optional+computed attribute, which would hide drift.
        if plan.config.alerts_enabled.is_none() && !plan.config_unknown("alerts_enabled") {
            plan.planned.alerts_enabled = Some(true);
        }
        if plan.config_unknown("workspace_id") {
            return;
        }
        let Ok(ws) = WorkspaceId::parse(&plan.planned.workspace_id) else {
            return;
        };
        if plan.config.name.is_none()
            && !plan.config_unknown("name")
            && let Some(sub) = &plan.planned.subscription_id
        {
            plan.planned.name = Some(derived_name(&ws, sub));
        }
        if let Some(name) = &plan.planned.name {
            plan.planned.id = Some(DataConnectorId::new(ws, name.clone()).to_string());
        }
        note_use(
            ctx,
            Some(&plan.planned.workspace_id),
            Use::SentinelConnector,
            diags,
        );
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let (id, sub) = self.id_of(ctx, &planned)?;
        let enabled = planned.alerts_enabled.unwrap_or(true);
        self.put(ctx, &id, &sub, enabled, "creating").await?;
        Ok(SentinelConnectorModel {
            id: Some(id.to_string()),
            name: Some(id.name.clone()),
            subscription_id: Some(sub),
            alerts_enabled: Some(enabled),
            ..planned
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let (id, sub) = self.id_of(ctx, &state)?;
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|remote| SentinelConnectorModel {
                id: Some(id.to_string()),
                name: Some(id.name.clone()),
                subscription_id: Some(match remote.subscription_id {
                    Some(r) if !r.eq_ignore_ascii_case(&sub) => r,
                    _ => sub,
                }),
                alerts_enabled: Some(remote.alerts_enabled),
                ..state
            }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let (id, sub) = self.id_of(ctx, &planned)?;
        let enabled = planned.alerts_enabled.unwrap_or(true);
        if let Err(d) = self.put(ctx, &id, &sub, enabled, "updating").await {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(SentinelConnectorModel {
            id: Some(id.to_string()),
            name: Some(id.name.clone()),
            subscription_id: Some(sub),
            alerts_enabled: Some(enabled),
            ..planned
        })
    }

    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let (id, _) = self.id_of(ctx, &state)?;
        let arm = ctx.provider()?.arm().await?;
        arm.delete(&id.to_string(), API_VERSION)
            .await
            .map_err(|e| arm_error("deleting", id.describe(), &e))?;
        Ok(())
    }
}

impl Import for SentinelConnector {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = DataConnectorId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{e}. Expected {}", DataConnectorId::FORMAT),
            )
        })?;
        let remote = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        let sub = match remote.subscription_id {
            Some(s) => s,
            None => subscription(ctx, None)?,
        };
        Ok(SentinelConnectorModel {
            id: Some(parsed.to_string()),
            name: Some(parsed.name.clone()),
            workspace_id: parsed.workspace.to_string(),
            subscription_id: Some(sub),
            alerts_enabled: Some(remote.alerts_enabled),
        })
    }
}

/// `moved { from = azurerm_sentinel_data_connector_azure_security_center.x
/// to = defender_sentinel_connector.x }`: azurerm
/// (sentinel_data_connector_azure_security_center_resource.go, schema version 0) stores `id`
/// (`{workspace}/providers/Microsoft.SecurityInsights/dataConnectors/{name}`), `name`,
/// `log_analytics_workspace_id` (written from the ID) and `subscription_id` (optional, computed:
/// azurerm defaults it to the workspace's subscription). The map:
/// - `name` and `log_analytics_workspace_id` → `name` and `workspace_id`, both derived from the
///   ID (azurerm reads them from it);
/// - `subscription_id` → `subscription_id`, the workspace's subscription when empty, as azurerm
///   wrote it;
/// - `alerts_enabled` is left for the read that follows the move (azurerm always wrote
///   `Enabled` and never read it back).
impl MoveState for SentinelConnector {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_sentinel_data_connector_azure_security_center" {
            return None;
        }
        Some((|| {
            let get = |k: &str| source.text(k);
            let raw_id = get("id").unwrap_or_default();
            let id = DataConnectorId::parse(raw_id).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {raw_id:?}: {e}"),
                )
            })?;
            let sub = get("subscription_id")
                .unwrap_or(&id.workspace.subscription_id)
                .to_owned();
            if !is_guid(&sub) {
                return Err(Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's subscription_id {sub:?} is not a GUID"),
                )
                .into());
            }
            Ok(SentinelConnectorModel {
                id: Some(id.to_string()),
                name: Some(id.name.clone()),
                workspace_id: id.workspace.to_string(),
                subscription_id: Some(sub),
                alerts_enabled: None,
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

/// The identity of a `defender_sentinel_connector`: `import { to = …, identity = {
/// workspace_id = "…", name = "…" } }`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_sentinel_connector_identity")]
pub struct SentinelConnectorIdentity {
    /// The ARM ID of the Sentinel workspace (its subscription in lower case).
    pub workspace_id: String,
    /// The connector's name (with a derived name, the GUID in `name` of the state).
    pub name: String,
}

impl crate::framework::Identity for SentinelConnector {
    type Identity = SentinelConnectorIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SentinelConnectorIdentity> {
        Some(SentinelConnectorIdentity {
            workspace_id: super::discovery::identity_workspace_id(&state.workspace_id)?,
            name: state.name.clone()?,
        })
    }

    fn import_id(
        &self,
        _ctx: &Ctx,
        identity: &SentinelConnectorIdentity,
    ) -> Result<String, Diagnostics> {
        let ws = super::discovery::identity_workspace(&identity.workspace_id)?;
        super::discovery::identity_name(&identity.name, "a data connector")?;
        Ok(DataConnectorId::new(ws, identity.name.clone()).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0";

    #[test]
    fn derived_names_are_stable_guids_ignoring_case() {
        let ws = WorkspaceId::new(SUB, "myRg", "myWorkspace");
        let a = derived_name(&ws, SUB);
        assert!(super::super::common::is_guid(&a), "{a}");
        assert_eq!(
            a,
            derived_name(
                &WorkspaceId::new(SUB, "MYRG", "myworkspace"),
                &SUB.to_uppercase()
            )
        );
        assert_ne!(a, derived_name(&ws, "00000000-0000-0000-0000-000000000001"));
        assert_ne!(
            a,
            derived_name(&WorkspaceId::new(SUB, "myRg", "other"), SUB)
        );
    }

    #[test]
    fn parses_the_published_example() {
        // GetDataConnectors.json (2025-09-01), its AzureSecurityCenter item.
        let r = parse_remote(&json!({
            "id": "/subscriptions/d0cfe6b2-9ac0-4464-9919-dccaee2e48c0/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace/providers/Microsoft.SecurityInsights/dataConnectors/763f9fa1-c2d3-4fa2-93e9-bccd4899aa12",
            "name": "763f9fa1-c2d3-4fa2-93e9-bccd4899aa12",
            "type": "Microsoft.SecurityInsights/dataConnectors",
            "kind": "AzureSecurityCenter",
            "etag": "\"0300bf09-0000-0000-0000-5c37296e0000\"",
            "properties": {"subscriptionId": SUB, "dataTypes": {"alerts": {"state": "Enabled"}}}
        }));
        assert_eq!(
            r,
            Remote {
                kind: KIND.into(),
                subscription_id: Some(SUB.into()),
                alerts_enabled: true
            }
        );
        assert!(
            !parse_remote(&json!({"properties": {"dataTypes": {"alerts": {"state": "disabled"}}}}))
                .alerts_enabled
        );
    }

    #[test]
    fn moves_azurerm_state() {
        let ws = format!(
            "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace"
        );
        let other_sub = "00000000-0000-0000-0000-000000000001";
        let src = MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_sentinel_data_connector_azure_security_center".into(),
            schema_version: 0,
            state: json!({
                "id": format!("{ws}/providers/Microsoft.SecurityInsights/dataConnectors/asc"),
                "name": "asc",
                "log_analytics_workspace_id": ws,
                "subscription_id": other_sub,
                "timeouts": null
            }),
        };
        let m = SentinelConnector.move_state(&src).unwrap().unwrap();
        assert_eq!(
            m,
            SentinelConnectorModel {
                id: Some(format!(
                    "{ws}/providers/Microsoft.SecurityInsights/dataConnectors/asc"
                )),
                name: Some("asc".into()),
                workspace_id: ws.clone(),
                subscription_id: Some(other_sub.into()),
                alerts_enabled: None,
            }
        );
        // No subscription_id: the workspace's, as azurerm defaulted it.
        let mut unset = src.clone();
        unset.state["subscription_id"] = json!("");
        let m = SentinelConnector.move_state(&unset).unwrap().unwrap();
        assert_eq!(m.subscription_id.as_deref(), Some(SUB));

        let other = MoveSource {
            type_name:
                "azurerm_sentinel_data_connector_microsoft_defender_advanced_threat_protection"
                    .into(),
            ..src.clone()
        };
        assert!(SentinelConnector.move_state(&other).is_none());
        let mut bad = src.clone();
        bad.state["id"] = json!(ws);
        let e = SentinelConnector.move_state(&bad).unwrap().unwrap_err();
        assert_eq!(e.0[0].summary, "Cannot move state");
        let mut bad_sub = src;
        bad_sub.state["subscription_id"] = json!("not-a-guid");
        assert!(SentinelConnector.move_state(&bad_sub).unwrap().is_err());
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use crate::framework::Identity;

    const WS: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg/providers/Microsoft.OperationalInsights/workspaces/Law-1";

    #[test]
    fn identity_is_the_canonical_workspace_and_the_name() {
        let m: SentinelConnectorModel = serde_json::from_value(json!({
            "workspace_id": WS.replace("20ff7fc3", "20FF7FC3"),
            "name": "c1"
        }))
        .unwrap();
        let identity = SentinelConnector.identity(&m).unwrap();
        assert_eq!(identity.workspace_id, WS);
        assert_eq!(identity.name, "c1");
        let ctx = Ctx::new(None, Default::default());
        assert_eq!(
            SentinelConnector.import_id(&ctx, &identity).unwrap(),
            format!("{WS}/providers/Microsoft.SecurityInsights/dataConnectors/c1")
        );
        // The derived name is known only once the plan has it.
        let unnamed: SentinelConnectorModel =
            serde_json::from_value(json!({ "workspace_id": WS })).unwrap();
        assert!(SentinelConnector.identity(&unnamed).is_none());
    }
}
