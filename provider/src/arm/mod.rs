//! `arm`: everything that talks HTTP to Azure Resource Manager (or the emulator).
//!
//! Every ARM call of the provider goes through [`ArmClient`]: it adds the token, the request
//! and correlation IDs and the User-Agent, retries what is transient (honouring
//! `Retry-After`), follows long-running operations and `nextLink`, and turns ARM error bodies
//! into [`ArmError`]s with status, code, message and request ID (DESIGN.md §3).
//!
//! - [`cloud`] — which cloud (public, usgovernment, china, or discovered from a metadata host);
//! - [`credentials`] — [`AuthConfig`] (azurerm's attributes and `ARM_*` variables), validation,
//!   and the token flows (client certificate, client secret, OIDC, managed identity, Azure CLI);
//! - [`client`] — [`ArmClient`];
//! - [`error`] — [`ArmError`], [`AuthError`];
//! - [`ids`] — typed resource IDs.
//!
//! Typical set-up at ConfigureProvider:
//!
//! ```no_run
//! # async fn configure() -> Result<(), Box<dyn std::error::Error>> {
//! use defender::arm::{ArmClient, AuthConfig, ClientOptions};
//! let auth = AuthConfig::default().with_env_defaults();
//! // problems → diagnostics on the attribute
//! for p in auth.validate() { eprintln!("{p}"); }
//! // All in one: validate, resolve the cloud (network only for metadata_host), credential.
//! let client = defender::arm::build_client(&auth, "1.15.0", Default::default()).await?;
//! // Or by hand, with your own options:
//! let cloud = auth.cloud().await?;
//! let credential = auth.credential(&cloud).map_err(|p| p[0].to_string())?;
//! let client = ArmClient::new(ClientOptions::new(cloud, credential))?;
//! let answer = client
//!     .get("/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/pricings/VirtualMachines", "2024-01-01")
//!     .await?;
//! # let _ = answer; Ok(()) }
//! ```

// `ArmError::Status` carries status, code, message, request and correlation IDs, details,
// method and URL (DESIGN.md §3): ~200 bytes. Errors are rare next to the HTTP round trip they
// describe, so the copy is cheaper than boxing every field access for callers.
#![allow(clippy::result_large_err)]

pub mod certificate;
pub mod client;
pub mod cloud;
pub mod configure;
pub mod credentials;
pub mod error;
pub mod ids;
pub mod retry;
pub mod token;

pub use client::{
    ArmClient, ArmResponse, ClientOptions, Method, RequestBuilder, RetryPredicate,
    process_correlation_id,
};
pub use cloud::{Cloud, CloudError};
pub use configure::{ConfigureError, build_client};
pub use credentials::{
    AuthConfig, AuthMethod, AzureCliCredential, CertificateSource, ClientAuth, ClientCredential,
    ConfigProblem, FederatedSource, ManagedIdentityCredential, SecretSource, StaticTokenCredential,
};
pub use error::{ArmError, AuthError, AuthErrorKind, ErrorDetail};
pub use ids::{
    AutoProvisioningSettingId, IdError, PricingId, ResourceId, Scope, Segment, SettingId,
    SubscriptionId,
};
pub use retry::RetryPolicy;
pub use token::{AccessToken, Secret, TokenCache, TokenCredential};
