//! The registry of resource types the emulator serves.
//!
//! A type is data plus two hooks: where it lives, which api-versions and verbs it has, which
//! names always exist (singletons) with what body, and how a PUT body is validated and
//! normalised. The generic handlers in `crate::arm` do the rest (routing, api-version checks,
//! GET/LIST/PUT/DELETE, paging, storage). Adding a type = one file here + one line in `TYPES`.

use std::future::Future;
use std::pin::Pin;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::arm::path::ScopeKind;
use crate::config::RuntimeConfig;
use crate::error::ArmError;
use crate::state::EmulatorState;

pub mod actions;
pub mod auto_provisioning_settings;
pub mod log_analytics_workspaces;
pub mod operations;
pub mod policy_assignments;
pub mod policy_definitions;
pub mod policy_states;
pub mod pricings;
pub mod remediations;
pub mod role_assignments;
pub mod scope_tree;
pub mod security_contacts;
pub mod sentinel_data_connectors;
pub mod sentinel_onboarding_states;
pub mod server_vulnerability_assessments_settings;
pub mod settings;
pub mod solutions;
pub mod workspace_data_sources;
pub mod workspace_settings;

/// Every type served, in no particular order.
pub static TYPES: &[&TypeSpec] = &[
    &auto_provisioning_settings::SPEC,
    &settings::SPEC,
    &security_contacts::SPEC,
    &server_vulnerability_assessments_settings::SPEC,
    &pricings::SPEC,
    &policy_assignments::SPEC,
    &policy_definitions::DEFINITIONS,
    &policy_definitions::SET_DEFINITIONS,
    &role_assignments::SPEC,
    &remediations::SPEC,
    &log_analytics_workspaces::SPEC,
    &log_analytics_workspaces::OPERATION_STATUSES,
    &log_analytics_workspaces::OPERATION_RESULTS,
    &workspace_data_sources::SPEC,
    &workspace_settings::SPEC,
    &solutions::SPEC,
    &sentinel_onboarding_states::SPEC,
    &sentinel_data_connectors::SPEC,
    &policy_states::SPEC,
    &policy_states::OPERATION_RESULTS,
];

/// Types that answer their requests themselves, after the generic checks (token,
/// api-version, type, scope, verb): for behaviour the generic handlers cannot express, such as
/// writes ARM serialises, values inherited from a parent scope, or `$filter`.
pub static HANDLERS: &[(&TypeSpec, Handler)] = &[
    (&pricings::SPEC, pricings::handle),
    (&policy_assignments::SPEC, policy_assignments::handle),
    (&policy_definitions::DEFINITIONS, policy_definitions::handle),
    (
        &policy_definitions::SET_DEFINITIONS,
        policy_definitions::handle,
    ),
    (&role_assignments::SPEC, role_assignments::handle),
    (&remediations::SPEC, remediations::handle),
    (
        &log_analytics_workspaces::SPEC,
        log_analytics_workspaces::handle,
    ),
    (
        &log_analytics_workspaces::OPERATION_STATUSES,
        log_analytics_workspaces::handle_operation_status,
    ),
    (
        &log_analytics_workspaces::OPERATION_RESULTS,
        log_analytics_workspaces::handle_operation_result,
    ),
    (
        &workspace_data_sources::SPEC,
        workspace_data_sources::handle,
    ),
    (&workspace_settings::SPEC, workspace_settings::handle),
    (&solutions::SPEC, solutions::handle),
    (
        &sentinel_onboarding_states::SPEC,
        sentinel_onboarding_states::handle,
    ),
    (
        &sentinel_data_connectors::SPEC,
        sentinel_data_connectors::handle,
    ),
    (
        &policy_states::OPERATION_RESULTS,
        policy_states::handle_operation_result,
    ),
];

/// A type's own request handling (see [`HANDLERS`]).
pub type Handler = for<'a> fn(Request<'a>) -> HandlerFuture<'a>;

/// What a [`Handler`] returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, ArmError>> + Send + 'a>>;

/// A request as a [`Handler`] sees it.
pub struct Request<'a> {
    pub state: &'a EmulatorState,
    pub spec: &'static TypeSpec,
    pub verb: Verb,
    pub api_version: &'a str,
    pub query: &'a [(String, String)],
    /// The request path, for `nextLink`s.
    pub path: &'a str,
    pub scope: ScopeKind,
    /// The scope's ID with ARM's keywords in their usual casing.
    pub scope_id: String,
    /// `{scope_id}/providers/{Namespace}/{type}`.
    pub collection_id: String,
    /// The addressed instance; `None` for a list.
    pub resource: Option<ResourceRef>,
    /// The PUT or PATCH body (a JSON object); `None` for other verbs.
    pub body: Option<Value>,
    /// The object ID of the principal whose token the request carries (what ARM records as
    /// `createdBy` / `updatedBy`).
    pub caller: &'a str,
}

/// The handler registered for `spec`, if any.
pub fn handler_for(spec: &TypeSpec) -> Option<Handler> {
    HANDLERS
        .iter()
        .find(|(t, _)| std::ptr::eq(*t, spec))
        .map(|(_, h)| *h)
}

/// Namespaces that exist in Azure but of which the emulator serves only some types (or none):
/// a request for an unserved type of these answers `InvalidResourceType`, of any other
/// namespace `InvalidResourceNamespace`.
const KNOWN_NAMESPACES: &[&str] = &[
    "Microsoft.Security",
    "Microsoft.Authorization",
    "Microsoft.PolicyInsights",
    "Microsoft.OperationalInsights",
    "Microsoft.OperationsManagement",
    "Microsoft.SecurityInsights",
    "Microsoft.Resources",
    "Microsoft.Management",
    "Microsoft.ManagedIdentity",
    "Microsoft.Compute",
    "Microsoft.HybridCompute",
    "Microsoft.ContainerService",
    "Microsoft.ContainerRegistry",
    "Microsoft.Storage",
];

/// An operation on a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn http_method(self) -> &'static str {
        match self {
            Verb::Get | Verb::List => "GET",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// The resource a request addresses, in canonical casing.
#[derive(Clone, Debug)]
pub struct ResourceRef {
    /// `{scope}/providers/{Namespace}/{type}/{name}` with the registry's casing for the
    /// namespace and type and the caller's for the scope and name.
    pub id: String,
    pub name: String,
    /// `Namespace/type`.
    pub resource_type: &'static str,
    pub scope_id: String,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
}

/// What a PUT hook sees.
pub struct PutContext<'a> {
    pub resource: &'a ResourceRef,
    pub api_version: &'a str,
    /// The request body, already parsed as JSON.
    pub body: Value,
    /// The current body (stored or singleton default), if the resource exists.
    pub existing: Option<&'a Value>,
    pub runtime: &'a RuntimeConfig,
}

impl PutContext<'_> {
    /// What a synchronous PUT answers: 200 when it replaces the resource, 201 when it creates it.
    pub fn write_status(&self) -> StatusCode {
        if self.existing.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        }
    }
}

/// What a PUT hook decides: the body to store and answer, and the status.
pub struct PutOutcome {
    pub body: Value,
    pub status: StatusCode,
}

/// One resource type.
pub struct TypeSpec {
    pub namespace: &'static str,
    /// The type below the namespace, `/`-separated for nested types.
    pub type_name: &'static str,
    /// `Namespace/type`, the value of the body's `type`.
    pub full_type: &'static str,
    pub scopes: &'static [ScopeKind],
    /// Newest first; the order of the list in `InvalidApiVersionParameter` messages.
    pub api_versions: &'static [&'static str],
    pub verbs: &'static [Verb],
    /// Names that exist in every scope before any write (case-insensitive).
    pub singleton_names: &'static [&'static str],
    /// The body a singleton has before any write.
    pub default_body: fn(&ResourceRef) -> Value,
    /// Validates and normalises a PUT body.
    pub put: fn(&PutContext<'_>) -> Result<PutOutcome, ArmError>,
}

impl TypeSpec {
    pub fn allows(&self, verb: Verb) -> bool {
        self.verbs.contains(&verb)
    }

    pub fn supports_api_version(&self, version: &str) -> bool {
        self.api_versions
            .iter()
            .any(|v| v.eq_ignore_ascii_case(version))
    }

    /// The canonical spelling of a singleton name, if `name` is one.
    pub fn singleton_name(&self, name: &str) -> Option<&'static str> {
        self.singleton_names
            .iter()
            .copied()
            .find(|n| n.eq_ignore_ascii_case(name))
    }
}

/// The type registered for `namespace` + type segments, compared case-insensitively.
pub fn find(namespace: &str, types: &[String]) -> Option<&'static TypeSpec> {
    let wanted = types.join("/");
    TYPES.iter().copied().find(|t| {
        t.namespace.eq_ignore_ascii_case(namespace) && t.type_name.eq_ignore_ascii_case(&wanted)
    })
}

/// The type registered under a full `Namespace/type` name.
pub fn find_full(full_type: &str) -> Option<&'static TypeSpec> {
    TYPES
        .iter()
        .copied()
        .find(|t| t.full_type.eq_ignore_ascii_case(full_type))
}

/// Whether ARM would know the namespace (decides between the two unknown-type errors).
pub fn namespace_known(namespace: &str) -> bool {
    TYPES
        .iter()
        .any(|t| t.namespace.eq_ignore_ascii_case(namespace))
        || KNOWN_NAMESPACES
            .iter()
            .any(|n| n.eq_ignore_ascii_case(namespace))
}

/// The `put` hook of a type that never reaches the generic PUT: its handler answers every
/// verb, or it has no PUT (the verb check answers 405 first).
pub fn no_put(_: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    Err(ArmError::custom(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "The emulator routed a PUT to a type without a generic PUT.",
    ))
}

/// A bare `id`/`name`/`type` body: the `default_body` of the types without singleton names
/// (never asked for) and of `policyStates/latest` (no GET; only the control endpoint shows it).
pub fn no_default(resource: &ResourceRef) -> Value {
    serde_json::json!({ "id": resource.id, "name": resource.name, "type": resource.resource_type })
}

/// The `id`/`name`/`type` envelope every ARM resource body starts with.
pub fn envelope(resource: &ResourceRef, properties: Value) -> Value {
    serde_json::json!({
        "id": resource.id,
        "name": resource.name,
        "type": resource.resource_type,
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        for t in TYPES {
            assert_eq!(t.full_type, format!("{}/{}", t.namespace, t.type_name));
            assert!(!t.api_versions.is_empty());
            assert!(find_full(t.full_type).is_some());
        }
        assert!(
            find(
                "microsoft.security",
                &["AUTOPROVISIONINGSETTINGS".to_owned()]
            )
            .is_some()
        );
        assert!(namespace_known("microsoft.authorization"));
        assert!(!namespace_known("Contoso.Widgets"));
    }
}
