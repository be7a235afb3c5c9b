//! Start-up configuration and the part of it that can change while running.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;

/// The tenant the emulator pretends to be when a caller does not name one it knows.
pub const DEFAULT_TENANT_ID: &str = "72f9acb2-0000-4e00-8000-00000000e1a0";

/// How the emulator starts. Every field is public; `Config::default()` is a working emulator
/// on `127.0.0.1:0` that accepts any client with a non-empty secret and any subscription GUID.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen. Only loopback addresses are accepted.
    pub listen: SocketAddr,
    /// Let `autoProvision: On` succeed instead of answering `Deprecated`.
    pub allow_mma_autoprovision: bool,
    /// Latency added to every request except the control endpoints.
    pub latency_ms: u64,
    /// Items per page of a list; longer lists get a `nextLink`.
    pub page_size: usize,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Registered app registrations. Empty: any client ID with a non-empty secret is accepted.
    pub clients: Vec<ClientRegistration>,
    /// Known subscriptions. Empty: every well-formed subscription GUID exists.
    pub subscriptions: Vec<String>,
    /// The tenant ID put into tokens and subscription bodies.
    pub tenant_id: String,
    /// Lifetime of issued access tokens (Entra's is 3599 s).
    pub token_lifetime: Duration,
    /// Load resources from here at start (if the file exists) and save after every write.
    pub state_file: Option<PathBuf>,
    /// A folder of REST API examples whose GET answers become the singletons' defaults.
    pub seed_examples: Option<PathBuf>,
    /// How many request log entries are kept (oldest dropped first).
    pub request_log_limit: usize,
    /// How long a pricing write (Microsoft.Security/pricings PUT or DELETE) stays in flight;
    /// ARM answers 409 to another pricing write of the same subscription meanwhile.
    pub pricing_write_ms: u64,
    /// Extensions whose enablement fails in pricing PUTs (`operationStatus.code: Failed`),
    /// as a missing role assignment makes it fail in Azure.
    pub pricing_failing_extensions: Vec<String>,
    /// How long a new system-assigned identity's service principal stays unknown to role
    /// assignments that do not say `principalType: ServicePrincipal` (Entra replication,
    /// arm-api.md 9): they answer 400 `PrincipalNotFound` meanwhile.
    pub principal_replication_ms: u64,
    /// How long a remediation task stays in each of `Accepted` and `Evaluating` before it
    /// ends (arm-api.md 10).
    pub remediation_step_ms: u64,
    /// How many non-compliant resources a new remediation task finds (its
    /// `totalDeployments`, at most its `resourceCount`).
    pub remediation_resources: u32,
    /// The fraction (0.0 to 1.0) of a new remediation task's deployments that fail.
    pub remediation_failures: f64,
    /// ARM's per-subscription throttling (`crate::ratelimit`): `None` (the default) = no
    /// limit; `Some(RateLimits::arm())` = ARM's published buckets (arm-api.md 13.3).
    pub rate_limits: Option<crate::ratelimit::RateLimits>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allow_mma_autoprovision: false,
            latency_ms: 0,
            page_size: 100,
            faults: Vec::new(),
            clients: Vec::new(),
            subscriptions: Vec::new(),
            tenant_id: DEFAULT_TENANT_ID.to_owned(),
            token_lifetime: Duration::from_secs(3599),
            state_file: None,
            seed_examples: None,
            request_log_limit: 10_000,
            pricing_write_ms: 200,
            pricing_failing_extensions: Vec::new(),
            principal_replication_ms: 2_000,
            remediation_step_ms: 1_000,
            remediation_resources: 2,
            remediation_failures: 0.0,
            rate_limits: None,
        }
    }
}

impl Config {
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    pub fn with_client(mut self, client: ClientRegistration) -> Self {
        self.clients.push(client);
        self
    }

    pub fn with_subscription(mut self, subscription_id: impl Into<String>) -> Self {
        self.subscriptions.push(subscription_id.into());
        self
    }

    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size;
        self
    }

    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    pub fn allow_mma_autoprovision(mut self, allow: bool) -> Self {
        self.allow_mma_autoprovision = allow;
        self
    }

    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Enforces ARM's per-subscription read/write/delete limits (`crate::ratelimit`).
    pub fn with_rate_limits(mut self, limits: crate::ratelimit::RateLimits) -> Self {
        self.rate_limits = Some(limits);
        self
    }

    pub(crate) fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            allow_mma_autoprovision: self.allow_mma_autoprovision,
            latency_ms: self.latency_ms,
            page_size: self.page_size.max(1),
            pricing_write_ms: self.pricing_write_ms,
            pricing_failing_extensions: self.pricing_failing_extensions.clone(),
            principal_replication_ms: self.principal_replication_ms,
            remediation_step_ms: self.remediation_step_ms,
            remediation_resources: self.remediation_resources,
            remediation_failures: self.remediation_failures.clamp(0.0, 1.0),
        }
    }
}

/// The settings `POST /_emulator/config` can change while the emulator runs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RuntimeConfig {
    pub allow_mma_autoprovision: bool,
    pub latency_ms: u64,
    pub page_size: usize,
    pub pricing_write_ms: u64,
    pub pricing_failing_extensions: Vec<String>,
    /// See [`Config::principal_replication_ms`].
    pub principal_replication_ms: u64,
    /// See [`Config::remediation_step_ms`].
    pub remediation_step_ms: u64,
    /// See [`Config::remediation_resources`].
    pub remediation_resources: u32,
    /// See [`Config::remediation_failures`].
    pub remediation_failures: f64,
}

/// A partial update of [`RuntimeConfig`], the body of `POST /_emulator/config`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfigPatch {
    pub allow_mma_autoprovision: Option<bool>,
    pub latency_ms: Option<u64>,
    pub page_size: Option<usize>,
    pub pricing_write_ms: Option<u64>,
    pub pricing_failing_extensions: Option<Vec<String>>,
    pub principal_replication_ms: Option<u64>,
    pub remediation_step_ms: Option<u64>,
    pub remediation_resources: Option<u32>,
    pub remediation_failures: Option<f64>,
}

impl RuntimeConfig {
    pub fn apply(&mut self, patch: &RuntimeConfigPatch) {
        if let Some(v) = patch.allow_mma_autoprovision {
            self.allow_mma_autoprovision = v;
        }
        if let Some(v) = patch.latency_ms {
            self.latency_ms = v;
        }
        if let Some(v) = patch.page_size {
            self.page_size = v.max(1);
        }
        if let Some(v) = patch.pricing_write_ms {
            self.pricing_write_ms = v;
        }
        if let Some(v) = &patch.pricing_failing_extensions {
            self.pricing_failing_extensions = v.clone();
        }
        if let Some(v) = patch.principal_replication_ms {
            self.principal_replication_ms = v;
        }
        if let Some(v) = patch.remediation_step_ms {
            self.remediation_step_ms = v;
        }
        if let Some(v) = patch.remediation_resources {
            self.remediation_resources = v;
        }
        if let Some(v) = patch.remediation_failures {
            self.remediation_failures = v.clamp(0.0, 1.0);
        }
    }
}

/// An app registration the token endpoint knows.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRegistration {
    pub client_id: String,
    /// The client secret; `None` for an app that only has certificates or federated credentials.
    pub secret: Option<String>,
    /// DER-encoded certificates whose thumbprints client assertions may name in `x5t`/`x5t#S256`.
    pub certificates: Vec<Vec<u8>>,
}

impl ClientRegistration {
    pub fn with_secret(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        ClientRegistration {
            client_id: client_id.into(),
            secret: Some(secret.into()),
            certificates: Vec::new(),
        }
    }

    /// Parses the `--client ID:SECRET` form (the secret may itself contain `:`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        match spec.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                Ok(Self::with_secret(id, secret))
            }
            _ => Err("expected CLIENT_ID:SECRET with both parts non-empty".to_owned()),
        }
    }
}

// Secrets never reach a log: Debug prints that one is set, not what it is.
impl fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("certificates", &self.certificates.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_spec_parses_and_debug_hides_the_secret() {
        let c = ClientRegistration::parse("app:s3:cret").unwrap();
        assert_eq!(c.client_id, "app");
        assert_eq!(c.secret.as_deref(), Some("s3:cret"));
        assert!(!format!("{c:?}").contains("s3:cret"));
        assert!(ClientRegistration::parse("app:").is_err());
        assert!(ClientRegistration::parse("nocolon").is_err());
    }

    #[test]
    fn runtime_patch_applies() {
        let mut rt = Config::default().runtime();
        rt.apply(&RuntimeConfigPatch {
            page_size: Some(0),
            latency_ms: Some(5),
            ..Default::default()
        });
        assert_eq!(rt.page_size, 1);
        assert_eq!(rt.latency_ms, 5);
        assert!(!rt.allow_mma_autoprovision);
    }
}
