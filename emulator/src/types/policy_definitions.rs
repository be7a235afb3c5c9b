//! `Microsoft.Authorization/policyDefinitions` and `policySetDefinitions` (arm-api.md 8).
//!
//! - Built-ins live at the tenant (`/providers/Microsoft.Authorization/policyDefinitions/{guid}`,
//!   `PolicyDefinitions_GetBuiltIn`): GET and LIST, read-only (a write answers 403 as ARM does
//!   for a caller who is not Microsoft). They come from `emulator/data/builtin-policies.json`:
//!   the facts (IDs, parameters with allowed values, defaults and `assignPermissions`, effects,
//!   `roleDefinitionIds`, initiative members) of the built-ins auto-provisioning uses, written
//!   by `emulator/data/generate.py` from the azure-policy copies in the shared reference data
//!   and embedded in the binary, so the emulator runs where that data is not (a demo machine,
//!   a fresh clone). The file is the emulator's own and does not depend on the provider's
//!   catalog; the provider's tests check the two agree.
//! - Custom definitions live at a subscription or management group: PUT (201), GET, LIST,
//!   DELETE (200 with the body, 204). GET at those scopes also answers built-in names, and
//!   LIST there lists the built-ins too, as ARM does.
//! - Unknown names answer 404 `PolicyDefinitionNotFound` / `PolicySetDefinitionNotFound`
//!   ("The policy definition '{name}' could not be found."; the code is the one azure-cli and
//!   azurerm users report, UNVERIFIED in the spec).

use std::collections::HashSet;
use std::sync::OnceLock;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::scope_tree::{self, canonical_scope};
use super::{HandlerFuture, Request, ResourceRef, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::rfc3339;

const API_VERSIONS: &[&str] = &["2025-03-01", "2024-04-01", "2023-04-01", "2022-06-01"];
const SCOPES: &[ScopeKind] = &[
    ScopeKind::Tenant,
    ScopeKind::ManagementGroup,
    ScopeKind::Subscription,
];

pub static DEFINITIONS: TypeSpec = TypeSpec {
    namespace: "Microsoft.Authorization",
    type_name: "policyDefinitions",
    full_type: "Microsoft.Authorization/policyDefinitions",
    scopes: SCOPES,
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put: super::no_put,
};

pub static SET_DEFINITIONS: TypeSpec = TypeSpec {
    namespace: "Microsoft.Authorization",
    type_name: "policySetDefinitions",
    full_type: "Microsoft.Authorization/policySetDefinitions",
    scopes: SCOPES,
    api_versions: API_VERSIONS,
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put: super::no_put,
};

/// The embedded built-ins.
pub struct Builtins {
    pub definitions: Vec<Value>,
    pub sets: Vec<Value>,
    roles: HashSet<String>,
}

/// Roles assignable in the emulator besides those the built-ins name: Reader and the
/// policy-related ones a user might grant by hand (GUIDs from the built-in role list).
const EXTRA_ROLES: &[&str] = &[
    "acdd72a7-3385-48ef-bd42-f606fba81ae7", // Reader
    "36243c78-bf99-498c-9df9-86d9f8d28608", // Resource Policy Contributor
];

/// The built-ins, parsed once.
pub fn builtins() -> &'static Builtins {
    static B: OnceLock<Builtins> = OnceLock::new();
    B.get_or_init(|| {
        let data: Value = serde_json::from_str(include_str!("../../data/builtin-policies.json"))
            .expect("emulator/data/builtin-policies.json is valid JSON");
        let list = |k: &str| {
            data.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let definitions = list("policyDefinitions");
        let mut roles: HashSet<String> = EXTRA_ROLES.iter().map(|s| (*s).to_owned()).collect();
        for d in &definitions {
            for r in role_definition_ids(d) {
                if let Some(guid) = r.rsplit('/').next() {
                    roles.insert(guid.to_ascii_lowercase());
                }
            }
        }
        Builtins {
            definitions,
            sets: list("policySetDefinitions"),
            roles,
        }
    })
}

/// `then.details.roleDefinitionIds` of a definition.
pub fn role_definition_ids(definition: &Value) -> Vec<String> {
    definition
        .pointer("/properties/policyRule/then/details/roleDefinitionIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a role definition GUID exists (built-in roles the built-in policies use, plus
/// [`EXTRA_ROLES`]).
pub fn role_exists(guid: &str) -> bool {
    builtins().roles.contains(&guid.to_ascii_lowercase())
}

/// The first resource type a definition's `if` clause targets.
pub fn target_type(definition: &Value) -> Option<String> {
    let cond = definition.pointer("/properties/policyRule/if")?;
    cond.get("equals")
        .and_then(Value::as_str)
        .or_else(|| {
            cond.get("in")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
}

fn builtin(kind: Kind, name: &str) -> Option<&'static Value> {
    let b = builtins();
    let list = match kind {
        Kind::Definition => &b.definitions,
        Kind::Set => &b.sets,
    };
    list.iter().find(|d| {
        d.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Definition,
    Set,
}

impl Kind {
    fn of(spec: &TypeSpec) -> Kind {
        if std::ptr::eq(spec, &SET_DEFINITIONS) {
            Kind::Set
        } else {
            Kind::Definition
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Definition => "policy definition",
            Kind::Set => "policy set definition",
        }
    }

    fn not_found(self, name: &str) -> ArmError {
        let code = match self {
            Kind::Definition => "PolicyDefinitionNotFound",
            Kind::Set => "PolicySetDefinitionNotFound",
        };
        ArmError::custom(
            StatusCode::NOT_FOUND,
            code,
            format!("The {} '{name}' could not be found.", self.noun()),
        )
    }
}

/// What a definition ID resolves to: the definition or set, from the built-ins or the
/// store; `None` when it does not exist (or is not a definition ID at all).
pub fn resolve(state: &EmulatorState, id: &str) -> Option<(Kind, Value)> {
    let parsed = crate::arm::path::parse(id)?;
    let provider = parsed.provider.as_ref()?;
    if !provider
        .namespace
        .eq_ignore_ascii_case("Microsoft.Authorization")
        || provider.types.len() != 1
        || provider.names.len() != 1
    {
        return None;
    }
    let kind = if provider.types[0].eq_ignore_ascii_case("policyDefinitions") {
        Kind::Definition
    } else if provider.types[0].eq_ignore_ascii_case("policySetDefinitions") {
        Kind::Set
    } else {
        return None;
    };
    if parsed.scope != ScopeKind::Tenant
        && let Some(stored) = state.store.get(id)
    {
        return Some((kind, stored.body));
    }
    builtin(kind, &provider.names[0]).map(|b| (kind, b.clone()))
}

/// The handler of both types.
pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    let kind = Kind::of(req.spec);
    match req.verb {
        Verb::List => {
            let b = builtins();
            let mut items = match kind {
                Kind::Definition => b.definitions.clone(),
                Kind::Set => b.sets.clone(),
            };
            if req.scope != ScopeKind::Tenant {
                items.extend(
                    req.state
                        .store
                        .children(&req.collection_id)
                        .into_iter()
                        .map(|s| s.body),
                );
            }
            scope_tree::page(req, items)
        }
        Verb::Get => {
            let resource = scope_tree::resource(req)?;
            if let Some(r) = scope_tree::eventual_not_found(req.state, resource) {
                return Ok(r);
            }
            if req.scope != ScopeKind::Tenant
                && let Some(stored) = req.state.store.get(&resource.id)
            {
                return Ok(Json(stored.body).into_response());
            }
            builtin(kind, &resource.name)
                .map(|b| Json(b.clone()).into_response())
                .ok_or_else(|| kind.not_found(&resource.name))
        }
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            if req.scope == ScopeKind::Tenant {
                return Err(read_only(req, resource));
            }
            let existing = req.state.store.get(&resource.id).map(|s| s.body);
            let body = custom_body(
                req.state,
                kind,
                resource,
                req.body.clone().unwrap_or_default(),
                existing.as_ref(),
            )?;
            Ok(scope_tree::store(
                req,
                resource,
                body.clone(),
                body,
                StatusCode::CREATED,
            ))
        }
        Verb::Delete => {
            if req.scope == ScopeKind::Tenant {
                return Err(read_only(req, scope_tree::resource(req)?));
            }
            scope_tree::delete_stored_as(req, |body| Json(body).into_response())
        }
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

/// Built-ins cannot be written by anyone but Microsoft: ARM's authorization answer.
fn read_only(req: &Request<'_>, resource: &ResourceRef) -> ArmError {
    let action = if req.verb == Verb::Delete {
        "delete"
    } else {
        "write"
    };
    ArmError::custom(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client does not have authorization to perform action '{}/{action}' over scope '{}' or the scope is invalid.",
            req.spec.full_type, resource.id
        ),
    )
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::InvalidRequestContent(message.into())
}

/// Validates and normalises a custom definition or set.
fn custom_body(
    state: &EmulatorState,
    kind: Kind,
    resource: &ResourceRef,
    body: Value,
    existing: Option<&Value>,
) -> Result<Value, ArmError> {
    let props = body
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| bad("The 'properties' property is required."))?;
    let mut out = Map::new();
    for key in ["displayName", "description"] {
        if let Some(v) = props.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert("policyType".to_owned(), json!("Custom"));
    let parameters = props
        .get("parameters")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !parameters.is_object() {
        return Err(bad(
            "The 'properties.parameters' property must be an object.",
        ));
    }
    match kind {
        Kind::Definition => {
            let rule = props
                .get("policyRule")
                .filter(|r| r.get("if").is_some() && r.get("then").is_some())
                .ok_or_else(|| {
                    ArmError::bad_request(
                        "InvalidPolicyRule",
                        format!(
                            "The policy definition '{}' rule is invalid: 'if' and 'then' are required.",
                            resource.name
                        ),
                    )
                })?;
            out.insert(
                "mode".to_owned(),
                props
                    .get("mode")
                    .cloned()
                    .unwrap_or_else(|| json!("Indexed")),
            );
            out.insert("parameters".to_owned(), parameters);
            out.insert("policyRule".to_owned(), rule.clone());
        }
        Kind::Set => {
            let members = props
                .get("policyDefinitions")
                .and_then(Value::as_array)
                .filter(|m| !m.is_empty())
                .ok_or_else(|| bad("The 'properties.policyDefinitions' property must list at least one policy definition."))?;
            for m in members {
                let id = m
                    .get("policyDefinitionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match resolve(state, id) {
                    Some((Kind::Definition, _)) => {}
                    _ => {
                        return Err(ArmError::bad_request(
                            "PolicyDefinitionNotFound",
                            format!("The policy definition '{id}' could not be found."),
                        ));
                    }
                }
            }
            out.insert("parameters".to_owned(), parameters);
            out.insert(
                "policyDefinitions".to_owned(),
                Value::Array(members.clone()),
            );
            if let Some(g) = props.get("policyDefinitionGroups") {
                out.insert("policyDefinitionGroups".to_owned(), g.clone());
            }
        }
    }
    let now = rfc3339(std::time::SystemTime::now());
    let mut metadata = props
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let created = existing
        .and_then(|e| e.pointer("/properties/metadata/createdOn"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    metadata.insert("createdOn".to_owned(), created);
    metadata.insert("updatedOn".to_owned(), json!(now));
    out.insert("metadata".to_owned(), Value::Object(metadata));
    let id = format!(
        "{}/providers/{}/{}",
        canonical_scope(&resource.scope_id),
        resource.resource_type,
        resource.name
    );
    Ok(json!({
        "id": id,
        "name": resource.name,
        "type": resource.resource_type,
        "properties": out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load_with_roles_and_parameters() {
        let b = builtins();
        assert!(b.definitions.len() >= 100, "{}", b.definitions.len());
        assert!(b.sets.len() >= 10);
        let addon = builtin(Kind::Definition, "A8EFF44F-8C92-45C3-A3FB-9880802D67A7").unwrap();
        assert_eq!(
            addon["id"],
            "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7"
        );
        assert_eq!(role_definition_ids(addon).len(), 2);
        assert_eq!(
            target_type(addon).as_deref(),
            Some("Microsoft.ContainerService/managedClusters")
        );
        let mde = builtin(Kind::Set, "e20d08c5-6d64-656d-6465-ce9e37fd0ebc").unwrap();
        assert_eq!(
            mde.pointer("/properties/policyDefinitions")
                .and_then(Value::as_array)
                .map(Vec::len),
            Some(4)
        );
        // Log Analytics Contributor, used by the Dependency agent policies.
        assert!(role_exists("92AAF0DA-9DAB-42B6-94A3-D43CE8D16293"));
        assert!(role_exists("acdd72a7-3385-48ef-bd42-f606fba81ae7"));
        assert!(!role_exists("00000000-0000-0000-0000-000000000000"));
        // assignPermissions survives the abridgement.
        let aks = builtin(Kind::Definition, "64def556-fbad-4622-930e-72d1d5589bf5").unwrap();
        assert_eq!(
            aks.pointer(
                "/properties/parameters/logAnalyticsWorkspaceResourceId/metadata/assignPermissions"
            ),
            Some(&json!(true))
        );
    }
}
