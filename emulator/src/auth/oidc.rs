//! A GitHub-Actions-style OIDC request endpoint, `GET /_oidc/github?audience=...`, so the
//! federated (workload identity) flow can be tested end to end: the runner calls
//! `ACTIONS_ID_TOKEN_REQUEST_URL` with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`
//! and gets `{"value": "<JWT>"}`; the JWT is then sent as `client_assertion`.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::jwt;
use crate::util::{new_guid, query_get, query_pairs, unix_now};

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// GitHub's default audience is the repository owner's URL when none is asked for.
const DEFAULT_AUDIENCE: &str = "https://github.com/defenderops";

pub async fn github(headers: HeaderMap, uri: Uri) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        });
    if bearer.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "Bad credentials: a bearer request token is required." })),
        )
            .into_response();
    }
    let query = query_pairs(uri.query());
    let audience = query_get(&query, "audience")
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_AUDIENCE);
    let now = unix_now();
    let claims = json!({
        "jti": new_guid(),
        "sub": "repo:defenderops/terraform-provider-defender:ref:refs/heads/main",
        "aud": audience,
        "ref": "refs/heads/main",
        "repository": "defenderops/terraform-provider-defender",
        "repository_owner": "defenderops",
        "event_name": "push",
        "iss": GITHUB_ISSUER,
        "nbf": now,
        "iat": now,
        "exp": now + 300,
    });
    let header = json!({ "typ": "JWT", "alg": "RS256", "x5t": "emulator", "kid": "emulator" });
    let signature: [u8; 32] = rand::random();
    let token = jwt::encode(&header, &claims, &signature);
    Json(json!({ "count": 1, "value": token })).into_response()
}
