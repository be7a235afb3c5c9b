//! `defender_workspace_setting`: Microsoft.Security/workspaceSettings/default
//! (api-version 2017-08-01-preview, arm-api.md §0, §3).
//!
//! Where Defender for Cloud sends the data its agents collect: a custom Log Analytics workspace
//! instead of the default workspaces it creates per region. One setting per subscription, named
//! `default` (the service refuses other names: "Invalid workspace settings name 'kttest' , only
//! default is allowed", quoted in azurerm's security_center_workspace_resource.go).
//!
//! Quirk: right after a PUT the service may answer GET with an empty `workspaceId` (or, in
//! practice, 404 or the previous value) until the setting propagates (azurerm: "api returns \"\"
//! for workspace id after an create/update and eventually the new value"). Create and update
//! therefore wait until GET reports the workspace written: bounded, logged, backing off.
//!
//! Destroy deletes the setting: new machines then report to Defender for Cloud's default
//! workspaces again.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{
    WaitPolicy, Waited, arm_error, plan_subscription, subscription, validate_subscription_id,
    wait_until,
};
use super::discovery::SubscriptionIdentity;
use super::workspace_ids::{
    WorkspaceId, WorkspaceSettingId, canonical_workspace_id, parse_setting_scope,
    validate_workspace_id,
};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Only api-version of Microsoft.Security/workspaceSettings (arm-api.md §0).
pub const API_VERSION: &str = "2017-08-01-preview";

/// How long create and update wait for the service to report the written workspace. azurerm
/// waits up to its 60-minute create timeout; propagation takes seconds to minutes.
const POPULATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Sends the data Defender for Cloud collects from machines of a subscription (or of one of its
/// resource groups) to a Log Analytics workspace of your choice instead of the default
/// workspaces Defender for Cloud creates per region.
///
/// There is one workspace setting per subscription (named `default`). Creating this resource
/// writes it; destroying it deletes it, and new machines report to Defender for Cloud's default
/// workspaces again (machines already connected keep their workspace until reconfigured).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_workspace_setting")]
pub struct WorkspaceSettingModel {
    /// The ARM ID of the setting:
    /// `/subscriptions/{subscription_id}/providers/Microsoft.Security/workspaceSettings/default`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The subscription whose setting this is. Defaults to the provider's subscription.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub subscription_id: Option<String>,
    /// The ARM ID of the Log Analytics workspace that receives the data:
    /// `/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.OperationalInsights/workspaces/{name}`.
    /// The workspace may live in another subscription. Compared case-insensitively, as ARM does.
    pub workspace_id: String,
    /// Which machines report to the workspace: the subscription (`/subscriptions/{id}`, the
    /// default) or one of its resource groups (`/subscriptions/{id}/resourceGroups/{name}`).
    #[schemars(extend("optional" = true, "computed" = true))]
    pub scope: Option<String>,
}

pub struct WorkspaceSetting;

fn setting_id(subscription_id: &str) -> WorkspaceSettingId {
    WorkspaceSettingId::new(subscription_id)
}

/// What GET answered, in the service's words.
#[derive(Debug, Clone, PartialEq)]
struct Remote {
    workspace_id: String,
    scope: Option<String>,
}

fn parse_remote(body: &serde_json::Value) -> Remote {
    let props = body.get("properties");
    let s = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Remote {
        workspace_id: s("workspaceId").unwrap_or_default(),
        scope: s("scope"),
    }
}

/// Whether `seen` is the workspace written (ARM IDs compare case-insensitively).
fn is_populated(seen: &Remote, written: &str) -> bool {
    seen.workspace_id.eq_ignore_ascii_case(written)
}

/// The configured spelling when ARM's answer means the same (no diff for case only); else
/// ARM's answer with its keywords in canonical case.
fn keep_spelling(state: Option<&str>, remote: &str) -> String {
    match state {
        Some(s) if s.eq_ignore_ascii_case(remote) => s.to_owned(),
        _ => canonical_workspace_id(remote),
    }
}

impl WorkspaceSetting {
    async fn get(&self, ctx: &Ctx, id: &WorkspaceSettingId) -> Result<Option<Remote>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => Ok(Some(parse_remote(&resp.body))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    /// PUT, then wait until GET reports the workspace written.
    async fn put(
        &self,
        ctx: &Ctx,
        id: &WorkspaceSettingId,
        workspace_id: &str,
        scope: &str,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        let body = json!({ "properties": { "workspaceId": workspace_id, "scope": scope } });
        arm.put(&id.to_string(), API_VERSION, &body)
            .await
            .map_err(|e| arm_error(operation, id.describe(), &e))?;
        let what = format!("{} to report workspace {workspace_id:?}", id.describe());
        let policy = WaitPolicy::eventual(arm.cloud().is_loopback(), POPULATE_TIMEOUT);
        wait_until(ctx, &what, policy, || async {
            Ok(match self.get(ctx, id).await? {
                Some(seen) if is_populated(&seen, workspace_id) => Waited::Done(()),
                Some(seen) if seen.workspace_id.is_empty() => {
                    Waited::Pending("an empty workspaceId".to_owned())
                }
                Some(seen) => Waited::Pending(format!("workspaceId {:?}", seen.workspace_id)),
                None => Waited::Pending("404 Not Found".to_owned()),
            })
        })
        .await
    }

    fn model(
        id: &WorkspaceSettingId,
        remote: &Remote,
        state: &WorkspaceSettingModel,
    ) -> WorkspaceSettingModel {
        WorkspaceSettingModel {
            id: Some(id.to_string()),
            subscription_id: Some(id.subscription_id.clone()),
            workspace_id: keep_spelling(Some(&state.workspace_id), &remote.workspace_id),
            scope: remote
                .scope
                .as_deref()
                .map(|s| keep_spelling(state.scope.as_deref(), s))
                .or_else(|| state.scope.clone()),
        }
    }
}

impl Resource for WorkspaceSetting {
    type Model = WorkspaceSettingModel;
    const TYPE_NAME: &'static str = "defender_workspace_setting";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        let m = &config.model;
        validate_subscription_id(m.subscription_id.as_deref(), diags);
        if !config.is_unknown("workspace_id") {
            validate_workspace_id("workspace_id", Some(&m.workspace_id), diags);
        }
        if let Some(scope) = &m.scope
            && let Err(e) = parse_setting_scope(scope)
        {
            diags.error_at(AttrPath::root("scope"), "Invalid scope", e);
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, diags: &mut Diagnostics) {
        plan_subscription(
            ctx,
            plan.config_unknown("subscription_id"),
            &mut plan.planned.subscription_id,
        );
        if let Some(sub) = plan.planned.subscription_id.clone() {
            plan.planned.id = Some(setting_id(&sub).to_string());
            // The default comes from the configuration: Terraform proposes the prior value for
            // an unset optional+computed attribute, which would hide a scope changed elsewhere.
            if plan.config.scope.is_none() && !plan.config_unknown("scope") {
                plan.planned.scope = Some(format!("/subscriptions/{sub}"));
            }
            // Checked here, where the provider's default subscription is known.
            if let Some(scope) = &plan.planned.scope
                && let Ok(parsed) = parse_setting_scope(scope)
                && let Some(scope_sub) = parsed.subscription_id()
                && !scope_sub.eq_ignore_ascii_case(&sub)
            {
                diags.error_at(
                    AttrPath::root("scope"),
                    "Invalid scope",
                    format!(
                        "the scope {scope:?} is outside subscription {sub:?}; a subscription's \
                         workspace setting covers that subscription or one of its resource groups"
                    ),
                );
            }
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        let scope = planned
            .scope
            .clone()
            .unwrap_or_else(|| format!("/subscriptions/{sub}"));
        let created = WorkspaceSettingModel {
            id: Some(id.to_string()),
            subscription_id: Some(sub.clone()),
            scope: Some(scope.clone()),
            ..planned
        };
        if let Err(d) = self
            .put(ctx, &id, &created.workspace_id, &scope, "creating")
            .await
        {
            // A timeout while waiting still leaves the setting written: keep it in state so
            // the next apply reads and repairs instead of orphaning it.
            return Err(match self.get(ctx, &id).await {
                Ok(Some(_)) => Failed::with_partial(d, created),
                _ => d.into(),
            });
        }
        Ok(created)
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|remote| Self::model(&id, &remote, &state)))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        let scope = planned
            .scope
            .clone()
            .unwrap_or_else(|| format!("/subscriptions/{sub}"));
        if let Err(d) = self
            .put(ctx, &id, &planned.workspace_id, &scope, "updating")
            .await
        {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(WorkspaceSettingModel {
            id: Some(id.to_string()),
            subscription_id: Some(sub),
            scope: Some(scope),
            ..planned
        })
    }

    /// Destroy deletes the setting; Defender for Cloud's default workspaces apply again.
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = setting_id(&sub);
        let arm = ctx.provider()?.arm().await?;
        arm.delete(&id.to_string(), API_VERSION)
            .await
            .map_err(|e| arm_error("deleting", id.describe(), &e))?;
        Ok(())
    }
}

impl Import for WorkspaceSetting {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = WorkspaceSettingId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{e}. Expected {}", WorkspaceSettingId::FORMAT),
            )
        })?;
        let remote = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!(
                    "{} does not exist: the subscription uses Defender for Cloud's default \
                     workspaces",
                    parsed.describe()
                ),
            )
        })?;
        Ok(WorkspaceSettingModel {
            id: Some(parsed.to_string()),
            subscription_id: Some(parsed.subscription_id.clone()),
            workspace_id: canonical_workspace_id(&remote.workspace_id),
            scope: remote.scope,
        })
    }
}

/// `moved { from = azurerm_security_center_workspace.x  to = defender_workspace_setting.x }`:
/// azurerm stores `id` (`…/workspaceSettings/default`), `scope` and `workspace_id`
/// (security_center_workspace_resource.go, schema version 0).
impl MoveState for WorkspaceSetting {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_security_center_workspace" {
            return None;
        }
        Some((|| {
            let get = |k: &str| source.state.get(k).and_then(|v| v.as_str());
            let id = get("id").unwrap_or_default();
            let parsed = WorkspaceSettingId::parse(id).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {id:?}: {e}"),
                )
            })?;
            let workspace_id = get("workspace_id").unwrap_or_default().to_owned();
            WorkspaceId::parse(&workspace_id).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's workspace_id: {e}"),
                )
            })?;
            Ok(WorkspaceSettingModel {
                id: Some(parsed.to_string()),
                subscription_id: Some(parsed.subscription_id.clone()),
                workspace_id,
                scope: get("scope").map(str::to_owned),
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and list (`terraform query`)

/// Imports by the subscription (the setting is always `default`).
impl crate::framework::Identity for WorkspaceSetting {
    type Identity = SubscriptionIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SubscriptionIdentity> {
        SubscriptionIdentity::of(state.subscription_id.as_deref())
    }

    fn import_id(&self, ctx: &Ctx, identity: &SubscriptionIdentity) -> Result<String, Diagnostics> {
        let sub = identity.subscription(ctx)?;
        Ok(setting_id(&sub).to_string())
    }
}

impl crate::framework::ListResource for WorkspaceSetting {
    type ListConfig = super::discovery::SubscriptionsListConfig;
    const LIST_DESCRIPTION: &'static str = "Lists the custom Log Analytics workspace settings \
        of subscriptions; a subscription that uses Defender for Cloud's default workspaces has \
        none and is skipped. `terraform query -generate-config-out=FILE` writes a \
        `defender_workspace_setting` with an `import` block (by identity) for each.";

    fn validate_list(&self, config: &Config<'_, Self::ListConfig>, diags: &mut Diagnostics) {
        super::discovery::validate_subscriptions_list(config, diags);
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: Self::ListConfig,
        sink: crate::framework::ListSink<Self::Model>,
    ) -> Result<(), Diagnostics> {
        for sub in super::discovery::list_subscriptions(ctx, config.subscription_ids.as_deref())? {
            let id = setting_id(&sub);
            let Some(remote) = self.get(ctx, &id).await? else {
                continue;
            };
            // What import builds from the same answer.
            let state = WorkspaceSettingModel {
                id: Some(id.to_string()),
                subscription_id: Some(id.subscription_id.clone()),
                workspace_id: canonical_workspace_id(&remote.workspace_id),
                scope: remote.scope,
            };
            let shown = format!("{} ({sub})", state.workspace_id);
            if !sink.send(shown, state).await {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    fn ws(name: &str) -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/{name}"
        )
    }

    #[test]
    fn parses_the_published_example() {
        // GetWorkspaceSetting_example.json (2017-08-01-preview).
        let body = json!({
            "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/workspaceSettings/default"),
            "name": "default", "type": "Microsoft.Security/workspaceSettings",
            "properties": {"workspaceId": ws("myWorkspace"), "scope": format!("/subscriptions/{SUB}")}
        });
        let r = parse_remote(&body);
        assert_eq!(r.workspace_id, ws("myWorkspace"));
        assert_eq!(r.scope.as_deref(), Some(&*format!("/subscriptions/{SUB}")));
    }

    #[test]
    fn populated_only_when_the_written_workspace_is_reported() {
        let written = ws("myWorkspace");
        let seen = |w: &str| Remote {
            workspace_id: w.to_owned(),
            scope: None,
        };
        assert!(!is_populated(&seen(""), &written));
        assert!(!is_populated(&seen(&ws("previous")), &written));
        assert!(is_populated(&seen(&written.to_ascii_lowercase()), &written));
    }

    #[test]
    fn read_keeps_the_configured_spelling_of_equal_ids() {
        let id = setting_id(SUB);
        let state = WorkspaceSettingModel {
            id: None,
            subscription_id: Some(SUB.into()),
            workspace_id: ws("MyWorkspace"),
            scope: None,
        };
        let remote = Remote {
            workspace_id: ws("myworkspace").to_ascii_lowercase(),
            scope: Some(format!("/subscriptions/{SUB}")),
        };
        let m = WorkspaceSetting::model(&id, &remote, &state);
        assert_eq!(m.workspace_id, ws("MyWorkspace"));
        assert_eq!(m.scope, remote.scope);
        let other = Remote {
            workspace_id: ws("other"),
            scope: None,
        };
        assert_eq!(
            WorkspaceSetting::model(&id, &other, &state).workspace_id,
            ws("other")
        );
    }

    #[test]
    fn moves_azurerm_state() {
        let src = MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_security_center_workspace".into(),
            schema_version: 0,
            state: json!({
                "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/workspaceSettings/default"),
                "scope": format!("/subscriptions/{SUB}"),
                "workspace_id": ws("law1"),
                "timeouts": null
            }),
        };
        let m = WorkspaceSetting.move_state(&src).unwrap().unwrap();
        assert_eq!(m.subscription_id.as_deref(), Some(SUB));
        assert_eq!(m.workspace_id, ws("law1"));
        let other = MoveSource {
            type_name: "azurerm_security_center_contact".into(),
            ..src.clone()
        };
        assert!(WorkspaceSetting.move_state(&other).is_none());
        let bad = MoveSource {
            state: json!({"id": "/subscriptions/x", "workspace_id": ws("law1")}),
            ..src
        };
        assert!(WorkspaceSetting.move_state(&bad).unwrap().is_err());
    }
}
