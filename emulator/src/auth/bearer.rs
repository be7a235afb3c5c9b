//! ARM's side of authentication: the `Authorization: Bearer` header on ARM requests.
//!
//! Order and codes as ARM answers them: no header → 401 `AuthenticationFailed`; not a
//! bearer token → 401 `AuthenticationFailed`; a token ARM cannot validate → 401
//! `InvalidAuthenticationToken`; an expired one → 401 `ExpiredAuthenticationToken`; one for
//! another resource → 401 `InvalidAuthenticationTokenAudience`.

use std::time::SystemTime;

use axum::http::{HeaderMap, header};

use super::tokens::{IssuedToken, TokenCheck};
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::rfc3339;

/// ARM's two public audiences; tokens for either are accepted by the real service.
const PUBLIC_AUDIENCES: &[&str] = &[
    "https://management.core.windows.net",
    "https://management.azure.com",
];

/// Checks the bearer token of an ARM request.
pub fn authenticate(state: &EmulatorState, headers: &HeaderMap) -> Result<IssuedToken, ArmError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(ArmError::MissingAuthorization)?;
    let value = value
        .to_str()
        .map_err(|_| ArmError::MalformedAuthorization)?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ArmError::MalformedAuthorization)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ArmError::MalformedAuthorization);
    }
    let issued = state.tokens.check(token).map_err(|e| match e {
        TokenCheck::Unknown => ArmError::InvalidToken,
        TokenCheck::Expired { expired_at } => ArmError::ExpiredToken {
            expired_at: rfc3339(expired_at),
            now: rfc3339(SystemTime::now()),
        },
    })?;
    if !audience_allowed(state, &issued.audience) {
        return Err(ArmError::InvalidAudience {
            audience: issued.audience,
            allowed: format!(
                "{}/,https://management.core.windows.net/,https://management.azure.com/",
                state.base_url
            ),
        });
    }
    Ok(issued)
}

/// ARM's audiences, plus this emulator under any loopback name with its port (the metadata
/// endpoint announces `{base}/` as the audience).
pub fn audience_allowed(state: &EmulatorState, audience: &str) -> bool {
    let trimmed = audience.trim_end_matches('/');
    if PUBLIC_AUDIENCES
        .iter()
        .any(|a| a.eq_ignore_ascii_case(trimmed))
    {
        return true;
    }
    let Ok(url) = url::Url::parse(trimmed) else {
        return false;
    };
    super::is_own_url(state, &url) && (url.path().is_empty() || url.path() == "/")
}
