//! The ARM HTTP client: every ARM call of the provider goes through [`ArmClient`].
//!
//! What it does for every call (arm-api.md §13):
//! - bearer token from the credential (cached there), `x-ms-client-request-id` per request,
//!   one `x-ms-correlation-request-id` per provider process, `User-Agent`
//!   `terraform-provider-defender/{version} ({suffix})`;
//! - retries 408/500/502/503/504, connection errors and attempt timeouts with jittered
//!   exponential backoff (`max_attempts` in all), plus whatever the caller's `retry_on` accepts
//!   (e.g. pricings' 409 "Another update operation is in progress"); retries 429 after
//!   `Retry-After`, spread and growing when throttled again, without using up the attempts;
//!   all inside the operation's deadline; every retry is logged at WARN;
//! - follows long-running operations (`Azure-AsyncOperation`, `Location`, non-terminal
//!   `provisioningState`) to completion, honouring `Retry-After`;
//! - follows `nextLink` for lists;
//! - returns [`ArmError`] with status, code, message and request ID;
//! - returns [`ArmError::Cancelled`] promptly once the client's cancellation token fires
//!   (StopProvider).
//!
//! Logs: DEBUG per attempt (method, URL, status, request id, duration), bodies at TRACE with
//! secrets redacted. The `Authorization` header is never logged (reqwest marks it sensitive and
//! we never log request headers).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

pub use reqwest::Method;

use super::cloud::Cloud;
use super::error::{ArmError, ErrorDetail};
use super::retry::{RetryPolicy, ratelimit_remaining, retry_after};
use super::token::TokenCredential;

/// A serialised request body, shared by the attempts of one request (ARM bodies are small).
type Bytes = Arc<Vec<u8>>;

/// The provider's User-Agent product token.
pub const USER_AGENT_PRODUCT: &str =
    concat!("terraform-provider-defender/", env!("CARGO_PKG_VERSION"));

tokio::task_local! {
    /// The cancellation token of the resource operation a request runs for: the framework
    /// cancels it when the operation's `timeouts` limit runs out.
    static OPERATION: CancellationToken;
}

/// Runs `fut` (a resource operation) so that every ARM request in it also stops, with
/// [`ArmError::Cancelled`], when `token` is cancelled.
pub async fn with_operation_token<F: Future>(token: CancellationToken, fut: F) -> F::Output {
    OPERATION.scope(token, fut).await
}

/// One GUID per provider process, sent as `x-ms-correlation-request-id` on every request so ARM
/// support can find all calls of one Terraform run (azurerm does the same).
pub fn process_correlation_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// A predicate deciding whether an error is worth another attempt (beyond the built-in ones).
pub type RetryPredicate = Arc<dyn Fn(&ArmError) -> bool + Send + Sync>;

/// Options for [`ArmClient::new`].
#[derive(Clone)]
pub struct ClientOptions {
    /// The cloud (ARM endpoint and token scope).
    pub cloud: Cloud,
    /// Where tokens come from.
    pub credential: Arc<dyn TokenCredential>,
    /// Appended to the User-Agent in parentheses, e.g. `Terraform/1.15.0`.
    pub user_agent_suffix: Option<String>,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Overall deadline of one operation (all attempts, waits and LRO polling) unless the
    /// request sets its own.
    pub default_timeout: Duration,
    /// Timeout of one HTTP attempt (ARM itself answers 504 after 60 s).
    pub attempt_timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// LRO poll interval when the answer has no `Retry-After`. `None`: 10 s, or 100 ms when ARM
    /// is on a loopback host (the emulator).
    pub poll_interval: Option<Duration>,
    /// Cancelled by StopProvider: in-flight calls return [`ArmError::Cancelled`].
    pub cancel: CancellationToken,
    /// `x-ms-correlation-request-id`; default [`process_correlation_id`].
    pub correlation_id: Option<String>,
}

impl ClientOptions {
    /// Defaults for `cloud` and `credential`: 30-minute operations, 90 s attempts, 10 s
    /// connect, [`RetryPolicy::default`].
    pub fn new(cloud: Cloud, credential: Arc<dyn TokenCredential>) -> Self {
        ClientOptions {
            cloud,
            credential,
            user_agent_suffix: None,
            retry: RetryPolicy::default(),
            default_timeout: Duration::from_secs(30 * 60),
            attempt_timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(10),
            poll_interval: None,
            cancel: CancellationToken::new(),
            correlation_id: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("cloud", &self.cloud.name)
            .field("credential", &self.credential.flow())
            .field("retry", &self.retry)
            .field("default_timeout", &self.default_timeout)
            .finish_non_exhaustive()
    }
}

/// A successful ARM answer (after retries and any long-running operation).
#[derive(Debug, Clone)]
pub struct ArmResponse {
    /// HTTP status of the final answer.
    pub status: u16,
    /// JSON body (`Value::Null` when empty).
    pub body: Value,
    /// `x-ms-request-id` of the final answer.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id` of the final answer.
    pub correlation_id: Option<String>,
    /// All response headers of the final answer.
    pub headers: HeaderMap,
}

/// The ARM client. Cheap to clone (an `Arc` inside); build one per provider configuration.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    cloud: Cloud,
    scope: String,
    credential: Arc<dyn TokenCredential>,
    user_agent: String,
    retry: RetryPolicy,
    default_timeout: Duration,
    attempt_timeout: Duration,
    connect_timeout: Duration,
    poll_interval: Duration,
    cancel: CancellationToken,
    correlation_id: String,
    http: OnceLock<reqwest::Client>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field(
                "resource_manager",
                &self.inner.cloud.resource_manager.as_str(),
            )
            .field("credential", &self.inner.credential.flow())
            .finish_non_exhaustive()
    }
}

/// Per-operation context.
struct Ctx {
    label: String,
    deadline: Instant,
    retry_on: Option<RetryPredicate>,
    headers: HeaderMap,
    /// Whether a POST may be sent again after an ambiguous failure (see [`post_is_idempotent`]).
    idempotent: bool,
    /// The last 429 of a request still being retried: when the deadline ends the request in
    /// the middle of an attempt, the error is ARM's throttling, not "no answer".
    throttled: Arc<parking_lot::Mutex<Option<ArmError>>>,
}

impl ArmClient {
    /// Builds a client. No network and no TLS set-up happen here: the HTTP client is built on
    /// the first call.
    pub fn new(options: ClientOptions) -> Result<ArmClient, ArmError> {
        let ClientOptions {
            cloud,
            credential,
            user_agent_suffix,
            retry,
            default_timeout,
            attempt_timeout,
            connect_timeout,
            poll_interval,
            cancel,
            correlation_id,
        } = options;
        super::cloud::check_scheme("resource_manager", &cloud.resource_manager)
            .map_err(|e| ArmError::InvalidRequest(e.to_string()))?;
        if retry.max_attempts == 0 {
            return Err(ArmError::InvalidRequest(
                "retry.max_attempts must be at least 1".into(),
            ));
        }
        let user_agent = match user_agent_suffix.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => format!("{USER_AGENT_PRODUCT} ({s})"),
            _ => USER_AGENT_PRODUCT.to_owned(),
        };
        HeaderValue::from_str(&user_agent).map_err(|_| {
            ArmError::InvalidRequest("user agent suffix is not a valid header".into())
        })?;
        let poll_interval = poll_interval.unwrap_or(if cloud.is_loopback() {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(10)
        });
        Ok(ArmClient {
            inner: Arc::new(Inner {
                scope: cloud.scope(),
                cloud,
                credential,
                user_agent,
                retry,
                default_timeout,
                attempt_timeout,
                connect_timeout,
                poll_interval,
                cancel,
                correlation_id: correlation_id
                    .unwrap_or_else(|| process_correlation_id().to_owned()),
                http: OnceLock::new(),
            }),
        })
    }

    /// The cloud this client talks to.
    pub fn cloud(&self) -> &Cloud {
        &self.inner.cloud
    }

    /// The object ID (`oid` claim) of the principal the provider acts as, read from its ARM
    /// access token (cached, so usually no request). `None` when the token is not a JWT with
    /// an `oid` (the claim is not verified: it only tells the provider's own requests apart).
    pub async fn caller_object_id(&self) -> Option<String> {
        use base64::Engine;
        let token = self
            .inner
            .credential
            .get_token(&self.inner.scope)
            .await
            .ok()?;
        let payload = token.token.expose().split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        claims.get("oid")?.as_str().map(str::to_owned)
    }

    /// Builds the HTTP client and fetches the tokens the first request will need (ARM scope,
    /// auxiliary tenants) into the credential's cache. Failures are only logged: the request that needs the token asks
    /// again and reports them.
    pub async fn warm_up(&self) {
        // The HTTP client too (its TLS configuration is the process's shared one, loaded once),
        // so that the first request only waits for the token.
        if let Err(e) = self.http() {
            tracing::debug!(error = %e, "building the HTTP client failed; the first ARM request reports it");
        }
        let scope = &self.inner.scope;
        let fetched = async {
            self.inner.credential.get_token(scope).await?;
            self.inner.credential.get_auxiliary_tokens(scope).await
        };
        tokio::select! {
            r = fetched => if let Err(e) = r {
                tracing::debug!(error = %e, "token prefetch failed; the first ARM request asks again");
            },
            () = self.inner.cancel.cancelled() => {}
        }
    }

    /// The credential.
    pub fn credential(&self) -> &Arc<dyn TokenCredential> {
        &self.inner.credential
    }

    /// The token the client watches; cancel it to stop in-flight calls.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.inner.cancel
    }

    /// The User-Agent sent.
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// A request builder: `client.request(Method::PUT, path).api_version(v).json(body)
    /// .timeout(d).retry_on(|e| e.is_conflict()).send().await`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            path: path.to_owned(),
            api_version: None,
            query: Vec::new(),
            body: None,
            timeout: None,
            retry_on: None,
            operation: None,
            follow_lro: true,
            headers: HeaderMap::new(),
            idempotent: None,
        }
    }

    /// `GET {path}?api-version={v}`.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse, ArmError> {
        self.request(Method::GET, path)
            .api_version(api_version)
            .send()
            .await
    }

    /// `PUT`, following a long-running operation to completion (then the resource is read).
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<ArmResponse, ArmError> {
        self.request(Method::PUT, path)
            .api_version(api_version)
            .json(body)
            .send()
            .await
    }

    /// `PATCH`, following a long-running operation to completion.
    pub async fn patch(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<ArmResponse, ArmError> {
        self.request(Method::PATCH, path)
            .api_version(api_version)
            .json(body)
            .send()
            .await
    }

    /// `DELETE`: `Ok(None)` when the resource did not exist (204, or 404 other than
    /// `SubscriptionNotFound`), `Ok(Some(_))` when it was deleted (after any long-running
    /// operation).
    pub async fn delete(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Option<ArmResponse>, ArmError> {
        self.request(Method::DELETE, path)
            .api_version(api_version)
            .send_delete()
            .await
    }

    /// `POST` (actions), following a long-running operation to completion.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Result<ArmResponse, ArmError> {
        let mut r = self.request(Method::POST, path).api_version(api_version);
        if let Some(b) = body {
            r = r.json(b);
        }
        r.send().await
    }

    /// `GET` a collection and every page after it (`nextLink`), returning all `value` items.
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, ArmError> {
        self.request(Method::GET, path)
            .api_version(api_version)
            .query(query)
            .send_paged()
            .await
    }

    fn http(&self) -> Result<&reqwest::Client, ArmError> {
        if let Some(c) = self.inner.http.get() {
            return Ok(c);
        }
        let mut b = crate::crypto::https_client_builder()
            .connect_timeout(self.inner.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_adaptive_window(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.inner.user_agent.clone());
        if self.inner.cloud.is_loopback() {
            b = b.no_proxy();
        }
        let c = b
            .build()
            .map_err(|e| ArmError::InvalidRequest(format!("building the HTTP client: {e}")))?;
        Ok(self.inner.http.get_or_init(|| c))
    }

    /// `{resource_manager}{path}?{query}&api-version=…`.
    fn url_for(
        &self,
        path: &str,
        api_version: Option<&str>,
        query: &[(String, String)],
    ) -> Result<Url, ArmError> {
        if !path.starts_with('/') {
            return Err(ArmError::InvalidRequest(format!(
                "ARM path {path:?} must start with '/'"
            )));
        }
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        let base = self
            .inner
            .cloud
            .resource_manager
            .as_str()
            .trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{p}"))
            .map_err(|e| ArmError::InvalidRequest(format!("ARM path {path:?}: {e}")))?;
        if !q.is_empty() {
            url.set_query(Some(q));
        }
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if let Some(v) = api_version {
                pairs.append_pair("api-version", v);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    /// Whether the client may send its token to `url`: the resource manager's scheme, host (or
    /// a subdomain of it) and port. Guards LRO and nextLink URLs, which come from the server.
    fn may_follow(&self, url: &Url) -> bool {
        let rm = &self.inner.cloud.resource_manager;
        let (Some(h), Some(rmh)) = (url.host_str(), rm.host_str()) else {
            return false;
        };
        let h = h.to_ascii_lowercase();
        let rmh = rmh.to_ascii_lowercase();
        url.scheme() == rm.scheme()
            && url.port_or_known_default() == rm.port_or_known_default()
            && (h == rmh || h.ends_with(&format!(".{rmh}")))
    }

    fn resolve_server_url(&self, raw: &str, method: &Method, from: &Url) -> Result<Url, ArmError> {
        let url = Url::parse(raw)
            .or_else(|_| self.inner.cloud.resource_manager.join(raw))
            .map_err(|e| ArmError::BadResponse {
                method: method.to_string(),
                url: from.to_string(),
                status: None,
                request_id: None,
                message: format!("the server sent an invalid URL {raw:?}: {e}"),
            })?;
        if !self.may_follow(&url) {
            return Err(ArmError::BadResponse {
                method: method.to_string(),
                url: from.to_string(),
                status: None,
                request_id: None,
                message: format!(
                    "refusing to follow {url} with our token: it is not on the resource manager's host {}",
                    self.inner.cloud.resource_manager
                ),
            });
        }
        Ok(url)
    }

    /// Runs `fut` under the operation deadline and the cancellation tokens (the client's,
    /// which StopProvider fires, and the current operation's).
    async fn guarded<T>(
        &self,
        method: &Method,
        url: &Url,
        deadline: Instant,
        started: Instant,
        fut: impl Future<Output = Result<T, ArmError>>,
    ) -> Result<T, ArmError> {
        // The operation's own token (its `timeouts` limit), when the request runs inside
        // `with_operation_token`; otherwise one that never fires.
        let operation = OPERATION
            .try_with(CancellationToken::clone)
            .unwrap_or_default();
        if self.inner.cancel.is_cancelled() || operation.is_cancelled() {
            return Err(ArmError::Cancelled);
        }
        tokio::select! {
            biased;
            _ = self.inner.cancel.cancelled() => Err(ArmError::Cancelled),
            _ = operation.cancelled() => Err(ArmError::Cancelled),
            r = tokio::time::timeout_at(deadline, fut) => match r {
                Ok(r) => r,
                Err(_) => Err(ArmError::Timeout {
                    method: method.to_string(),
                    url: url.to_string(),
                    after: started.elapsed(),
                }),
            },
        }
    }

    /// One logical request with retries. `Ok` only for 2xx.
    async fn execute(
        &self,
        ctx: &Ctx,
        method: &Method,
        url: &Url,
        body: Option<&Bytes>,
    ) -> Result<ArmResponse, ArmError> {
        let mut attempt = 0u32;
        // Failed attempts that count against `max_attempts`, and 429s in a row, counted apart:
        // throttling does not use up the attempts (`RetryPolicy::throttle_wait`).
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut token_refreshed = false;
        loop {
            attempt += 1;
            let err = match self.attempt(ctx, method, url, body, attempt).await {
                Ok(r) => {
                    *ctx.throttled.lock() = None;
                    return Ok(r);
                }
                Err(e) => e,
            };
            // ARM rejected the token itself (expired by ARM's clock, revoked, or cached past
            // its life after a clock jump): forget the cached tokens and try once more at once
            // with a fresh one. Once only, so a credential ARM never accepts fails promptly.
            if !token_refreshed && token_rejected(&err) {
                token_refreshed = true;
                tracing::warn!(
                    operation = %ctx.label,
                    method = %method,
                    url = %url,
                    request_id = err.request_id(),
                    code = err.code(),
                    "ARM rejected the access token; fetching a new one and retrying once"
                );
                self.inner.credential.invalidate().await;
                attempt -= 1;
                continue;
            }
            let by_caller = ctx.retry_on.as_ref().is_some_and(|f| f(&err));
            if !(err.is_retryable() || by_caller) {
                return Err(err);
            }
            if *method == Method::POST && !by_caller && !ctx.idempotent && !unsent(&err) {
                // An ARM action may have run even though we got no answer (connection reset
                // after the request was written, attempt timeout, 500/502/503/504 from a
                // gateway after the RP acted): sending it again could run it twice. Only
                // failures that prove the request was not processed are retried for POST.
                tracing::warn!(
                    operation = %ctx.label,
                    method = %method,
                    url = %url,
                    request_id = err.request_id(),
                    error = %err,
                    "not retrying ARM action: it may have run (POST is not idempotent)"
                );
                return Err(err);
            }
            if err.is_throttled() {
                throttled += 1;
            } else {
                throttled = 0;
                failures += 1;
            }
            let throttled_err = err.is_throttled();
            // `max_attempts: 1` means no retry at all, throttled or not.
            if failures >= self.inner.retry.max_attempts || self.inner.retry.max_attempts <= 1 {
                tracing::warn!(
                    operation = %ctx.label,
                    attempt,
                    status = err.status(),
                    request_id = err.request_id(),
                    error = %err,
                    "giving up on ARM request: no attempts left"
                );
                return Err(err);
            }
            let wait = if throttled > 0 {
                self.inner.retry.throttle_wait(err.retry_after(), throttled)
            } else {
                err.retry_after()
                    .unwrap_or_else(|| self.inner.retry.backoff(failures))
            };
            if Instant::now() + wait >= ctx.deadline {
                tracing::warn!(
                    operation = %ctx.label,
                    attempt,
                    status = err.status(),
                    request_id = err.request_id(),
                    wait_ms = wait.as_millis() as u64,
                    error = %err,
                    "giving up on ARM request: the next attempt would be past the deadline"
                );
                return Err(err);
            }
            tracing::warn!(
                operation = %ctx.label,
                method = %method,
                url = %url,
                attempt,
                status = err.status(),
                request_id = err.request_id(),
                wait_ms = wait.as_millis() as u64,
                error = %err,
                "retrying ARM request"
            );
            // Kept for `run`: the deadline may end the next attempt in flight.
            *ctx.throttled.lock() = throttled_err.then_some(err);
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP exchange.
    async fn attempt(
        &self,
        ctx: &Ctx,
        method: &Method,
        url: &Url,
        body: Option<&Bytes>,
        attempt: u32,
    ) -> Result<ArmResponse, ArmError> {
        let scope = &self.inner.scope;
        let token = self.inner.credential.get_token(scope).await?;
        let aux = self.inner.credential.get_auxiliary_tokens(scope).await?;
        let http = self.http()?;
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let remaining = ctx.deadline.saturating_duration_since(Instant::now());
        let timeout = self
            .inner
            .attempt_timeout
            .min(remaining)
            .max(Duration::from_millis(1));

        let mut rb = http
            .request(method.clone(), url.clone())
            .timeout(timeout)
            .bearer_auth(token.token.expose())
            .header(ACCEPT, "application/json")
            .header("x-ms-client-request-id", &client_request_id)
            .header("x-ms-correlation-request-id", &self.inner.correlation_id)
            .headers(ctx.headers.clone());
        if !aux.is_empty() {
            let joined = aux
                .iter()
                .map(|t| format!("Bearer {}", t.token.expose()))
                .collect::<Vec<_>>()
                .join(", ");
            let mut v = HeaderValue::from_str(&joined).map_err(|_| {
                ArmError::InvalidRequest("an auxiliary token is not a valid header value".into())
            })?;
            v.set_sensitive(true);
            rb = rb.header("x-ms-authorization-auxiliary", v);
        }
        if let Some(b) = body {
            if tracing::enabled!(tracing::Level::TRACE) {
                tracing::trace!(
                    operation = %ctx.label,
                    method = %method,
                    url = %url,
                    body = %redact_body(b),
                    "ARM request body"
                );
            }
            rb = rb
                .header(CONTENT_TYPE, "application/json")
                .body(b.as_ref().clone());
        } else if matches!(*method, Method::PUT | Method::POST | Method::PATCH) {
            rb = rb.header(reqwest::header::CONTENT_LENGTH, "0");
        }

        let started = std::time::Instant::now();
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(
                    operation = %ctx.label,
                    method = %method,
                    url = %url,
                    attempt,
                    client_request_id = %client_request_id,
                    duration_ms = started.elapsed().as_millis() as u64,
                    error = %super::error::chain(&e),
                    "ARM request failed to complete"
                );
                return Err(transport_error(method, url, e, timeout));
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport_error(method, url, e, timeout))?;
        let request_id = header_str(&headers, "x-ms-request-id");
        let correlation_id = header_str(&headers, "x-ms-correlation-request-id");
        let remaining_quota = ratelimit_remaining(&headers);
        tracing::debug!(
            operation = %ctx.label,
            method = %method,
            url = %url,
            status,
            request_id = request_id.as_deref(),
            client_request_id = %client_request_id,
            attempt,
            duration_ms = started.elapsed().as_millis() as u64,
            ratelimit_remaining = remaining_quota.as_ref().map(|(k, n)| format!("{k}={n}")),
            "ARM response"
        );
        if tracing::enabled!(tracing::Level::TRACE) && !bytes.is_empty() {
            tracing::trace!(
                operation = %ctx.label,
                request_id = request_id.as_deref(),
                body = %redact_body(&bytes),
                "ARM response body"
            );
        }
        if (200..300).contains(&status) {
            let body = if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).map_err(|e| ArmError::BadResponse {
                    method: method.to_string(),
                    url: url.to_string(),
                    status: Some(status),
                    request_id: request_id.clone(),
                    message: format!("the body is not JSON: {e}"),
                })?
            };
            return Ok(ArmResponse {
                status,
                body,
                request_id,
                correlation_id,
                headers,
            });
        }
        Err(status_error(
            method,
            url,
            status,
            &headers,
            &bytes,
            request_id,
            correlation_id,
        ))
    }

    async fn run(&self, req: RequestBuilder, mode: Mode) -> Result<Outcome, ArmError> {
        let started = Instant::now();
        let deadline = started + req.timeout.unwrap_or(self.inner.default_timeout);
        let url = self.url_for(&req.path, req.api_version.as_deref(), &req.query)?;
        let body = req
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).map(Arc::new))
            .transpose()
            .map_err(|e| ArmError::InvalidRequest(format!("serialising the body: {e}")))?;
        let throttled = Arc::new(parking_lot::Mutex::new(None));
        let ctx = Ctx {
            throttled: throttled.clone(),
            label: req
                .operation
                .clone()
                .unwrap_or_else(|| format!("{} {}", req.method, req.path)),
            deadline,
            retry_on: req.retry_on.clone(),
            headers: req.headers.clone(),
            idempotent: req
                .idempotent
                .unwrap_or_else(|| req.method != Method::POST || post_is_idempotent(&req.path)),
        };
        let method = req.method.clone();
        let shown = url.clone();
        let this = self.clone();
        let api_version = req.api_version.clone();
        let fut = async move {
            match mode {
                Mode::Single => {
                    let initial = this.execute(&ctx, &method, &url, body.as_ref()).await?;
                    if !req.follow_lro || method == Method::GET {
                        return Ok(Outcome::One(initial));
                    }
                    this.follow(&ctx, &method, &url, initial)
                        .await
                        .map(Outcome::One)
                }
                Mode::Delete => match this.execute(&ctx, &method, &url, body.as_ref()).await {
                    Ok(r) if r.status == 204 => Ok(Outcome::Deleted(None)),
                    Ok(r) if !req.follow_lro => Ok(Outcome::Deleted(Some(r))),
                    Ok(r) => this
                        .follow(&ctx, &method, &url, r)
                        .await
                        .map(|r| Outcome::Deleted(Some(r))),
                    Err(e)
                        if e.status() == Some(404) && e.code() != Some("SubscriptionNotFound") =>
                    {
                        Ok(Outcome::Deleted(None))
                    }
                    Err(e) => Err(e),
                },
                Mode::Paged => this
                    .pages(&ctx, &method, url, api_version.as_deref())
                    .await
                    .map(Outcome::Items),
            }
        };
        let result = self
            .guarded(&req.method, &shown, deadline, started, fut)
            .await;
        if matches!(result, Err(ArmError::Timeout { .. }))
            && let Some(e) = throttled.lock().take()
        {
            return Err(e);
        }
        result
    }

    /// Follows a long-running operation started by `initial` (arm-api.md §13.4).
    async fn follow(
        &self,
        ctx: &Ctx,
        method: &Method,
        url: &Url,
        initial: ArmResponse,
    ) -> Result<ArmResponse, ArmError> {
        let async_op = header_str(&initial.headers, "azure-asyncoperation");
        let location = header_str(&initial.headers, "location");
        let first_wait = retry_after(&initial.headers).unwrap_or(self.inner.poll_interval);
        let in_progress = matches!(initial.status, 201 | 202);

        if in_progress && let Some(op) = async_op {
            let op_url = self.resolve_server_url(&op, method, url)?;
            let status = self
                .poll_async_operation(ctx, method, url, &initial, &op_url, first_wait)
                .await?;
            return match *method {
                Method::DELETE => Ok(ArmResponse {
                    status: 200,
                    body: Value::Null,
                    ..initial
                }),
                Method::POST => match location {
                    // POST's final state is at Location when there is one (final-state-via).
                    Some(loc) => {
                        let loc = self.resolve_server_url(&loc, method, url)?;
                        self.execute(ctx, &Method::GET, &loc, None).await
                    }
                    None => Ok(status),
                },
                // PUT/PATCH: the resource itself is the result.
                _ => self.execute(ctx, &Method::GET, url, None).await,
            };
        }

        if initial.status == 202
            && let Some(loc) = location
        {
            let loc = self.resolve_server_url(&loc, method, url)?;
            let mut wait = first_wait;
            loop {
                tokio::time::sleep(wait).await;
                let r = match self.execute(ctx, &Method::GET, &loc, None).await {
                    Ok(r) => r,
                    // Some RPs answer 404 on the Location of a finished delete.
                    Err(e) if *method == Method::DELETE && e.status() == Some(404) => {
                        return Ok(ArmResponse {
                            status: 200,
                            body: Value::Null,
                            ..initial
                        });
                    }
                    Err(e) => return Err(e),
                };
                if r.status == 202 {
                    tracing::debug!(operation = %ctx.label, "long-running operation still in progress (Location)");
                    wait = retry_after(&r.headers).unwrap_or(self.inner.poll_interval);
                    continue;
                }
                if matches!(*method, Method::PUT | Method::PATCH) && r.body.is_null() {
                    return self.execute(ctx, &Method::GET, url, None).await;
                }
                return Ok(r);
            }
        }

        if matches!(*method, Method::PUT | Method::PATCH)
            && matches!(initial.status, 200 | 201)
            && let Some(state) = provisioning_state(&initial.body)
            && !is_terminal(&state)
        {
            // PUT's preferred pattern: 201/200 with a non-terminal provisioningState; poll the
            // resource until it settles.
            let mut wait = first_wait;
            loop {
                tokio::time::sleep(wait).await;
                let r = self.execute(ctx, &Method::GET, url, None).await?;
                match provisioning_state(&r.body) {
                    Some(s) if !is_terminal(&s) => {
                        wait = retry_after(&r.headers).unwrap_or(self.inner.poll_interval);
                    }
                    Some(s) if !s.eq_ignore_ascii_case("Succeeded") => {
                        let (code, message, details) =
                            error_of(r.body.pointer("/properties/error").or(r.body.get("error")));
                        return Err(ArmError::OperationFailed {
                            state: s,
                            code: code.unwrap_or_else(|| "ProvisioningFailed".into()),
                            message,
                            details,
                            request_id: initial.request_id.clone(),
                            correlation_id: initial.correlation_id.clone(),
                            method: method.to_string(),
                            url: url.to_string(),
                        });
                    }
                    _ => return Ok(r),
                }
            }
        }
        Ok(initial)
    }

    /// Polls an `Azure-AsyncOperation` URL until `Succeeded`, `Failed` or `Canceled`.
    async fn poll_async_operation(
        &self,
        ctx: &Ctx,
        method: &Method,
        url: &Url,
        initial: &ArmResponse,
        op_url: &Url,
        first_wait: Duration,
    ) -> Result<ArmResponse, ArmError> {
        let mut wait = first_wait;
        loop {
            tokio::time::sleep(wait).await;
            let r = self.execute(ctx, &Method::GET, op_url, None).await?;
            let status = r
                .body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if status.eq_ignore_ascii_case("Succeeded") {
                return Ok(r);
            }
            if status.eq_ignore_ascii_case("Failed")
                || status.eq_ignore_ascii_case("Canceled")
                || status.eq_ignore_ascii_case("Cancelled")
            {
                let (code, message, details) = error_of(r.body.get("error"));
                return Err(ArmError::OperationFailed {
                    state: status,
                    code: code.unwrap_or_else(|| "OperationFailed".into()),
                    message,
                    details,
                    request_id: initial.request_id.clone(),
                    correlation_id: initial.correlation_id.clone(),
                    method: method.to_string(),
                    url: url.to_string(),
                });
            }
            tracing::debug!(operation = %ctx.label, status = %status, "long-running operation in progress");
            wait = retry_after(&r.headers).unwrap_or(self.inner.poll_interval);
        }
    }

    /// Follows `nextLink` (arm-api.md §13.5): until absent or null; empty pages with a
    /// nextLink continue; a nextLink seen before is a loop and an error.
    async fn pages(
        &self,
        ctx: &Ctx,
        method: &Method,
        first: Url,
        api_version: Option<&str>,
    ) -> Result<Vec<Value>, ArmError> {
        const MAX_PAGES: usize = 10_000;
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut url = first;
        for page in 1..=MAX_PAGES {
            let r = self.execute(ctx, method, &url, None).await?;
            let bad = |message: String| ArmError::BadResponse {
                method: method.to_string(),
                url: url.to_string(),
                status: Some(r.status),
                request_id: r.request_id.clone(),
                message,
            };
            let (page_items, next) = parse_page(&r.body).map_err(bad)?;
            items.extend(page_items);
            let Some(next) = next else {
                return Ok(items);
            };
            let mut next_url = self.resolve_server_url(&next, method, &url)?;
            // Some RPs drop api-version from nextLink; ARM then rejects the request with
            // MissingApiVersionParameter (arm-api.md §13.2). Put it back.
            if let Some(v) = api_version
                && !next_url.query_pairs().any(|(k, _)| k == "api-version")
            {
                next_url.query_pairs_mut().append_pair("api-version", v);
            }
            if !seen.insert(next_url.to_string()) || next_url == url {
                return Err(bad(format!(
                    "paging loop: nextLink {next_url} was already followed (page {page})"
                )));
            }
            tracing::debug!(operation = %ctx.label, page, "following nextLink");
            url = next_url;
        }
        Err(ArmError::BadResponse {
            method: method.to_string(),
            url: url.to_string(),
            status: None,
            request_id: None,
            message: format!("more than {MAX_PAGES} pages"),
        })
    }
}

/// One page of a list (arm-api.md §13.5): its `value` items and the `nextLink` to follow, if
/// any (absent, null or blank = last page). A body without `value` is an empty page.
pub(crate) fn parse_page(body: &Value) -> Result<(Vec<Value>, Option<String>), String> {
    let items = match body.get("value") {
        Some(Value::Array(v)) => v.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("`value` is not an array".into()),
    };
    let next = match body.get("nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`nextLink` is not a string".into()),
    };
    Ok((items, next))
}

/// Entry points for the fuzz targets (`provider/fuzz`) and their stable-toolchain runs: the
/// parsers ARM's answers go through, callable without a server. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// The error a non-2xx answer with this status, these headers and this body becomes.
    pub fn error_from_answer(status: u16, headers: &[(String, String)], body: &[u8]) -> ArmError {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
                h.append(k, v);
            }
        }
        let url = Url::parse("https://management.azure.com/x").expect("static URL");
        status_error(
            &Method::GET,
            &url,
            status,
            &h,
            body,
            Some("rid".into()),
            None,
        )
    }

    /// `Retry-After` and the lowest `x-ms-ratelimit-remaining-*` of these headers.
    pub fn retry_headers(
        headers: &[(String, String)],
    ) -> (Option<Duration>, Option<(String, u64)>) {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
                h.append(k, v);
            }
        }
        (retry_after(&h), ratelimit_remaining(&h))
    }

    /// A list page: items and nextLink, or why it is not one.
    pub fn page(body: &Value) -> Result<(Vec<Value>, Option<String>), String> {
        parse_page(body)
    }

    /// What a long-running operation's status body says: the resource's
    /// `provisioningState`, whether that is terminal, and the `(code, message)` of `error`.
    pub fn lro_status(body: &Value) -> (Option<String>, bool, Option<String>, String) {
        let state = provisioning_state(body).or_else(|| {
            body.get("status")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let terminal = state.as_deref().is_some_and(is_terminal);
        let (code, message, _) = error_of(body.get("error").or(body.pointer("/properties/error")));
        (state, terminal, code, message)
    }

    /// A body as TRACE logs show it.
    pub fn redact(bytes: &[u8]) -> String {
        redact_body(bytes)
    }
}

enum Mode {
    Single,
    Delete,
    Paged,
}

enum Outcome {
    One(ArmResponse),
    Deleted(Option<ArmResponse>),
    Items(Vec<Value>),
}

/// A request being built: see [`ArmClient::request`].
#[must_use = "a request does nothing until sent"]
pub struct RequestBuilder {
    client: ArmClient,
    method: Method,
    path: String,
    api_version: Option<String>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    timeout: Option<Duration>,
    retry_on: Option<RetryPredicate>,
    operation: Option<String>,
    follow_lro: bool,
    headers: HeaderMap,
    idempotent: Option<bool>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    /// `?api-version=`; every ARM request needs one.
    pub fn api_version(mut self, v: &str) -> Self {
        self.api_version = Some(v.to_owned());
        self
    }

    /// Extra query parameters (`$filter`, `$top`, ...).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self
    }

    /// JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.clone());
        self
    }

    /// The operation's overall deadline (all attempts, waits and polling) instead of the
    /// client's default — e.g. the resource's Terraform timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Also retry errors this predicate accepts, e.g. `|e| e.is_conflict()` for pricings'
    /// "Another update operation is in progress", or `|e| e.is_not_found()` right after create.
    pub fn retry_on(mut self, f: impl Fn(&ArmError) -> bool + Send + Sync + 'static) -> Self {
        self.retry_on = Some(Arc::new(f));
        self
    }

    /// A label for logs, e.g. `updating Pricing "VirtualMachines"`.
    pub fn operation(mut self, label: impl Into<String>) -> Self {
        self.operation = Some(label.into());
        self
    }

    /// Return the initial answer without following a long-running operation.
    pub fn no_lro(mut self) -> Self {
        self.follow_lro = false;
        self
    }

    /// Declares whether sending the request twice is harmless. Only matters for `POST`
    /// (GET/PUT/PATCH/DELETE are idempotent in ARM): by default a POST is retried after an
    /// ambiguous failure (no answer, attempt timeout, 5xx) only when its action is one
    /// [`post_is_idempotent`] knows; always after a 429 or a connection that never opened.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// An extra request header (e.g. `If-Match`).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sends, retries, follows any long-running operation.
    pub async fn send(self) -> Result<ArmResponse, ArmError> {
        let client = self.client.clone();
        match client.run(self, Mode::Single).await? {
            Outcome::One(r) => Ok(r),
            Outcome::Deleted(Some(r)) => Ok(r),
            Outcome::Deleted(None) | Outcome::Items(_) => {
                Err(ArmError::InvalidRequest("unexpected outcome".into()))
            }
        }
    }

    /// Like [`RequestBuilder::send`] for `DELETE`: `None` when there was nothing to delete.
    pub async fn send_delete(self) -> Result<Option<ArmResponse>, ArmError> {
        let client = self.client.clone();
        match client.run(self, Mode::Delete).await? {
            Outcome::Deleted(r) => Ok(r),
            Outcome::One(r) => Ok(Some(r)),
            Outcome::Items(_) => Err(ArmError::InvalidRequest("unexpected outcome".into())),
        }
    }

    /// `GET` every page (`nextLink`) and return all `value` items.
    pub async fn send_paged(self) -> Result<Vec<Value>, ArmError> {
        let client = self.client.clone();
        match client.run(self, Mode::Paged).await? {
            Outcome::Items(v) => Ok(v),
            _ => Err(ArmError::InvalidRequest("unexpected outcome".into())),
        }
    }
}

/// ARM actions (`POST {resource}/{action}`) that are safe to send twice: the read-only `list*`
/// actions (`listDeployments`, `listKeys`, ...: they change nothing) and `cancel` (a second
/// cancel of a remediation answers the same cancelled task; arm-api.md §10). Anything else —
/// e.g. a deployment, `regenerateKey`, `triggerEvaluation` — might run twice.
pub fn post_is_idempotent(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let action = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let lower = action.to_ascii_lowercase();
    lower.starts_with("list") || lower == "cancel"
}

/// Whether the failure proves ARM did not process the request: a 429 (ARM drops throttled
/// requests unprocessed, arm-api.md §13.3), a connection that never opened, or no token.
fn unsent(err: &ArmError) -> bool {
    match err {
        ArmError::Status { status, .. } => *status == 429,
        ArmError::Transport { source, .. } => source.is_connect(),
        ArmError::Auth(_) => true,
        _ => false,
    }
}

/// A 401 saying the token itself is bad: `ExpiredAuthenticationToken`,
/// `InvalidAuthenticationToken` (ARM's codes; the emulator answers both with
/// `WWW-Authenticate: Bearer ..., error="invalid_token"`). Not `AuthenticationFailed` (no or
/// malformed header: a new token would not help) nor `InvalidAuthenticationTokenAudience`.
fn token_rejected(err: &ArmError) -> bool {
    matches!(err.status(), Some(401))
        && matches!(
            err.code(),
            Some("ExpiredAuthenticationToken" | "InvalidAuthenticationToken")
        )
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn transport_error(method: &Method, url: &Url, e: reqwest::Error, timeout: Duration) -> ArmError {
    if e.is_timeout() {
        ArmError::Timeout {
            method: method.to_string(),
            url: url.to_string(),
            after: timeout,
        }
    } else {
        ArmError::Transport {
            method: method.to_string(),
            url: url.to_string(),
            source: e,
        }
    }
}

fn provisioning_state(body: &Value) -> Option<String> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled"]
        .iter()
        .any(|t| state.eq_ignore_ascii_case(t))
}

/// `(code, message, details)` of an `error` object.
fn error_of(v: Option<&Value>) -> (Option<String>, String, Vec<ErrorDetail>) {
    let Some(e) = v.filter(|v| v.is_object()) else {
        return (None, String::new(), Vec::new());
    };
    let code = e
        .get("code")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let details = e
        .get("details")
        .and_then(|d| serde_json::from_value::<Vec<ErrorDetail>>(d.clone()).ok())
        .unwrap_or_default();
    (code, message, details)
}

/// The typed error of a non-2xx answer. ARM's shape is `{"error":{code,message,target,details}}`
/// (arm-api.md §13.2); some RPs answer `{code,message}` at the top level; some nothing at all.
fn status_error(
    method: &Method,
    url: &Url,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    request_id: Option<String>,
    correlation_id: Option<String>,
) -> ArmError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let obj = parsed
        .as_ref()
        .and_then(|v| v.get("error").filter(|e| e.is_object()).or(Some(v)));
    let (code, message, details) = error_of(obj);
    let target = obj
        .and_then(|e| e.get("target"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let code = code.unwrap_or_else(|| reason.replace([' ', '-'], ""));
    let message = if !message.is_empty() {
        message
    } else if parsed.is_none() && !body.is_empty() {
        let text = String::from_utf8_lossy(&body[..body.len().min(500)]);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        reason.to_owned()
    };
    ArmError::Status {
        status,
        code,
        message,
        target,
        request_id,
        correlation_id,
        details,
        retry_after: retry_after(headers),
        method: method.to_string(),
        url: url.to_string(),
    }
}

/// Keys whose values never reach the logs.
const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "client_assertion",
    "oidctoken",
    "password",
    "secret",
    "token",
    "authorization",
];

fn is_secret_key(k: &str) -> bool {
    SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s))
}

/// A body for TRACE logs: JSON with secret-named values replaced by `***`; anything else
/// form-decoded the same way, or shown only by its length.
pub(crate) fn redact_body(bytes: &[u8]) -> String {
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut v);
        return v.to_string();
    }
    let text = String::from_utf8_lossy(bytes);
    if text.contains('=') && !text.contains(' ') {
        return text
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_key(k) => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
    }
    format!("<{} bytes, not JSON>", bytes.len())
}

/// Replaces the values of secret-named keys, recursively.
pub(crate) fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_key(k) {
                    *val = Value::String("***".into());
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        let s = redact_body(
            br#"{"access_token":"eyJ","nested":[{"client_secret":"x","ok":1}],"properties":{"pricingTier":"Free"}}"#,
        );
        assert!(!s.contains("eyJ") && !s.contains("\"x\""), "{s}");
        assert!(s.contains("pricingTier"));
        let f = redact_body(b"client_id=abc&client_secret=shh&grant_type=client_credentials");
        assert_eq!(
            f,
            "client_id=abc&client_secret=***&grant_type=client_credentials"
        );
    }

    #[test]
    fn status_error_shapes() {
        let url = Url::parse("https://management.azure.com/x").unwrap();
        let h = HeaderMap::new();
        let e = status_error(
            &Method::PUT,
            &url,
            409,
            &h,
            br#"{"error":{"code":"Conflict","message":"Another update operation is in progress"}}"#,
            Some("rid".into()),
            None,
        );
        assert_eq!(
            e.to_string(),
            "Conflict: Another update operation is in progress (status 409, request id rid)"
        );
        let e = status_error(&Method::GET, &url, 404, &h, b"", None, None);
        assert_eq!(e.to_string(), "NotFound: Not Found (status 404)");
        let e = status_error(
            &Method::GET,
            &url,
            400,
            &h,
            br#"{"code":"BadRequest","message":"top level"}"#,
            None,
            None,
        );
        assert_eq!(e.code(), Some("BadRequest"));
        let e = status_error(
            &Method::GET,
            &url,
            502,
            &h,
            b"<html>bad gateway</html>",
            None,
            None,
        );
        assert_eq!(
            e.to_string(),
            "BadGateway: <html>bad gateway</html> (status 502)"
        );
        assert!(e.is_retryable());
    }
}
