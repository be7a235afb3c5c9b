//! `Microsoft.Authorization/policyAssignments` (arm-api.md 7; examples in
//! `Microsoft.Authorization/2024-04-01/`), api-versions 2025-03-01, 2024-04-01, 2023-04-01
//! and 2022-06-01 (azurerm's).
//!
//! - Every scope: management group, subscription, resource group, resource. LIST answers
//!   `$filter=atScope()` (the scope and above), `atExactScope()`, no filter (above, at and
//!   below) and `policyDefinitionId eq '{id}'`.
//! - PUT answers 201 with the body, create or update (the only success code in the spec);
//!   GET 200; DELETE 200 with the deleted body, 204 when there was none. Missing: 404
//!   `PolicyAssignmentNotFound` "The policy assignment '{name}' is not found." [3p].
//! - Names (arm-api.md 7.3): 1-64 characters, 24 at management-group scope, none of
//!   `<>*%&:\?.+/` or control characters, not ending in `.` or a space; otherwise 400
//!   `InvalidPolicyAssignmentName` with ARM's wording for the length [3p azure-cli#10176].
//! - The definition must exist (built-in or custom): 404 `PolicyDefinitionNotFound`.
//!   Parameters are checked against it: undefined names answer `UndefinedPolicyParameter`
//!   "The policy assignment '{name}' has the parameter(s) '{p}' which are not defined in the
//!   policy definition '{definition}'." [3p ALZ-Bicep#585]; missing required ones, wrong
//!   types and values outside `allowedValues` answer 400 too (codes UNVERIFIED).
//! - Identity: `SystemAssigned` gets a new `principalId`/`tenantId` (kept across updates),
//!   whose service principal appears in the directory now (replication, see
//!   `crate::directory`); `UserAssigned` takes exactly one identity and echoes it with
//!   `principalId`/`clientId`. An identity needs `location` (not `global`), which cannot
//!   change afterwards: 400 `InvalidLocationUpdate` "The existing assignment location cannot
//!   be changed from "{old}" to "{new}"." [3p EPAC#246]. A DeployIfNotExists or Modify
//!   assignment without an identity answers 400 `ResourceIdentityRequired` [3p
//!   azure-cli#13150].
//! - ARM adds `notScopes: []`, `enforcementMode: Default`, `scope`, `metadata.createdOn` /
//!   `updatedOn`, `createdBy` / `updatedBy` (the callers' object IDs) and (2025-03-01)
//!   `instanceId`.
//! - DELETE removes a system-assigned identity's service principal; role assignments made
//!   for it stay behind, as in Azure, which is why clients remove them first.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::policy_definitions::{self, Kind};
use super::scope_tree::{self, canonical_scope};
use super::{HandlerFuture, PutContext, PutOutcome, Request, ResourceRef, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::directory::Replication;
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::{new_guid, rfc3339};

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Authorization",
    type_name: "policyAssignments",
    full_type: "Microsoft.Authorization/policyAssignments",
    scopes: &[
        ScopeKind::ManagementGroup,
        ScopeKind::Subscription,
        ScopeKind::ResourceGroup,
        ScopeKind::Resource,
    ],
    api_versions: &["2025-03-01", "2024-04-01", "2023-04-01", "2022-06-01"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Patch, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put,
};

/// Characters ARM refuses in assignment names (arm-api.md 7.3).
const FORBIDDEN: &[char] = &['<', '>', '*', '%', '&', ':', '\\', '?', '.', '+', '/'];

/// The longest name at a scope.
pub fn max_name_len(scope: ScopeKind) -> usize {
    if scope == ScopeKind::ManagementGroup {
        24
    } else {
        64
    }
}

/// ARM's name rules for a policy assignment at a scope.
pub fn check_name(name: &str, scope: ScopeKind) -> Result<(), ArmError> {
    let max = max_name_len(scope);
    let invalid = |why: String| {
        ArmError::bad_request(
            "InvalidPolicyAssignmentName",
            format!("The policy assignment name '{name}' is invalid. {why}"),
        )
    };
    if name.is_empty() {
        return Err(invalid(
            "The policy assignment name must not be empty.".into(),
        ));
    }
    if name.chars().count() > max {
        return Err(invalid(format!(
            "The policy assignment name length must not exceed '{max}' characters."
        )));
    }
    if name
        .chars()
        .any(|c| FORBIDDEN.contains(&c) || c.is_control())
        || name.ends_with(' ')
    {
        return Err(invalid(
            "The policy assignment name cannot contain the characters '<>*%&:\\?.+/' or control characters, or end with a space."
                .into(),
        ));
    }
    Ok(())
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::InvalidRequestContent(message.into())
}

fn identity_error(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("InvalidPolicyAssignmentIdentity", message)
}

/// Normalised `location` for comparisons: ARM accepts "West Europe" and "westeurope".
fn location_key(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A user-assigned identity ID: `/subscriptions/{guid}/resourceGroups/{rg}/providers/
/// Microsoft.ManagedIdentity/userAssignedIdentities/{name}`.
fn is_uai_id(id: &str) -> bool {
    let segs: Vec<&str> = id.split('/').collect();
    segs.len() == 9
        && segs[0].is_empty()
        && segs[1].eq_ignore_ascii_case("subscriptions")
        && crate::util::is_guid(segs[2])
        && segs[3].eq_ignore_ascii_case("resourceGroups")
        && !segs[4].is_empty()
        && segs[5].eq_ignore_ascii_case("providers")
        && segs[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && segs[7].eq_ignore_ascii_case("userAssignedIdentities")
        && !segs[8].is_empty()
}

/// A stable object/client ID for a user-assigned identity (it existed before the emulator
/// saw it, so it is derived from its ID).
fn uai_ids(id: &str) -> (String, String) {
    let key = id.to_ascii_lowercase();
    let principal = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("principal:{key}").as_bytes(),
    );
    let client = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("client:{key}").as_bytes(),
    );
    (principal.to_string(), client.to_string())
}

/// Validates and normalises a PUT body (everything that needs no other resource).
fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let scope = scope_tree::scope_kind(&ctx.resource.scope_id).unwrap_or(ScopeKind::Subscription);
    check_name(&ctx.resource.name, scope)?;
    let props = ctx
        .body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("The 'properties' property is required."))?;
    let definition_id = props
        .get("policyDefinitionId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ArmError::bad_request(
                "InvalidCreatePolicyAssignmentRequest",
                format!(
                    "The policy assignment '{}' request is invalid. The policy definition ID is required.",
                    ctx.resource.name
                ),
            )
        })?;
    let mut out = Map::new();
    for (key, max) in [("displayName", 128usize), ("description", 512)] {
        match props.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= max => {
                out.insert(key.to_owned(), json!(s));
            }
            Some(Value::String(_)) => {
                return Err(bad(format!(
                    "The '{key}' of a policy assignment must not exceed {max} characters."
                )));
            }
            Some(other) => {
                return Err(bad(format!(
                    "The value {other} of '{key}' is not a string."
                )));
            }
        }
    }
    let now = rfc3339(SystemTime::now());
    let mut metadata = match props.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad("The 'metadata' property must be an object.")),
    };
    let prior = ctx.existing;
    let created_on = prior
        .and_then(|e| e.pointer("/properties/metadata/createdOn"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    metadata.insert("createdOn".to_owned(), created_on);
    metadata.insert("updatedOn".to_owned(), json!(now));
    out.insert("metadata".to_owned(), Value::Object(metadata));
    out.insert("policyDefinitionId".to_owned(), json!(definition_id));
    if let Some(v) = props.get("definitionVersion").filter(|v| !v.is_null()) {
        out.insert("definitionVersion".to_owned(), v.clone());
    }
    let not_scopes = match props.get("notScopes") {
        None | Some(Value::Null) => json!([]),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => Value::Array(a.clone()),
        Some(_) => {
            return Err(bad(
                "The 'notScopes' property must be an array of scope IDs.",
            ));
        }
    };
    out.insert("notScopes".to_owned(), not_scopes);
    match props.get("parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            for (name, v) in p {
                if v.get("value").is_none() {
                    return Err(bad(format!(
                        "The parameter '{name}' must be an object with a 'value' property."
                    )));
                }
            }
            out.insert("parameters".to_owned(), Value::Object(p.clone()));
        }
        Some(_) => return Err(bad("The 'parameters' property must be an object.")),
    }
    let mut modes = vec!["Default", "DoNotEnforce"];
    if ctx.api_version >= "2025-03-01" {
        modes.push("Enroll");
    }
    let mode = match props.get("enforcementMode") {
        None | Some(Value::Null) => "Default",
        Some(Value::String(s)) => modes
            .iter()
            .copied()
            .find(|m| m.eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                bad(format!(
                    "Error converting value \"{s}\" to type 'EnforcementMode'. Allowed values: {}.",
                    modes.join(", ")
                ))
            })?,
        Some(other) => {
            return Err(bad(format!(
                "The value {other} of 'enforcementMode' is not valid."
            )));
        }
    };
    out.insert("enforcementMode".to_owned(), json!(mode));
    out.insert(
        "scope".to_owned(),
        json!(canonical_scope(&ctx.resource.scope_id)),
    );
    match props.get("nonComplianceMessages") {
        None | Some(Value::Null) => {}
        Some(Value::Array(msgs)) => {
            for m in msgs {
                let message = m.get("message").and_then(Value::as_str).unwrap_or_default();
                if message.is_empty() {
                    return Err(bad(
                        "Every non-compliance message needs a non-empty 'message'.",
                    ));
                }
            }
            out.insert(
                "nonComplianceMessages".to_owned(),
                Value::Array(msgs.clone()),
            );
        }
        Some(_) => {
            return Err(bad(
                "The 'nonComplianceMessages' property must be an array.",
            ));
        }
    }
    for key in ["resourceSelectors", "overrides", "assignmentType"] {
        if let Some(v) = props.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    let instance_id = prior
        .and_then(|e| e.pointer("/properties/instanceId"))
        .cloned()
        .unwrap_or_else(|| json!(new_guid()));
    out.insert("instanceId".to_owned(), instance_id);

    let mut body = Map::new();
    body.insert("properties".to_owned(), Value::Object(out));
    let identity = identity_of(&ctx.body)?;
    let location = match ctx.body.get("location") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if !l.trim().is_empty() => Some(l.clone()),
        Some(_) => return Err(bad("The 'location' property must be a region name.")),
    };
    if let Some(id) = &identity {
        let Some(l) = &location else {
            return Err(ArmError::bad_request(
                "LocationRequired",
                format!(
                    "The policy assignment '{}' request is invalid. The location is required when a managed identity is assigned.",
                    ctx.resource.name
                ),
            ));
        };
        if location_key(l) == "global" {
            return Err(ArmError::bad_request(
                "InvalidLocation",
                format!(
                    "The location 'global' is not valid for policy assignment '{}' with a managed identity. Use a region.",
                    ctx.resource.name
                ),
            ));
        }
        body.insert("identity".to_owned(), id.clone());
    }
    if let (Some(old), Some(new)) = (
        prior
            .and_then(|e| e.get("location"))
            .and_then(Value::as_str),
        location.as_deref(),
    ) && location_key(old) != location_key(new)
    {
        return Err(ArmError::bad_request(
            "InvalidLocationUpdate",
            format!(
                "The existing assignment location cannot be changed from \"{old}\" to \"{new}\"."
            ),
        ));
    }
    if let Some(l) = location {
        body.insert("location".to_owned(), json!(l));
    }
    body.insert("id".to_owned(), json!(ctx.resource.id));
    body.insert("type".to_owned(), json!(SPEC.full_type));
    body.insert("name".to_owned(), json!(ctx.resource.name));
    Ok(PutOutcome {
        body: Value::Object(body),
        status: StatusCode::CREATED,
    })
}

/// The request's identity, validated; `None` when absent or `None`. Principal IDs are
/// filled in by [`complete_identity`].
fn identity_of(body: &Value) -> Result<Option<Value>, ArmError> {
    let Some(identity) = body.get("identity").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let kind = identity
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            identity_error("The identity 'type' is required: SystemAssigned, UserAssigned or None.")
        })?;
    let uais = identity
        .get("userAssignedIdentities")
        .filter(|v| !v.is_null());
    if kind.eq_ignore_ascii_case("None") {
        return Ok(None);
    }
    if kind.eq_ignore_ascii_case("SystemAssigned") {
        if uais.is_some() {
            return Err(identity_error(
                "User-assigned identities can only be given with identity type 'UserAssigned'.",
            ));
        }
        return Ok(Some(json!({ "type": "SystemAssigned" })));
    }
    if !kind.eq_ignore_ascii_case("UserAssigned") {
        return Err(bad(format!(
            "Error converting value \"{kind}\" to type 'ResourceIdentityType'. Allowed values: SystemAssigned, UserAssigned, None."
        )));
    }
    let map = uais.and_then(Value::as_object).ok_or_else(|| {
        identity_error("Identity type 'UserAssigned' requires one user-assigned identity in 'userAssignedIdentities'.")
    })?;
    if map.len() != 1 {
        return Err(identity_error(format!(
            "A policy assignment can have exactly one user-assigned identity; {} were given.",
            map.len()
        )));
    }
    let id = map.keys().next().cloned().unwrap_or_default();
    if !is_uai_id(&id) {
        return Err(identity_error(format!(
            "'{id}' is not a user-assigned identity ID (/subscriptions/{{subscriptionId}}/resourceGroups/{{resourceGroup}}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}})."
        )));
    }
    Ok(Some(
        json!({ "type": "UserAssigned", "userAssignedIdentities": { id: {} } }),
    ))
}

/// Fills in principal IDs: a system-assigned identity keeps its principal across updates or
/// gets a new one that appears in the directory now; a user-assigned one gets its stable IDs.
fn complete_identity(state: &EmulatorState, body: &mut Value, prior: Option<&Value>, owner: &str) {
    let prior_principal = prior
        .and_then(|p| p.get("identity"))
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("SystemAssigned"))
        .and_then(|i| i.get("principalId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(identity) = body.get_mut("identity") else {
        if let Some(p) = prior_principal {
            state.directory.remove(&p);
        }
        return;
    };
    match identity.get("type").and_then(Value::as_str) {
        Some("SystemAssigned") => {
            let principal = match prior_principal {
                Some(p) => p,
                None => {
                    let p = new_guid();
                    state.directory.add_new(&p, owner);
                    p
                }
            };
            identity["principalId"] = json!(principal);
            identity["tenantId"] = json!(state.tenant_id);
        }
        Some("UserAssigned") => {
            if let Some(p) = prior_principal {
                state.directory.remove(&p);
            }
            if let Some(map) = identity
                .get_mut("userAssignedIdentities")
                .and_then(Value::as_object_mut)
            {
                for (id, v) in map.iter_mut() {
                    let (principal, client) = uai_ids(id);
                    state.directory.add_existing(&principal, id);
                    *v = json!({ "principalId": principal, "clientId": client });
                }
            }
        }
        _ => {}
    }
}

/// The effects a definition can take with these parameter values (lowercased).
fn effect_of(definition: &Value, values: &dyn Fn(&str) -> Option<Value>) -> Option<String> {
    let effect = definition
        .pointer("/properties/policyRule/then/effect")?
        .as_str()?;
    let resolved = match parameter_reference(effect) {
        Some(p) => values(&p)
            .or_else(|| default_of(definition, &p))
            .and_then(|v| v.as_str().map(str::to_owned))?,
        None => effect.to_owned(),
    };
    Some(resolved.to_ascii_lowercase())
}

/// `[parameters('x')]` → `x`.
fn parameter_reference(expr: &str) -> Option<String> {
    let inner = expr
        .trim()
        .strip_prefix("[parameters('")?
        .strip_suffix("')]")?;
    Some(inner.to_owned())
}

fn definition_parameters(definition: &Value) -> Map<String, Value> {
    definition
        .pointer("/properties/parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn default_of(definition: &Value, name: &str) -> Option<Value> {
    definition_parameters(definition)
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.get("defaultValue").cloned())
}

fn given_value(given: &Map<String, Value>, name: &str) -> Option<Value> {
    given
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.get("value").cloned())
}

/// The effect that makes an assignment need an identity, if any ("DeployIfNotExists" or
/// "Modify").
fn needs_identity(
    state: &EmulatorState,
    kind: Kind,
    definition: &Value,
    given: &Map<String, Value>,
) -> Option<&'static str> {
    let classify = |e: Option<String>| match e.as_deref() {
        Some("deployifnotexists") => Some("DeployIfNotExists"),
        Some("modify") => Some("Modify"),
        _ => None,
    };
    match kind {
        Kind::Definition => classify(effect_of(definition, &|p| given_value(given, p))),
        Kind::Set => {
            let members = definition
                .pointer("/properties/policyDefinitions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            members.iter().find_map(|m| {
                let id = m.get("policyDefinitionId")?.as_str()?;
                let (_, member) = policy_definitions::resolve(state, id)?;
                let wiring = m
                    .get("parameters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let values = |p: &str| -> Option<Value> {
                    let v = wiring
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(p))
                        .and_then(|(_, v)| v.get("value"))?;
                    match v.as_str().and_then(parameter_reference) {
                        Some(set_param) => given_value(given, &set_param)
                            .or_else(|| default_of(definition, &set_param)),
                        None => Some(v.clone()),
                    }
                };
                classify(effect_of(&member, &values))
            })
        }
    }
}

/// Whether a JSON value has a policy parameter type (case-insensitive type names).
fn has_type(value: &Value, ty: &str) -> bool {
    match ty.to_ascii_lowercase().as_str() {
        "string" | "datetime" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "float" => value.is_number(),
        _ => true,
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Checks the assignment against its definition: it exists, its parameters are defined,
/// typed and allowed, required ones are given, and DINE/Modify comes with an identity.
fn check_definition(state: &EmulatorState, name: &str, body: &Value) -> Result<(), ArmError> {
    let definition_id = body
        .pointer("/properties/policyDefinitionId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some((kind, definition)) = policy_definitions::resolve(state, definition_id) else {
        let set = definition_id
            .to_ascii_lowercase()
            .contains("/policysetdefinitions/");
        let (code, noun) = if set {
            ("PolicySetDefinitionNotFound", "policy set definition")
        } else {
            ("PolicyDefinitionNotFound", "policy definition")
        };
        return Err(ArmError::custom(
            StatusCode::NOT_FOUND,
            code,
            format!("The {noun} '{definition_id}' could not be found."),
        ));
    };
    let definition_name = definition
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(definition_id)
        .to_owned();
    let declared = definition_parameters(&definition);
    let given = body
        .pointer("/properties/parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let undefined: Vec<&str> = given
        .keys()
        .filter(|k| !declared.keys().any(|d| d.eq_ignore_ascii_case(k)))
        .map(String::as_str)
        .collect();
    if !undefined.is_empty() {
        return Err(ArmError::bad_request(
            "UndefinedPolicyParameter",
            format!(
                "The policy assignment '{name}' has the parameter(s) '{}' which are not defined in the policy definition '{definition_name}'.",
                undefined.join(", ")
            ),
        ));
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|(k, spec)| spec.get("defaultValue").is_none() && given_value(&given, k).is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(ArmError::bad_request(
            "MissingPolicyParameter",
            format!(
                "The policy assignment '{name}' is missing the parameter(s) '{}' which are defined in the policy definition '{definition_name}' without a default value.",
                missing.join(", ")
            ),
        ));
    }
    for (k, v) in &given {
        let Some((_, spec)) = declared.iter().find(|(d, _)| d.eq_ignore_ascii_case(k)) else {
            continue;
        };
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        // Template expressions are evaluated by the policy engine, not checked here.
        if value
            .as_str()
            .is_some_and(|s| s.starts_with('[') && !s.starts_with("[["))
        {
            continue;
        }
        let ty = spec.get("type").and_then(Value::as_str).unwrap_or("String");
        if !has_type(&value, ty) {
            return Err(ArmError::bad_request(
                "InvalidPolicyParameterType",
                format!(
                    "The policy parameter '{k}' of policy assignment '{name}' has the value {value}, which is not of the type '{ty}' the policy definition '{definition_name}' declares."
                ),
            ));
        }
        if let Some(allowed) = spec.get("allowedValues").and_then(Value::as_array) {
            let ok = match &value {
                Value::Array(items) => items
                    .iter()
                    .all(|i| allowed.iter().any(|a| same_value(a, i))),
                v => allowed.iter().any(|a| same_value(a, v)),
            };
            if !ok {
                let list: Vec<String> = allowed
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| a.to_string())
                    })
                    .collect();
                return Err(ArmError::bad_request(
                    "InvalidPolicyParameterValue",
                    format!(
                        "The value {value} of policy parameter '{k}' of policy assignment '{name}' is not allowed. The allowed values are '{}'.",
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    if body.get("identity").is_none()
        && let Some(effect) = needs_identity(state, kind, &definition, &given)
    {
        return Err(ArmError::bad_request(
            "ResourceIdentityRequired",
            format!(
                "The policy assignment '{name}' request is invalid. Policy assignments must include a resource identity when assigning '{effect}' policy definitions."
            ),
        ));
    }
    Ok(())
}

fn not_found(resource: &ResourceRef) -> ArmError {
    ArmError::custom(
        StatusCode::NOT_FOUND,
        "PolicyAssignmentNotFound",
        format!("The policy assignment '{}' is not found.", resource.name),
    )
}

/// ARM records who made and who last changed an assignment in its metadata (arm-api.md: ARM
/// adds `createdBy`, `createdOn`, `updatedBy`, `updatedOn`): the object IDs of the callers.
fn record_principals(body: &mut Value, existing: Option<&Value>, caller: &str) {
    let created_by = existing
        .and_then(|e| e.pointer("/properties/metadata/createdBy"))
        .cloned()
        .unwrap_or_else(|| json!(caller));
    if let Some(Value::Object(metadata)) = body.pointer_mut("/properties/metadata") {
        metadata.insert("createdBy".to_owned(), created_by);
        metadata.insert("updatedBy".to_owned(), json!(caller));
    }
}

/// The handler: every verb.
pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    match req.verb {
        Verb::List => scope_tree::list_in_tree(req, "policyDefinitionId", "policy assignments"),
        Verb::Get => scope_tree::get_stored_as(req, not_found, |body| body),
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            let existing = req.state.store.get(&resource.id).map(|s| s.body);
            let mut outcome = scope_tree::run_put_over(req, resource, existing.as_ref(), put)?;
            check_definition(req.state, &resource.name, &outcome.body)?;
            complete_identity(
                req.state,
                &mut outcome.body,
                existing.as_ref(),
                &resource.id,
            );
            record_principals(&mut outcome.body, existing.as_ref(), req.caller);
            Ok(scope_tree::store_outcome(req, resource, outcome))
        }
        Verb::Delete => scope_tree::delete_stored_as(req, |body| {
            if body.pointer("/identity/type").and_then(Value::as_str) == Some("SystemAssigned")
                && let Some(p) = body
                    .pointer("/identity/principalId")
                    .and_then(Value::as_str)
            {
                req.state.directory.remove(p);
            }
            Json(body).into_response()
        }),
        // Update (arm-api.md §7.1): identity, location, resource selectors and overrides only.
        Verb::Patch => {
            let resource = scope_tree::resource(req)?;
            scope_tree::patch_stored(
                req,
                not_found,
                &[
                    "/identity",
                    "/location",
                    "/properties/resourceSelectors",
                    "/properties/overrides",
                ],
                put,
                |body, existing| {
                    complete_identity(req.state, body, Some(existing), &resource.id);
                    record_principals(body, Some(existing), req.caller);
                    Ok(())
                },
            )
        }
    }
}

/// Whether a principal is the identity of a stored assignment that is still replicating.
pub fn replication(state: &EmulatorState, principal_id: &str) -> Replication {
    let delay = Duration::from_millis(state.runtime().principal_replication_ms);
    state.directory.replication(principal_id, delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn resource(scope: &str, name: &str) -> ResourceRef {
        ResourceRef {
            id: format!("{scope}/providers/Microsoft.Authorization/policyAssignments/{name}"),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: scope.to_owned(),
            subscription: scope_tree::subscription_of(scope),
            resource_group: None,
        }
    }

    fn run(
        scope: &str,
        name: &str,
        body: Value,
        existing: Option<&Value>,
    ) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = resource(scope, name);
        put(&PutContext {
            resource: &r,
            api_version: "2024-04-01",
            body,
            existing,
            runtime: &runtime,
        })
    }

    const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
    const MG: &str = "/providers/Microsoft.Management/managementGroups/mg1";
    const DEF: &str =
        "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04";

    #[test]
    fn names_follow_arm_rules() {
        assert!(check_name(&"a".repeat(64), ScopeKind::Subscription).is_ok());
        let e = check_name(&"a".repeat(65), ScopeKind::Subscription)
            .err()
            .unwrap();
        assert_eq!(e.code(), "InvalidPolicyAssignmentName");
        assert!(check_name(&"a".repeat(24), ScopeKind::ManagementGroup).is_ok());
        let e = check_name(&"a".repeat(25), ScopeKind::ManagementGroup)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "The policy assignment name '{}' is invalid. The policy assignment name length must not exceed '24' characters.",
                "a".repeat(25)
            )
        );
        for bad in ["a.b", "a:b", "a?", "tab\t", "end ", "", "x%y"] {
            assert!(check_name(bad, ScopeKind::Subscription).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn body_is_normalised_like_the_examples() {
        let out = run(
            SUB,
            "deps",
            json!({"properties": {"policyDefinitionId": DEF, "displayName": "d", "enforcementMode": "donotenforce"}}),
            None,
        )
        .unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        let p = &out.body["properties"];
        assert_eq!(p["notScopes"], json!([]));
        assert_eq!(p["enforcementMode"], "DoNotEnforce");
        assert_eq!(p["scope"], SUB);
        assert!(p.get("parameters").is_none());
        assert!(p["metadata"]["createdOn"].is_string());
        assert_eq!(
            out.body["type"],
            "Microsoft.Authorization/policyAssignments"
        );
        assert!(out.body.get("identity").is_none());
    }

    #[test]
    fn identities_need_a_location_that_never_changes() {
        let e = run(
            SUB,
            "a",
            json!({"identity": {"type": "SystemAssigned"}, "properties": {"policyDefinitionId": DEF}}),
            None,
        )
        .err().unwrap();
        assert_eq!(e.code(), "LocationRequired");
        let ok = run(
            SUB,
            "a",
            json!({"location": "westeurope", "identity": {"type": "systemassigned"}, "properties": {"policyDefinitionId": DEF}}),
            None,
        )
        .unwrap();
        assert_eq!(ok.body["identity"], json!({"type": "SystemAssigned"}));
        let e = run(
            SUB,
            "a",
            json!({"location": "eastus", "identity": {"type": "SystemAssigned"}, "properties": {"policyDefinitionId": DEF}}),
            Some(&ok.body),
        )
        .err().unwrap();
        assert_eq!(e.code(), "InvalidLocationUpdate");
        assert!(run(
            SUB,
            "a",
            json!({"location": "West Europe", "identity": {"type": "SystemAssigned"}, "properties": {"policyDefinitionId": DEF}}),
            Some(&ok.body),
        )
        .is_ok());
    }

    #[test]
    fn user_assigned_needs_exactly_one_valid_identity() {
        let uai = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
        for identity in [
            json!({"type": "UserAssigned"}),
            json!({"type": "UserAssigned", "userAssignedIdentities": {}}),
            json!({"type": "UserAssigned", "userAssignedIdentities": {"/not/an/identity": {}}}),
            json!({"type": "SystemAssigned", "userAssignedIdentities": {uai: {}}}),
        ] {
            let e = run(
                SUB,
                "a",
                json!({"location": "westeurope", "identity": identity, "properties": {"policyDefinitionId": DEF}}),
                None,
            )
            .err().unwrap();
            assert_eq!(e.code(), "InvalidPolicyAssignmentIdentity", "{identity}");
        }
        let ok = run(
            SUB,
            "a",
            json!({"location": "westeurope", "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}, "properties": {"policyDefinitionId": DEF}}),
            None,
        )
        .unwrap();
        assert_eq!(ok.body["identity"]["type"], "UserAssigned");
        let (p1, c1) = uai_ids(uai);
        assert_eq!((p1.clone(), c1), uai_ids(&uai.to_uppercase()));
        assert_ne!(p1, uai_ids(&format!("{uai}x")).0);
    }

    #[test]
    fn management_group_names_are_short() {
        let e = run(
            MG,
            &"n".repeat(25),
            json!({"properties": {"policyDefinitionId": DEF}}),
            None,
        )
        .err()
        .unwrap();
        assert_eq!(e.code(), "InvalidPolicyAssignmentName");
        assert!(
            run(
                MG,
                &"n".repeat(24),
                json!({"properties": {"policyDefinitionId": DEF}}),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn effects_resolve_through_parameters() {
        let def = json!({"properties": {"parameters": {"effect": {"type": "String", "defaultValue": "DeployIfNotExists"}},
            "policyRule": {"then": {"effect": "[parameters('effect')]"}}}});
        assert_eq!(
            effect_of(&def, &|_| None).as_deref(),
            Some("deployifnotexists")
        );
        assert_eq!(
            effect_of(&def, &|_| Some(json!("Disabled"))).as_deref(),
            Some("disabled")
        );
        let fixed = json!({"properties": {"policyRule": {"then": {"effect": "modify"}}}});
        assert_eq!(effect_of(&fixed, &|_| None).as_deref(), Some("modify"));
    }
}
