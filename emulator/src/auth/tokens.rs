//! Access tokens the emulator issued, remembered in memory with their expiry.
//!
//! Tokens are JWT-shaped like Entra's v1 access tokens (clients such as azurerm read `oid`,
//! `tid` and `appid` from them), with a random `uti` and random signature bytes, so they
//! cannot be guessed; ARM accepts only tokens found in this store. Tokens are never logged.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::json;

use super::jwt;
use crate::util::unix_now;

/// Expired tokens are still recognised (to answer "expired" rather than "invalid") this long.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What the emulator knows about a token it issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    pub client_id: String,
    pub object_id: String,
    pub tenant_id: String,
    /// The resource the token is for (the scope without `/.default`).
    pub audience: String,
    pub expires_at: SystemTime,
}

/// A freshly issued token.
#[derive(Clone)]
pub struct NewToken {
    pub access_token: String,
    pub expires_in: u64,
    pub expires_on: u64,
    pub not_before: u64,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Unknown,
    Expired { expired_at: SystemTime },
}

pub struct TokenStore {
    lifetime: Duration,
    tokens: Mutex<HashMap<String, IssuedToken>>,
}

/// The object ID of a client's service principal: stable per client ID, so repeated runs
/// (and role assignments made for it) agree.
pub fn object_id_for(client_id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, client_id.as_bytes()).to_string()
}

impl TokenStore {
    pub fn new(lifetime: Duration) -> Self {
        TokenStore {
            lifetime,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Issues a token for `client_id` in `tenant_id`, valid for `audience`.
    pub fn issue(&self, client_id: &str, tenant_id: &str, audience: &str) -> NewToken {
        let now = unix_now();
        let lifetime = self.lifetime.as_secs();
        let object_id = object_id_for(client_id);
        let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "arm-emulator" });
        let claims = json!({
            "aud": audience,
            "iss": format!("https://sts.windows.net/{tenant_id}/"),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "appidacr": "1",
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant_id,
            "uti": crate::util::new_guid(),
            "ver": "1.0",
        });
        let signature: [u8; 32] = rand::random();
        let access_token = jwt::encode(&header, &claims, &signature);
        let issued = IssuedToken {
            client_id: client_id.to_owned(),
            object_id,
            tenant_id: tenant_id.to_owned(),
            audience: audience.to_owned(),
            expires_at: UNIX_EPOCH + Duration::from_secs(now + lifetime),
        };
        let mut tokens = self.tokens.lock();
        let horizon = SystemTime::now()
            .checked_sub(FORGET_AFTER)
            .unwrap_or(UNIX_EPOCH);
        tokens.retain(|_, t| t.expires_at > horizon);
        tokens.insert(access_token.clone(), issued);
        NewToken {
            access_token,
            expires_in: lifetime,
            expires_on: now + lifetime,
            not_before: now,
        }
    }

    /// The token's record if it was issued here and has not expired.
    pub fn check(&self, token: &str) -> Result<IssuedToken, TokenCheck> {
        let tokens = self.tokens.lock();
        let issued = tokens.get(token).ok_or(TokenCheck::Unknown)?;
        if issued.expires_at <= SystemTime::now() {
            return Err(TokenCheck::Expired {
                expired_at: issued.expires_at,
            });
        }
        Ok(issued.clone())
    }

    pub fn len(&self) -> usize {
        self.tokens.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_check() {
        let store = TokenStore::new(Duration::from_secs(60));
        let t = store.issue("app", "tenant", "https://management.azure.com/");
        assert_eq!(t.expires_in, 60);
        let rec = store.check(&t.access_token).unwrap();
        assert_eq!(rec.client_id, "app");
        assert_eq!(rec.object_id, object_id_for("app"));
        assert_eq!(store.check("nope"), Err(TokenCheck::Unknown));
        let claims = super::jwt::decode(&t.access_token).unwrap();
        assert_eq!(claims.claim_str("tid"), Some("tenant"));
        let other = store.issue("app", "tenant", "x");
        assert_ne!(other.access_token, t.access_token);
    }

    #[test]
    fn zero_lifetime_tokens_are_expired() {
        let store = TokenStore::new(Duration::ZERO);
        let t = store.issue("app", "tenant", "aud");
        assert!(matches!(
            store.check(&t.access_token),
            Err(TokenCheck::Expired { .. })
        ));
    }
}
