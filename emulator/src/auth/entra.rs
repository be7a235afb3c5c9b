//! Entra's token endpoint, `POST /{tenant}/oauth2/v2.0/token` (arm-api.md 14.1): the client
//! credentials grant with a secret (form field or HTTP Basic) or a client assertion.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::assertion;
use crate::error::EntraError;
use crate::pipeline::RequestIds;
use crate::state::EmulatorState;
use crate::util::is_guid;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The form fields of a token request, secrets included: never logged or debug-printed.
#[derive(Default)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    scope: Option<String>,
}

fn parse_form(body: &[u8]) -> TokenForm {
    let mut form = TokenForm::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "grant_type" => form.grant_type = Some(v),
            "client_id" => form.client_id = Some(v),
            "client_secret" => form.client_secret = Some(v),
            "client_assertion_type" => form.client_assertion_type = Some(v),
            "client_assertion" => form.client_assertion = Some(v),
            "scope" => form.scope = Some(v),
            _ => {}
        }
    }
    form
}

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 2.3.1; the two parts are
/// form-urlencoded before base64).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

pub async fn token(
    State(state): State<Arc<EmulatorState>>,
    Path(tenant): Path<String>,
    Extension(ids): Extension<RequestIds>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Entra echoes the client's `client-request-id` as the correlation ID.
    let correlation = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| ids.correlation_id.clone());
    match issue(&state, &tenant, &headers, &body) {
        Ok(response) => response,
        Err(e) => {
            tracing::info!(error = %e.parts().1, aadsts = e.parts().2, "token request refused");
            e.to_response(&ids.request_id, &correlation)
        }
    }
}

fn issue(
    state: &EmulatorState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, EntraError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !ct
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(EntraError::UnsupportedContentType(ct.to_owned()));
        }
    }
    let form = parse_form(body);
    let basic = basic_credentials(headers);
    let grant_type = form
        .grant_type
        .as_deref()
        .ok_or(EntraError::MissingParameter("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(EntraError::UnsupportedGrantType(grant_type.to_owned()));
    }
    let client_id = form
        .client_id
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .filter(|s| !s.is_empty())
        .ok_or(EntraError::MissingParameter("client_id"))?;
    let scope = form
        .scope
        .as_deref()
        .ok_or(EntraError::MissingParameter("scope"))?;
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let audience = match scopes.as_slice() {
        [one] if one.ends_with("/.default") && one.len() > "/.default".len() => {
            one.trim_end_matches("/.default").to_owned()
        }
        _ => return Err(EntraError::InvalidScope(scope.to_owned())),
    };
    // The token's `tid`: the tenant in the path when it is a GUID (a domain name or `common`
    // cannot be a tenant ID), else the configured one.
    let tenant_id = if is_guid(tenant) {
        tenant.to_ascii_lowercase()
    } else {
        state.tenant_id.clone()
    };

    let secret = form
        .client_secret
        .clone()
        .or_else(|| basic.as_ref().map(|(_, s)| s.clone()));
    let registration = if state.clients.is_empty() {
        None
    } else {
        Some(
            state
                .clients
                .iter()
                .find(|c| c.client_id.eq_ignore_ascii_case(&client_id))
                .ok_or_else(|| EntraError::UnknownClient {
                    client_id: client_id.clone(),
                    tenant: tenant.to_owned(),
                })?,
        )
    };
    match (secret, form.client_assertion.as_deref()) {
        (Some(_), Some(_)) => return Err(EntraError::TwoCredentials),
        (None, None) => return Err(EntraError::MissingCredential),
        (Some(secret), None) => {
            let ok = match registration {
                Some(reg) => reg.secret.as_deref() == Some(secret.as_str()),
                None => !secret.is_empty(),
            };
            if !ok {
                return Err(EntraError::InvalidSecret(client_id));
            }
        }
        (None, Some(client_assertion)) => {
            match form.client_assertion_type.as_deref() {
                None => return Err(EntraError::MissingParameter("client_assertion_type")),
                Some(JWT_BEARER) => {}
                Some(other) => return Err(EntraError::InvalidAssertionType(other.to_owned())),
            }
            assertion::check(client_assertion, &client_id, registration, |aud| {
                names_token_endpoint(state, tenant, aud)
            })?;
        }
    }

    let issued = state.tokens.issue(&client_id, &tenant_id, &audience);
    tracing::info!(client_id = %client_id, audience = %audience, "issued access token");
    // Field order as Entra sends it.
    let body = json!({
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "ext_expires_in": issued.expires_in,
        "access_token": issued.access_token,
    });
    Ok((
        [
            (header::CACHE_CONTROL, "no-store, no-cache"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response())
}

/// Whether a certificate assertion's `aud` names this token endpoint: the v2.0 or v1 token
/// URL (or the v2.0 issuer) for this tenant, under any loopback name with this port.
fn names_token_endpoint(state: &EmulatorState, tenant: &str, aud: &str) -> bool {
    let Ok(url) = url::Url::parse(aud) else {
        return false;
    };
    if !super::is_own_url(state, &url) {
        return false;
    }
    let path = url.path().trim_end_matches('/').to_ascii_lowercase();
    let tenant = tenant.to_ascii_lowercase();
    [
        format!("/{tenant}/oauth2/v2.0/token"),
        format!("/{tenant}/oauth2/token"),
        format!("/{tenant}/v2.0"),
    ]
    .contains(&path)
}
