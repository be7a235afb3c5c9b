//! Everything a running emulator knows, shared by the handlers and the handle.

use parking_lot::RwLock;
use serde_json::{Value, json};

use crate::auth::tokens::TokenStore;
use crate::config::{ClientRegistration, Config, RuntimeConfig, RuntimeConfigPatch};
use crate::faults::{FaultError, FaultRule, FaultSet, FaultStatus};
use crate::requests::{RequestLog, RequestLogEntry};
use crate::seed::Seeds;
use crate::store::{Store, StoreError};

/// The emulator's state. Reach it through [`crate::EmulatorHandle::state`].
pub struct EmulatorState {
    pub(crate) base_url: String,
    pub(crate) port: u16,
    pub(crate) tenant_id: String,
    pub(crate) clients: Vec<ClientRegistration>,
    /// Lowercased; empty = every well-formed subscription exists.
    pub(crate) subscriptions: Vec<String>,
    pub(crate) runtime: RwLock<RuntimeConfig>,
    pub(crate) store: Store,
    pub(crate) tokens: TokenStore,
    pub(crate) faults: FaultSet,
    pub(crate) log: RequestLog,
    pub(crate) seeds: Seeds,
    /// Managed identities' service principals, for role assignments (`crate::directory`).
    pub(crate) directory: crate::directory::Directory,
    /// ARM's throttling, when `Config::rate_limits` asks for it.
    pub(crate) rate_limiter: Option<crate::ratelimit::RateLimiter>,
}

impl EmulatorState {
    pub(crate) fn new(
        config: &Config,
        base_url: String,
        port: u16,
        store: Store,
        seeds: Seeds,
    ) -> Result<Self, FaultError> {
        let faults = FaultSet::default();
        for rule in &config.faults {
            faults.add(rule.clone())?;
        }
        Ok(EmulatorState {
            base_url,
            port,
            tenant_id: config.tenant_id.clone(),
            clients: config.clients.clone(),
            subscriptions: config
                .subscriptions
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            runtime: RwLock::new(config.runtime()),
            store,
            tokens: TokenStore::new(config.token_lifetime),
            faults,
            log: RequestLog::new(config.request_log_limit),
            seeds,
            directory: crate::directory::Directory::default(),
            rate_limiter: config.rate_limits.map(crate::ratelimit::RateLimiter::new),
        })
    }

    /// The throttling counters (`None` when the emulator does not throttle).
    pub fn rate_limit_stats(&self) -> Option<crate::ratelimit::RateLimitStats> {
        self.rate_limiter.as_ref().map(|l| l.stats())
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn runtime(&self) -> RuntimeConfig {
        self.runtime.read().clone()
    }

    pub fn update_runtime(&self, patch: &RuntimeConfigPatch) -> RuntimeConfig {
        let mut rt = self.runtime.write();
        rt.apply(patch);
        rt.clone()
    }

    /// Issues an access token for ARM directly (what a successful client-credentials request
    /// would return), for tests that do not exercise the token flow.
    pub fn issue_token(&self, client_id: &str) -> String {
        let audience = format!("{}/", self.base_url);
        self.tokens
            .issue(client_id, &self.tenant_id, &audience)
            .access_token
    }

    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.log.entries()
    }

    pub fn clear_requests(&self) {
        self.log.clear();
    }

    pub fn add_fault(&self, rule: FaultRule) -> Result<String, FaultError> {
        self.faults.add(rule)
    }

    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    pub fn faults(&self) -> Vec<FaultStatus> {
        self.faults.list()
    }

    /// Stores a body as it is (no validation), then saves the state file.
    pub fn set_resource(&self, id: &str, body: Value) -> Result<(), StoreError> {
        let id = body
            .get("id")
            .and_then(Value::as_str)
            .filter(|body_id| body_id.eq_ignore_ascii_case(id.trim_end_matches('/')))
            .unwrap_or(id)
            .to_owned();
        self.store.put(&id, body);
        self.store.save()
    }

    /// What a GET of `id` would answer: the stored body, or a singleton's default.
    pub fn get_resource(&self, id: &str) -> Option<Value> {
        crate::arm::effective_resource(self, id)
    }

    /// Forgets a stored resource (a singleton falls back to its default); saves.
    pub fn delete_resource(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self.store.delete(id).is_some();
        self.store.save()?;
        Ok(removed)
    }

    pub fn save(&self) -> Result<(), StoreError> {
        self.store.save()
    }

    /// The whole state as JSON: stored resources, subscriptions seen, runtime config, faults.
    pub fn snapshot_json(&self) -> Value {
        let snapshot = self.store.snapshot();
        json!({
            "format": snapshot.format,
            "base_url": self.base_url,
            "tenant_id": self.tenant_id,
            "subscriptions": snapshot.subscriptions,
            "resources": snapshot.resources,
            "config": self.runtime(),
            "faults": self.faults(),
            "tokens_issued": self.tokens.len(),
        })
    }

    /// Whether the subscription exists (any well-formed GUID unless a list was configured).
    pub(crate) fn subscription_known(&self, subscription_id: &str) -> bool {
        self.subscriptions.is_empty()
            || self
                .subscriptions
                .iter()
                .any(|s| s.eq_ignore_ascii_case(subscription_id))
    }
}
