//! What happens to every request around its handler: request IDs and ARM's response headers
//! (arm-api.md 13.1), global latency and fault rules, the request log and tracing.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::Notify;

use crate::error::{ArmError, EntraError};
use crate::faults::{FaultTarget, Terminal};
use crate::requests::{RequestLogEntry, redact_query};
use crate::state::EmulatorState;
use crate::util::{new_guid, query_get, query_pairs, rfc3339, routing_request_id};

/// The IDs of the current request, in the request's extensions for handlers.
#[derive(Clone, Debug)]
pub struct RequestIds {
    pub request_id: String,
    pub correlation_id: String,
}

/// Fault rules a handler fired (e.g. `not_found_after_create`), put in the response's
/// extensions for the request log.
#[derive(Clone, Debug)]
pub struct FaultsFired(pub Vec<String>);

/// Closes the request's connection without an answer when notified; the server loop puts
/// one in every request's extensions.
#[derive(Clone, Debug)]
pub struct ConnectionKiller(pub Arc<Notify>);

/// Which part of the emulator a path belongs to; decides the error dialect of faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RouteKind {
    Control,
    Token,
    Imds,
    Other,
    Arm,
}

fn route_kind(path: &str) -> RouteKind {
    if path.starts_with("/_emulator") {
        RouteKind::Control
    } else if path.starts_with("/metadata/identity/") {
        RouteKind::Imds
    } else if path.contains("/oauth2/") {
        RouteKind::Token
    } else if crate::arm::is_arm_path(path) {
        RouteKind::Arm
    } else {
        RouteKind::Other
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn pipeline(
    State(state): State<Arc<EmulatorState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let time = rfc3339(SystemTime::now());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().map(str::to_owned);
    let headers = req.headers();
    let request_id = new_guid();
    // ARM echoes the caller's correlation ID and makes one up otherwise (arm-api.md 13.1).
    let correlation_id = header_str(headers, "x-ms-correlation-request-id")
        .map(str::to_owned)
        .unwrap_or_else(new_guid);
    let client_request_id = header_str(headers, "x-ms-client-request-id").map(str::to_owned);
    let return_client_request_id = header_str(headers, "x-ms-return-client-request-id")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let auth_present = headers.contains_key(header::AUTHORIZATION);
    let kind = route_kind(&path);
    let resource_type = if kind == RouteKind::Arm {
        crate::arm::resource_type_of(&path)
    } else {
        None
    };
    let api_version =
        query_get(&query_pairs(raw_query.as_deref()), "api-version").map(str::to_owned);
    let ids = RequestIds {
        request_id: request_id.clone(),
        correlation_id: correlation_id.clone(),
    };
    req.extensions_mut().insert(ids.clone());
    let killer = req.extensions().get::<ConnectionKiller>().cloned();

    let draft = LogDraft {
        time,
        method,
        path,
        query: redact_query(raw_query.as_deref()),
        api_version,
        resource_type,
        request_id,
        correlation_id,
        auth_present,
        started,
    };

    let mut fired = Vec::new();
    let mut response = if kind == RouteKind::Control {
        next.run(req).await
    } else {
        let decision = state.faults.evaluate(&FaultTarget {
            method: &draft.method,
            path: &draft.path,
            resource_type: draft.resource_type.as_deref(),
        });
        fired.extend(decision.fired.iter().cloned());
        let latency = state.runtime().latency_ms + decision.latency_ms;
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        match decision.terminal {
            Some((_, Terminal::Drop)) => {
                state.log.push(draft.clone().finish(0, fired.clone(), true));
                tracing::info!(path = %draft.path, "dropping the connection (fault rule)");
                match killer {
                    Some(ConnectionKiller(notify)) => {
                        notify.notify_one();
                        // The server loop drops the connection, and this future with it.
                        std::future::pending::<Response>().await
                    }
                    None => {
                        return ArmError::custom(
                            StatusCode::BAD_GATEWAY,
                            "ConnectionDropped",
                            "A drop fault fired but this server cannot drop connections.",
                        )
                        .into_response();
                    }
                }
            }
            Some((
                _,
                Terminal::Status {
                    status,
                    code,
                    message,
                    retry_after,
                },
            )) => fault_response(kind, status, code, message, retry_after, &ids),
            None => match state
                .rate_limiter
                .as_ref()
                .filter(|_| kind == RouteKind::Arm)
                .and_then(|l| l.check(&draft.method, &draft.path))
            {
                None => next.run(req).await,
                Some(verdict) => crate::ratelimit::respond(verdict, next.run(req)).await,
            },
        }
    };

    if let Some(FaultsFired(more)) = response.extensions_mut().remove::<FaultsFired>() {
        fired.extend(more);
    }
    let h = response.headers_mut();
    for (name, value) in [
        ("x-ms-request-id", draft.request_id.clone()),
        ("x-ms-correlation-request-id", draft.correlation_id.clone()),
        (
            "x-ms-routing-request-id",
            routing_request_id(&draft.request_id),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    if return_client_request_id
        && let Some(id) = client_request_id
        && let Ok(v) = HeaderValue::from_str(&id)
    {
        h.insert("x-ms-client-request-id", v);
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));

    let entry = draft.finish(response.status().as_u16(), fired, false);
    tracing::info!(
        method = %entry.method,
        path = %entry.path,
        status = entry.status,
        request_id = %entry.request_id,
        duration_ms = entry.duration_ms,
        "request"
    );
    state.log.push(entry);
    response
}

/// The parts of a log entry known before the handler runs.
#[derive(Clone)]
struct LogDraft {
    time: String,
    method: String,
    path: String,
    query: Option<String>,
    api_version: Option<String>,
    resource_type: Option<String>,
    request_id: String,
    correlation_id: String,
    auth_present: bool,
    started: Instant,
}

impl LogDraft {
    fn finish(self, status: u16, faults: Vec<String>, dropped: bool) -> RequestLogEntry {
        RequestLogEntry {
            seq: 0,
            time: self.time,
            method: self.method,
            path: self.path,
            query: self.query,
            api_version: self.api_version,
            resource_type: self.resource_type,
            status,
            request_id: self.request_id,
            correlation_id: self.correlation_id,
            auth_present: self.auth_present,
            duration_ms: self.started.elapsed().as_millis() as u64,
            faults,
            dropped,
        }
    }
}

/// The answer of a status fault, in the dialect of the route.
fn fault_response(
    kind: RouteKind,
    status: u16,
    code: Option<String>,
    message: Option<String>,
    retry_after: Option<u64>,
    ids: &RequestIds,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (default_code, default_message) = default_fault_text(status, retry_after, ids);
    match kind {
        RouteKind::Token => EntraError::Fault {
            status,
            message: message.unwrap_or(default_message),
            retry_after,
        }
        .to_response(&ids.request_id, &ids.correlation_id),
        RouteKind::Imds => {
            let mut r = (
                status,
                axum::Json(json!({
                    "error": code.unwrap_or_else(|| "server_error".to_owned()),
                    "error_description": message.unwrap_or(default_message),
                })),
            )
                .into_response();
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            r
        }
        _ => ArmError::Custom {
            status,
            code: code.unwrap_or_else(|| default_code.to_owned()),
            message: message.unwrap_or(default_message),
            retry_after,
        }
        .into_response(),
    }
}

/// Codes and messages ARM uses for these statuses (429's code is UNVERIFIED, arm-api.md
/// 13.2 suggests `TooManyRequests`).
fn default_fault_text(
    status: StatusCode,
    retry_after: Option<u64>,
    ids: &RequestIds,
) -> (&'static str, String) {
    match status {
        StatusCode::TOO_MANY_REQUESTS => (
            "TooManyRequests",
            format!(
                "The request was throttled. Please try again after '{}' seconds.",
                retry_after.unwrap_or(1)
            ),
        ),
        StatusCode::INTERNAL_SERVER_ERROR => (
            "InternalServerError",
            format!(
                "Encountered internal server error. Diagnostic information: timestamp '{}', tracking id '{}', request correlation id '{}'.",
                rfc3339(SystemTime::now()),
                ids.request_id,
                ids.correlation_id
            ),
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "ServiceUnavailable",
            "The service is currently unavailable. Please try again later.".to_owned(),
        ),
        StatusCode::CONFLICT => (
            "Conflict",
            "The request conflicts with an operation in progress.".to_owned(),
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            "GatewayTimeout",
            "The gateway did not receive a response from 'Microsoft.Security' within the specified time period.".to_owned(),
        ),
        _ => ("FaultInjected", "A fault rule answered this request.".to_owned()),
    }
}
