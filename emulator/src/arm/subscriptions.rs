//! The few Microsoft.Resources answers clients ask for before touching resources:
//! `GET /subscriptions`, `GET /subscriptions/{sub}`, and resource provider registration
//! (`GET /subscriptions/{sub}/providers[/{ns}]`, `POST .../providers/{ns}/register`), which
//! azurerm-style clients check at start-up. Every provider the emulator serves is
//! `Registered`.

use axum::Json;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::path::ArmPath;
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::types::{self, TYPES};

const SUBSCRIPTION_API_VERSIONS: &[&str] = &[
    "2024-11-01",
    "2022-12-01",
    "2021-01-01",
    "2020-01-01",
    "2019-11-01",
    "2019-06-01",
    "2018-06-01",
    "2016-06-01",
];

const PROVIDER_API_VERSIONS: &[&str] = &[
    "2025-04-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-09-01",
    "2021-04-01",
    "2021-01-01",
    "2020-06-01",
    "2019-10-01",
    "2019-05-01",
    "2018-05-01",
    "2016-09-01",
];

fn check_version(version: &str, supported: &[&str]) -> Result<(), ArmError> {
    if supported.iter().any(|v| v.eq_ignore_ascii_case(version)) {
        Ok(())
    } else {
        Err(ArmError::InvalidApiVersion {
            given: version.to_owned(),
            supported: supported.join(","),
        })
    }
}

fn not_served(path: &ArmPath, api_version: &str) -> ArmError {
    ArmError::InvalidResourceType {
        resource_type: path.segments.get(2).cloned().unwrap_or_default(),
        namespace: "Microsoft.Resources".to_owned(),
        api_version: api_version.to_owned(),
    }
}

fn method_not_allowed(method: &Method, allow: &[&str]) -> ArmError {
    ArmError::MethodNotAllowed {
        method: method.to_string(),
        allow: allow.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn subscription_body(state: &EmulatorState, sub: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub,
        "tenantId": state.tenant_id,
        "displayName": format!("ARM emulator {sub}"),
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    })
}

/// Answers paths with no provider part: `/subscriptions`, `/subscriptions/{sub}`,
/// `/subscriptions/{sub}/providers`.
pub fn handle(
    state: &EmulatorState,
    method: &Method,
    path: &ArmPath,
    api_version: &str,
) -> Result<Response, ArmError> {
    match path.segments.len() {
        1 => {
            check_version(api_version, SUBSCRIPTION_API_VERSIONS)?;
            if method != Method::GET {
                return Err(method_not_allowed(method, &["GET"]));
            }
            let subs = if state.subscriptions.is_empty() {
                state.store.subscriptions()
            } else {
                state.subscriptions.clone()
            };
            let value: Vec<Value> = subs.iter().map(|s| subscription_body(state, s)).collect();
            let count = value.len();
            Ok(
                Json(json!({ "value": value, "count": { "type": "Total", "value": count } }))
                    .into_response(),
            )
        }
        2 => {
            check_version(api_version, SUBSCRIPTION_API_VERSIONS)?;
            if method != Method::GET {
                return Err(method_not_allowed(method, &["GET"]));
            }
            let sub = path.subscription.as_deref().unwrap_or_default();
            Ok(Json(subscription_body(state, sub)).into_response())
        }
        3 if path.segments[2].eq_ignore_ascii_case("providers") => {
            check_version(api_version, PROVIDER_API_VERSIONS)?;
            if method != Method::GET {
                return Err(method_not_allowed(method, &["GET"]));
            }
            let sub = path.subscription.as_deref().unwrap_or_default();
            let mut namespaces: Vec<&str> = TYPES.iter().map(|t| t.namespace).collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            let value: Vec<Value> = namespaces
                .into_iter()
                .map(|ns| provider_body(sub, ns))
                .collect();
            Ok(Json(json!({ "value": value })).into_response())
        }
        _ => Err(not_served(path, api_version)),
    }
}

/// `GET /subscriptions/{sub}/providers/{ns}` and `POST .../{ns}/register`.
pub fn provider(
    method: &Method,
    path: &ArmPath,
    namespace: &str,
    action: Option<&str>,
    api_version: &str,
) -> Result<Response, ArmError> {
    check_version(api_version, PROVIDER_API_VERSIONS)?;
    if !types::namespace_known(namespace) {
        return Err(ArmError::InvalidResourceNamespace(namespace.to_owned()));
    }
    let sub = path.subscription.as_deref().unwrap_or_default();
    match (method, action) {
        (&Method::GET, None) => Ok(Json(provider_body(sub, namespace)).into_response()),
        (&Method::POST, Some(a)) if a.eq_ignore_ascii_case("register") => {
            Ok(Json(provider_body(sub, namespace)).into_response())
        }
        (_, None) => Err(method_not_allowed(method, &["GET"])),
        (_, Some(_)) => Err(method_not_allowed(method, &["POST"])),
    }
}

fn provider_body(sub: &str, namespace: &str) -> Value {
    let canonical = TYPES
        .iter()
        .find(|t| t.namespace.eq_ignore_ascii_case(namespace))
        .map(|t| t.namespace)
        .unwrap_or(namespace);
    let resource_types: Vec<Value> = TYPES
        .iter()
        .filter(|t| t.namespace.eq_ignore_ascii_case(namespace))
        .map(|t| {
            json!({
                "resourceType": t.type_name,
                "locations": [],
                "apiVersions": t.api_versions,
                "capabilities": "None",
            })
        })
        .collect();
    json!({
        "id": format!("/subscriptions/{sub}/providers/{canonical}"),
        "namespace": canonical,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": resource_types,
    })
}
