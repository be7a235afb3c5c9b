//! `Microsoft.PolicyInsights/remediations`, api-versions 2024-10-01 and 2021-10-01
//! (arm-api.md 10; examples in `Microsoft.PolicyInsights/2021-10-01/`).
//!
//! - Every scope below the tenant. PUT answers 201 when it creates, 200 when the same task
//!   is written again (it is not restarted); the settings of a started task cannot change
//!   (docs): another PUT with different settings answers 400 `InvalidRemediationRequest`
//!   (code UNVERIFIED). The assignment must exist (404 `PolicyAssignmentNotFound`), and a
//!   task for an initiative assignment names one member by `policyDefinitionReferenceId`.
//! - The task runs on the clock, as the service runs it asynchronously: `Accepted` for one
//!   step (`remediation_step_ms`), `Evaluating` for one more while deployments complete, then
//!   `Succeeded`, or `Failed` when the failed share exceeds `failureThreshold.percentage`
//!   (default 100%, docs) or every deployment failed. `deploymentStatus` counts follow:
//!   `totalDeployments` is the scenario's `remediation_resources` (at most `resourceCount`),
//!   and `remediation_failures` of them fail. Both are fixed when the task is created.
//!   (`Evaluating` is UNVERIFIED as a provisioningState value; the docs list Running,
//!   Canceled, Cancelling, Failed, Complete, Succeeded.)
//! - `POST {task}/cancel` answers 200 with the task `Cancelling` (the example), then
//!   `Canceled` one step later; progress stops. A finished task answers 400.
//! - `POST {task}/listDeployments` answers the deployments so far (pageable): the
//!   non-compliant resources of the assignment's definition's target type, `Succeeded`,
//!   `Failed` (with ARM's deployment error) or `Running`.
//! - DELETE 200 with the deleted body, 204 when there was none.
//!
//! The stored body keeps the scenario under `_emulator`; answers never show it.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::actions::ActionRequest;
use super::policy_definitions::{self, Kind};
use super::scope_tree::{self, Filter};
use super::{HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::{new_guid, rfc3339};

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.PolicyInsights",
    type_name: "remediations",
    full_type: "Microsoft.PolicyInsights/remediations",
    scopes: &[
        ScopeKind::ManagementGroup,
        ScopeKind::Subscription,
        ScopeKind::ResourceGroup,
        ScopeKind::Resource,
    ],
    api_versions: &["2024-10-01", "2021-10-01"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put,
};

/// Where the scenario is kept in the stored body.
const INTERNAL: &str = "_emulator";

const SETTINGS: &[&str] = &[
    "policyAssignmentId",
    "policyDefinitionReferenceId",
    "resourceDiscoveryMode",
    "filters",
    "resourceCount",
    "parallelDeployments",
    "failureThreshold",
];

fn invalid(name: &str, why: impl std::fmt::Display) -> ArmError {
    ArmError::bad_request(
        "InvalidRemediationRequest",
        format!("The remediation '{name}' request is invalid. {why}"),
    )
}

/// The settings a request gives, validated and with defaults applied.
fn settings(name: &str, props: &Map<String, Value>) -> Result<Map<String, Value>, ArmError> {
    let mut out = Map::new();
    let assignment = props
        .get("policyAssignmentId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(name, "The policy assignment ID is required."))?;
    out.insert("policyAssignmentId".to_owned(), json!(assignment));
    if let Some(r) = props
        .get("policyDefinitionReferenceId")
        .filter(|v| !v.is_null())
    {
        if !r.is_string() {
            return Err(invalid(
                name,
                "The policy definition reference ID must be a string.",
            ));
        }
        out.insert("policyDefinitionReferenceId".to_owned(), r.clone());
    }
    let mode = match props.get("resourceDiscoveryMode") {
        None | Some(Value::Null) => "ExistingNonCompliant",
        Some(Value::String(s)) if s.eq_ignore_ascii_case("ExistingNonCompliant") => {
            "ExistingNonCompliant"
        }
        Some(Value::String(s)) if s.eq_ignore_ascii_case("ReEvaluateCompliance") => {
            "ReEvaluateCompliance"
        }
        Some(other) => {
            return Err(ArmError::InvalidRequestContent(format!(
                "Error converting value {other} to type 'ResourceDiscoveryMode'. Allowed values: ExistingNonCompliant, ReEvaluateCompliance."
            )));
        }
    };
    out.insert("resourceDiscoveryMode".to_owned(), json!(mode));
    if let Some(f) = props.get("filters").filter(|v| !v.is_null()) {
        let ok = f.get("locations").is_none_or(|l| {
            l.is_null() || l.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        });
        if !f.is_object() || !ok {
            return Err(invalid(
                name,
                "'filters.locations' must be an array of locations.",
            ));
        }
        out.insert("filters".to_owned(), f.clone());
    }
    for (key, min, max) in [("resourceCount", 1, 50_000), ("parallelDeployments", 1, 30)] {
        match props.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_i64() {
                Some(n) if (min..=max).contains(&n) => {
                    out.insert(key.to_owned(), json!(n));
                }
                _ => {
                    return Err(invalid(
                        name,
                        format!("'{key}' must be an integer from {min} to {max}."),
                    ));
                }
            },
        }
    }
    if let Some(t) = props.get("failureThreshold").filter(|v| !v.is_null()) {
        match t.get("percentage").and_then(Value::as_f64) {
            Some(p) if (0.0..=1.0).contains(&p) => {
                out.insert("failureThreshold".to_owned(), json!({ "percentage": p }));
            }
            _ => {
                return Err(invalid(
                    name,
                    "'failureThreshold.percentage' must be a number from 0.0 to 1.0.",
                ));
            }
        }
    }
    Ok(out)
}

fn same_settings(a: &Map<String, Value>, existing: &Value) -> bool {
    SETTINGS.iter().all(|k| {
        let e = existing.pointer(&format!("/properties/{k}"));
        match (a.get(*k), e) {
            (None, None) => true,
            (Some(Value::String(x)), Some(Value::String(y))) => x.eq_ignore_ascii_case(y),
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    })
}

/// Validates a PUT; a new task starts now with the runtime's scenario.
fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let name = &ctx.resource.name;
    let props = ctx
        .body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ArmError::InvalidRequestContent("The 'properties' property is required.".into())
        })?;
    let settings = settings(name, props)?;
    if let Some(existing) = ctx.existing {
        if same_settings(&settings, existing) {
            return Ok(PutOutcome {
                body: existing.clone(),
                status: StatusCode::OK,
            });
        }
        return Err(invalid(
            name,
            "The remediation has already started: its settings cannot be changed. Create a new remediation instead.",
        ));
    }
    let rt = ctx.runtime;
    let limit = settings
        .get("resourceCount")
        .and_then(Value::as_u64)
        .unwrap_or(500);
    let total = u64::from(rt.remediation_resources).min(limit);
    let failed = ((total as f64) * rt.remediation_failures).round() as u64;
    let now = rfc3339(SystemTime::now());
    let mut p = settings;
    p.insert("provisioningState".to_owned(), json!("Accepted"));
    p.insert("createdOn".to_owned(), json!(now));
    p.insert("lastUpdatedOn".to_owned(), json!(now));
    p.insert(
        "deploymentStatus".to_owned(),
        json!({"totalDeployments": total, "successfulDeployments": 0, "failedDeployments": 0}),
    );
    p.insert("correlationId".to_owned(), json!(new_guid()));
    Ok(PutOutcome {
        body: json!({
            "properties": p,
            "id": ctx.resource.id,
            "name": name,
            "type": SPEC.full_type,
            INTERNAL: {"stepMs": rt.remediation_step_ms, "failed": failed.min(total)},
        }),
        status: StatusCode::CREATED,
    })
}

fn parse_time(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// Where a task stands at a moment.
#[derive(Clone, Debug, PartialEq)]
struct Progress {
    state: &'static str,
    total: u64,
    succeeded: u64,
    failed: u64,
    /// Deployments started but not finished.
    running: u64,
    last_updated: SystemTime,
}

fn progress(body: &Value, now: SystemTime) -> Progress {
    let p = &body["properties"];
    let created = p["createdOn"].as_str().and_then(parse_time).unwrap_or(now);
    let step = Duration::from_millis(body[INTERNAL]["stepMs"].as_u64().unwrap_or(0));
    let total = p["deploymentStatus"]["totalDeployments"]
        .as_u64()
        .unwrap_or(0);
    let failed_total = body[INTERNAL]["failed"].as_u64().unwrap_or(0).min(total);
    let parallel = p["parallelDeployments"].as_u64().unwrap_or(10).max(1);
    let cancelled = body[INTERNAL]["cancelledAt"].as_str().and_then(parse_time);
    let at = cancelled.unwrap_or(now);
    let elapsed = at.duration_since(created).unwrap_or_default();
    let (mut state, done, running) = if elapsed < step {
        ("Accepted", 0, 0)
    } else if elapsed < step * 2 {
        let fraction = (elapsed - step).as_secs_f64() / step.as_secs_f64().max(f64::EPSILON);
        let done = ((total as f64) * fraction).floor() as u64;
        (
            "Evaluating",
            done.min(total),
            (total - done.min(total)).min(parallel),
        )
    } else {
        ("", total, 0)
    };
    let ok_total = total - failed_total;
    let succeeded = done.min(ok_total);
    let failed = done.saturating_sub(ok_total);
    let mut last_updated = created + elapsed.min(step * 2);
    if state.is_empty() {
        let threshold = p["failureThreshold"]["percentage"].as_f64().unwrap_or(1.0);
        let share = if total == 0 {
            0.0
        } else {
            failed as f64 / total as f64
        };
        state = if failed > 0 && (failed == total || share > threshold) {
            "Failed"
        } else {
            "Succeeded"
        };
    }
    let mut running = running;
    if let Some(c) = cancelled {
        let cancelling = now.duration_since(c).unwrap_or_default() < step;
        state = if cancelling { "Cancelling" } else { "Canceled" };
        running = 0;
        last_updated = if cancelling { c } else { c + step };
    }
    Progress {
        state,
        total,
        succeeded,
        failed,
        running,
        last_updated,
    }
}

fn is_terminal(state: &str) -> bool {
    matches!(state, "Succeeded" | "Failed" | "Canceled")
}

/// The task as clients see it now.
fn view(mut body: Value, now: SystemTime) -> Value {
    if body.get(INTERNAL).is_none() {
        return body;
    }
    let pr = progress(&body, now);
    if let Some(o) = body.as_object_mut() {
        o.remove(INTERNAL);
    }
    let p = &mut body["properties"];
    p["provisioningState"] = json!(pr.state);
    p["lastUpdatedOn"] = json!(rfc3339(pr.last_updated));
    p["deploymentStatus"] = json!({
        "totalDeployments": pr.total,
        "successfulDeployments": pr.succeeded,
        "failedDeployments": pr.failed,
    });
    body
}

/// The handler: every verb.
pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    let now = SystemTime::now();
    match req.verb {
        Verb::List => {
            let filter = Filter::parse(req.query)?;
            let items = req
                .state
                .store
                .children(&req.collection_id)
                .into_iter()
                .map(|s| view(s.body, now))
                .filter(|b| match &filter.eq {
                    None => true,
                    Some((field, value)) => {
                        let key = match field.as_str() {
                            "policyassignmentid" => "policyAssignmentId",
                            "policydefinitionreferenceid" => "policyDefinitionReferenceId",
                            _ => return false,
                        };
                        b["properties"][key]
                            .as_str()
                            .is_some_and(|v| v.eq_ignore_ascii_case(value))
                    }
                })
                .collect();
            scope_tree::page(req, items)
        }
        Verb::Get => scope_tree::get_stored_as(req, scope_tree::not_found, |body| view(body, now)),
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            let outcome = scope_tree::run_put(req, resource, put)?;
            if outcome.status == StatusCode::CREATED {
                check_assignment(req.state, &resource.name, &outcome.body)?;
            }
            let answer = view(outcome.body.clone(), now);
            Ok(scope_tree::store(
                req,
                resource,
                outcome.body,
                answer,
                outcome.status,
            ))
        }
        Verb::Delete => {
            scope_tree::delete_stored_as(req, |body| Json(view(body, now)).into_response())
        }
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

/// The assignment exists, and a task for an initiative names one of its members.
fn check_assignment(state: &EmulatorState, name: &str, body: &Value) -> Result<(), ArmError> {
    let p = &body["properties"];
    let assignment_id = p["policyAssignmentId"].as_str().unwrap_or_default();
    let assignment = state.store.get(assignment_id).ok_or_else(|| {
        ArmError::custom(
            StatusCode::NOT_FOUND,
            "PolicyAssignmentNotFound",
            format!("The policy assignment '{assignment_id}' is not found."),
        )
    })?;
    let definition_id = assignment
        .body
        .pointer("/properties/policyDefinitionId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reference = p["policyDefinitionReferenceId"].as_str();
    if let Some((Kind::Set, set)) = policy_definitions::resolve(state, definition_id) {
        let Some(reference) = reference else {
            return Err(invalid(
                name,
                "A policy definition reference ID is required to remediate a policy set assignment.",
            ));
        };
        let members = set
            .pointer("/properties/policyDefinitions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !members.iter().any(|m| {
            m["policyDefinitionReferenceId"]
                .as_str()
                .is_some_and(|r| r.eq_ignore_ascii_case(reference))
        }) {
            return Err(invalid(
                name,
                format!(
                    "The policy definition reference ID '{reference}' is not part of the policy set definition '{definition_id}'."
                ),
            ));
        }
    }
    Ok(())
}

/// The definition a task remediates (the member for an initiative).
fn remediated_definition(state: &EmulatorState, body: &Value) -> Option<Value> {
    let assignment_id = body.pointer("/properties/policyAssignmentId")?.as_str()?;
    let assignment = state.store.get(assignment_id)?;
    let definition_id = assignment
        .body
        .pointer("/properties/policyDefinitionId")?
        .as_str()?;
    match policy_definitions::resolve(state, definition_id)? {
        (Kind::Definition, d) => Some(d),
        (Kind::Set, set) => {
            let reference = body
                .pointer("/properties/policyDefinitionReferenceId")?
                .as_str()?;
            let member = set
                .pointer("/properties/policyDefinitions")?
                .as_array()?
                .iter()
                .find(|m| {
                    m["policyDefinitionReferenceId"]
                        .as_str()
                        .is_some_and(|r| r.eq_ignore_ascii_case(reference))
                })?
                .clone();
            policy_definitions::resolve(state, member["policyDefinitionId"].as_str()?)
                .map(|(_, d)| d)
        }
    }
}

/// The deployments of a task so far.
fn deployments(state: &EmulatorState, body: &Value, now: SystemTime) -> Vec<Value> {
    let pr = progress(body, now);
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let scope = scope_tree::scope_of(&id);
    let parsed = crate::arm::path::parse(&id);
    let subscription = parsed
        .as_ref()
        .and_then(|p| p.subscription.clone())
        .unwrap_or_else(|| {
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, scope.as_bytes()).to_string()
        });
    let resource_group = parsed
        .as_ref()
        .and_then(|p| p.resource_group.clone())
        .unwrap_or_else(|| "rg-remediation".to_owned());
    let target = remediated_definition(state, body)
        .and_then(|d| policy_definitions::target_type(&d))
        .unwrap_or_else(|| "Microsoft.Compute/virtualMachines".to_owned());
    let short = target
        .rsplit('/')
        .next()
        .unwrap_or("resource")
        .to_ascii_lowercase();
    let locations: Vec<String> = body
        .pointer("/properties/filters/locations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .filter(|l: &Vec<String>| !l.is_empty())
        .unwrap_or_else(|| vec!["eastus".to_owned()]);
    let created = body["properties"]["createdOn"].clone();
    let ok_total = pr.total - body[INTERNAL]["failed"].as_u64().unwrap_or(0).min(pr.total);
    let done = pr.succeeded + pr.failed;
    (0..(done + pr.running).min(pr.total))
        .map(|i| {
            let resource = if parsed.as_ref().is_some_and(|p| p.scope == ScopeKind::Resource) {
                scope.clone()
            } else {
                format!(
                    "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{target}/{short}-{i}"
                )
            };
            let deployment = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("{}#{i}", id.to_ascii_lowercase()).as_bytes(),
            );
            let status = if i >= done {
                "Running"
            } else if i >= ok_total {
                "Failed"
            } else {
                "Succeeded"
            };
            let mut d = json!({
                "remediatedResourceId": resource,
                "deploymentId": format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Resources/deployments/{deployment}"),
                "status": status,
                "resourceLocation": locations[(i as usize) % locations.len()],
                "createdOn": created,
                "lastUpdatedOn": rfc3339(pr.last_updated),
            });
            if status == "Failed" {
                d["error"] = json!({
                    "code": "DeploymentFailed",
                    "message": "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
                });
            }
            d
        })
        .collect()
}

/// `POST {task}/cancel`.
pub fn cancel(req: ActionRequest<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let now = SystemTime::now();
        let mut body = scope_tree::find_stored(req.state, &req.resource)?.body;
        let pr = progress(&body, now);
        if is_terminal(pr.state) || pr.state == "Cancelling" {
            return Err(ArmError::bad_request(
                "InvalidCancelRequest",
                format!(
                    "The remediation '{}' is in state '{}' and cannot be canceled.",
                    req.resource.name, pr.state
                ),
            ));
        }
        if let Some(internal) = body.get_mut(INTERNAL) {
            internal["cancelledAt"] = json!(rfc3339(now));
        }
        req.state.store.put(&req.resource.id, body.clone());
        req.state.store.save_or_log();
        Ok(Json(view(body, now)).into_response())
    })
}

/// `POST {task}/listDeployments`.
pub fn list_deployments(req: ActionRequest<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let stored = scope_tree::find_stored(req.state, &req.resource)?;
        let items = deployments(req.state, &stored.body, SystemTime::now());
        let body = crate::arm::paging::page(
            items,
            req.query,
            req.state.runtime().page_size,
            &req.state.base_url,
            req.path,
        )?;
        Ok(Json(body).into_response())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    fn start(failures: f64, resources: u32, extra: Value) -> Value {
        let runtime = Config {
            remediation_failures: failures,
            remediation_resources: resources,
            remediation_step_ms: 1_000,
            ..Config::default()
        }
        .runtime();
        let r = ResourceRef {
            id: "/subscriptions/s/providers/Microsoft.PolicyInsights/remediations/r1".into(),
            name: "r1".into(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s".into(),
            subscription: Some("s".into()),
            resource_group: None,
        };
        let mut props = json!({"policyAssignmentId": "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a"});
        if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        put(&PutContext {
            resource: &r,
            api_version: "2021-10-01",
            body: json!({ "properties": props }),
            existing: None,
            runtime: &runtime,
        })
        .unwrap()
        .body
    }

    fn at(body: &Value, ms: u64) -> Value {
        let created = parse_time(body["properties"]["createdOn"].as_str().unwrap()).unwrap();
        view(body.clone(), created + Duration::from_millis(ms))
    }

    #[test]
    fn runs_accepted_evaluating_succeeded() {
        let body = start(0.0, 4, json!({}));
        let a = at(&body, 10);
        assert_eq!(a["properties"]["provisioningState"], "Accepted");
        assert_eq!(
            a["properties"]["deploymentStatus"],
            json!({"totalDeployments": 4, "successfulDeployments": 0, "failedDeployments": 0})
        );
        assert!(a.get(INTERNAL).is_none());
        let e = at(&body, 1_500);
        assert_eq!(e["properties"]["provisioningState"], "Evaluating");
        assert_eq!(
            e["properties"]["deploymentStatus"]["successfulDeployments"],
            2
        );
        let s = at(&body, 2_000);
        assert_eq!(s["properties"]["provisioningState"], "Succeeded");
        assert_eq!(
            s["properties"]["deploymentStatus"]["successfulDeployments"],
            4
        );
        assert_eq!(
            s["properties"]["resourceDiscoveryMode"],
            "ExistingNonCompliant"
        );
    }

    #[test]
    fn failures_and_thresholds() {
        // Half of four fail: above a 10% threshold the task fails.
        let body = start(0.5, 4, json!({"failureThreshold": {"percentage": 0.1}}));
        let f = at(&body, 5_000);
        assert_eq!(f["properties"]["provisioningState"], "Failed");
        assert_eq!(f["properties"]["deploymentStatus"]["failedDeployments"], 2);
        // Without a threshold (100%) it succeeds with failed deployments counted.
        let body = start(0.5, 4, json!({}));
        let s = at(&body, 5_000);
        assert_eq!(s["properties"]["provisioningState"], "Succeeded");
        assert_eq!(s["properties"]["deploymentStatus"]["failedDeployments"], 2);
        // All failed: failed.
        let body = start(1.0, 2, json!({}));
        assert_eq!(
            at(&body, 5_000)["properties"]["provisioningState"],
            "Failed"
        );
        // resourceCount caps the total.
        let body = start(0.0, 10, json!({"resourceCount": 3}));
        assert_eq!(
            at(&body, 0)["properties"]["deploymentStatus"]["totalDeployments"],
            3
        );
    }

    #[test]
    fn cancelling_freezes_progress() {
        let mut body = start(0.0, 4, json!({}));
        let created = parse_time(body["properties"]["createdOn"].as_str().unwrap()).unwrap();
        body[INTERNAL]["cancelledAt"] = json!(rfc3339(created + Duration::from_millis(1_500)));
        let c = view(body.clone(), created + Duration::from_millis(1_600));
        assert_eq!(c["properties"]["provisioningState"], "Cancelling");
        let d = view(body, created + Duration::from_millis(9_000));
        assert_eq!(d["properties"]["provisioningState"], "Canceled");
        assert_eq!(
            d["properties"]["deploymentStatus"]["successfulDeployments"],
            2
        );
    }

    #[test]
    fn settings_are_validated() {
        let props = |v: Value| v.as_object().cloned().unwrap();
        for bad in [
            json!({}),
            json!({"policyAssignmentId": "/a", "parallelDeployments": 31}),
            json!({"policyAssignmentId": "/a", "resourceCount": 0}),
            json!({"policyAssignmentId": "/a", "failureThreshold": {"percentage": 1.5}}),
            json!({"policyAssignmentId": "/a", "filters": {"locations": "eastus"}}),
        ] {
            assert!(settings("r", &props(bad.clone())).is_err(), "{bad}");
        }
        assert!(
            settings(
                "r",
                &props(json!({"policyAssignmentId": "/a", "resourceDiscoveryMode": "x"}))
            )
            .is_err()
        );
        let s = settings(
            "r",
            &props(json!({"policyAssignmentId": "/a", "resourceDiscoveryMode": "reevaluatecompliance"})),
        )
        .unwrap();
        assert_eq!(s["resourceDiscoveryMode"], "ReEvaluateCompliance");
    }
}
