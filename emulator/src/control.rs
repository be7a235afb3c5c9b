//! Control endpoints under `/_emulator/`, for tests and demos. No token needed; never
//! subject to faults or latency.
//!
//! | Method | Path | Does |
//! |---|---|---|
//! | GET | `/_emulator/requests` | the request log (JSON array) |
//! | DELETE | `/_emulator/requests` | clears the log (204) |
//! | GET | `/_emulator/resources?id=ID` | what a GET of ID answers (stored or singleton default); without `id`, every stored resource |
//! | PUT | `/_emulator/resources?id=ID` | stores the body as it is (seeding, drift); no validation |
//! | DELETE | `/_emulator/resources?id=ID` | forgets a stored resource (204; 404 if none) |
//! | GET | `/_emulator/state` | the whole state |
//! | GET/POST/DELETE | `/_emulator/faults` | list / add (201 `{"id"}`) / clear fault rules |
//! | GET/POST | `/_emulator/config` | read / change `allow_mma_autoprovision`, `latency_ms`, `page_size`, `principal_replication_ms`, `remediation_step_ms`, `remediation_resources`, `remediation_failures` (and the other `RuntimeConfig` fields) |
//! | POST | `/_emulator/tokens` | `{"client_id"}` → `{"access_token"}` for ARM, skipping the token flow |

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::config::RuntimeConfigPatch;
use crate::faults::FaultRule;
use crate::state::EmulatorState;
use crate::util::{query_get, query_pairs};

type S = State<Arc<EmulatorState>>;

pub fn router() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route(
            "/_emulator/resources",
            get(get_resource).put(put_resource).delete(delete_resource),
        )
        .route("/_emulator/state", get(state_json))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/config", get(get_config).post(set_config))
        .route("/_emulator/tokens", axum::routing::post(issue_token))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": { "code": "BadRequest", "message": message.into() } })),
    )
        .into_response()
}

fn server_error(message: impl Into<String>) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": { "code": "InternalServerError", "message": message.into() } })),
    )
        .into_response()
}

fn id_param(uri: &Uri) -> Option<String> {
    query_get(&query_pairs(uri.query()), "id")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

async fn requests(State(state): S) -> Response {
    Json(state.requests()).into_response()
}

async fn clear_requests(State(state): S) -> StatusCode {
    state.clear_requests();
    StatusCode::NO_CONTENT
}

async fn get_resource(State(state): S, uri: Uri) -> Response {
    match id_param(&uri) {
        None => Json(state.store.snapshot().resources).into_response(),
        Some(id) => match state.get_resource(&id) {
            Some(body) => Json(body).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": { "code": "ResourceNotFound", "message": format!("No resource '{id}'.") } })),
            )
                .into_response(),
        },
    }
}

async fn put_resource(State(state): S, uri: Uri, body: Bytes) -> Response {
    let Some(id) = id_param(&uri) else {
        return bad_request("the 'id' query parameter is required");
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(format!("the body is not JSON: {e}")),
    };
    match state.set_resource(&id, body.clone()) {
        Ok(()) => Json(body).into_response(),
        Err(e) => server_error(e.to_string()),
    }
}

async fn delete_resource(State(state): S, uri: Uri) -> Response {
    let Some(id) = id_param(&uri) else {
        return bad_request("the 'id' query parameter is required");
    };
    match state.delete_resource(&id) {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => server_error(e.to_string()),
    }
}

async fn state_json(State(state): S) -> Response {
    Json(state.snapshot_json()).into_response()
}

async fn list_faults(State(state): S) -> Response {
    Json(state.faults()).into_response()
}

async fn add_fault(State(state): S, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("invalid fault rule: {e}")),
    };
    match state.add_fault(rule) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => bad_request(e.to_string()),
    }
}

async fn clear_faults(State(state): S) -> StatusCode {
    state.clear_faults();
    StatusCode::NO_CONTENT
}

async fn get_config(State(state): S) -> Response {
    Json(state.runtime()).into_response()
}

async fn set_config(State(state): S, body: Bytes) -> Response {
    let patch: RuntimeConfigPatch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad_request(format!("invalid config: {e}")),
    };
    Json(state.update_runtime(&patch)).into_response()
}

async fn issue_token(State(state): S, body: Bytes) -> Response {
    let client_id = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v
                .get("client_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Err(e) => return bad_request(format!("the body is not JSON: {e}")),
        }
    };
    let client_id = client_id.unwrap_or_else(|| "00000000-0000-0000-0000-00000000c1d0".to_owned());
    let token = state.issue_token(&client_id);
    Json(json!({ "token_type": "Bearer", "access_token": token })).into_response()
}
