//! `Microsoft.SecurityInsights/onboardingStates` (arm-api.md 12): Microsoft Sentinel on a
//! workspace, an extension resource at
//! `{workspace}/providers/Microsoft.SecurityInsights/onboardingStates/default`
//! (GetSentinelOnboardingState.json, 2025-09-01: `properties.customerManagedKey`).
//!
//! - The scope must be an existing Log Analytics workspace (404 for it otherwise).
//! - The only name is `default` (the one every example and template uses; other names are a
//!   400, wording UNVERIFIED).
//! - PUT answers 201/200, DELETE 200/204.

use axum::response::Response;
use serde_json::{Value, json};

use super::log_analytics_workspaces::{as_workspace_id, bad_request, require_parent};
use super::{
    HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb, no_default, scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

/// Microsoft.SecurityInsights api-versions, newest first (arm-api.md 0: 2025-09-01 newest
/// stable; older stable and preview versions in use by templates and azurerm).
pub const API_VERSIONS: &[&str] = &[
    "2025-09-01",
    "2024-09-01",
    "2024-03-01",
    "2023-02-01",
    "2022-12-01-preview",
    "2022-11-01",
    "2022-10-01-preview",
    "2021-10-01",
    "2021-09-01-preview",
    "2020-01-01",
];

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.SecurityInsights",
    type_name: "onboardingStates",
    full_type: "Microsoft.SecurityInsights/onboardingStates",
    scopes: &[ScopeKind::Resource],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: no_default,
    put,
};

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let r = ctx.resource;
    if !r.name.eq_ignore_ascii_case("default") {
        return Err(bad_request(format!(
            "The onboarding state name '{}' is not valid; the only onboarding state is \
             'default'.",
            r.name
        )));
    }
    let cmk = match ctx.body.pointer("/properties/customerManagedKey") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(bad_request(format!(
                "The value {other} of 'properties.customerManagedKey' is not a boolean."
            )));
        }
    };
    Ok(PutOutcome {
        body: json!({
            "id": r.id,
            "name": "default",
            "type": SPEC.full_type,
            "properties": { "customerManagedKey": cmk },
        }),
        status: ctx.write_status(),
    })
}

/// The workspace an extension request on a workspace addresses, or ARM's answer for a scope
/// that is not a workspace (the type is not registered there).
pub fn workspace_scope(req: &Request<'_>) -> Result<String, ArmError> {
    as_workspace_id(&req.scope_id).ok_or_else(|| ArmError::InvalidResourceType {
        resource_type: req.spec.type_name.to_owned(),
        namespace: req.spec.namespace.to_owned(),
        api_version: req.api_version.to_owned(),
    })
}

/// Whether Sentinel is onboarded on `workspace_id`.
pub fn onboarded(req: &Request<'_>, workspace_id: &str) -> bool {
    req.state
        .store
        .get(&format!(
            "{workspace_id}/providers/Microsoft.SecurityInsights/onboardingStates/default"
        ))
        .is_some()
}

pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    let workspace = workspace_scope(req)?;
    require_parent(req.state, &workspace, req.verb)?;
    match req.verb {
        Verb::List => scope_tree::list_children(req),
        // Honours the `not_found_after_create` fault like every other stored type.
        Verb::Get => scope_tree::get_stored(req),
        Verb::Put => scope_tree::put_stored(req, put),
        Verb::Delete => scope_tree::delete_stored(req),
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}
