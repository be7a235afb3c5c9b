//! From provider configuration to a ready [`ArmClient`]: the one call ConfigureProvider (or the
//! first ARM operation) makes.

use tokio_util::sync::CancellationToken;

use super::client::{ArmClient, ClientOptions};
use super::cloud::CloudError;
use super::credentials::{AuthConfig, ConfigProblem};
use super::error::ArmError;

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigureError {
    /// The settings conflict or are incomplete.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigProblem>),
    /// The cloud could not be resolved (unknown environment, metadata host unreachable, ...).
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The client rejected its options.
    #[error(transparent)]
    Client(#[from] ArmError),
}

impl ConfigureError {
    /// The attribute to attach a diagnostic to, when there is one.
    pub fn attribute(&self) -> Option<&'static str> {
        match self {
            ConfigureError::Config(p) => p.first().map(|p| p.attribute),
            ConfigureError::Cloud(e) => Some(e.attribute()),
            ConfigureError::Client(_) => None,
        }
    }
}

/// Test knob: the timeout of one HTTP attempt in milliseconds (default 90 s), honoured only
/// when the resource manager is on a loopback host (the emulator), so the fault suite can make
/// an answer slower than the client waits without waiting 90 s. Ignored against Azure.
pub const ATTEMPT_TIMEOUT_ENV: &str = "DEFENDER_EMULATOR_ATTEMPT_TIMEOUT_MS";

/// Resolves the cloud (metadata discovery when `metadata_host` is set: the only network
/// access), builds the credential and the client. `terraform_version` goes into the
/// User-Agent as `Terraform/{version}`; `cancel` is StopProvider's token.
pub async fn build_client(
    auth: &AuthConfig,
    terraform_version: &str,
    cancel: CancellationToken,
) -> Result<ArmClient, ConfigureError> {
    let problems = auth.validate();
    if !problems.is_empty() {
        return Err(ConfigureError::Config(problems));
    }
    let cloud = auth.cloud().await?;
    let credential = auth.credential(&cloud).map_err(ConfigureError::Config)?;
    tracing::debug!(
        cloud = %cloud.name,
        resource_manager = %cloud.resource_manager,
        flow = credential.flow(),
        "ARM client configured"
    );
    let mut options = ClientOptions::new(cloud, credential);
    options.cancel = cancel;
    if options.cloud.is_loopback()
        && let Some(ms) = std::env::var(ATTEMPT_TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
    {
        options.attempt_timeout = std::time::Duration::from_millis(ms);
    }
    let v = terraform_version.trim();
    if !v.is_empty() {
        options.user_agent_suffix = Some(format!("Terraform/{v}"));
    }
    Ok(ArmClient::new(options)?)
}
