//! The managed identity endpoint of IMDS, `GET /metadata/identity/oauth2/token`
//! (arm-api.md 14.2): needs `Metadata: true`, answers numbers as strings.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ImdsError;
use crate::state::EmulatorState;
use crate::util::{query_get, query_pairs};

/// The client ID of the VM's system-assigned identity when the caller names none.
pub const SYSTEM_ASSIGNED_CLIENT_ID: &str = "5e1f0a11-0000-4000-8000-00000000a51d";

pub async fn token(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match issue(&state, &headers, &uri) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn issue(state: &EmulatorState, headers: &HeaderMap, uri: &Uri) -> Result<Response, ImdsError> {
    // SSRF mitigation: IMDS refuses requests without the header (docs: lowercase "true").
    let metadata = headers.get("metadata").and_then(|v| v.to_str().ok());
    if !metadata.is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(ImdsError::MissingMetadataHeader);
    }
    let query = query_pairs(uri.query());
    query_get(&query, "api-version")
        .filter(|v| !v.is_empty())
        .ok_or(ImdsError::MissingApiVersion)?;
    let resource = query_get(&query, "resource")
        .filter(|v| !v.is_empty())
        .ok_or(ImdsError::MissingResource)?
        .to_owned();
    // A user-assigned identity is chosen by client_id, object_id or msi_res_id; each gets its
    // own stable principal.
    let client_id = query_get(&query, "client_id")
        .or_else(|| query_get(&query, "object_id"))
        .or_else(|| query_get(&query, "msi_res_id"))
        .unwrap_or(SYSTEM_ASSIGNED_CLIENT_ID)
        .to_owned();
    let audience = resource.trim_end_matches("/.default").to_owned();
    let issued = state.tokens.issue(&client_id, &state.tenant_id, &audience);
    // Exactly the fields of arm-api.md 14.2, numbers as strings.
    let body = json!({
        "access_token": issued.access_token,
        "refresh_token": "",
        "expires_in": issued.expires_in.to_string(),
        "expires_on": issued.expires_on.to_string(),
        "not_before": issued.not_before.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    });
    Ok(Json(body).into_response())
}
