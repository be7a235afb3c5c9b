//! `defender_security_events`: the Windows security events tier Defender for Cloud stores in a
//! workspace — Microsoft.OperationalInsights/workspaces/dataSources of kind
//! `SecurityEventCollectionConfiguration` (arm-api.md §11.2, policy-catalog.md §13), named
//! `SecurityEventCollectionConfiguration`, api-version 2020-08-01.
//!
//! The portal's tiers and the API's values differ in one name: Common is `Recommended` in the
//! API. Users write the portal's names; `Recommended` is accepted too; the two read back as
//! whatever was written, so neither spelling makes a diff. The data source's `properties` are
//! untyped in the swagger; `tier` and `tierSetMethod: Custom` come from public templates [3p].
//! The setting drives the legacy Log Analytics (MMA) agent; Azure Monitor Agent collection is
//! configured with data collection rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::arm_error;
use super::security_event_ids::{COMMON, MINIMAL};
use super::workspace_ids::{DataSourceId, WorkspaceId, validate_workspace_id};
use super::workspace_uses::{Use, note_use};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, OpResult, Plan, Resource,
};

/// Log Analytics dataSources api-version (the one policy-catalog.md §13 documents).
pub const API_VERSION: &str = "2020-08-01";
/// The data source's kind and name.
pub const KIND: &str = "SecurityEventCollectionConfiguration";

/// A tier: what the portal calls it, and what the API calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    None,
    Minimal,
    Common,
    All,
}

impl Tier {
    pub const ALLOWED: &'static str =
        "\"None\", \"Minimal\", \"Common\" (the API's \"Recommended\") or \"All\"";

    /// What users may write (case-insensitive); `Recommended` is the API's name of Common.
    pub fn from_config(s: &str) -> Option<Tier> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Tier::None),
            "minimal" => Some(Tier::Minimal),
            "common" | "recommended" => Some(Tier::Common),
            "all" => Some(Tier::All),
            _ => None,
        }
    }

    /// What the API answers (arm-api.md §11.2: None, Minimal, Recommended, All).
    pub fn from_api(s: &str) -> Option<Tier> {
        Self::from_config(s)
    }

    pub fn api_value(self) -> &'static str {
        match self {
            Tier::None => "None",
            Tier::Minimal => "Minimal",
            Tier::Common => "Recommended",
            Tier::All => "All",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::None => "None",
            Tier::Minimal => "Minimal",
            Tier::Common => "Common",
            Tier::All => "All",
        }
    }
}

/// Sets which Windows security events Defender for Cloud stores in a Log Analytics workspace:
/// the "Windows security events" setting of a workspace under Environment settings → Data
/// collection.
///
/// Tiers:
/// - `None`: no security events.
/// - `Minimal`: events that may indicate a breach, and other rare important events.
/// - `Common` (`Recommended` in the API): a full audit trail: sign-in, sign-out, group changes.
/// - `All`: every Windows security and AppLocker event.
///
/// The event IDs of Minimal and Common are listed below and by the
/// `defender_security_event_ids` data source. The setting applies to the Log Analytics agent;
/// the Azure Monitor Agent collects with data collection rules. Collect a workspace's security
/// events with Defender for Cloud or with Microsoft Sentinel, not both: the provider warns at
/// plan time when one configuration does both.
///
/// Destroying this resource deletes the setting from the workspace (no security events are
/// collected through it any more).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_security_events")]
pub struct SecurityEventsModel {
    /// The ARM ID of the workspace's data source:
    /// `{workspace_id}/dataSources/SecurityEventCollectionConfiguration`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The ARM ID of the Log Analytics workspace.
    #[schemars(extend("requires_replace" = true, "case_insensitive" = true))]
    pub workspace_id: String,
    /// `None`, `Minimal`, `Common` or `All` (case-insensitive; the API's `Recommended` is
    /// accepted for `Common`).
    pub tier: String,
}

pub struct SecurityEvents;

fn data_source_id(workspace_id: &str) -> Result<DataSourceId, Diagnostic> {
    let ws = WorkspaceId::parse(workspace_id).map_err(|e| {
        Diagnostic::error("Invalid Log Analytics workspace ID", e.to_string())
            .at(AttrPath::root("workspace_id"))
    })?;
    Ok(DataSourceId::new(ws, KIND))
}

/// The configured spelling when it means what the API says; else the portal's name.
fn tier_from_remote(state_tier: Option<&str>, api: &str) -> String {
    match (Tier::from_api(api), state_tier.and_then(Tier::from_config)) {
        (Some(remote), Some(state)) if remote == state => state_tier.unwrap_or_default().to_owned(),
        (Some(remote), _) => remote.name().to_owned(),
        // A value this provider does not know: show it as it is.
        (None, _) => api.to_owned(),
    }
}

impl SecurityEvents {
    async fn get(&self, ctx: &Ctx, id: &DataSourceId) -> Result<Option<String>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => Ok(Some(
                resp.body
                    .pointer("/properties/tier")
                    .and_then(|v| v.as_str())
                    .unwrap_or("None")
                    .to_owned(),
            )),
            // Also when the workspace itself is gone (ResourceNotFound on the parent).
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    async fn put(
        &self,
        ctx: &Ctx,
        id: &DataSourceId,
        tier: &str,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let tier = Tier::from_config(tier).ok_or_else(|| {
            Diagnostic::error(
                "Invalid tier",
                format!("{tier:?} is not a tier; use {}", Tier::ALLOWED),
            )
            .at(AttrPath::root("tier"))
        })?;
        let arm = ctx.provider()?.arm().await?;
        let body = json!({
            "kind": KIND,
            "properties": { "tier": tier.api_value(), "tierSetMethod": "Custom" }
        });
        arm.put(&id.to_string(), API_VERSION, &body)
            .await
            .map_err(|e| arm_error(operation, id.describe(), &e))?;
        Ok(())
    }
}

impl Resource for SecurityEvents {
    type Model = SecurityEventsModel;
    const TYPE_NAME: &'static str = "defender_security_events";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        if !config.is_unknown("workspace_id") {
            validate_workspace_id("workspace_id", Some(&config.model.workspace_id), diags);
        }
        if !config.is_unknown("tier") && Tier::from_config(&config.model.tier).is_none() {
            diags.error_at(
                AttrPath::root("tier"),
                "Invalid tier",
                format!(
                    "{:?} is not a Windows security events tier; use {}.",
                    config.model.tier,
                    Tier::ALLOWED
                ),
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, diags: &mut Diagnostics) {
        if plan.config_unknown("workspace_id") {
            return;
        }
        if let Ok(id) = data_source_id(&plan.planned.workspace_id) {
            plan.planned.id = Some(id.to_string());
        }
        if !plan.config_unknown("tier")
            && let Some(tier) = Tier::from_config(&plan.planned.tier)
            && tier != Tier::None
        {
            note_use(
                ctx,
                Some(&plan.planned.workspace_id),
                Use::DefenderSecurityEvents {
                    tier: tier.name().to_owned(),
                },
                diags,
            );
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let id = data_source_id(&planned.workspace_id)?;
        self.put(ctx, &id, &planned.tier, "creating").await?;
        Ok(SecurityEventsModel {
            id: Some(id.to_string()),
            ..planned
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let id = data_source_id(&state.workspace_id)?;
        Ok(self.get(ctx, &id).await?.map(|api| SecurityEventsModel {
            id: Some(id.to_string()),
            tier: tier_from_remote(Some(&state.tier), &api),
            ..state
        }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let id = data_source_id(&planned.workspace_id)?;
        if let Err(d) = self.put(ctx, &id, &planned.tier, "updating").await {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(SecurityEventsModel {
            id: Some(id.to_string()),
            ..planned
        })
    }

    /// Destroy deletes the data source: the workspace no longer gets security events through it.
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let id = data_source_id(&state.workspace_id)?;
        let arm = ctx.provider()?.arm().await?;
        arm.delete(&id.to_string(), API_VERSION)
            .await
            .map_err(|e| arm_error("deleting", id.describe(), &e))?;
        Ok(())
    }
}

impl Import for SecurityEvents {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let expected = format!("{{workspace_id}}/dataSources/{KIND}");
        let parsed = DataSourceId::parse(id).map_err(|e| {
            Diagnostic::error("Invalid import ID", format!("{e}. Expected {expected}"))
        })?;
        if !parsed.name.eq_ignore_ascii_case(KIND) {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "the data source is {:?}; the security events tier is the data source \
                     {KIND:?}. Expected {expected}",
                    parsed.name
                ),
            )
            .into());
        }
        let api = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        Ok(SecurityEventsModel {
            id: Some(DataSourceId::new(parsed.workspace.clone(), KIND).to_string()),
            workspace_id: parsed.workspace.to_string(),
            tier: tier_from_remote(None, &api),
        })
    }
}

/// The docs' list of event IDs per tier (the doc comment above cannot hold generated text).
pub fn notes_event_ids() -> String {
    use super::security_event_ids::markdown_list;
    format!(
        "**Minimal** ({} events): {}\n\n**Common** ({} events): {}",
        MINIMAL.len(),
        markdown_list(MINIMAL),
        COMMON.len(),
        markdown_list(COMMON)
    )
}

// ---------------------------------------------------------------------------------------------
// Identity

/// The identity of a `defender_security_events`: `import { to = defender_security_events.x,
/// identity = { workspace_id = "…" } }` (the data source is always
/// `SecurityEventCollectionConfiguration`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_security_events_identity")]
pub struct SecurityEventsIdentity {
    /// The ARM ID of the Log Analytics workspace (its subscription in lower case).
    pub workspace_id: String,
}

impl crate::framework::Identity for SecurityEvents {
    type Identity = SecurityEventsIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SecurityEventsIdentity> {
        Some(SecurityEventsIdentity {
            workspace_id: super::discovery::identity_workspace_id(&state.workspace_id)?,
        })
    }

    fn import_id(
        &self,
        _ctx: &Ctx,
        identity: &SecurityEventsIdentity,
    ) -> Result<String, Diagnostics> {
        let ws = super::discovery::identity_workspace(&identity.workspace_id)?;
        Ok(DataSourceId::new(ws, KIND).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_map_both_ways() {
        assert_eq!(
            Tier::from_config("Common").unwrap().api_value(),
            "Recommended"
        );
        assert_eq!(Tier::from_api("Recommended"), Some(Tier::Common));
        assert_eq!(Tier::from_config("recommended"), Some(Tier::Common));
        for t in [Tier::None, Tier::Minimal, Tier::Common, Tier::All] {
            assert_eq!(Tier::from_api(t.api_value()), Some(t));
            assert_eq!(Tier::from_config(t.name()), Some(t));
        }
        assert_eq!(Tier::from_config("Everything"), None);
    }

    #[test]
    fn read_back_keeps_the_written_spelling() {
        assert_eq!(tier_from_remote(Some("Common"), "Recommended"), "Common");
        assert_eq!(
            tier_from_remote(Some("Recommended"), "Recommended"),
            "Recommended"
        );
        assert_eq!(tier_from_remote(Some("common"), "RECOMMENDED"), "common");
        // Drift shows in the portal's words.
        assert_eq!(tier_from_remote(Some("Common"), "Minimal"), "Minimal");
        assert_eq!(tier_from_remote(None, "Recommended"), "Common");
        assert_eq!(tier_from_remote(Some("All"), "Custom"), "Custom");
    }

    #[test]
    fn the_docs_list_the_event_ids_of_the_data() {
        let n = notes_event_ids();
        assert!(n.contains("**Minimal** (39 events): 1102, 4624"), "{n}");
        assert!(n.contains("**Common** (143 events): 1, 299"), "{n}");
        // The resource's doc page (examples/…/notes.md) carries the same lists.
        let notes = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/resources/defender_security_events/notes.md");
        let text = std::fs::read_to_string(&notes).expect("notes.md");
        assert!(
            text.contains(&n),
            "{} is out of date; its lists must read:\n{n}",
            notes.display()
        );
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use crate::framework::Identity;

    const WS: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg/providers/Microsoft.OperationalInsights/workspaces/Law-1";

    #[test]
    fn identity_is_the_canonical_workspace_and_names_the_data_source() {
        let m: SecurityEventsModel = serde_json::from_value(json!({
            "workspace_id": WS.replace("20ff7fc3", "20FF7FC3").replace("resourceGroups", "resourcegroups"),
            "tier": "Common"
        }))
        .unwrap();
        let identity = SecurityEvents.identity(&m).unwrap();
        assert_eq!(identity.workspace_id, WS);
        let ctx = Ctx::new(None, Default::default());
        assert_eq!(
            SecurityEvents.import_id(&ctx, &identity).unwrap(),
            format!("{WS}/dataSources/SecurityEventCollectionConfiguration")
        );
        let bad = SecurityEventsIdentity {
            workspace_id: "/subscriptions/nope".into(),
        };
        assert!(SecurityEvents.import_id(&ctx, &bad).is_err());
    }
}
