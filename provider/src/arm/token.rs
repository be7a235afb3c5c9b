//! Access tokens, the [`TokenCredential`] trait every flow implements, the per-credential
//! [`TokenCache`], and the [`Secret`] newtype that keeps secrets out of logs.
//!
//! Tokens live only in memory: nothing here writes them to disk, and nothing prints them
//! (`Secret`'s `Debug` and `Display` print `***`).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::error::AuthError;

/// A secret string (client secret, token, password). `Debug` and `Display` print `***`;
/// [`Secret::expose`] is the one way to read it, so every use is greppable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (or only whitespace).
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// A bearer token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    /// The token (`Authorization: Bearer …`).
    pub token: Secret,
    /// When Entra ID says it expires.
    pub expires_on: SystemTime,
}

impl AccessToken {
    /// A token that expires at `expires_on`.
    pub fn new(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        AccessToken {
            token: token.into(),
            expires_on,
        }
    }

    /// A token that expires `secs` seconds from now (Entra's `expires_in`).
    pub fn expiring_in(token: impl Into<Secret>, secs: u64) -> Self {
        Self::new(token, SystemTime::now() + Duration::from_secs(secs))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.token)
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// Something that produces access tokens for a scope (`{audience}/.default`).
///
/// Implementations cache (see [`TokenCache`]); callers may ask for a token before every request.
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// A token for `scope`, from the cache while it is fresh.
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>>;

    /// Tokens for the auxiliary tenants (`auxiliary_tenant_ids`), sent to ARM in
    /// `x-ms-authorization-auxiliary` for cross-tenant operations. None by default.
    fn get_auxiliary_tokens<'a>(
        &'a self,
        _scope: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AccessToken>, AuthError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The flow in words (`client secret`, `managed identity`, ...), for logs and errors.
    fn flow(&self) -> &'static str;

    /// Forgets cached tokens: ARM rejected one as expired or invalid (401 with
    /// `WWW-Authenticate: Bearer error="invalid_token"`, code `ExpiredAuthenticationToken` or
    /// `InvalidAuthenticationToken`; arm-api.md §13.2), e.g. after clock skew or a revoked
    /// token, so the next [`TokenCredential::get_token`] fetches a new one. No-op by default
    /// (credentials without a cache).
    fn invalidate(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// How long before expiry a cached token is replaced (the Azure SDKs' 5 minutes).
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    refresh_at: SystemTime,
}

/// A cache of tokens per key (scope, or tenant + scope), owned by one credential.
///
/// A token is reused until 5 minutes before it expires — or, for tokens that live less than
/// 10 minutes (the emulator can issue such), until half its lifetime has passed. Refreshes are
/// single-flight: the async mutex is held across the fetch, so concurrent callers wait for one
/// request instead of sending many. If the fetching future is dropped (cancellation), the lock
/// is released and the next caller fetches.
pub struct TokenCache {
    inner: tokio::sync::Mutex<HashMap<String, Cached>>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache")
    }
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        TokenCache {
            inner: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The cached token for `key` while fresh, else the result of `fetch` (cached on success).
    pub async fn get_or_fetch<F, Fut>(&self, key: &str, fetch: F) -> Result<AccessToken, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken, AuthError>>,
    {
        let mut guard = self.inner.lock().await;
        let now = SystemTime::now();
        if let Some(c) = guard.get(key)
            && now < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let token = fetch().await?;
        let now = SystemTime::now();
        let lifetime = token
            .expires_on
            .duration_since(now)
            .unwrap_or(Duration::ZERO);
        let margin = REFRESH_BEFORE_EXPIRY.min(lifetime / 2);
        guard.insert(
            key.to_owned(),
            Cached {
                token: token.clone(),
                refresh_at: token.expires_on - margin,
            },
        );
        Ok(token)
    }

    /// Forgets every cached token (e.g. after ARM rejected one).
    pub async fn clear(&self) {
        self.inner.lock().await.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        let t = AccessToken::expiring_in("eyJ.secret", 10);
        assert!(!format!("{t:?}").contains("eyJ"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[tokio::test]
    async fn cache_reuses_fresh_tokens_and_is_single_flight() {
        let cache = Arc::new(TokenCache::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("scope", || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(AccessToken::expiring_in("t", 3600))
                    })
                    .await
                    .map(|t| t.token.expose().to_owned())
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "t");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn short_lived_tokens_refresh_after_half_their_life() {
        let cache = TokenCache::new();
        let calls = AtomicUsize::new(0);
        let fetch = || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            Ok(AccessToken::new(
                format!("t{n}"),
                SystemTime::now() + Duration::from_millis(400),
            ))
        };
        let a = cache.get_or_fetch("k", fetch).await.unwrap();
        let b = cache.get_or_fetch("k", fetch).await.unwrap();
        assert_eq!(a.token.expose(), b.token.expose());
        tokio::time::sleep(Duration::from_millis(250)).await;
        let c = cache.get_or_fetch("k", fetch).await.unwrap();
        assert_ne!(a.token.expose(), c.token.expose());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
