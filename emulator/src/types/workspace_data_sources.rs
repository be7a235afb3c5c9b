//! `Microsoft.OperationalInsights/workspaces/dataSources` (arm-api.md 11.2): a nested type, so
//! the workspace must exist (PUT answers 404 `ParentResourceNotFound`, reads and deletes the
//! workspace's 404 `ResourceNotFound`).
//!
//! - `kind` is required and one of the kinds Log Analytics knows (a subset of the bicep-types
//!   enum is accepted here); `properties` is untyped in the swagger and kept as sent, except:
//! - kind `SecurityEventCollectionConfiguration` (Defender for Cloud) and
//!   `SecurityInsightsSecurityEventCollectionConfiguration` (Sentinel) need `properties.tier`,
//!   one of `None`, `Minimal`, `Recommended`, `All` (case-insensitive, stored as written here);
//!   the portal's "Common" is `Recommended` in the API, so `Common` is refused (the 400's code
//!   and wording are UNVERIFIED). `tierSetMethod` defaults to `Custom`.
//! - PUT answers 201 (created) or 200 (updated) with a fresh `etag`; DELETE 200 without a body,
//!   or 204 when there was nothing.

use std::time::SystemTime;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::log_analytics_workspaces::{self as workspaces, bad_request, require_parent};
use super::{
    HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb, no_default, scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;
use crate::util::rfc3339;

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.OperationalInsights",
    type_name: "workspaces/dataSources",
    full_type: "Microsoft.OperationalInsights/workspaces/dataSources",
    scopes: &[ScopeKind::ResourceGroup],
    api_versions: workspaces::API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: no_default,
    put,
};

/// Data source kinds accepted (from the `kind` enum of bicep-types, arm-api.md 11.2).
const KINDS: &[&str] = &[
    "WindowsEvent",
    "WindowsPerformanceCounter",
    "IISLogs",
    "LinuxSyslog",
    "LinuxSyslogCollection",
    "LinuxPerformanceObject",
    "LinuxPerformanceCollection",
    "CustomLog",
    "CustomLogCollection",
    "AzureAuditLog",
    "AzureActivityLog",
    "GenericDataSource",
    "ChangeTrackingCustomPath",
    "ChangeTrackingPath",
    "ChangeTrackingServices",
    "ChangeTrackingDataTypeConfiguration",
    "ChangeTrackingDefaultRegistry",
    "ChangeTrackingRegistry",
    "ChangeTrackingLinuxPath",
    "LinuxChangeTrackingPath",
    "ChangeTrackingContentLocation",
    "WindowsTelemetry",
    "Office365",
    "SecurityWindowsBaselineConfiguration",
    "SecurityCenterSecurityWindowsBaselineConfiguration",
    "SecurityEventCollectionConfiguration",
    "SecurityInsightsSecurityEventCollectionConfiguration",
    "ImportComputerGroup",
    "NetworkMonitoring",
    "Itsm",
    "DnsAnalytics",
    "ApplicationInsights",
    "SqlDataClassification",
];

/// The API's tiers of the security event kinds (arm-api.md 11.2).
const TIERS: &[&str] = &["None", "Minimal", "Recommended", "All"];

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let kind = match ctx.body.get("kind") {
        Some(Value::String(k)) => KINDS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(k))
            .copied()
            .ok_or_else(|| bad_request(format!("The data source kind '{k}' is not supported.")))?,
        _ => return Err(bad_request("The 'kind' property is required.")),
    };
    let mut properties = match ctx.body.get("properties") {
        Some(p @ Value::Object(_)) => p.clone(),
        _ => {
            return Err(bad_request(
                "The 'properties' property is required and must be an object.",
            ));
        }
    };
    if kind.ends_with("SecurityEventCollectionConfiguration") {
        let tier = match properties.get("tier") {
            Some(Value::String(t)) => TIERS.iter().find(|k| k.eq_ignore_ascii_case(t)).copied(),
            _ => None,
        }
        .ok_or_else(|| {
            bad_request(format!(
                "The tier {} is not valid for {kind}. Allowed values: None, Minimal, \
                 Recommended, All.",
                properties.get("tier").unwrap_or(&Value::Null)
            ))
        })?;
        properties["tier"] = json!(tier);
        if properties.get("tierSetMethod").is_none() {
            properties["tierSetMethod"] = json!("Custom");
        }
    }
    let r = ctx.resource;
    Ok(PutOutcome {
        body: json!({
            "id": r.id,
            "name": r.name,
            "type": SPEC.full_type,
            "kind": kind,
            "etag": format!("W/\"datetime'{}'\"", rfc3339(SystemTime::now())),
            "properties": properties,
        }),
        status: ctx.write_status(),
    })
}

pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    let workspace = workspaces::workspace_of(&req.collection_id).ok_or_else(|| {
        ArmError::custom(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The emulator routed a data source request outside a workspace.",
        )
    })?;
    require_parent(req.state, &workspace, req.verb)?;
    match req.verb {
        Verb::List => scope_tree::list_children(req),
        Verb::Get => scope_tree::get_stored(req),
        Verb::Put => scope_tree::put_stored(req, put),
        Verb::Delete => scope_tree::delete_stored(req),
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    fn run(body: Value) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = ResourceRef {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1/dataSources/SecurityEventCollectionConfiguration".to_owned(),
            name: "SecurityEventCollectionConfiguration".to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s/resourceGroups/rg".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: Some("rg".to_owned()),
        };
        put(&PutContext {
            resource: &r,
            api_version: "2020-08-01",
            body,
            existing: None,
            runtime: &runtime,
        })
    }

    #[test]
    fn security_event_tiers_are_the_api_names() {
        let out = run(json!({"kind": "securityeventcollectionconfiguration",
                             "properties": {"tier": "recommended"}}))
        .unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        assert_eq!(out.body["kind"], "SecurityEventCollectionConfiguration");
        assert_eq!(
            out.body["properties"],
            json!({"tier": "Recommended", "tierSetMethod": "Custom"})
        );
        let e = run(json!({"kind": "SecurityEventCollectionConfiguration",
                           "properties": {"tier": "Common"}}))
        .err()
        .unwrap();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.to_string().contains("Recommended"), "{e}");
    }

    #[test]
    fn kind_and_properties_are_required() {
        assert!(run(json!({"properties": {}})).is_err());
        assert!(run(json!({"kind": "Nonsense", "properties": {}})).is_err());
        assert!(run(json!({"kind": "WindowsEvent"})).is_err());
        let ok =
            run(json!({"kind": "WindowsEvent", "properties": {"eventLogName": "System"}})).unwrap();
        assert_eq!(ok.body["properties"]["eventLogName"], "System");
    }
}
