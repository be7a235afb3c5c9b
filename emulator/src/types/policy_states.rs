//! `Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation` (an on-demand compliance
//! evaluation scan of a subscription or resource group) and the `asyncOperationResults` URL
//! it answers with.
//!
//! UNVERIFIED: arm-api.md and the rest-api-examples have no policyStates section or example.
//! Modelled on Azure Policy's documented behaviour ("Get compliance data", on-demand
//! evaluation scan, api-version 2019-10-01): `POST {scope}/providers/Microsoft.PolicyInsights/
//! policyStates/latest/triggerEvaluation` answers **202** with no body and a `Location` header
//! `…/subscriptions/{sub}/providers/Microsoft.PolicyInsights/asyncOperationResults/{id}`;
//! a GET of that URL answers 202 while the scan runs and **200** `{"status":"Succeeded"}`
//! when it is done (arm-api.md 13.4's `Location` pattern). The emulator finishes a scan on its
//! third observation (two 202s), so clients exercise their polling without timers; a `Retry-After`
//! of 1 s is sent with each 202 (arm-api.md 13.4: integer seconds).
//!
//! Only `policyStates/latest` exists (the other `policyStatesResource` value,
//! `default`, is for queries); other verbs on it answer 405.

use std::time::SystemTime;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::actions::ActionRequest;
use super::{HandlerFuture, Request, TypeSpec, Verb, operations, scope_tree};
use crate::arm::path::ScopeKind;
use crate::state::EmulatorState;
use crate::util::{new_guid, rfc3339};

/// The api-version Azure Policy documents for triggerEvaluation.
pub const API_VERSIONS: &[&str] = &["2019-10-01"];

/// `{scope}/providers/Microsoft.PolicyInsights/policyStates/latest`: only its
/// `triggerEvaluation` action is served.
pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.PolicyInsights",
    type_name: "policyStates",
    full_type: "Microsoft.PolicyInsights/policyStates",
    scopes: &[ScopeKind::Subscription, ScopeKind::ResourceGroup],
    api_versions: API_VERSIONS,
    verbs: &[],
    singleton_names: &["latest"],
    default_body: super::no_default,
    put: super::no_put,
};

/// `/subscriptions/{sub}/providers/Microsoft.PolicyInsights/asyncOperationResults/{id}`.
pub static OPERATION_RESULTS: TypeSpec = TypeSpec {
    namespace: "Microsoft.PolicyInsights",
    type_name: "asyncOperationResults",
    full_type: "Microsoft.PolicyInsights/asyncOperationResults",
    scopes: &[ScopeKind::Subscription],
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get],
    singleton_names: &[],
    default_body: super::no_default,
    put: super::no_put,
};

/// How many observations of a scan answer 202 before it is done.
const IN_PROGRESS_OBSERVATIONS: u64 = 2;

fn accepted(state: &EmulatorState, operation_id: &str, api_version: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let headers = response.headers_mut();
    if let Some(v) = operations::url(state, operation_id, api_version) {
        headers.insert("location", v);
    }
    headers.insert("retry-after", HeaderValue::from_static("1"));
    response
}

/// `POST {scope}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation`.
pub fn trigger_evaluation(req: ActionRequest<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        if !req.resource.name.eq_ignore_ascii_case("latest") {
            return Err(scope_tree::not_found(&req.resource));
        }
        let sub = req.resource.subscription.clone().unwrap_or_default();
        let operation_id = format!(
            "/subscriptions/{sub}/providers/Microsoft.PolicyInsights/asyncOperationResults/{}",
            new_guid()
        );
        req.state.store.put(
            &operation_id,
            json!({
                "status": "InProgress",
                "startTime": rfc3339(SystemTime::now()),
                "_emulator": {
                    "scope": req.resource.scope_id,
                    "observationsLeft": IN_PROGRESS_OBSERVATIONS,
                },
            }),
        );
        req.state.store.save_or_log();
        Ok(accepted(req.state, &operation_id, req.api_version))
    })
}

/// `GET …/asyncOperationResults/{id}`: 202 while the scan runs, then 200.
pub fn handle_operation_result(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let resource = scope_tree::resource(&req)?;
        let stored = scope_tree::find_stored(req.state, resource)?;
        let record = operations::observe(req.state, &stored.id, stored.body, |_| {});
        if record["status"] == "InProgress" {
            return Ok(accepted(req.state, &resource.id, req.api_version));
        }
        Ok(Json(json!({ "status": record["status"] })).into_response())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_at_subscription_and_resource_group() {
        assert!(SPEC.scopes.contains(&ScopeKind::ResourceGroup));
        assert_eq!(SPEC.singleton_name("LATEST"), Some("latest"));
        assert!(OPERATION_RESULTS.allows(Verb::Get));
        assert!(!SPEC.allows(Verb::Get));
    }
}
