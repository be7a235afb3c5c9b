//! ARM itself: every request under `/subscriptions` or `/providers`.
//!
//! Order of checks, as ARM's front door does them: bearer token (401), `api-version` present
//! (400 `MissingApiVersionParameter`), subscription well-formed and known (400/404), resource
//! type registered (404 `InvalidResourceType`/`InvalidResourceNamespace`), api-version
//! supported by the type (400 `InvalidApiVersionParameter`, arm-api.md 13.2), verb allowed
//! (405), then the type's own handling.

pub mod path;

pub(crate) mod paging;
mod subscriptions;

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use self::path::{ArmPath, ProviderPart, ScopeKind};
use crate::auth::bearer;
use crate::error::ArmError;
use crate::faults::FaultTarget;
use crate::pipeline::FaultsFired;
use crate::state::EmulatorState;
use crate::store::key_of;
use crate::types::{self, PutContext, ResourceRef, TypeSpec, Verb};
use crate::util::{is_guid, query_get, query_pairs};

/// Largest request body read (ARM's own limit is 4 MB per request).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Remaining-quota headers. ARM's real numbers count down per principal; these stay at the
/// hourly limits of arm-api.md 13.3's older documentation minus one.
const REMAINING_READS: &str = "11999";
const REMAINING_WRITES: &str = "1199";

/// Whether a path belongs to ARM (case-insensitive first segment).
pub fn is_arm_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    first.eq_ignore_ascii_case("subscriptions") || first.eq_ignore_ascii_case("providers")
}

/// `Namespace/type` (registry casing when registered) of the type a path addresses.
pub fn resource_type_of(path: &str) -> Option<String> {
    let parsed = path::parse(path)?;
    let provider = parsed.provider?;
    if provider.types.is_empty() {
        return None;
    }
    Some(match types::find(&provider.namespace, &provider.types) {
        Some(spec) => spec.full_type.to_owned(),
        None => provider.full_type(),
    })
}

/// The router's fallback: ARM paths are dispatched, anything else is a 404.
pub async fn fallback(State(state): State<Arc<EmulatorState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if !is_arm_path(parts.uri.path()) {
        return ArmError::PathNotFound(parts.uri.path().to_owned()).into_response();
    }
    let mut response = match dispatch(&state, &parts, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if response.status() != StatusCode::UNAUTHORIZED {
        let (name, value) = remaining_header(&parts.method, parts.uri.path());
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The remaining-quota header ARM puts on an answer: reads on reads, writes on writes, with
/// `-tenant-` for calls outside a subscription (management groups, `/providers/…`), arm-api.md
/// §13.1. The rate limiter (`ratelimit.rs`), when on, replaces it with its own count.
fn remaining_header(method: &Method, path: &str) -> (&'static str, &'static str) {
    let read = method == Method::GET || method == Method::HEAD;
    let subscription = path
        .trim_start_matches('/')
        .get(..14)
        .is_some_and(|p| p.eq_ignore_ascii_case("subscriptions/"));
    match (subscription, read) {
        (true, true) => (
            "x-ms-ratelimit-remaining-subscription-reads",
            REMAINING_READS,
        ),
        (true, false) => (
            "x-ms-ratelimit-remaining-subscription-writes",
            REMAINING_WRITES,
        ),
        (false, true) => ("x-ms-ratelimit-remaining-tenant-reads", REMAINING_READS),
        (false, false) => ("x-ms-ratelimit-remaining-tenant-writes", REMAINING_WRITES),
    }
}

async fn dispatch(state: &EmulatorState, parts: &Parts, body: Body) -> Result<Response, ArmError> {
    let caller = bearer::authenticate(state, &parts.headers)?;
    let query = query_pairs(parts.uri.query());
    let api_version = query_get(&query, "api-version")
        .filter(|v| !v.is_empty())
        .ok_or(ArmError::MissingApiVersion)?
        .to_owned();
    let raw_path = parts.uri.path();
    let parsed =
        path::parse(raw_path).ok_or_else(|| ArmError::PathNotFound(raw_path.to_owned()))?;
    if let Some(sub) = &parsed.subscription {
        if !is_guid(sub) {
            return Err(ArmError::InvalidSubscriptionId(sub.clone()));
        }
        if !state.subscription_known(sub) {
            return Err(ArmError::SubscriptionNotFound(sub.clone()));
        }
        if state.store.note_subscription(sub) {
            state.store.save_or_log();
        }
    }
    let Some(provider) = parsed.provider.clone() else {
        return subscriptions::handle(state, &parts.method, &parsed, &api_version);
    };
    if parsed.scope == ScopeKind::Subscription && provider.types.len() <= 1 {
        // `/subscriptions/{sub}/providers/{ns}[/register]`: resource provider registration.
        if provider.types.is_empty() {
            return subscriptions::provider(
                &parts.method,
                &parsed,
                &provider.namespace,
                None,
                &api_version,
            );
        }
        if parts.method == Method::POST
            && provider.names.is_empty()
            && provider.types[0].eq_ignore_ascii_case("register")
        {
            return subscriptions::provider(
                &parts.method,
                &parsed,
                &provider.namespace,
                Some("register"),
                &api_version,
            );
        }
    }
    let ctx = Ctx {
        state,
        parts,
        parsed: &parsed,
        provider: &provider,
        api_version: &api_version,
        query: &query,
        caller: &caller.object_id,
    };
    ctx.resource(body).await
}

struct Ctx<'a> {
    state: &'a EmulatorState,
    parts: &'a Parts,
    parsed: &'a ArmPath,
    provider: &'a ProviderPart,
    api_version: &'a str,
    query: &'a [(String, String)],
    /// The object ID (`oid`) of the token's principal.
    caller: &'a str,
}

impl Ctx<'_> {
    async fn resource(&self, body: Body) -> Result<Response, ArmError> {
        let p = self.provider;
        let unknown_type = || {
            if p.types.is_empty() {
                ArmError::InvalidResourceNamespace(p.namespace.clone())
            } else if types::namespace_known(&p.namespace) {
                ArmError::InvalidResourceType {
                    resource_type: p.types.join("/"),
                    namespace: p.namespace.clone(),
                    api_version: self.api_version.to_owned(),
                }
            } else {
                ArmError::InvalidResourceNamespace(p.namespace.clone())
            }
        };
        if self.parts.method == Method::POST
            && let Some((spec, action, handler)) = types::actions::find(&p.namespace, &p.types)
        {
            return self.action(spec, action, handler, body).await;
        }
        let spec = types::find(&p.namespace, &p.types).ok_or_else(unknown_type)?;
        if !spec.scopes.contains(&self.parsed.scope) {
            return Err(unknown_type());
        }
        if !spec.supports_api_version(self.api_version) {
            return Err(ArmError::InvalidApiVersion {
                given: self.api_version.to_owned(),
                supported: spec.api_versions.join(","),
            });
        }
        let collection = p.is_collection();
        let verb = match (&self.parts.method, collection) {
            (&Method::GET, true) => Some(Verb::List),
            (&Method::GET, false) => Some(Verb::Get),
            (&Method::PUT, false) => Some(Verb::Put),
            (&Method::PATCH, false) => Some(Verb::Patch),
            (&Method::DELETE, false) => Some(Verb::Delete),
            _ => None,
        };
        let verb = match verb {
            Some(v) if spec.allows(v) => v,
            _ => {
                let allow = spec
                    .verbs
                    .iter()
                    .filter(|v| (**v == Verb::List) == collection)
                    .map(|v| v.http_method().to_owned())
                    .collect();
                return Err(ArmError::MethodNotAllowed {
                    method: self.parts.method.to_string(),
                    allow,
                });
            }
        };
        if let Some(handler) = types::handler_for(spec) {
            let body = match verb {
                Verb::Put | Verb::Patch => Some(json_object(&read_body(body).await?)?),
                _ => None,
            };
            return handler(types::Request {
                state: self.state,
                spec,
                verb,
                api_version: self.api_version,
                query: self.query,
                path: self.parts.uri.path(),
                scope: self.parsed.scope,
                scope_id: self.canonical_scope(),
                collection_id: self.collection_id(spec),
                resource: (verb != Verb::List).then(|| self.resource_ref(spec)),
                body,
                caller: self.caller,
            })
            .await;
        }
        match verb {
            Verb::List => self.list(spec),
            Verb::Get => self.get(spec),
            Verb::Put => self.put(spec, read_body(body).await?),
            Verb::Delete => self.delete(spec),
            // No registered type has PATCH yet; the verb check above refuses it.
            Verb::Patch => Err(ArmError::MethodNotAllowed {
                method: "PATCH".to_owned(),
                allow: vec![],
            }),
        }
    }

    /// `POST {resource}/{action}` (`types::actions`): the resource's type answers, after the
    /// same scope and api-version checks as its other requests.
    async fn action(
        &self,
        spec: &'static TypeSpec,
        action: &'static str,
        handler: types::actions::ActionHandler,
        body: Body,
    ) -> Result<Response, ArmError> {
        if !spec.scopes.contains(&self.parsed.scope) {
            return Err(ArmError::InvalidResourceType {
                resource_type: self.provider.types.join("/"),
                namespace: self.provider.namespace.clone(),
                api_version: self.api_version.to_owned(),
            });
        }
        if !spec.supports_api_version(self.api_version) {
            return Err(ArmError::InvalidApiVersion {
                given: self.api_version.to_owned(),
                supported: spec.api_versions.join(","),
            });
        }
        let bytes = read_body(body).await?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ArmError::InvalidRequestContent(e.to_string()))?
        };
        handler(types::actions::ActionRequest {
            state: self.state,
            spec,
            action,
            api_version: self.api_version,
            query: self.query,
            path: self.parts.uri.path(),
            resource: self.resource_ref(spec),
            body,
        })
        .await
    }

    /// The canonical scope ID: ARM's keywords in their usual casing, values as given.
    fn canonical_scope(&self) -> String {
        match (self.parsed.scope, &self.parsed.subscription) {
            (ScopeKind::Subscription, Some(sub)) => format!("/subscriptions/{sub}"),
            (ScopeKind::ResourceGroup, Some(sub)) => format!(
                "/subscriptions/{sub}/resourceGroups/{}",
                self.parsed.resource_group.as_deref().unwrap_or_default()
            ),
            _ => self.parsed.scope_id.clone(),
        }
    }

    fn collection_id(&self, spec: &TypeSpec) -> String {
        let mut id = format!("{}/providers/{}", self.canonical_scope(), spec.namespace);
        for (i, t) in spec.type_name.split('/').enumerate() {
            id.push('/');
            id.push_str(t);
            if let Some(name) = self.provider.names.get(i)
                && i + 1 < spec.type_name.split('/').count()
            {
                id.push('/');
                id.push_str(name);
            }
        }
        id
    }

    /// The addressed instance, in the casing of its first write if it is stored.
    fn resource_ref(&self, spec: &'static TypeSpec) -> ResourceRef {
        let requested_name = self.provider.names.last().cloned().unwrap_or_default();
        let name = spec
            .singleton_name(&requested_name)
            .map(str::to_owned)
            .unwrap_or(requested_name);
        let mut id = format!("{}/{}", self.collection_id(spec), name);
        let mut name = name;
        if let Some(stored) = self.state.store.get(&id) {
            id = stored.id.clone();
            name = stored.id.rsplit('/').next().unwrap_or_default().to_owned();
        }
        ResourceRef {
            id,
            name,
            resource_type: spec.full_type,
            scope_id: self.canonical_scope(),
            subscription: self.parsed.subscription.clone(),
            resource_group: self.parsed.resource_group.clone(),
        }
    }

    fn not_found(&self, spec: &TypeSpec, resource: &ResourceRef) -> ArmError {
        ArmError::ResourceNotFound {
            type_and_name: format!("{}/{}", spec.full_type, resource.name),
            resource_group: resource
                .resource_group
                .clone()
                .unwrap_or_else(|| "<null>".to_owned()),
        }
    }

    fn get(&self, spec: &'static TypeSpec) -> Result<Response, ArmError> {
        let resource = self.resource_ref(spec);
        if self.state.faults.take_not_found(&key_of(&resource.id)) {
            let mut response = self.not_found(spec, &resource).into_response();
            response
                .extensions_mut()
                .insert(FaultsFired(vec!["not_found_after_create".to_owned()]));
            return Ok(response);
        }
        match effective(self.state, spec, &resource) {
            Some(body) => Ok(Json(body).into_response()),
            None => Err(self.not_found(spec, &resource)),
        }
    }

    fn list(&self, spec: &'static TypeSpec) -> Result<Response, ArmError> {
        let collection = self.collection_id(spec);
        let stored = self.state.store.children(&collection);
        let mut items = Vec::new();
        for name in spec.singleton_names {
            let id = format!("{collection}/{name}");
            match stored.iter().find(|s| key_of(&s.id) == key_of(&id)) {
                Some(s) => items.push(s.body.clone()),
                None => {
                    let resource = ResourceRef {
                        id,
                        name: (*name).to_owned(),
                        resource_type: spec.full_type,
                        scope_id: self.canonical_scope(),
                        subscription: self.parsed.subscription.clone(),
                        resource_group: self.parsed.resource_group.clone(),
                    };
                    items.push(default_of(self.state, spec, &resource));
                }
            }
        }
        for s in stored {
            let name = s.id.rsplit('/').next().unwrap_or_default();
            if spec.singleton_name(name).is_none() {
                items.push(s.body);
            }
        }
        let page_size = self.state.runtime().page_size;
        let body = paging::page(
            items,
            self.query,
            page_size,
            &self.state.base_url,
            self.parts.uri.path(),
        )?;
        Ok(Json(body).into_response())
    }

    fn put(&self, spec: &'static TypeSpec, bytes: Bytes) -> Result<Response, ArmError> {
        let body = json_object(&bytes)?;
        let resource = self.resource_ref(spec);
        let existing = effective(self.state, spec, &resource);
        let runtime = self.state.runtime();
        let outcome = (spec.put)(&PutContext {
            resource: &resource,
            api_version: self.api_version,
            body,
            existing: existing.as_ref(),
            runtime: &runtime,
        })?;
        let created = self.state.store.put(&resource.id, outcome.body.clone());
        self.state.store.save_or_log();
        let mut response = (outcome.status, Json(outcome.body)).into_response();
        if created {
            let target = FaultTarget {
                method: self.parts.method.as_str(),
                path: self.parts.uri.path(),
                resource_type: Some(spec.full_type),
            };
            if let Some(rule) = self.state.faults.on_created(&target, &key_of(&resource.id)) {
                response.extensions_mut().insert(FaultsFired(vec![rule]));
            }
        }
        Ok(response)
    }

    /// DELETE: 200 with the deleted body, 204 when there was nothing (arm-api.md 7.1, 9, 10).
    fn delete(&self, spec: &'static TypeSpec) -> Result<Response, ArmError> {
        let resource = self.resource_ref(spec);
        match self.state.store.delete(&resource.id) {
            Some(stored) => {
                self.state.store.save_or_log();
                Ok(Json(stored.body).into_response())
            }
            None => Ok(StatusCode::NO_CONTENT.into_response()),
        }
    }
}

async fn read_body(body: Body) -> Result<Bytes, ArmError> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| ArmError::InvalidRequestContent(e.to_string()))
}

/// A PUT body: a JSON object, as ARM's front door requires.
fn json_object(bytes: &[u8]) -> Result<Value, ArmError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::InvalidRequestContent(
            "The request content is empty.".to_owned(),
        ));
    }
    let body: Value = serde_json::from_slice(bytes)
        .map_err(|e| ArmError::InvalidRequestContent(e.to_string()))?;
    if !body.is_object() {
        return Err(ArmError::InvalidRequestContent(
            "The request content must be a JSON object.".to_owned(),
        ));
    }
    Ok(body)
}

/// A singleton's body before any write: the seeded example if any, else the type's default.
fn default_of(state: &EmulatorState, spec: &TypeSpec, resource: &ResourceRef) -> Value {
    state
        .seeds
        .default_for(spec, resource)
        .unwrap_or_else(|| (spec.default_body)(resource))
}

/// What GET answers for `resource`: stored body, or singleton default, or nothing.
fn effective(state: &EmulatorState, spec: &TypeSpec, resource: &ResourceRef) -> Option<Value> {
    if let Some(stored) = state.store.get(&resource.id) {
        return Some(stored.body);
    }
    spec.singleton_name(&resource.name)?;
    Some(default_of(state, spec, resource))
}

/// What GET of `id` answers, for the handle and the control endpoint: a stored body under
/// any ID, or the default of a registered singleton.
pub fn effective_resource(state: &EmulatorState, id: &str) -> Option<Value> {
    if let Some(stored) = state.store.get(id) {
        return Some(stored.body);
    }
    let parsed = path::parse(id)?;
    let provider = parsed.provider.as_ref()?;
    let spec = types::find(&provider.namespace, &provider.types)?;
    if provider.is_collection() || !spec.scopes.contains(&parsed.scope) {
        return None;
    }
    let name = spec.singleton_name(provider.names.last()?)?;
    let sub = parsed.subscription.clone();
    let scope_id = match &sub {
        Some(s) if parsed.scope == ScopeKind::Subscription => format!("/subscriptions/{s}"),
        _ => parsed.scope_id.clone(),
    };
    let resource = ResourceRef {
        id: format!(
            "{scope_id}/providers/{}/{}/{name}",
            spec.namespace, spec.type_name
        ),
        name: name.to_owned(),
        resource_type: spec.full_type,
        scope_id,
        subscription: sub,
        resource_group: parsed.resource_group.clone(),
    };
    Some(default_of(state, spec, &resource))
}
