//! `Microsoft.SecurityInsights/dataConnectors` (arm-api.md 12): Microsoft Sentinel's data
//! connectors, extension resources on a Log Analytics workspace.
//!
//! - The scope must be an existing workspace (404 for it otherwise) with Sentinel onboarded
//!   (`onboardingStates/default`): a PUT on a workspace without Sentinel answers 400
//!   `BadRequest` "Workspace '{name}' is not onboarded to Microsoft Sentinel. …", the service's
//!   wording as seen in public issues [3p].
//! - `kind` is required. Kind `AzureSecurityCenter` needs `properties.subscriptionId` (a GUID)
//!   and `properties.dataTypes.alerts.state` `Enabled`/`Disabled` (case-insensitive, stored
//!   canonical); other kinds are kept as sent.
//! - Each write gets a new `etag`; a PUT carrying an `etag` that is not the current one answers
//!   412 `PreconditionFailed` (arm-api.md 13.1).
//! - PUT answers 201/200, DELETE 200/204 (status codes UNVERIFIED, arm-api.md 12).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::log_analytics_workspaces::{bad_request, require_parent};
use super::sentinel_onboarding_states::{API_VERSIONS, onboarded, workspace_scope};
use super::{
    HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb, no_default, scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;
use crate::util::{is_guid, new_guid};

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.SecurityInsights",
    type_name: "dataConnectors",
    full_type: "Microsoft.SecurityInsights/dataConnectors",
    scopes: &[ScopeKind::Resource],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: no_default,
    put,
};

/// Connector kinds accepted (those of the 2025-09-01 GetDataConnectors example and a few more
/// of the `DataConnectorKind` enum).
const KINDS: &[&str] = &[
    "AzureSecurityCenter",
    "AzureActiveDirectory",
    "AzureAdvancedThreatProtection",
    "MicrosoftCloudAppSecurity",
    "MicrosoftDefenderAdvancedThreatProtection",
    "Office365",
    "ThreatIntelligence",
    "AmazonWebServicesCloudTrail",
    "AmazonWebServicesS3",
    "MicrosoftThreatIntelligence",
    "MicrosoftThreatProtection",
    "Dynamics365",
    "IOT",
];

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let kind = match ctx.body.get("kind") {
        Some(Value::String(k)) => KINDS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(k))
            .copied()
            .ok_or_else(|| {
                bad_request(format!("The data connector kind '{k}' is not supported."))
            })?,
        _ => return Err(bad_request("The 'kind' property is required.")),
    };
    if let (Some(sent), Some(existing)) = (ctx.body.get("etag"), ctx.existing)
        && !sent.is_null()
        && Some(sent) != existing.get("etag")
    {
        return Err(ArmError::custom(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "The etag of the request does not match the data connector's current etag.",
        ));
    }
    if let Some(existing) = ctx.existing
        && existing.get("kind").and_then(Value::as_str) != Some(kind)
    {
        return Err(bad_request(format!(
            "The data connector '{}' is of kind '{}'; its kind cannot change to '{kind}'.",
            ctx.resource.name,
            existing
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
        )));
    }
    let mut properties = match ctx.body.get("properties") {
        Some(p @ Value::Object(_)) => p.clone(),
        _ => {
            return Err(bad_request(
                "The 'properties' property is required and must be an object.",
            ));
        }
    };
    if kind == "AzureSecurityCenter" {
        match properties.get("subscriptionId") {
            Some(Value::String(s)) if is_guid(s) => {}
            other => {
                return Err(bad_request(format!(
                    "The 'properties.subscriptionId' of an AzureSecurityCenter connector must \
                     be a subscription ID; it is {}.",
                    other.unwrap_or(&Value::Null)
                )));
            }
        }
        let state = match properties.pointer("/dataTypes/alerts/state") {
            Some(Value::String(s)) if s.eq_ignore_ascii_case("Enabled") => "Enabled",
            Some(Value::String(s)) if s.eq_ignore_ascii_case("Disabled") => "Disabled",
            other => {
                return Err(bad_request(format!(
                    "The 'properties.dataTypes.alerts.state' must be 'Enabled' or 'Disabled'; \
                     it is {}.",
                    other.unwrap_or(&Value::Null)
                )));
            }
        };
        properties["dataTypes"]["alerts"]["state"] = json!(state);
    }
    let r = ctx.resource;
    Ok(PutOutcome {
        body: json!({
            "id": r.id,
            "name": r.name,
            "type": SPEC.full_type,
            "kind": kind,
            "etag": format!("\"{}\"", new_guid()),
            "properties": properties,
        }),
        status: ctx.write_status(),
    })
}

pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    let workspace = workspace_scope(req)?;
    require_parent(req.state, &workspace, req.verb)?;
    match req.verb {
        Verb::List => scope_tree::list_children(req),
        Verb::Get => scope_tree::get_stored(req),
        Verb::Put => {
            if !onboarded(req, &workspace) {
                let name = workspace.rsplit('/').next().unwrap_or_default();
                return Err(bad_request(format!(
                    "Workspace '{name}' is not onboarded to Microsoft Sentinel. Please onboard \
                     through the portal (https://learn.microsoft.com/en-us/azure/sentinel/quickstart-onboard) \
                     or use the OnboardingStates ARM api to onboard to Sentinel \
                     (https://learn.microsoft.com/en-us/rest/api/securityinsights/sentinel-onboarding-states/create?view=rest-securityinsights-2024-03-01)."
                )));
            }
            scope_tree::put_stored(req, put)
        }
        Verb::Delete => scope_tree::delete_stored(req),
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    const SUB: &str = "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0";

    fn run(body: Value, existing: Option<&Value>) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = ResourceRef {
            id: format!(
                "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace/providers/Microsoft.SecurityInsights/dataConnectors/763f9fa1-c2d3-4fa2-93e9-bccd4899aa12"
            ),
            name: "763f9fa1-c2d3-4fa2-93e9-bccd4899aa12".to_owned(),
            resource_type: SPEC.full_type,
            scope_id: format!(
                "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace"
            ),
            subscription: Some(SUB.to_owned()),
            resource_group: Some("myRg".to_owned()),
        };
        put(&PutContext {
            resource: &r,
            api_version: "2025-09-01",
            body,
            existing,
            runtime: &runtime,
        })
    }

    fn asc(state: &str) -> Value {
        json!({"kind": "AzureSecurityCenter",
               "properties": {"subscriptionId": SUB, "dataTypes": {"alerts": {"state": state}}}})
    }

    #[test]
    fn the_asc_connector_of_the_example() {
        let out = run(asc("enabled"), None).unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        assert_eq!(out.body["kind"], "AzureSecurityCenter");
        assert_eq!(
            out.body["type"],
            "Microsoft.SecurityInsights/dataConnectors"
        );
        assert_eq!(
            out.body["properties"]["dataTypes"]["alerts"]["state"],
            "Enabled"
        );
        assert!(out.body["etag"].as_str().unwrap().starts_with('"'));
    }

    #[test]
    fn validation_and_etags() {
        assert!(run(json!({"kind": "AzureSecurityCenter", "properties": {"dataTypes": {"alerts": {"state": "Enabled"}}}}), None).is_err());
        assert!(run(asc("On"), None).is_err());
        assert!(run(json!({"properties": {}}), None).is_err());
        let existing = run(asc("Enabled"), None).unwrap().body;
        let mut stale = asc("Disabled");
        stale["etag"] = json!("\"other\"");
        let e = run(stale, Some(&existing)).err().unwrap();
        assert_eq!(e.status(), StatusCode::PRECONDITION_FAILED);
        let mut current = asc("Disabled");
        current["etag"] = existing["etag"].clone();
        let updated = run(current, Some(&existing)).unwrap();
        assert_eq!(updated.status, StatusCode::OK);
        assert_ne!(updated.body["etag"], existing["etag"]);
        let other_kind = json!({"kind": "Office365", "properties": {"tenantId": "t"}});
        assert!(run(other_kind, Some(&existing)).is_err());
    }
}
