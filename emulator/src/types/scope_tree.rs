//! Support for the extension types that live at any scope and answer for more than their own
//! collection: policy assignments, policy definitions, role assignments, remediations
//! (arm-api.md 7-10). They are [`super::HANDLERS`] types; this module holds what they share:
//!
//! - the scope tree: which scopes lie above or below another (`$filter=atScope()` answers
//!   the scope and its ancestors; no filter adds the descendants, arm-api.md 7.1 and 9);
//! - the stored instances of a type at every scope;
//! - ARM's answers as the generic handlers give them: GET with the `not_found_after_create`
//!   fault, PUT that stores, saves and arms that fault, DELETE 200/204, paged lists.
//!
//! The emulator has no management-group hierarchy: a management group is the ancestor of no
//! subscription, and a subscription's ancestors are only what its ID starts with.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{PutContext, PutOutcome, Request, ResourceRef};
use crate::arm::path::{self, ScopeKind};
use crate::error::ArmError;
use crate::faults::FaultTarget;
use crate::pipeline::FaultsFired;
use crate::state::EmulatorState;
use crate::store::{StoredResource, key_of};

/// Which scopes a list covers, from its `$filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeFilter {
    /// `atScope()`: the scope and the scopes above it.
    AtScope,
    /// `atExactScope()`: the scope only.
    AtExactScope,
    /// No scope function: above, at and below.
    All,
}

/// A parsed `$filter`: the scope function, and a `{property} eq '{value}'` condition if any
/// (`policyDefinitionId eq '…'`, `principalId eq '…'`; `assignedTo('{id}')` reads as
/// `principalId eq`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub scope: ScopeFilter,
    pub eq: Option<(String, String)>,
}

impl Filter {
    /// Parses the `$filter` query parameter. Unknown expressions are a 400, as ARM answers
    /// `InvalidFilterInQueryString` (code UNVERIFIED for these types).
    pub fn parse(query: &[(String, String)]) -> Result<Filter, ArmError> {
        let raw = crate::util::query_get(query, "$filter")
            .unwrap_or_default()
            .trim();
        let mut filter = Filter {
            scope: ScopeFilter::All,
            eq: None,
        };
        if raw.is_empty() {
            return Ok(filter);
        }
        for part in split_and(raw) {
            let p = part.trim();
            let lower = p.to_ascii_lowercase();
            if lower == "atscope()" {
                filter.scope = ScopeFilter::AtScope;
            } else if lower == "atexactscope()" {
                filter.scope = ScopeFilter::AtExactScope;
            } else if let Some(inner) = lower
                .strip_prefix("assignedto(")
                .and_then(|r| r.strip_suffix(')'))
            {
                filter.eq = Some(("principalid".to_owned(), unquote(inner)?.to_owned()));
            } else if let Some((field, value)) = split_eq(p) {
                filter.eq = Some((field.to_ascii_lowercase(), unquote(value)?.to_owned()));
            } else {
                return Err(invalid_filter(raw));
            }
        }
        Ok(filter)
    }
}

fn invalid_filter(raw: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidFilterInQueryString",
        format!("The filter '{raw}' is not supported."),
    )
}

fn split_and(raw: &str) -> Vec<&str> {
    let lower = raw.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(i) = lower[search..].find(" and ") {
        let at = search + i;
        parts.push(&raw[start..at]);
        start = at + 5;
        search = start;
    }
    parts.push(&raw[start..]);
    parts
}

fn split_eq(p: &str) -> Option<(&str, &str)> {
    let lower = p.to_ascii_lowercase();
    let i = lower.find(" eq ")?;
    Some((p[..i].trim(), p[i + 4..].trim()))
}

fn unquote(v: &str) -> Result<&str, ArmError> {
    let v = v.trim();
    v.strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .ok_or_else(|| invalid_filter(v))
}

/// The scope an ID lives at (everything before its last `/providers/{ns}/{type}/{name}`),
/// as written.
pub fn scope_of(id: &str) -> String {
    path::parse(id).map(|p| p.scope_id).unwrap_or_default()
}

/// True when `outer` is `inner` or one of its ancestors (compared as ARM compares IDs).
pub fn contains(outer: &str, inner: &str) -> bool {
    let (o, i) = (key_of(outer), key_of(inner));
    if o.is_empty() {
        return true;
    }
    i == o || i.starts_with(&format!("{o}/"))
}

/// Whether an instance at `item_scope` answers a list at `list_scope` under `filter`.
pub fn in_scope(filter: ScopeFilter, list_scope: &str, item_scope: &str) -> bool {
    match filter {
        ScopeFilter::AtExactScope => key_of(list_scope) == key_of(item_scope),
        ScopeFilter::AtScope => contains(item_scope, list_scope),
        ScopeFilter::All => contains(item_scope, list_scope) || contains(list_scope, item_scope),
    }
}

/// Every stored instance of `full_type` (`Namespace/type`), at any scope.
pub fn stored_of_type(state: &EmulatorState, full_type: &str) -> Vec<StoredResource> {
    state
        .store
        .snapshot()
        .resources
        .into_iter()
        .filter(|r| {
            path::parse(&r.id)
                .and_then(|p| p.provider)
                .is_some_and(|p| {
                    !p.is_collection() && p.full_type().eq_ignore_ascii_case(full_type)
                })
        })
        .collect()
}

/// LIST of an extension type across the scope tree (arm-api.md 7.1, 9): its stored instances
/// at the scopes `$filter` selects and, with `{property} eq '…'`, whose `properties.{property}`
/// is that value (any case). A condition on another property is a 400; `what` names the
/// instances in its message.
pub fn list_in_tree(req: &Request<'_>, property: &str, what: &str) -> Result<Response, ArmError> {
    let filter = Filter::parse(req.query)?;
    let wanted = match &filter.eq {
        None => None,
        Some((field, value)) if field.eq_ignore_ascii_case(property) => Some(value.as_str()),
        Some((field, _)) => {
            return Err(ArmError::bad_request(
                "InvalidFilterInQueryString",
                format!("The filter property '{field}' is not supported for {what}."),
            ));
        }
    };
    let pointer = format!("/properties/{property}");
    let items = stored_of_type(req.state, req.spec.full_type)
        .into_iter()
        .filter(|r| in_scope(filter.scope, &req.scope_id, &scope_of(&r.id)))
        .filter(|r| {
            wanted.is_none_or(|w| {
                r.body
                    .pointer(&pointer)
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(w))
            })
        })
        .map(|r| r.body)
        .collect();
    page(req, items)
}

/// The addressed instance of a non-list request.
pub fn resource<'r>(req: &'r Request<'_>) -> Result<&'r ResourceRef, ArmError> {
    req.resource.as_ref().ok_or_else(|| {
        ArmError::custom(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The emulator routed a list to an instance handler.",
        )
    })
}

/// ARM's 404 for a missing instance (arm-api.md 13.2).
pub fn not_found(resource: &ResourceRef) -> ArmError {
    ArmError::ResourceNotFound {
        type_and_name: format!("{}/{}", resource.resource_type, resource.name),
        resource_group: resource
            .resource_group
            .clone()
            .unwrap_or_else(|| "<null>".to_owned()),
    }
}

/// The stored instance `resource` names, or ARM's 404 for it.
pub fn find_stored(
    state: &EmulatorState,
    resource: &ResourceRef,
) -> Result<StoredResource, ArmError> {
    state
        .store
        .get(&resource.id)
        .ok_or_else(|| not_found(resource))
}

/// GET's answer when a `not_found_after_create` fault still owes this resource a 404.
pub fn eventual_not_found(state: &EmulatorState, resource: &ResourceRef) -> Option<Response> {
    if !state.faults.take_not_found(&key_of(&resource.id)) {
        return None;
    }
    let mut response = not_found(resource).into_response();
    response
        .extensions_mut()
        .insert(FaultsFired(vec!["not_found_after_create".to_owned()]));
    Some(response)
}

/// Stores `body` under the request's resource, saves the state file, arms any matching
/// `not_found_after_create` fault when this created the resource, and answers `status`
/// with `answer` (the body as clients see it).
pub fn store(
    req: &Request<'_>,
    resource: &ResourceRef,
    body: Value,
    answer: Value,
    status: StatusCode,
) -> Response {
    let created = req.state.store.put(&resource.id, body);
    req.state.store.save_or_log();
    let mut response = (status, Json(answer)).into_response();
    if created {
        let target = FaultTarget {
            method: "PUT",
            path: req.path,
            resource_type: Some(req.spec.full_type),
        };
        if let Some(rule) = req.state.faults.on_created(&target, &key_of(&resource.id)) {
            response.extensions_mut().insert(FaultsFired(vec![rule]));
        }
    }
    response
}

/// Removes the request's resource: `Some(body)` when there was one (the caller answers 200
/// with it), `None` for 204.
pub fn remove(req: &Request<'_>, resource: &ResourceRef) -> Option<Value> {
    let stored = req.state.store.delete(&resource.id)?;
    req.state.store.save_or_log();
    Some(stored.body)
}

/// One page of a list answer (arm-api.md 13.5).
pub fn page(req: &Request<'_>, items: Vec<Value>) -> Result<Response, ArmError> {
    let body = crate::arm::paging::page(
        items,
        req.query,
        req.state.runtime().page_size,
        &req.state.base_url,
        req.path,
    )?;
    Ok(Json(body).into_response())
}

/// The subscription of a scope ID, if it has one.
pub fn subscription_of(scope_id: &str) -> Option<String> {
    path::parse(&format!("{scope_id}/providers/X/y/z")).and_then(|p| p.subscription)
}

/// The kind of scope an ID is (`None` when ARM would not know it).
pub fn scope_kind(scope_id: &str) -> Option<ScopeKind> {
    path::parse(&format!("{scope_id}/providers/X/y/z")).map(|p| p.scope)
}

/// Canonical form of a scope ID for bodies: ARM's keywords in their usual casing.
pub fn canonical_scope(scope_id: &str) -> String {
    let Some(parsed) = path::parse(&format!("{scope_id}/providers/X/y/z")) else {
        return scope_id.to_owned();
    };
    let segs: Vec<&str> = parsed
        .scope_id
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        out.push('/');
        let fixed = match (i, s.to_ascii_lowercase().as_str()) {
            (0, "subscriptions") => "subscriptions",
            (2, "resourcegroups") => "resourceGroups",
            (_, "providers") => "providers",
            (1, "microsoft.management") if segs[0].eq_ignore_ascii_case("providers") => {
                "Microsoft.Management"
            }
            (2, "managementgroups") if segs[0].eq_ignore_ascii_case("providers") => {
                "managementGroups"
            }
            _ => s,
        };
        out.push_str(fixed);
    }
    out
}

/// LIST of a collection: the stored children, paged.
pub fn list_children(req: &Request<'_>) -> Result<Response, ArmError> {
    let items = req
        .state
        .store
        .children(&req.collection_id)
        .into_iter()
        .map(|s| s.body)
        .collect();
    page(req, items)
}

/// GET of a stored resource, with the eventual-consistency fault applied.
pub fn get_stored(req: &Request<'_>) -> Result<Response, ArmError> {
    get_stored_as(req, not_found, |body| body)
}

/// [`get_stored`] for a type with its own 404 (`missing`) or its own view of the stored body
/// (`view`: what clients see).
pub fn get_stored_as(
    req: &Request<'_>,
    missing: impl FnOnce(&ResourceRef) -> ArmError,
    view: impl FnOnce(Value) -> Value,
) -> Result<Response, ArmError> {
    let resource = resource(req)?;
    if let Some(r) = eventual_not_found(req.state, resource) {
        return Ok(r);
    }
    req.state
        .store
        .get(&resource.id)
        .map(|s| Json(view(s.body)).into_response())
        .ok_or_else(|| missing(resource))
}

/// Runs a type's PUT hook for the request's resource: the parsed body, the stored body (if
/// the resource exists) and the runtime knobs.
pub fn run_put(
    req: &Request<'_>,
    resource: &ResourceRef,
    put: fn(&PutContext<'_>) -> Result<PutOutcome, ArmError>,
) -> Result<PutOutcome, ArmError> {
    let existing = req.state.store.get(&resource.id).map(|s| s.body);
    run_put_over(req, resource, existing.as_ref(), put)
}

/// [`run_put`] over a current body the caller has read already.
pub fn run_put_over(
    req: &Request<'_>,
    resource: &ResourceRef,
    existing: Option<&Value>,
    put: fn(&PutContext<'_>) -> Result<PutOutcome, ArmError>,
) -> Result<PutOutcome, ArmError> {
    let runtime = req.state.runtime();
    put(&PutContext {
        resource,
        api_version: req.api_version,
        body: req.body.clone().unwrap_or_default(),
        existing,
        runtime: &runtime,
    })
}

/// PUT of a stored resource: the type's hook decides, the outcome is stored and answered.
pub fn put_stored(
    req: &Request<'_>,
    put: fn(&PutContext<'_>) -> Result<PutOutcome, ArmError>,
) -> Result<Response, ArmError> {
    let resource = resource(req)?;
    let outcome = run_put(req, resource, put)?;
    Ok(store_outcome(req, resource, outcome))
}

/// Stores what a PUT hook decided and answers with the same body and status.
pub fn store_outcome(req: &Request<'_>, resource: &ResourceRef, outcome: PutOutcome) -> Response {
    store(
        req,
        resource,
        outcome.body.clone(),
        outcome.body,
        outcome.status,
    )
}

/// DELETE of a stored resource: 200 when it existed, 204 when there was nothing to delete
/// (arm-api.md: ARM's DELETE is idempotent).
pub fn delete_stored(req: &Request<'_>) -> Result<Response, ArmError> {
    delete_stored_as(req, |_| StatusCode::OK.into_response())
}

/// [`delete_stored`] with the type's own 200: `answer` makes it from the removed body.
pub fn delete_stored_as(
    req: &Request<'_>,
    answer: impl FnOnce(Value) -> Response,
) -> Result<Response, ArmError> {
    let resource = resource(req)?;
    Ok(match remove(req, resource) {
        Some(body) => answer(body),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// PATCH of a stored resource (arm-api.md §3, §7.1): `missing` (the type's 404) when it does
/// not exist; otherwise
/// the members of the body at `patchable` (JSON pointers such as `/identity` or
/// `/properties/overrides`) replace the stored ones — other members are ignored, as ARM's
/// update models have no place for them — and the result goes through the type's PUT hook
/// (its checks and computed members) and is answered 200. `finish` adjusts the hook's outcome
/// against the stored body before it is kept (identities, audit metadata).
pub fn patch_stored(
    req: &Request<'_>,
    missing: impl FnOnce(&ResourceRef) -> ArmError,
    patchable: &[&str],
    put: fn(&PutContext<'_>) -> Result<PutOutcome, ArmError>,
    finish: impl FnOnce(&mut Value, &Value) -> Result<(), ArmError>,
) -> Result<Response, ArmError> {
    let resource = resource(req)?;
    let existing = req
        .state
        .store
        .get(&resource.id)
        .ok_or_else(|| missing(resource))?
        .body;
    let patch = req.body.clone().unwrap_or_default();
    let mut merged = existing.clone();
    for pointer in patchable {
        if let Some(value) = patch.pointer(pointer) {
            set_pointer(&mut merged, pointer, value.clone());
        }
    }
    let runtime = req.state.runtime();
    let mut outcome = put(&PutContext {
        resource,
        api_version: req.api_version,
        body: merged,
        existing: Some(&existing),
        runtime: &runtime,
    })?;
    finish(&mut outcome.body, &existing)?;
    outcome.status = StatusCode::OK;
    Ok(store_outcome(req, resource, outcome))
}

/// Sets the member a JSON pointer names, making the objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    let mut at = target;
    let keys: Vec<&str> = pointer.split('/').skip(1).collect();
    for (i, key) in keys.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Default::default());
        }
        let map = at.as_object_mut().expect("an object");
        if i + 1 == keys.len() {
            map.insert((*key).to_owned(), value);
            return;
        }
        at = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
    }
}

/// PATCH on a type whose REST spec has no PATCH: 405 with no alternative methods.
pub fn patch_not_allowed() -> ArmError {
    ArmError::MethodNotAllowed {
        method: "PATCH".to_owned(),
        allow: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(filter: &str) -> Vec<(String, String)> {
        vec![("$filter".to_owned(), filter.to_owned())]
    }

    #[test]
    fn filters_parse() {
        assert_eq!(Filter::parse(&[]).unwrap().scope, ScopeFilter::All);
        assert_eq!(
            Filter::parse(&q("atScope()")).unwrap().scope,
            ScopeFilter::AtScope
        );
        assert_eq!(
            Filter::parse(&q("atExactScope()")).unwrap().scope,
            ScopeFilter::AtExactScope
        );
        let f = Filter::parse(&q("atScope() and principalId eq 'abc'")).unwrap();
        assert_eq!(f.scope, ScopeFilter::AtScope);
        assert_eq!(f.eq, Some(("principalid".to_owned(), "abc".to_owned())));
        let f = Filter::parse(&q("assignedTo('x')")).unwrap();
        assert_eq!(f.eq, Some(("principalid".to_owned(), "x".to_owned())));
        assert!(Filter::parse(&q("name gt 3")).is_err());
        assert!(Filter::parse(&q("policyDefinitionId eq unquoted")).is_err());
    }

    #[test]
    fn scope_relations() {
        let sub = "/subscriptions/S";
        let rg = "/subscriptions/s/resourceGroups/RG";
        let res =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm";
        let other = "/subscriptions/s2";
        let mg = "/providers/Microsoft.Management/managementGroups/mg";
        assert!(contains(sub, rg) && contains(sub, res) && contains(rg, res));
        assert!(!contains(rg, sub) && !contains(other, rg) && !contains(mg, sub));
        assert!(!contains("/subscriptions/s", "/subscriptions/s2"));
        assert!(in_scope(ScopeFilter::AtScope, rg, sub));
        assert!(!in_scope(ScopeFilter::AtScope, sub, rg));
        assert!(in_scope(ScopeFilter::All, sub, rg));
        assert!(!in_scope(ScopeFilter::AtExactScope, sub, rg));
        assert!(in_scope(ScopeFilter::AtExactScope, sub, "/SUBSCRIPTIONS/s"));
    }

    #[test]
    fn scope_helpers() {
        assert_eq!(
            scope_of("/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a"),
            "/subscriptions/s"
        );
        assert_eq!(
            subscription_of("/subscriptions/s/resourceGroups/rg").as_deref(),
            Some("s")
        );
        assert_eq!(
            scope_kind("/providers/Microsoft.Management/managementGroups/mg"),
            Some(ScopeKind::ManagementGroup)
        );
        assert_eq!(
            canonical_scope("/SUBSCRIPTIONS/s/RESOURCEGROUPS/Rg"),
            "/subscriptions/s/resourceGroups/Rg"
        );
        assert_eq!(
            canonical_scope("/providers/microsoft.management/MANAGEMENTGROUPS/Mg"),
            "/providers/Microsoft.Management/managementGroups/Mg"
        );
    }
}
