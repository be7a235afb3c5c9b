//! `Microsoft.OperationalInsights/workspaces` (arm-api.md 11.1), its long-running operations
//! (`locations/operationStatuses` and `locations/operationResults`), and what the types that
//! live on a workspace share (dataSources, solutions, workspace settings, Sentinel).
//!
//! - PUT and DELETE are long-running (arm-api.md 11.1, 13.4). PUT answers 201 (created) or 200
//!   (updated) with `provisioningState` `Creating`/`Updating` and an `Azure-AsyncOperation`
//!   header; DELETE answers 202 with `Azure-AsyncOperation` and `Location`. An operation
//!   finishes on its second observation (a GET of its status URL, or of the workspace itself,
//!   which clients poll after a 200 with a non-terminal state): the first says `InProgress`,
//!   so clients exercise their polling, without the emulator running timers.
//! - A finished PUT leaves `provisioningState: Succeeded`; a finished DELETE removes the
//!   workspace with everything under it (data sources and Sentinel's extension resources).
//! - `properties.customerId` is a GUID the service assigns and keeps across updates.
//! - `location` is required (ARM's `LocationRequired`); names follow 4-63 letters, digits and
//!   hyphens, starting and ending alphanumeric. The 400 code for a bad name is UNVERIFIED.
//! - No PATCH, no subscription-wide list, no resource group bookkeeping (the emulator has no
//!   resource groups).

use std::time::SystemTime;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{
    HandlerFuture, PutContext, PutOutcome, Request, ResourceRef, TypeSpec, Verb, operations,
    scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::store::key_of;
use crate::util::{new_guid, rfc3339};

/// Newest first (arm-api.md 0, 11.1; 2021-06-01 is what policy 64def556 deploys with).
pub const API_VERSIONS: &[&str] = &[
    "2026-03-01",
    "2025-07-01",
    "2025-02-01",
    "2023-09-01",
    "2022-10-01",
    "2021-12-01-preview",
    "2021-06-01",
    "2020-10-01",
    "2020-08-01",
    "2020-03-01-preview",
    "2015-11-01-preview",
];

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.OperationalInsights",
    type_name: "workspaces",
    full_type: "Microsoft.OperationalInsights/workspaces",
    scopes: &[ScopeKind::ResourceGroup],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put,
};

/// `GET /subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/{location}/operationStatuses/{id}`:
/// the `Azure-AsyncOperation` URL, always 200 with the status (arm-api.md 13.4).
pub static OPERATION_STATUSES: TypeSpec = TypeSpec {
    namespace: "Microsoft.OperationalInsights",
    type_name: "locations/operationStatuses",
    full_type: "Microsoft.OperationalInsights/locations/operationStatuses",
    scopes: &[ScopeKind::Subscription],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get],
    singleton_names: &[],
    default_body: super::no_default,
    put: super::no_put,
};

/// `…/locations/{location}/operationResults/{id}`: the `Location` URL, 202 while running,
/// then 200 with the workspace (PUT) or 204 (DELETE) (arm-api.md 13.4).
pub static OPERATION_RESULTS: TypeSpec = TypeSpec {
    namespace: "Microsoft.OperationalInsights",
    type_name: "locations/operationResults",
    full_type: "Microsoft.OperationalInsights/locations/operationResults",
    scopes: &[ScopeKind::Subscription],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get],
    singleton_names: &[],
    default_body: super::no_default,
    put: super::no_put,
};

/// ARM's canonical location name: `West Europe` → `westeurope`.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The workspace name rule of arm-api.md 11.1.
pub fn valid_workspace_name(name: &str) -> bool {
    let n = name.chars().count();
    (4..=63).contains(&n)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// 400 `BadRequest`, the code of the validation errors of the workspace types (and of the
/// types that live on a workspace).
pub fn bad_request(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

/// Validates and normalises a workspace PUT; the body is the finished (`Succeeded`) workspace.
fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let r = ctx.resource;
    if !valid_workspace_name(&r.name) {
        return Err(bad_request(format!(
            "Workspace name '{}' is not valid. The name must be 4 to 63 characters long, \
             contain only letters, digits and hyphens, and start and end with a letter or digit.",
            r.name
        )));
    }
    let location = match ctx.body.get("location") {
        Some(Value::String(l)) if !l.trim().is_empty() => normalize_location(l),
        _ => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
    };
    if let Some(existing) = ctx.existing
        && let Some(old) = existing.get("location").and_then(Value::as_str)
        && old != location
    {
        return Err(bad_request(format!(
            "The workspace '{}' is in '{old}'; a workspace cannot move to '{location}'.",
            r.name
        )));
    }
    let props = ctx.body.get("properties").cloned().unwrap_or(json!({}));
    if !props.is_object() {
        return Err(ArmError::InvalidRequestContent(
            "'properties' must be an object.".to_owned(),
        ));
    }
    let now = rfc3339(SystemTime::now());
    let old = ctx.existing.and_then(|e| e.get("properties"));
    let keep = |k: &str| old.and_then(|o| o.get(k)).cloned();
    let sku_name = props
        .pointer("/sku/name")
        .and_then(Value::as_str)
        .unwrap_or("PerGB2018");
    let retention = props
        .get("retentionInDays")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    if !(30..=730).contains(&retention) {
        return Err(bad_request(format!(
            "retentionInDays must be between 30 and 730; it is {retention}."
        )));
    }
    let properties = json!({
        "customerId": keep("customerId").unwrap_or_else(|| json!(new_guid())),
        "provisioningState": "Succeeded",
        "sku": { "name": sku_name, "lastSkuUpdate": now },
        "retentionInDays": retention,
        "features": props.get("features").cloned().unwrap_or_else(
            || json!({ "enableLogAccessUsingOnlyResourcePermissions": true })
        ),
        "workspaceCapping": props.get("workspaceCapping").cloned()
            .unwrap_or_else(|| json!({ "dailyQuotaGb": -1.0 })),
        "publicNetworkAccessForIngestion": props.get("publicNetworkAccessForIngestion")
            .cloned().unwrap_or_else(|| json!("Enabled")),
        "publicNetworkAccessForQuery": props.get("publicNetworkAccessForQuery")
            .cloned().unwrap_or_else(|| json!("Enabled")),
        "createdDate": keep("createdDate").unwrap_or_else(|| json!(now)),
        "modifiedDate": now,
    });
    Ok(PutOutcome {
        body: json!({
            "id": r.id,
            "name": r.name,
            "type": SPEC.full_type,
            "location": location,
            "tags": ctx.body.get("tags").cloned().unwrap_or_else(|| json!({})),
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
    match req.verb {
        Verb::List => scope_tree::list_children(req),
        Verb::Get => {
            let resource = scope_tree::resource(req)?;
            if let Some(r) = scope_tree::eventual_not_found(req.state, resource) {
                return Ok(r);
            }
            observe_resource(req.state, &resource.id);
            let stored = scope_tree::find_stored(req.state, resource)?;
            Ok(Json(stored.body).into_response())
        }
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            // A write replaces what an earlier, unobserved operation was still doing.
            settle(req.state, &resource.id);
            let existing = req.state.store.get(&resource.id).map(|s| s.body);
            if let Some(e) = &existing
                && state_of(e).eq_ignore_ascii_case("Deleting")
            {
                return Err(ArmError::custom(
                    StatusCode::CONFLICT,
                    "Conflict",
                    format!("The workspace '{}' is being deleted.", resource.name),
                ));
            }
            let outcome = scope_tree::run_put_over(req, resource, existing.as_ref(), put)?;
            let mut pending = outcome.body.clone();
            pending["properties"]["provisioningState"] = json!(if existing.is_some() {
                "Updating"
            } else {
                "Creating"
            });
            let location = outcome.body["location"]
                .as_str()
                .unwrap_or("westus")
                .to_owned();
            let op = start(req.state, resource, &location, Action::Put, outcome.body);
            let mut response =
                scope_tree::store(req, resource, pending.clone(), pending, outcome.status);
            add_operation_headers(req, &mut response, &op, false);
            Ok(response)
        }
        Verb::Delete => {
            let resource = scope_tree::resource(req)?;
            settle(req.state, &resource.id);
            let Some(mut body) = req.state.store.get(&resource.id).map(|s| s.body) else {
                return Ok(StatusCode::NO_CONTENT.into_response());
            };
            let location = body["location"].as_str().unwrap_or("westus").to_owned();
            body["properties"]["provisioningState"] = json!("Deleting");
            req.state.store.put(&resource.id, body);
            let op = start(req.state, resource, &location, Action::Delete, Value::Null);
            let mut response = StatusCode::ACCEPTED.into_response();
            add_operation_headers(req, &mut response, &op, true);
            Ok(response)
        }
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

fn state_of(body: &Value) -> &str {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
        .unwrap_or("Succeeded")
}

// ---------------------------------------------------------------------------------------------
// Long-running operations

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    Put,
    Delete,
}

/// A started operation: where its status and result are read.
struct Operation {
    /// `/subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/{loc}`.
    base: String,
    name: String,
}

impl Operation {
    fn status_id(&self) -> String {
        format!("{}/operationStatuses/{}", self.base, self.name)
    }
    fn result_id(&self) -> String {
        format!("{}/operationResults/{}", self.base, self.name)
    }
}

/// How many observations answer `InProgress` before the operation finishes.
const IN_PROGRESS_OBSERVATIONS: u64 = 1;

/// Records an operation on `resource`, stored under its status ID (the `_emulator` member is
/// the emulator's own bookkeeping and never answered).
fn start(
    state: &EmulatorState,
    resource: &ResourceRef,
    location: &str,
    action: Action,
    result: Value,
) -> Operation {
    let op = Operation {
        base: format!(
            "/subscriptions/{}/providers/Microsoft.OperationalInsights/locations/{}",
            resource.subscription.as_deref().unwrap_or_default(),
            normalize_location(location)
        ),
        name: new_guid(),
    };
    state.store.put(
        &op.status_id(),
        json!({
            "id": op.status_id(),
            "name": op.name,
            "status": "InProgress",
            "startTime": rfc3339(SystemTime::now()),
            "_emulator": {
                "resourceId": resource.id,
                "action": if action == Action::Put { "put" } else { "delete" },
                "result": result,
                "observationsLeft": IN_PROGRESS_OBSERVATIONS,
            }
        }),
    );
    state.store.save_or_log();
    op
}

fn add_operation_headers(
    req: &Request<'_>,
    response: &mut Response,
    op: &Operation,
    location: bool,
) {
    let url = |id: String| operations::url(req.state, &id, req.api_version);
    let headers = response.headers_mut();
    if let Some(v) = url(op.status_id()) {
        headers.insert("azure-asyncoperation", v);
    }
    if location && let Some(v) = url(op.result_id()) {
        headers.insert("location", v);
    }
}

/// One observation of an operation record (see [`operations::observe`]).
fn observe(state: &EmulatorState, id: &str, record: Value) -> Value {
    operations::observe(state, id, record, |op| finish(state, op))
}

/// Applies a finished operation to its resource.
fn finish(state: &EmulatorState, op: &Value) {
    let resource_id = op["resourceId"].as_str().unwrap_or_default();
    if op["action"] == "put" {
        if state.store.get(resource_id).is_some() {
            state.store.put(resource_id, op["result"].clone());
        }
        return;
    }
    // A workspace takes what lives under it along: data sources, Sentinel's onboarding
    // state and connectors (extension resources on the workspace).
    let prefix = format!("{}/", key_of(resource_id));
    for r in state.store.snapshot().resources {
        if key_of(&r.id).starts_with(&prefix) {
            state.store.delete(&r.id);
        }
    }
    state.store.delete(resource_id);
}

/// The operation records still running on `resource_id`.
fn running_on(state: &EmulatorState, resource_id: &str) -> Vec<crate::store::StoredResource> {
    let key = key_of(resource_id);
    state
        .store
        .snapshot()
        .resources
        .into_iter()
        .filter(|r| {
            key_of(&r.id).contains("/providers/microsoft.operationalinsights/locations/")
                && r.body["status"] == "InProgress"
                && r.body["_emulator"]["resourceId"]
                    .as_str()
                    .is_some_and(|id| key_of(id) == key)
        })
        .collect()
}

/// Finishes every operation still running on `resource_id` at once.
fn settle(state: &EmulatorState, resource_id: &str) {
    for mut r in running_on(state, resource_id) {
        r.body["_emulator"]["observationsLeft"] = json!(0);
        observe(state, &r.id, r.body);
    }
}

/// A GET of a workspace observes the operations still running on it.
fn observe_resource(state: &EmulatorState, resource_id: &str) {
    for r in running_on(state, resource_id) {
        observe(state, &r.id, r.body);
    }
}

/// What clients see of an operation record.
fn public_status(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("_emulator");
    }
    v
}

pub fn handle_operation_status(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let record = scope_tree::find_stored(req.state, scope_tree::resource(&req)?)?;
        let record = observe(req.state, &record.id, record.body);
        Ok(Json(public_status(&record)).into_response())
    })
}

pub fn handle_operation_result(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let resource = scope_tree::resource(&req)?;
        let status_id = resource
            .id
            .replacen("/operationResults/", "/operationStatuses/", 1);
        let record = req
            .state
            .store
            .get(&status_id)
            .ok_or_else(|| scope_tree::not_found(resource))?;
        let record = observe(req.state, &record.id, record.body);
        if record["status"] == "InProgress" {
            let mut response = StatusCode::ACCEPTED.into_response();
            if let Some(v) = operations::url(req.state, &resource.id, req.api_version) {
                response.headers_mut().insert("location", v);
            }
            return Ok(response);
        }
        let op = &record["_emulator"];
        if op["action"] == "put"
            && let Some(r) = op["resourceId"]
                .as_str()
                .and_then(|id| req.state.store.get(id))
        {
            return Ok(Json(r.body).into_response());
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

// ---------------------------------------------------------------------------------------------
// What lives on a workspace

/// The workspace ID (canonical keywords) that `id` names or lies under, if it is under one:
/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}`.
pub fn workspace_of(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    let eq = |i: usize, lit: &str| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case(lit));
    if segs.len() < 8
        || !eq(0, "subscriptions")
        || !eq(2, "resourceGroups")
        || !eq(4, "providers")
        || !eq(5, "Microsoft.OperationalInsights")
        || !eq(6, "workspaces")
    {
        return None;
    }
    Some(format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}",
        segs[1], segs[3], segs[7]
    ))
}

/// The canonical workspace ID when `id` is one (not something under a workspace).
pub fn as_workspace_id(id: &str) -> Option<String> {
    workspace_of(id).filter(|ws| ws.len() == id.trim_end_matches('/').len())
}

/// The stored workspace `workspace_id`, if there is one (any provisioning state).
pub fn find_workspace(state: &EmulatorState, workspace_id: &str) -> Option<Value> {
    state.store.get(workspace_id).map(|s| s.body)
}

/// ARM's 404 for a workspace that is not there.
pub fn workspace_not_found(workspace_id: &str) -> ArmError {
    let segs: Vec<&str> = workspace_id.split('/').filter(|s| !s.is_empty()).collect();
    ArmError::ResourceNotFound {
        type_and_name: format!(
            "Microsoft.OperationalInsights/workspaces/{}",
            segs.get(7).unwrap_or(&"")
        ),
        resource_group: segs.get(3).copied().unwrap_or("<null>").to_owned(),
    }
}

/// For a resource that names a workspace at `pointer` in its body (a solution's
/// `workspaceResourceId`, Defender for Cloud's `workspaceId`): the workspace must exist (404
/// `ResourceNotFound` for it otherwise).
pub fn require_named_workspace(
    state: &EmulatorState,
    body: &Value,
    pointer: &str,
) -> Result<(), ArmError> {
    let ws = body
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(as_workspace_id)
        .unwrap_or_default();
    match find_workspace(state, &ws) {
        Some(_) => Ok(()),
        None => Err(workspace_not_found(&ws)),
    }
}

/// For a resource under (or on) a workspace: the workspace must exist. A write answers ARM's
/// `ParentResourceNotFound`; reads and deletes answer the workspace's `ResourceNotFound`.
pub fn require_parent(
    state: &EmulatorState,
    workspace_id: &str,
    verb: Verb,
) -> Result<Value, ArmError> {
    if let Some(ws) = find_workspace(state, workspace_id) {
        return Ok(ws);
    }
    if verb == Verb::Put {
        let name = workspace_id.rsplit('/').next().unwrap_or_default();
        return Err(ArmError::custom(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource \
                 '{name}' not found."
            ),
        ));
    }
    Err(workspace_not_found(workspace_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn resource(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/{name}"
            ),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s/resourceGroups/rg".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: Some("rg".to_owned()),
        }
    }

    fn run(name: &str, body: Value, existing: Option<&Value>) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = resource(name);
        put(&PutContext {
            resource: &r,
            api_version: "2023-09-01",
            body,
            existing,
            runtime: &runtime,
        })
    }

    #[test]
    fn a_new_workspace_gets_defaults_and_a_customer_id() {
        let out = run("law-one", json!({"location": "West Europe"}), None).unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        let b = &out.body;
        assert_eq!(b["location"], "westeurope");
        assert_eq!(b["type"], "Microsoft.OperationalInsights/workspaces");
        assert_eq!(b["properties"]["provisioningState"], "Succeeded");
        assert_eq!(b["properties"]["sku"]["name"], "PerGB2018");
        assert_eq!(b["properties"]["retentionInDays"], 30);
        let customer = b["properties"]["customerId"].as_str().unwrap().to_owned();
        assert!(crate::util::is_guid(&customer));

        let again = run(
            "law-one",
            json!({"location": "westeurope", "properties": {"retentionInDays": 90}}),
            Some(b),
        )
        .unwrap();
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["properties"]["customerId"], customer.as_str());
        assert_eq!(again.body["properties"]["retentionInDays"], 90);
    }

    #[test]
    fn bad_workspaces_are_refused() {
        let e = run("law-one", json!({}), None).err().unwrap();
        assert_eq!(e.code(), "LocationRequired");
        for name in ["abc", "-abcd", "ab_cd", &"a".repeat(64)] {
            assert!(
                run(name, json!({"location": "eastus"}), None).is_err(),
                "{name}"
            );
        }
        let existing = run("law-one", json!({"location": "eastus"}), None)
            .unwrap()
            .body;
        assert!(run("law-one", json!({"location": "westus"}), Some(&existing)).is_err());
        assert!(
            run(
                "law-one",
                json!({"location": "eastus", "properties": {"retentionInDays": 7}}),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn workspace_of_finds_the_parent_of_nested_and_extension_ids() {
        let ws = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1";
        assert_eq!(workspace_of(ws).as_deref(), Some(ws));
        assert_eq!(
            workspace_of(&format!("{}/dataSources/x", ws.to_ascii_lowercase())).as_deref(),
            Some(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1"
            )
        );
        assert_eq!(
            workspace_of(&format!(
                "{ws}/providers/Microsoft.SecurityInsights/dataConnectors/c"
            ))
            .as_deref(),
            Some(ws)
        );
        assert_eq!(workspace_of("/subscriptions/s/resourceGroups/rg"), None);
        assert_eq!(
            workspace_of(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
            ),
            None
        );
    }
}
