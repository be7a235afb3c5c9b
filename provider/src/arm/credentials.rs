//! Credentials: the provider's authentication settings ([`AuthConfig`], azurerm's attribute
//! names and `ARM_*` variables), their validation, and the token flows.
//!
//! # Why not the `azure_identity` crate
//!
//! `azure_identity` 1.x (azure-sdk-for-rust; 1.1.0-beta.1 read) was evaluated and is not used:
//! - it refuses any authority host that is not `https` (`get_authority_host`: "authority host
//!   doesn't use HTTPS scheme"), so it cannot talk to the emulator's token endpoint on
//!   `http://127.0.0.1:…`, which every acceptance test and the demo use;
//! - its managed identity credential has the IMDS endpoint as a constant: no `msi_endpoint`;
//! - its certificate credential needs the `openssl` feature (a system OpenSSL), while the
//!   provider is rustls/ring only;
//! - GitHub Actions / Azure DevOps request-URL OIDC (azurerm's `oidc_request_url`) is not a flow
//!   it has with these inputs, and it would bring `azure_core`'s own HTTP pipeline next to ours.
//!
//! So the flows are written on reqwest (one client per credential, built on first use), each a
//! few dozen lines against the documented wire contract (arm-api.md §14).
//!
//! # Which flow is used
//!
//! azurerm's order (go-azure-sdk `sdk/auth/auth.go`, `NewAuthorizerFromCredentials`): the first
//! method that is *configured* is used, and if it fails there is no fallback to the next:
//! 1. client certificate — `client_certificate` or `client_certificate_path` (+ tenant, client);
//! 2. client secret — `client_secret` or `client_secret_file_path` (+ tenant, client);
//! 3. OIDC, when `use_oidc` (or `use_aks_workload_identity`): a token (`oidc_token`), a token
//!    file (`oidc_token_file_path`, re-read at each acquisition), Azure DevOps (request URL,
//!    token and `ado_pipeline_service_connection_id`), then GitHub Actions (request URL, token);
//! 4. managed identity, when `use_msi`;
//! 5. Azure CLI, when `use_cli` (default true).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use serde::Deserialize;
use url::Url;

use super::certificate::SigningCertificate;
use super::cloud::{Cloud, check_scheme, is_loopback_url};
use super::error::{AuthError, AuthErrorKind};
use super::token::{AccessToken, Secret, TokenCache, TokenCredential};

/// The provider's authentication settings, named as azurerm's provider attributes.
///
/// Build it from the provider block, then [`AuthConfig::with_env_defaults`] fills what is unset
/// from the `ARM_*` variables azurerm reads, [`AuthConfig::validate`] reports conflicting or
/// incomplete settings, and [`AuthConfig::credential`] builds the credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// `ARM_SUBSCRIPTION_ID`. Required.
    pub subscription_id: Option<String>,
    /// `ARM_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Up to 3 extra tenants for cross-tenant operations; `ARM_AUXILIARY_TENANT_IDS` (`;`-separated).
    pub auxiliary_tenant_ids: Option<Vec<String>>,
    /// `ARM_CLIENT_ID` (also `AZURE_CLIENT_ID` with AKS workload identity).
    pub client_id: Option<String>,
    /// A file holding the client ID; `ARM_CLIENT_ID_FILE_PATH`.
    pub client_id_file_path: Option<String>,
    /// `ARM_CLIENT_SECRET`.
    pub client_secret: Option<String>,
    /// A file holding the client secret; `ARM_CLIENT_SECRET_FILE_PATH`.
    pub client_secret_file_path: Option<String>,
    /// Base64-encoded PKCS#12 bundle; `ARM_CLIENT_CERTIFICATE`.
    pub client_certificate: Option<String>,
    /// Path to a PKCS#12/PFX (or PEM certificate + key) file; `ARM_CLIENT_CERTIFICATE_PATH`.
    pub client_certificate_path: Option<String>,
    /// Password of the PKCS#12 bundle; `ARM_CLIENT_CERTIFICATE_PASSWORD`.
    pub client_certificate_password: Option<String>,
    /// Allow OIDC (workload identity federation); `ARM_USE_OIDC`.
    pub use_oidc: Option<bool>,
    /// An OIDC ID token; `ARM_OIDC_TOKEN`.
    pub oidc_token: Option<String>,
    /// A file holding the OIDC ID token, re-read at each token acquisition;
    /// `ARM_OIDC_TOKEN_FILE_PATH` (`AZURE_FEDERATED_TOKEN_FILE` with AKS workload identity).
    pub oidc_token_file_path: Option<String>,
    /// URL to request an ID token from; `ARM_OIDC_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_URL`,
    /// `SYSTEM_OIDCREQUESTURI`.
    pub oidc_request_url: Option<String>,
    /// Bearer token for `oidc_request_url`; `ARM_OIDC_REQUEST_TOKEN`,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `SYSTEM_ACCESSTOKEN`.
    pub oidc_request_token: Option<String>,
    /// Azure DevOps service connection ID; `ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID`,
    /// `ARM_OIDC_AZURE_SERVICE_CONNECTION_ID`.
    pub ado_pipeline_service_connection_id: Option<String>,
    /// Use AKS workload identity (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
    /// `AZURE_FEDERATED_TOKEN_FILE`); `ARM_USE_AKS_WORKLOAD_IDENTITY`.
    pub use_aks_workload_identity: Option<bool>,
    /// Allow managed identity; `ARM_USE_MSI`.
    pub use_msi: Option<bool>,
    /// Custom managed identity endpoint; `ARM_MSI_ENDPOINT`.
    pub msi_endpoint: Option<String>,
    /// IMDS API version (default `2018-02-01`); `ARM_MSI_API_VERSION`.
    pub msi_api_version: Option<String>,
    /// Allow the Azure CLI (default true); `ARM_USE_CLI`.
    pub use_cli: Option<bool>,
    /// `public` (default), `usgovernment` or `china`; `ARM_ENVIRONMENT`.
    pub environment: Option<String>,
    /// Metadata host of a custom cloud (Azure Stack Hub, the emulator); `ARM_METADATA_HOSTNAME`.
    pub metadata_host: Option<String>,
    /// ARM endpoint of a cloud named directly, without discovery (azapi's name);
    /// `ARM_RESOURCE_MANAGER_ENDPOINT`.
    pub resource_manager_endpoint: Option<String>,
    /// Entra ID authority host of a cloud named directly; `ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST`.
    pub active_directory_authority_host: Option<String>,
    /// ARM's token audience for a cloud named directly (default: the endpoint's origin);
    /// `ARM_RESOURCE_MANAGER_AUDIENCE`.
    pub resource_manager_audience: Option<String>,
}

impl fmt::Debug for AuthConfig {
    /// Secrets print as `***` (set) or `None`: the config may be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hide = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("AuthConfig")
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.tenant_id)
            .field("auxiliary_tenant_ids", &self.auxiliary_tenant_ids)
            .field("client_id", &self.client_id)
            .field("client_id_file_path", &self.client_id_file_path)
            .field("client_secret", &hide(&self.client_secret))
            .field("client_secret_file_path", &self.client_secret_file_path)
            .field("client_certificate", &hide(&self.client_certificate))
            .field("client_certificate_path", &self.client_certificate_path)
            .field(
                "client_certificate_password",
                &hide(&self.client_certificate_password),
            )
            .field("use_oidc", &self.use_oidc)
            .field("oidc_token", &hide(&self.oidc_token))
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field("oidc_request_url", &self.oidc_request_url)
            .field("oidc_request_token", &hide(&self.oidc_request_token))
            .field(
                "ado_pipeline_service_connection_id",
                &self.ado_pipeline_service_connection_id,
            )
            .field("use_aks_workload_identity", &self.use_aks_workload_identity)
            .field("use_msi", &self.use_msi)
            .field("msi_endpoint", &self.msi_endpoint)
            .field("msi_api_version", &self.msi_api_version)
            .field("use_cli", &self.use_cli)
            .field("environment", &self.environment)
            .field("metadata_host", &self.metadata_host)
            .field("resource_manager_endpoint", &self.resource_manager_endpoint)
            .field(
                "active_directory_authority_host",
                &self.active_directory_authority_host,
            )
            .field("resource_manager_audience", &self.resource_manager_audience)
            .finish()
    }
}

/// A configuration problem on one attribute (a plan-time diagnostic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The provider attribute, e.g. `client_secret`.
    pub attribute: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.attribute, self.message)
    }
}

impl std::error::Error for ConfigProblem {}

fn problem(attribute: &'static str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        attribute,
        message: message.into(),
    }
}

/// The authentication method [`AuthConfig`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Service principal with a certificate.
    ClientCertificate,
    /// Service principal with a secret.
    ClientSecret,
    /// Workload identity federation with a given ID token.
    OidcToken,
    /// Workload identity federation with an ID token file.
    OidcTokenFile,
    /// Workload identity federation with Azure DevOps' OIDC endpoint.
    AzureDevOpsOidc,
    /// Workload identity federation with GitHub Actions' OIDC endpoint.
    GitHubOidc,
    /// Managed identity (IMDS).
    ManagedIdentity,
    /// The Azure CLI's logged-in account.
    AzureCli,
}

impl AuthMethod {
    /// The flow in words, as errors name it.
    pub fn flow(self) -> &'static str {
        match self {
            AuthMethod::ClientCertificate => "client certificate",
            AuthMethod::ClientSecret => "client secret",
            AuthMethod::OidcToken => "OIDC token",
            AuthMethod::OidcTokenFile => "OIDC token file",
            AuthMethod::AzureDevOpsOidc => "Azure DevOps OIDC",
            AuthMethod::GitHubOidc => "GitHub Actions OIDC",
            AuthMethod::ManagedIdentity => "managed identity",
            AuthMethod::AzureCli => "Azure CLI",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flow())
    }
}

fn set(v: &Option<String>) -> bool {
    nonempty(v).is_some()
}

/// The value when it is set to something other than blanks.
fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

fn set_secret(v: &Option<String>) -> bool {
    set(v)
}

fn secret_of(v: &Option<String>) -> Secret {
    Secret::new(v.as_deref().map(str::trim).unwrap_or_default())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

impl AuthConfig {
    /// Fills unset fields from the process environment (the `ARM_*` variables azurerm reads).
    pub fn with_env_defaults(self) -> AuthConfig {
        self.with_defaults_from(|k| std::env::var(k).ok())
    }

    /// Fills unset fields from `lookup` (a variable name → value function; empty values count as
    /// unset, as in azurerm). Tests pass a map instead of mutating the process environment.
    pub fn with_defaults_from(mut self, lookup: impl Fn(&str) -> Option<String>) -> AuthConfig {
        let get = |names: &[&str]| -> Option<String> {
            names
                .iter()
                .find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()))
        };
        let get_bool = |name: &str| -> Option<bool> {
            let raw = get(&[name])?;
            let parsed = parse_bool(&raw);
            if parsed.is_none() {
                tracing::warn!(variable = name, "ignoring non-boolean value of {name}");
            }
            parsed
        };
        fn fill<T>(field: &mut Option<T>, value: impl FnOnce() -> Option<T>) {
            if field.is_none() {
                *field = value();
            }
        }
        fill(&mut self.subscription_id, || get(&["ARM_SUBSCRIPTION_ID"]));
        fill(&mut self.tenant_id, || get(&["ARM_TENANT_ID"]));
        fill(&mut self.auxiliary_tenant_ids, || {
            get(&["ARM_AUXILIARY_TENANT_IDS"]).map(|v| {
                v.split(';')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
        });
        fill(&mut self.client_id, || get(&["ARM_CLIENT_ID"]));
        fill(&mut self.client_id_file_path, || {
            get(&["ARM_CLIENT_ID_FILE_PATH"])
        });
        fill(&mut self.client_secret, || get(&["ARM_CLIENT_SECRET"]));
        fill(&mut self.client_secret_file_path, || {
            get(&["ARM_CLIENT_SECRET_FILE_PATH"])
        });
        fill(&mut self.client_certificate, || {
            get(&["ARM_CLIENT_CERTIFICATE"])
        });
        fill(&mut self.client_certificate_path, || {
            get(&["ARM_CLIENT_CERTIFICATE_PATH"])
        });
        fill(&mut self.client_certificate_password, || {
            get(&["ARM_CLIENT_CERTIFICATE_PASSWORD"])
        });
        fill(&mut self.use_oidc, || get_bool("ARM_USE_OIDC"));
        fill(&mut self.oidc_token, || get(&["ARM_OIDC_TOKEN"]));
        fill(&mut self.oidc_token_file_path, || {
            get(&["ARM_OIDC_TOKEN_FILE_PATH"])
        });
        // azurerm internal/provider/framework/config.go: GitHub's and Azure DevOps' own
        // variables are fallbacks for the ARM_ ones.
        fill(&mut self.oidc_request_url, || {
            get(&[
                "ARM_OIDC_REQUEST_URL",
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "SYSTEM_OIDCREQUESTURI",
            ])
        });
        fill(&mut self.oidc_request_token, || {
            get(&[
                "ARM_OIDC_REQUEST_TOKEN",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "SYSTEM_ACCESSTOKEN",
            ])
        });
        // ARM_OIDC_AZURE_SERVICE_CONNECTION_ID is azapi's name, read by azurerm for compatibility.
        fill(&mut self.ado_pipeline_service_connection_id, || {
            get(&[
                "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
                "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID",
            ])
        });
        fill(&mut self.use_aks_workload_identity, || {
            get_bool("ARM_USE_AKS_WORKLOAD_IDENTITY")
        });
        if self.use_aks_workload_identity == Some(true) {
            // The AKS workload identity webhook injects these into the pod.
            fill(&mut self.client_id, || get(&["AZURE_CLIENT_ID"]));
            fill(&mut self.tenant_id, || get(&["AZURE_TENANT_ID"]));
            fill(&mut self.oidc_token_file_path, || {
                get(&["AZURE_FEDERATED_TOKEN_FILE"])
            });
        }
        fill(&mut self.use_msi, || get_bool("ARM_USE_MSI"));
        fill(&mut self.msi_endpoint, || get(&["ARM_MSI_ENDPOINT"]));
        fill(&mut self.msi_api_version, || get(&["ARM_MSI_API_VERSION"]));
        fill(&mut self.use_cli, || get_bool("ARM_USE_CLI"));
        fill(&mut self.environment, || get(&["ARM_ENVIRONMENT"]));
        // The cloud's endpoints are taken as a unit from one source: a provider block that sets
        // metadata_host is not overridden by ARM_RESOURCE_MANAGER_ENDPOINT in the environment,
        // nor a block naming the endpoints by ARM_METADATA_HOSTNAME. When both come from the
        // environment (a CI job running azurerm and azapi exports both), the named endpoints
        // win: they need no network. Both in the provider block stay a conflict (`check`).
        if !set(&self.metadata_host) {
            fill(&mut self.resource_manager_endpoint, || {
                get(&["ARM_RESOURCE_MANAGER_ENDPOINT"])
            });
            fill(&mut self.active_directory_authority_host, || {
                get(&["ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST"])
            });
            fill(&mut self.resource_manager_audience, || {
                get(&["ARM_RESOURCE_MANAGER_AUDIENCE"])
            });
        }
        if !self.names_endpoints() {
            fill(&mut self.metadata_host, || get(&["ARM_METADATA_HOSTNAME"]));
        }
        self
    }

    /// Whether any of `resource_manager_endpoint`, `active_directory_authority_host` or
    /// `resource_manager_audience` is set.
    fn names_endpoints(&self) -> bool {
        set(&self.resource_manager_endpoint)
            || set(&self.active_directory_authority_host)
            || set(&self.resource_manager_audience)
    }

    fn oidc_enabled(&self) -> bool {
        self.use_oidc == Some(true) || self.use_aks_workload_identity == Some(true)
    }

    fn has_client_id(&self) -> bool {
        set(&self.client_id) || set(&self.client_id_file_path)
    }

    /// The method that will be used, in azurerm's order (see the module docs), or `None` when
    /// nothing is configured. Does not check completeness: see [`AuthConfig::validate`].
    pub fn method(&self) -> Option<AuthMethod> {
        if set_secret(&self.client_certificate) || set(&self.client_certificate_path) {
            return Some(AuthMethod::ClientCertificate);
        }
        if set_secret(&self.client_secret) || set(&self.client_secret_file_path) {
            return Some(AuthMethod::ClientSecret);
        }
        if self.oidc_enabled() {
            if set_secret(&self.oidc_token) {
                return Some(AuthMethod::OidcToken);
            }
            if set(&self.oidc_token_file_path) {
                return Some(AuthMethod::OidcTokenFile);
            }
            if set(&self.oidc_request_url) && set_secret(&self.oidc_request_token) {
                return Some(if set(&self.ado_pipeline_service_connection_id) {
                    AuthMethod::AzureDevOpsOidc
                } else {
                    AuthMethod::GitHubOidc
                });
            }
        }
        if self.use_msi == Some(true) {
            return Some(AuthMethod::ManagedIdentity);
        }
        if self.use_cli != Some(false) {
            return Some(AuthMethod::AzureCli);
        }
        None
    }

    /// Conflicting or incomplete settings, each on the attribute to fix. Pure: no file or
    /// network access. Use it on the configuration merged with the environment
    /// ([`AuthConfig::with_env_defaults`]); on the provider block alone, where values may still
    /// come from `ARM_*` variables, use [`AuthConfig::validate_conflicts`].
    pub fn validate(&self) -> Vec<ConfigProblem> {
        self.check(true)
    }

    /// Only what is wrong whatever the environment adds: malformed values (GUIDs, URLs, the
    /// http rule, unknown environment) and conflicting settings — not missing ones. For
    /// ValidateProviderConfig, which sees the provider block only.
    pub fn validate_conflicts(&self) -> Vec<ConfigProblem> {
        self.check(false)
    }

    fn check(&self, complete: bool) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        match self.subscription_id.as_deref().map(str::trim) {
            None | Some("") if !complete => {}
            None | Some("") => out.push(problem(
                "subscription_id",
                "is required: set subscription_id in the provider block or ARM_SUBSCRIPTION_ID",
            )),
            Some(s) if !is_guid(s) => out.push(problem(
                "subscription_id",
                format!(
                    "{s:?} is not a valid GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
                ),
            )),
            _ => {}
        }
        if let Some(t) = self.tenant_id.as_deref().map(str::trim)
            && !t.is_empty()
            && !is_tenant(t)
        {
            out.push(problem(
                "tenant_id",
                format!("{t:?} is not a tenant ID (a GUID) or a tenant domain name"),
            ));
        }
        if let Some(c) = self.client_id.as_deref().map(str::trim)
            && !c.is_empty()
            && !is_guid(c)
        {
            out.push(problem("client_id", format!("{c:?} is not a valid GUID")));
        }
        if let Some(aux) = &self.auxiliary_tenant_ids {
            if aux.len() > 3 {
                out.push(problem(
                    "auxiliary_tenant_ids",
                    format!(
                        "at most 3 auxiliary tenants are supported, got {}",
                        aux.len()
                    ),
                ));
            }
            for t in aux {
                if !is_tenant(t.trim()) {
                    out.push(problem(
                        "auxiliary_tenant_ids",
                        format!("{t:?} is not a tenant ID (a GUID) or a tenant domain name"),
                    ));
                }
            }
        }

        // Conflicts between credential sources.
        let cert = set_secret(&self.client_certificate) || set(&self.client_certificate_path);
        let secret = set_secret(&self.client_secret) || set(&self.client_secret_file_path);
        if set_secret(&self.client_certificate) && set(&self.client_certificate_path) {
            out.push(problem(
                "client_certificate",
                "conflicts with client_certificate_path: set only one of them",
            ));
        }
        if cert && secret {
            out.push(problem(
                "client_secret",
                "conflicts with client_certificate / client_certificate_path: configure only one service principal credential",
            ));
        }
        if set_secret(&self.client_secret) && set(&self.client_secret_file_path) {
            out.push(problem(
                "client_secret_file_path",
                "conflicts with client_secret: set only one of them",
            ));
        }
        if set(&self.client_id) && set(&self.client_id_file_path) {
            out.push(problem(
                "client_id_file_path",
                "conflicts with client_id: set only one of them",
            ));
        }
        if set_secret(&self.client_certificate_password) && !cert {
            out.push(problem(
                "client_certificate_password",
                "is set but no client_certificate or client_certificate_path is",
            ));
        }
        if let Some(b64) = &self.client_certificate
            && !b64.trim().is_empty()
            && decode_base64(b64).is_none()
        {
            out.push(problem(
                "client_certificate",
                "is not valid base64 (expected the base64-encoded PKCS#12 bundle)",
            ));
        }
        if set_secret(&self.oidc_token) && set(&self.oidc_token_file_path) {
            out.push(problem(
                "oidc_token_file_path",
                "conflicts with oidc_token: set only one of them",
            ));
        }
        if self.oidc_enabled() {
            let has_token = set_secret(&self.oidc_token) || set(&self.oidc_token_file_path);
            let has_url = set(&self.oidc_request_url);
            let has_req_token = set_secret(&self.oidc_request_token);
            if !complete {
                // A token source may still come from the environment.
            } else if !has_token && !has_url && !has_req_token && !cert && !secret {
                out.push(problem(
                    "use_oidc",
                    "is true but no OIDC token source is configured: set oidc_token, oidc_token_file_path, or oidc_request_url and oidc_request_token (GitHub Actions and Azure DevOps set the latter for jobs with id-token permission)",
                ));
            } else if !has_token && has_url != has_req_token {
                let (attr, other) = if has_url {
                    ("oidc_request_token", "oidc_request_url")
                } else {
                    ("oidc_request_url", "oidc_request_token")
                };
                out.push(problem(attr, format!("is required when {other} is set")));
            }
            if let Some(u) = self
                .oidc_request_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
            {
                match Url::parse(u.trim()) {
                    Ok(url) => {
                        if let Err(e) = check_scheme("oidc_request_url", &url) {
                            out.push(problem("oidc_request_url", strip_attr(&e.to_string())));
                        }
                    }
                    Err(e) => out.push(problem(
                        "oidc_request_url",
                        format!("{u:?} is not a valid URL: {e}"),
                    )),
                }
            }
        }

        // Completeness of the selected service-principal method.
        let method = self.method();
        let needs_sp = matches!(
            method,
            Some(
                AuthMethod::ClientCertificate
                    | AuthMethod::ClientSecret
                    | AuthMethod::OidcToken
                    | AuthMethod::OidcTokenFile
                    | AuthMethod::AzureDevOpsOidc
                    | AuthMethod::GitHubOidc
            )
        );
        if let Some(m) = method
            && needs_sp
            && complete
        {
            if !set(&self.tenant_id) {
                out.push(problem(
                    "tenant_id",
                    format!(
                        "is required to authenticate with a {m} (set tenant_id or ARM_TENANT_ID)"
                    ),
                ));
            }
            if !self.has_client_id() {
                out.push(problem(
                    "client_id",
                    format!(
                        "is required to authenticate with a {m} (set client_id or ARM_CLIENT_ID)"
                    ),
                ));
            }
        }
        if method.is_none() && complete {
            out.push(problem(
                "use_cli",
                "no authentication method is configured: set client_certificate_path, client_secret, use_oidc or use_msi, or leave use_cli enabled to use the Azure CLI",
            ));
        }
        if let Some(e) = self
            .msi_endpoint
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            match Url::parse(e.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => out.push(problem(
                    "msi_endpoint",
                    format!("{e:?} is not an http(s) URL"),
                )),
            }
        }

        // Cloud selection.
        let env = self
            .environment
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let custom = env.is_some_and(|e| e.eq_ignore_ascii_case("custom"));
        if let Some(e) = env
            && !custom
            && let Err(err) = Cloud::from_name(e)
        {
            out.push(problem("environment", strip_attr(&err.to_string())));
        }
        let metadata = set(&self.metadata_host);
        if self.names_endpoints() {
            self.check_endpoints(env, metadata, complete, &mut out);
        } else if custom && complete && !metadata {
            out.push(problem(
                "environment",
                "= \"custom\" needs the cloud's endpoints: set resource_manager_endpoint and active_directory_authority_host (or ARM_RESOURCE_MANAGER_ENDPOINT and ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST), or metadata_host",
            ));
        }
        if let Some(host) = self
            .metadata_host
            .as_deref()
            .filter(|h| !h.trim().is_empty())
            // Beside named endpoints it is a conflict, reported above.
            .filter(|_| !self.names_endpoints())
        {
            if let Some(e) = env
                && !e.eq_ignore_ascii_case("public")
            {
                out.push(problem(
                    "metadata_host",
                    format!("conflicts with environment = {e:?}: a metadata host defines the cloud, remove environment"),
                ));
            }
            if let Err(err) = Cloud::metadata_url(host) {
                out.push(problem("metadata_host", strip_attr(&err.to_string())));
            }
        }
        out
    }

    /// The named endpoints: both endpoints together, a well-formed audience, and no other
    /// source of the cloud in the same place.
    fn check_endpoints(
        &self,
        env: Option<&str>,
        metadata: bool,
        complete: bool,
        out: &mut Vec<ConfigProblem>,
    ) {
        if let Some(e) = env
            && !e.eq_ignore_ascii_case("public")
            && !e.eq_ignore_ascii_case("custom")
        {
            out.push(problem(
                "resource_manager_endpoint",
                format!("conflicts with environment = {e:?}: the endpoints define the cloud, remove environment or set it to \"custom\""),
            ));
        }
        // Only the provider block can set both: from the environment the named endpoints
        // win and the metadata host is not read (see `with_defaults_from`).
        if metadata {
            out.push(problem(
                "metadata_host",
                "conflicts with resource_manager_endpoint / active_directory_authority_host: either name the endpoints or let the metadata host name them",
            ));
        }
        let rm = nonempty(&self.resource_manager_endpoint);
        let login = nonempty(&self.active_directory_authority_host);
        // Each value that is here is checked; the other endpoint may still come from the
        // environment until the configuration is complete.
        for (attribute, value) in [
            ("resource_manager_endpoint", rm),
            ("active_directory_authority_host", login),
        ] {
            if let Some(v) = value
                && let Err(err) = super::cloud::endpoint(attribute, v)
            {
                out.push(problem(attribute, strip_attr(&err.to_string())));
            }
        }
        if let Some(a) = nonempty(&self.resource_manager_audience)
            && let Err(err) = super::cloud::audience(a.trim())
        {
            out.push(problem(err.attribute(), strip_attr(&err.to_string())));
        }
        if complete && rm.is_none() {
            out.push(problem(
                "resource_manager_endpoint",
                "is required when active_directory_authority_host or resource_manager_audience is set (or ARM_RESOURCE_MANAGER_ENDPOINT): name both endpoints of the cloud",
            ));
        } else if complete && login.is_none() {
            out.push(problem(
                "active_directory_authority_host",
                "is required when resource_manager_endpoint is set (or ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST): name both endpoints of the cloud",
            ));
        }
    }

    /// Resolves the cloud: the named endpoints when set (no network), else discovery from
    /// `metadata_host` when set (network), else the `environment` (default `public`).
    pub async fn cloud(&self) -> Result<Cloud, super::cloud::CloudError> {
        if let (Some(rm), Some(login)) = (
            nonempty(&self.resource_manager_endpoint),
            nonempty(&self.active_directory_authority_host),
        ) {
            return Cloud::custom(
                "custom",
                rm,
                login,
                self.resource_manager_audience.as_deref(),
            );
        }
        match self
            .metadata_host
            .as_deref()
            .filter(|h| !h.trim().is_empty())
        {
            Some(host) => Cloud::discover(host).await,
            None => Cloud::from_name(self.environment.as_deref().unwrap_or("public")),
        }
    }

    /// Builds the credential for `cloud` (no network; files named by `*_file_path` holding IDs
    /// are read here, certificates and tokens on first use). Runs [`AuthConfig::validate`] first.
    pub fn credential(
        &self,
        cloud: &Cloud,
    ) -> Result<Arc<dyn TokenCredential>, Vec<ConfigProblem>> {
        let problems = self.validate();
        if !problems.is_empty() {
            return Err(problems);
        }
        let method = self
            .method()
            .ok_or_else(|| vec![problem("use_cli", "no authentication method is configured")])?;
        let client_id = match (&self.client_id, &self.client_id_file_path) {
            (Some(c), _) if !c.trim().is_empty() => Some(c.trim().to_owned()),
            (_, Some(p)) if !p.trim().is_empty() => {
                let raw = std::fs::read_to_string(p.trim()).map_err(|e| {
                    vec![problem(
                        "client_id_file_path",
                        format!("reading {p:?}: {e}"),
                    )]
                })?;
                let id = raw.trim().to_owned();
                if !is_guid(&id) {
                    return Err(vec![problem(
                        "client_id_file_path",
                        format!("{p:?} does not hold a client ID GUID"),
                    )]);
                }
                Some(id)
            }
            _ => None,
        };
        let tenant = self.tenant_id.as_deref().map(str::trim).unwrap_or_default();
        let client = client_id.as_deref().unwrap_or_default();
        let aux = self.auxiliary_tenant_ids.clone().unwrap_or_default();
        let trimmed =
            |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
        let cred: Arc<dyn TokenCredential> = match method {
            AuthMethod::ClientCertificate => {
                let source = match &self.client_certificate {
                    Some(b64) if !b64.trim().is_empty() => {
                        CertificateSource::Base64(Secret::new(b64.clone()))
                    }
                    _ => CertificateSource::File(PathBuf::from(trimmed(
                        &self.client_certificate_path,
                    ))),
                };
                Arc::new(
                    ClientCredential::certificate(
                        cloud,
                        tenant,
                        client,
                        source,
                        self.client_certificate_password.clone().map(Secret::new),
                    )
                    .with_auxiliary_tenants(aux),
                )
            }
            AuthMethod::ClientSecret => {
                let source = match &self.client_secret {
                    Some(s) if !s.trim().is_empty() => {
                        SecretSource::Value(secret_of(&self.client_secret))
                    }
                    _ => SecretSource::File(PathBuf::from(trimmed(&self.client_secret_file_path))),
                };
                Arc::new(
                    ClientCredential::new(cloud, tenant, client, ClientAuth::Secret(source))
                        .with_auxiliary_tenants(aux),
                )
            }
            AuthMethod::OidcToken
            | AuthMethod::OidcTokenFile
            | AuthMethod::AzureDevOpsOidc
            | AuthMethod::GitHubOidc => {
                let source = match method {
                    AuthMethod::OidcToken => FederatedSource::Token(secret_of(&self.oidc_token)),
                    AuthMethod::OidcTokenFile => {
                        FederatedSource::File(PathBuf::from(trimmed(&self.oidc_token_file_path)))
                    }
                    AuthMethod::AzureDevOpsOidc => FederatedSource::AzureDevOps {
                        request_url: trimmed(&self.oidc_request_url),
                        request_token: secret_of(&self.oidc_request_token),
                        service_connection_id: trimmed(&self.ado_pipeline_service_connection_id),
                    },
                    _ => FederatedSource::GitHub {
                        request_url: trimmed(&self.oidc_request_url),
                        request_token: secret_of(&self.oidc_request_token),
                    },
                };
                Arc::new(
                    ClientCredential::federated(cloud, tenant, client, source)
                        .with_auxiliary_tenants(aux),
                )
            }
            AuthMethod::ManagedIdentity => {
                let mut mi = ManagedIdentityCredential::new();
                if let Some(e) = self
                    .msi_endpoint
                    .as_deref()
                    .filter(|e| !e.trim().is_empty())
                {
                    mi = mi
                        .with_endpoint(e.trim())
                        .map_err(|m| vec![problem("msi_endpoint", m)])?;
                }
                if let Some(v) = self
                    .msi_api_version
                    .as_deref()
                    .filter(|v| !v.trim().is_empty())
                {
                    mi = mi.with_api_version(v.trim());
                }
                if let Some(c) = client_id {
                    mi = mi.with_client_id(&c);
                }
                Arc::new(mi)
            }
            AuthMethod::AzureCli => {
                let mut cli = AzureCliCredential::new();
                if !tenant.is_empty() {
                    cli = cli.with_tenant(tenant);
                }
                Arc::new(cli)
            }
        };
        Ok(cred)
    }
}

fn strip_attr(s: &str) -> String {
    match s.split_once(": ") {
        Some((attr, rest)) if !attr.contains(' ') => rest.to_owned(),
        _ => s.to_owned(),
    }
}

/// A GUID in ARM's form: 36 characters, hyphens at 8, 13, 18, 23, hex elsewhere.
pub fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A tenant: a GUID or a domain name (`contoso.onmicrosoft.com`). Strict, because it goes into
/// the token URL's path.
fn is_tenant(s: &str) -> bool {
    is_guid(s)
        || (s.contains('.')
            && s.len() <= 253
            && !s.starts_with(['.', '-'])
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .ok()
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing shared by the flows.

const ENTRA_TIMEOUT: Duration = Duration::from_secs(30);
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn build_http(no_proxy: bool) -> Result<reqwest::Client, reqwest::Error> {
    let mut b = crate::crypto::https_client_builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(ENTRA_TIMEOUT)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "terraform-provider-defender/",
            env!("CARGO_PKG_VERSION")
        ));
    if no_proxy {
        b = b.no_proxy();
    }
    b.build()
}

/// A lazily built reqwest client (start-up stays cheap).
#[derive(Debug, Default)]
struct LazyHttp {
    client: OnceLock<reqwest::Client>,
    no_proxy: bool,
}

impl LazyHttp {
    fn new(no_proxy: bool) -> Self {
        LazyHttp {
            client: OnceLock::new(),
            no_proxy,
        }
    }

    fn get(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = build_http(self.no_proxy)?;
        Ok(self.client.get_or_init(|| c))
    }
}

/// Accepts `3599` and `"3599"` (IMDS sends numbers as strings, arm-api.md §14.2).
fn num_or_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        U(u64),
        F(f64),
        S(String),
    }
    Ok(match Option::<N>::deserialize(d)? {
        Some(N::U(n)) => Some(n),
        Some(N::F(f)) if f >= 0.0 => Some(f as u64),
        Some(N::S(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default, deserialize_with = "num_or_str")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "num_or_str")]
    expires_on: Option<u64>,
}

#[derive(Deserialize)]
struct EntraErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<i64>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

/// Turns a token endpoint answer into a token or the typed error.
fn parse_token_answer(status: u16, body: &[u8]) -> Result<AccessToken, AuthErrorKind> {
    if !(200..300).contains(&status) {
        if let Ok(e) = serde_json::from_slice::<EntraErrorBody>(body) {
            return Err(AuthErrorKind::Entra {
                status,
                error: e.error,
                description: e
                    .error_description
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                codes: e.error_codes,
                trace_id: e.trace_id,
                correlation_id: e.correlation_id,
            });
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
        return Err(AuthErrorKind::Http {
            status,
            body: text.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        AuthErrorKind::BadResponse(format!("the answer is not a token response: {e}"))
    })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthErrorKind::BadResponse("the answer has no access_token".into()))?;
    let expires_on = match (parsed.expires_on, parsed.expires_in) {
        (Some(on), _) => UNIX_EPOCH + Duration::from_secs(on),
        (None, Some(secs)) => SystemTime::now() + Duration::from_secs(secs),
        // Neither: assume the shortest lifetime Entra issues (1 h) minus a margin.
        (None, None) => SystemTime::now() + Duration::from_secs(45 * 60),
    };
    Ok(AccessToken::new(token, expires_on))
}

async fn send_for_token(
    req: reqwest::RequestBuilder,
    flow: &'static str,
    url: &str,
) -> Result<AccessToken, AuthErrorKind> {
    let started = std::time::Instant::now();
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            AuthErrorKind::Timeout(ENTRA_TIMEOUT)
        } else {
            AuthErrorKind::Transport(e)
        }
    })?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(AuthErrorKind::Transport)?;
    tracing::debug!(
        flow,
        url,
        status,
        duration_ms = started.elapsed().as_millis() as u64,
        "token endpoint answered"
    );
    parse_token_answer(status, &body)
}

fn token_endpoint(login: &Url, tenant: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        login.as_str().trim_end_matches('/'),
        tenant
    )
}

// ---------------------------------------------------------------------------------------------
// Service principal flows: secret, certificate, federated (OIDC).

/// Where a client secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// The secret itself.
    Value(Secret),
    /// A file holding it (read at each acquisition, trimmed).
    File(PathBuf),
}

/// Where a client certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// Base64-encoded PKCS#12 content (`client_certificate`).
    Base64(Secret),
    /// A PKCS#12/PFX or PEM file (`client_certificate_path`).
    File(PathBuf),
}

/// Where the federated (OIDC) ID token comes from.
#[derive(Debug, Clone)]
pub enum FederatedSource {
    /// The token itself (`oidc_token`).
    Token(Secret),
    /// A file, re-read at every acquisition (`oidc_token_file_path`; Kubernetes rotates it).
    File(PathBuf),
    /// GitHub Actions: `GET {request_url}&audience=api://AzureADTokenExchange` with
    /// `Authorization: Bearer {request_token}` → `{"value": jwt}`.
    GitHub {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        request_url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        request_token: Secret,
    },
    /// Azure DevOps: `POST {request_url}?api-version=7.1&serviceConnectionId={id}` with
    /// `Authorization: Bearer {request_token}` → `{"oidcToken": jwt}` (go-azure-sdk
    /// `ado_pipeline_oidc_authorizer.go`).
    AzureDevOps {
        /// `SYSTEM_OIDCREQUESTURI`.
        request_url: String,
        /// `SYSTEM_ACCESSTOKEN`.
        request_token: Secret,
        /// The service connection ID.
        service_connection_id: String,
    },
}

/// How a service principal proves itself.
#[derive(Debug)]
pub enum ClientAuth {
    /// `client_secret`.
    Secret(SecretSource),
    /// A certificate: a signed JWT assertion.
    Certificate {
        /// Where the bundle is.
        source: CertificateSource,
        /// The PKCS#12 password.
        password: Option<Secret>,
    },
    /// An ID token from a federated identity provider as the assertion.
    Federated(FederatedSource),
}

/// The client credentials grant (`POST {login}/{tenant}/oauth2/v2.0/token`, arm-api.md §14.1)
/// with a secret, a certificate assertion or a federated assertion.
pub struct ClientCredential {
    flow: &'static str,
    login: Url,
    tenant_id: String,
    client_id: String,
    auxiliary_tenant_ids: Vec<String>,
    auth: ClientAuth,
    certificate: tokio::sync::OnceCell<Arc<SigningCertificate>>,
    http: LazyHttp,
    cache: TokenCache,
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredential")
            .field("flow", &self.flow)
            .field("login", &self.login.as_str())
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl ClientCredential {
    /// A client credential against `cloud`'s login endpoint.
    pub fn new(cloud: &Cloud, tenant_id: &str, client_id: &str, auth: ClientAuth) -> Self {
        let flow = match &auth {
            ClientAuth::Secret(_) => "client secret",
            ClientAuth::Certificate { .. } => "client certificate",
            ClientAuth::Federated(FederatedSource::Token(_)) => "OIDC token",
            ClientAuth::Federated(FederatedSource::File(_)) => "OIDC token file",
            ClientAuth::Federated(FederatedSource::GitHub { .. }) => "GitHub Actions OIDC",
            ClientAuth::Federated(FederatedSource::AzureDevOps { .. }) => "Azure DevOps OIDC",
        };
        ClientCredential {
            flow,
            login: cloud.login.clone(),
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            auxiliary_tenant_ids: Vec::new(),
            auth,
            certificate: tokio::sync::OnceCell::new(),
            http: LazyHttp::new(is_loopback_url(&cloud.login)),
            cache: TokenCache::new(),
        }
    }

    /// Client secret.
    pub fn secret(cloud: &Cloud, tenant_id: &str, client_id: &str, secret: Secret) -> Self {
        Self::new(
            cloud,
            tenant_id,
            client_id,
            ClientAuth::Secret(SecretSource::Value(secret)),
        )
    }

    /// Client certificate.
    pub fn certificate(
        cloud: &Cloud,
        tenant_id: &str,
        client_id: &str,
        source: CertificateSource,
        password: Option<Secret>,
    ) -> Self {
        Self::new(
            cloud,
            tenant_id,
            client_id,
            ClientAuth::Certificate { source, password },
        )
    }

    /// Workload identity federation.
    pub fn federated(
        cloud: &Cloud,
        tenant_id: &str,
        client_id: &str,
        source: FederatedSource,
    ) -> Self {
        Self::new(cloud, tenant_id, client_id, ClientAuth::Federated(source))
    }

    /// Also fetch tokens for these tenants (`x-ms-authorization-auxiliary`).
    pub fn with_auxiliary_tenants(mut self, tenants: Vec<String>) -> Self {
        self.auxiliary_tenant_ids = tenants;
        self
    }

    fn err(&self, tenant: &str, kind: AuthErrorKind) -> AuthError {
        AuthError::new(self.flow, Some(&self.client_id), Some(tenant), kind)
    }

    async fn signing_certificate(&self) -> Result<Arc<SigningCertificate>, AuthErrorKind> {
        let ClientAuth::Certificate { source, password } = &self.auth else {
            return Err(AuthErrorKind::Config("not a certificate credential".into()));
        };
        self.certificate
            .get_or_try_init(|| async {
                let (data, what) = match source {
                    CertificateSource::Base64(b64) => (
                        decode_base64(b64.expose()).ok_or_else(|| {
                            AuthErrorKind::Certificate(
                                "client_certificate is not valid base64".into(),
                            )
                        })?,
                        "client_certificate".to_owned(),
                    ),
                    CertificateSource::File(path) => (
                        tokio::fs::read(path)
                            .await
                            .map_err(|source| AuthErrorKind::Io {
                                path: path.clone(),
                                source,
                            })?,
                        format!("client_certificate_path {:?}", path.display().to_string()),
                    ),
                };
                let pw = password.as_ref().map(Secret::expose).unwrap_or("");
                SigningCertificate::load(&data, pw)
                    .map(Arc::new)
                    .map_err(|m| AuthErrorKind::Certificate(format!("{what}: {m}")))
            })
            .await
            .cloned()
    }

    async fn read_file(path: &Path) -> Result<String, AuthErrorKind> {
        let raw = tokio::fs::read_to_string(path)
            .await
            .map_err(|source| AuthErrorKind::Io {
                path: path.to_owned(),
                source,
            })?;
        let v = raw.trim().to_owned();
        if v.is_empty() {
            return Err(AuthErrorKind::Config(format!(
                "{} is empty",
                path.display()
            )));
        }
        Ok(v)
    }

    async fn federated_assertion(&self, source: &FederatedSource) -> Result<String, AuthErrorKind> {
        match source {
            FederatedSource::Token(t) => Ok(t.expose().trim().to_owned()),
            FederatedSource::File(p) => Self::read_file(p).await,
            FederatedSource::GitHub {
                request_url,
                request_token,
            } => {
                let mut url = Url::parse(request_url).map_err(|e| {
                    AuthErrorKind::Config(format!("oidc_request_url is not a valid URL: {e}"))
                })?;
                if !url.query_pairs().any(|(k, _)| k == "audience") {
                    url.query_pairs_mut()
                        .append_pair("audience", "api://AzureADTokenExchange");
                }
                self.request_id_token(reqwest::Method::GET, url, request_token, "value")
                    .await
            }
            FederatedSource::AzureDevOps {
                request_url,
                request_token,
                service_connection_id,
            } => {
                let mut url = Url::parse(request_url).map_err(|e| {
                    AuthErrorKind::Config(format!("oidc_request_url is not a valid URL: {e}"))
                })?;
                let has = |k: &str| url.query_pairs().any(|(q, _)| q == k);
                let (need_version, need_conn) = (!has("api-version"), !has("serviceConnectionId"));
                {
                    let mut q = url.query_pairs_mut();
                    if need_version {
                        q.append_pair("api-version", "7.1");
                    }
                    if need_conn {
                        q.append_pair("serviceConnectionId", service_connection_id);
                    }
                }
                self.request_id_token(reqwest::Method::POST, url, request_token, "oidcToken")
                    .await
            }
        }
    }

    /// Asks a CI system for an ID token; the answer is `{field: jwt}`.
    async fn request_id_token(
        &self,
        method: reqwest::Method,
        url: Url,
        bearer: &Secret,
        field: &str,
    ) -> Result<String, AuthErrorKind> {
        let http = self.http.get().map_err(AuthErrorKind::Transport)?;
        let shown = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path()
        );
        let resp = http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .bearer_auth(bearer.expose())
            .send()
            .await
            .map_err(AuthErrorKind::Transport)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(AuthErrorKind::Transport)?;
        tracing::debug!(flow = self.flow, url = %shown, status, "ID token request answered");
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
            return Err(AuthErrorKind::Http {
                status,
                body: format!("requesting an ID token from {shown}: {}", text.trim()),
            });
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            AuthErrorKind::BadResponse(format!("the ID token answer from {shown} is not JSON: {e}"))
        })?;
        v.get(field)
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                AuthErrorKind::BadResponse(format!(
                    "the ID token answer from {shown} has no {field:?}"
                ))
            })
    }

    async fn fetch(&self, tenant: &str, scope: &str) -> Result<AccessToken, AuthError> {
        let endpoint = token_endpoint(&self.login, tenant);
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", scope.to_owned()),
            ("grant_type", "client_credentials".to_owned()),
        ];
        match &self.auth {
            ClientAuth::Secret(SecretSource::Value(s)) => {
                form.push(("client_secret", s.expose().to_owned()))
            }
            ClientAuth::Secret(SecretSource::File(p)) => {
                let s = Self::read_file(p).await.map_err(|k| self.err(tenant, k))?;
                form.push(("client_secret", s));
            }
            ClientAuth::Certificate { .. } => {
                let cert = self
                    .signing_certificate()
                    .await
                    .map_err(|k| self.err(tenant, k))?;
                let assertion = cert
                    .assertion(&self.client_id, &endpoint)
                    .map_err(|m| self.err(tenant, AuthErrorKind::Certificate(m)))?;
                form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion));
            }
            ClientAuth::Federated(source) => {
                let assertion = self
                    .federated_assertion(source)
                    .await
                    .map_err(|k| self.err(tenant, k))?;
                form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion));
            }
        }
        let http = self
            .http
            .get()
            .map_err(|e| self.err(tenant, AuthErrorKind::Transport(e)))?;
        let req = http
            .post(&endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form);
        send_for_token(req, self.flow, &endpoint)
            .await
            .map_err(|k| self.err(tenant, k))
    }
}

impl TokenCredential for ClientCredential {
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            let key = format!("{}|{scope}", self.tenant_id);
            self.cache
                .get_or_fetch(&key, || self.fetch(&self.tenant_id, scope))
                .await
        })
    }

    fn get_auxiliary_tokens<'a>(
        &'a self,
        scope: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AccessToken>, AuthError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(self.auxiliary_tenant_ids.len());
            for tenant in &self.auxiliary_tenant_ids {
                let key = format!("{tenant}|{scope}");
                out.push(
                    self.cache
                        .get_or_fetch(&key, || self.fetch(tenant, scope))
                        .await?,
                );
            }
            Ok(out)
        })
    }

    fn flow(&self) -> &'static str {
        self.flow
    }

    fn invalidate(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.cache.clear())
    }
}

// ---------------------------------------------------------------------------------------------
// Managed identity.

/// The Azure Instance Metadata Service token endpoint.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// Managed identity through IMDS (arm-api.md §14.2): `GET {endpoint}?api-version=2018-02-01&
/// resource={resource}[&client_id=…]` with `Metadata: true`; numbers in the answer are strings.
/// App Service's `IDENTITY_ENDPOINT`/`X-IDENTITY-HEADER` variant is not implemented (give its
/// endpoint as `msi_endpoint` only if it speaks the IMDS protocol).
pub struct ManagedIdentityCredential {
    endpoint: Url,
    api_version: String,
    client_id: Option<String>,
    http: LazyHttp,
    cache: TokenCache,
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityCredential")
            .field("endpoint", &self.endpoint.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Default for ManagedIdentityCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl ManagedIdentityCredential {
    /// The system-assigned identity through IMDS.
    pub fn new() -> Self {
        ManagedIdentityCredential {
            endpoint: Url::parse(IMDS_ENDPOINT).unwrap_or_else(|_| unreachable!("constant URL")),
            api_version: "2018-02-01".into(),
            client_id: None,
            // IMDS is link-local: never through a proxy.
            http: LazyHttp::new(true),
            cache: TokenCache::new(),
        }
    }

    /// A custom endpoint (`msi_endpoint`).
    pub fn with_endpoint(mut self, endpoint: &str) -> Result<Self, String> {
        let url = Url::parse(endpoint).map_err(|e| format!("{endpoint:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{endpoint:?} is not an http(s) URL"));
        }
        self.endpoint = url;
        Ok(self)
    }

    /// The IMDS api-version (`msi_api_version`).
    pub fn with_api_version(mut self, v: &str) -> Self {
        self.api_version = v.to_owned();
        self
    }

    /// A user-assigned identity by client ID.
    pub fn with_client_id(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        let err = |k| AuthError::new("managed identity", self.client_id.as_deref(), None, k);
        // IMDS takes a resource, not a scope: `https://management.azure.com/`.
        let resource = format!(
            "{}/",
            scope.trim_end_matches("/.default").trim_end_matches('/')
        );
        let mut url = self.endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", &self.api_version);
            q.append_pair("resource", &resource);
            if let Some(c) = &self.client_id {
                q.append_pair("client_id", c);
            }
        }
        let http = self
            .http
            .get()
            .map_err(|e| err(AuthErrorKind::Transport(e)))?;
        let req = http.get(url).header("Metadata", "true");
        send_for_token(req, "managed identity", self.endpoint.as_str())
            .await
            .map_err(err)
    }
}

impl TokenCredential for ManagedIdentityCredential {
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move { self.cache.get_or_fetch(scope, || self.fetch(scope)).await })
    }

    fn flow(&self) -> &'static str {
        "managed identity"
    }

    fn invalidate(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.cache.clear())
    }
}

// ---------------------------------------------------------------------------------------------
// Azure CLI.

/// The Azure CLI's logged-in account (arm-api.md §14.3): `az account get-access-token
/// --resource {resource} -o json [--tenant …]`.
#[derive(Debug)]
pub struct AzureCliCredential {
    program: PathBuf,
    tenant_id: Option<String>,
    timeout: Duration,
    cache: TokenCache,
}

impl Default for AzureCliCredential {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Deserialize)]
struct CliToken {
    #[serde(rename = "accessToken")]
    access_token: String,
    #[serde(default, deserialize_with = "num_or_str")]
    expires_on: Option<u64>,
}

impl AzureCliCredential {
    /// `az` from `PATH`, its default tenant.
    pub fn new() -> Self {
        AzureCliCredential {
            program: PathBuf::from("az"),
            tenant_id: None,
            timeout: Duration::from_secs(60),
            cache: TokenCache::new(),
        }
    }

    /// A specific tenant (`tenant_id`).
    pub fn with_tenant(mut self, tenant: &str) -> Self {
        self.tenant_id = Some(tenant.to_owned());
        self
    }

    /// Another program than `az` (tests).
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        let err = |k| AuthError::new("Azure CLI", None, self.tenant_id.as_deref(), k);
        let resource = format!(
            "{}/",
            scope.trim_end_matches("/.default").trim_end_matches('/')
        );
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args([
            "account",
            "get-access-token",
            "--resource",
            &resource,
            "-o",
            "json",
        ]);
        if let Some(t) = &self.tenant_id {
            cmd.args(["--tenant", t]);
        }
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| {
            err(AuthErrorKind::Cli(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "the Azure CLI ({}) was not found on PATH: install it and run `az login`, or configure another authentication method",
                    self.program.display()
                )
            } else {
                format!("running {}: {e}", self.program.display())
            }))
        })?;
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| err(AuthErrorKind::Timeout(self.timeout)))?
            .map_err(|e| err(AuthErrorKind::Cli(format!("running az: {e}"))))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let msg = stderr.trim().lines().last().unwrap_or("").trim().to_owned();
            return Err(err(AuthErrorKind::Cli(format!(
                "`az account get-access-token` exited with {}: {}",
                out.status,
                if msg.is_empty() { "no output" } else { &msg }
            ))));
        }
        let tok: CliToken = serde_json::from_slice(&out.stdout).map_err(|e| {
            err(AuthErrorKind::BadResponse(format!(
                "`az account get-access-token` printed no token JSON: {e}"
            )))
        })?;
        // `expires_on` (POSIX seconds, CLI ≥ 2.54) is preferred; `expiresOn` is local time
        // without an offset (arm-api.md §14.3), so without `expires_on` assume a short life.
        let expires = match tok.expires_on {
            Some(on) => UNIX_EPOCH + Duration::from_secs(on),
            None => SystemTime::now() + Duration::from_secs(10 * 60),
        };
        Ok(AccessToken::new(tok.access_token, expires))
    }
}

impl TokenCredential for AzureCliCredential {
    fn get_token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move { self.cache.get_or_fetch(scope, || self.fetch(scope)).await })
    }

    fn flow(&self) -> &'static str {
        "Azure CLI"
    }

    fn invalidate(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.cache.clear())
    }
}

/// A fixed token, for tests and for tools that already hold one. Never refreshed.
pub struct StaticTokenCredential {
    token: AccessToken,
}

impl StaticTokenCredential {
    /// A credential that always returns `token`, valid for an hour.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticTokenCredential {
            token: AccessToken::expiring_in(token, 3600),
        }
    }
}

impl fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticTokenCredential")
    }
}

impl TokenCredential for StaticTokenCredential {
    fn get_token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move { Ok(self.token.clone()) })
    }

    fn flow(&self) -> &'static str {
        "static token"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SUB: &str = "00000000-0000-0000-0000-000000000001";
    const TENANT: &str = "00000000-0000-0000-0000-00000000000a";
    const CLIENT: &str = "00000000-0000-0000-0000-0000000000c1";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn attrs(c: &AuthConfig) -> Vec<&'static str> {
        c.validate().into_iter().map(|p| p.attribute).collect()
    }

    #[test]
    fn env_defaults_fill_only_unset_fields() {
        let c = AuthConfig {
            tenant_id: Some("from-config.onmicrosoft.com".into()),
            ..Default::default()
        }
        .with_defaults_from(env(&[
            ("ARM_SUBSCRIPTION_ID", SUB),
            ("ARM_TENANT_ID", TENANT),
            ("ARM_CLIENT_ID", CLIENT),
            ("ARM_CLIENT_SECRET", "s3cret"),
            ("ARM_USE_OIDC", "TRUE"),
            ("ARM_USE_CLI", "false"),
            ("ARM_USE_MSI", ""),
            ("ARM_AUXILIARY_TENANT_IDS", "a.example.com;b.example.com"),
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "https://gh.example/token?x=1",
            ),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghtok"),
            ("ARM_OIDC_AZURE_SERVICE_CONNECTION_ID", "conn"),
            ("ARM_METADATA_HOSTNAME", "127.0.0.1:1"),
        ]));
        assert_eq!(c.subscription_id.as_deref(), Some(SUB));
        assert_eq!(c.tenant_id.as_deref(), Some("from-config.onmicrosoft.com"));
        assert_eq!(c.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(c.use_oidc, Some(true));
        assert_eq!(c.use_cli, Some(false));
        assert_eq!(c.use_msi, None);
        assert_eq!(
            c.auxiliary_tenant_ids,
            Some(vec!["a.example.com".into(), "b.example.com".into()])
        );
        assert_eq!(
            c.oidc_request_url.as_deref(),
            Some("https://gh.example/token?x=1")
        );
        assert_eq!(
            c.ado_pipeline_service_connection_id.as_deref(),
            Some("conn")
        );
        assert_eq!(c.metadata_host.as_deref(), Some("127.0.0.1:1"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{c:?}").contains("ghtok"));
    }

    #[test]
    fn aks_workload_identity_reads_azure_variables() {
        let c = AuthConfig::default().with_defaults_from(env(&[
            ("ARM_USE_AKS_WORKLOAD_IDENTITY", "true"),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/token"),
            ("ARM_SUBSCRIPTION_ID", SUB),
        ]));
        assert_eq!(c.method(), Some(AuthMethod::OidcTokenFile));
        assert!(c.validate().is_empty(), "{:?}", c.validate());
    }

    #[test]
    fn method_order_is_azurerm_order() {
        let base = AuthConfig {
            subscription_id: Some(SUB.into()),
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            ..Default::default()
        };
        assert_eq!(base.method(), Some(AuthMethod::AzureCli));
        let msi = AuthConfig {
            use_msi: Some(true),
            ..base.clone()
        };
        assert_eq!(msi.method(), Some(AuthMethod::ManagedIdentity));
        let gh = AuthConfig {
            use_oidc: Some(true),
            oidc_request_url: Some("https://x".into()),
            oidc_request_token: Some("t".into()),
            ..msi.clone()
        };
        assert_eq!(gh.method(), Some(AuthMethod::GitHubOidc));
        let ado = AuthConfig {
            ado_pipeline_service_connection_id: Some("c".into()),
            ..gh.clone()
        };
        assert_eq!(ado.method(), Some(AuthMethod::AzureDevOpsOidc));
        let tok = AuthConfig {
            oidc_token: Some("jwt".into()),
            ..ado.clone()
        };
        assert_eq!(tok.method(), Some(AuthMethod::OidcToken));
        let secret = AuthConfig {
            client_secret: Some("s".into()),
            ..tok.clone()
        };
        assert_eq!(secret.method(), Some(AuthMethod::ClientSecret));
        let cert = AuthConfig {
            client_certificate_path: Some("/x.pfx".into()),
            ..secret.clone()
        };
        assert_eq!(cert.method(), Some(AuthMethod::ClientCertificate));
        let oidc_off = AuthConfig {
            use_oidc: None,
            use_cli: Some(false),
            oidc_token: Some("jwt".into()),
            ..base.clone()
        };
        assert_eq!(oidc_off.method(), None);
    }

    #[test]
    fn validate_reports_conflicts_and_gaps() {
        let ok = AuthConfig {
            subscription_id: Some(SUB.into()),
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            client_secret: Some("s".into()),
            ..Default::default()
        };
        assert!(ok.validate().is_empty(), "{:?}", ok.validate());

        let both = AuthConfig {
            client_certificate_path: Some("/c.pfx".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&both), vec!["client_secret"]);

        let no_tenant = AuthConfig {
            tenant_id: None,
            ..ok.clone()
        };
        let p = no_tenant.validate();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].attribute, "tenant_id");
        assert!(p[0].message.contains("client secret"), "{}", p[0]);

        let oidc_nothing = AuthConfig {
            client_secret: None,
            use_oidc: Some(true),
            ..ok.clone()
        };
        assert_eq!(attrs(&oidc_nothing), vec!["use_oidc"]);

        let oidc_half = AuthConfig {
            client_secret: None,
            use_oidc: Some(true),
            oidc_request_url: Some("https://token.actions.example/x".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&oidc_half), vec!["oidc_request_token"]);

        let bad_guids = AuthConfig {
            subscription_id: Some("not-a-guid".into()),
            client_id: Some("{00000000-0000-0000-0000-000000000000}".into()),
            tenant_id: Some("bad/tenant".into()),
            ..ok.clone()
        };
        assert_eq!(
            attrs(&bad_guids),
            vec!["subscription_id", "tenant_id", "client_id"]
        );

        let cloud_conflict = AuthConfig {
            environment: Some("china".into()),
            metadata_host: Some("management.local.azurestack.external".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&cloud_conflict), vec!["metadata_host"]);

        let http_remote = AuthConfig {
            metadata_host: Some("http://example.com".into()),
            ..ok.clone()
        };
        let p = http_remote.validate();
        assert_eq!(p[0].attribute, "metadata_host");
        assert!(p[0].message.contains("loopback"), "{}", p[0]);

        let missing_sub = AuthConfig {
            subscription_id: None,
            ..ok.clone()
        };
        assert_eq!(attrs(&missing_sub), vec!["subscription_id"]);

        let nothing = AuthConfig {
            client_secret: None,
            use_cli: Some(false),
            ..ok.clone()
        };
        assert_eq!(attrs(&nothing), vec!["use_cli"]);

        // On the block alone, only malformed or conflicting values count.
        let block = AuthConfig {
            client_secret: Some("s".into()),
            use_oidc: Some(true),
            ..Default::default()
        };
        assert!(block.validate_conflicts().is_empty());
        assert_eq!(
            attrs(&block),
            vec!["subscription_id", "tenant_id", "client_id"]
        );
        let block_bad = AuthConfig {
            client_secret: Some("s".into()),
            client_certificate_path: Some("/c.pfx".into()),
            subscription_id: Some("nope".into()),
            ..Default::default()
        };
        let p: Vec<_> = block_bad
            .validate_conflicts()
            .into_iter()
            .map(|p| p.attribute)
            .collect();
        assert_eq!(p, vec!["subscription_id", "client_secret"]);

        let env_typo = AuthConfig {
            environment: Some("azurestack".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&env_typo), vec!["environment"]);
    }

    #[tokio::test]
    async fn named_endpoints_are_the_cloud_without_discovery() {
        let ok = AuthConfig {
            subscription_id: Some(SUB.into()),
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            client_secret: Some("s".into()),
            ..Default::default()
        };
        // From the environment (azapi's variables), with a metadata host beside them that
        // would not answer: the named endpoints win and nothing is fetched.
        let named = ok.clone().with_defaults_from(env(&[
            (
                "ARM_RESOURCE_MANAGER_ENDPOINT",
                "https://management.contoso.example",
            ),
            (
                "ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST",
                "https://login.contoso.example/",
            ),
            (
                "ARM_RESOURCE_MANAGER_AUDIENCE",
                "https://management.core.windows.net/",
            ),
            ("ARM_METADATA_HOSTNAME", "127.0.0.1:1"),
            ("ARM_ENVIRONMENT", "custom"),
        ]));
        assert!(named.validate().is_empty(), "{:?}", named.validate());
        assert_eq!(named.metadata_host, None, "not read beside named endpoints");
        let cloud = named.cloud().await.expect("no network needed");
        assert_eq!(cloud.name, "custom");
        assert_eq!(
            cloud.resource_manager.as_str(),
            "https://management.contoso.example/"
        );
        assert_eq!(cloud.login.as_str(), "https://login.contoso.example/");
        assert_eq!(
            cloud.scope(),
            "https://management.core.windows.net/.default"
        );
        // The audience defaults to the endpoint.
        let no_audience = AuthConfig {
            resource_manager_audience: None,
            ..named.clone()
        };
        assert_eq!(
            no_audience.cloud().await.unwrap().scope(),
            "https://management.contoso.example/.default"
        );

        // The block's metadata_host is not overridden by the environment's endpoints, nor the
        // block's endpoints by the environment's metadata host.
        let block_metadata = AuthConfig {
            metadata_host: Some("127.0.0.1:9".into()),
            ..ok.clone()
        }
        .with_defaults_from(env(&[(
            "ARM_RESOURCE_MANAGER_ENDPOINT",
            "https://rm.example",
        )]));
        assert_eq!(block_metadata.resource_manager_endpoint, None);
        let block_named = AuthConfig {
            resource_manager_endpoint: Some("https://rm.example".into()),
            ..ok.clone()
        }
        .with_defaults_from(env(&[
            ("ARM_METADATA_HOSTNAME", "127.0.0.1:9"),
            (
                "ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST",
                "https://login.example",
            ),
        ]));
        assert_eq!(block_named.metadata_host, None);
        assert_eq!(
            block_named.active_directory_authority_host.as_deref(),
            Some("https://login.example")
        );

        let attrs = |c: &AuthConfig, complete: bool| -> Vec<(&'static str, String)> {
            let p = if complete {
                c.validate()
            } else {
                c.validate_conflicts()
            };
            p.into_iter().map(|p| (p.attribute, p.message)).collect()
        };
        // One endpoint alone: the other is required once the environment is merged; the
        // block alone is fine (the other may come from ARM_*).
        let half = AuthConfig {
            resource_manager_endpoint: Some("https://rm.example".into()),
            ..ok.clone()
        };
        assert!(attrs(&half, false).is_empty());
        assert_eq!(attrs(&half, true)[0].0, "active_directory_authority_host");
        let other_half = AuthConfig {
            active_directory_authority_host: Some("https://login.example".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&other_half, true)[0].0, "resource_manager_endpoint");
        // The http rule, on the attribute that breaks it.
        let clear = AuthConfig {
            resource_manager_endpoint: Some("http://10.0.0.1/".into()),
            active_directory_authority_host: Some("https://login.example".into()),
            ..ok.clone()
        };
        let p = attrs(&clear, false);
        assert_eq!(p[0].0, "resource_manager_endpoint");
        assert!(p[0].1.contains("plain http"), "{p:?}");
        let clear_login = AuthConfig {
            active_directory_authority_host: Some("http://login.example".into()),
            ..ok.clone()
        };
        assert_eq!(
            attrs(&clear_login, false)[0].0,
            "active_directory_authority_host"
        );
        let bad_audience = AuthConfig {
            resource_manager_endpoint: Some("https://rm.example".into()),
            active_directory_authority_host: Some("https://login.example".into()),
            resource_manager_audience: Some("not a uri".into()),
            ..ok.clone()
        };
        assert_eq!(attrs(&bad_audience, true)[0].0, "resource_manager_audience");
        // Conflicts: metadata_host in the same block; another well-known environment.
        let both = AuthConfig {
            metadata_host: Some("127.0.0.1:9".into()),
            ..bad_audience.clone()
        };
        assert!(
            attrs(&both, false)
                .iter()
                .any(|(a, _)| *a == "metadata_host"),
            "{:?}",
            attrs(&both, false)
        );
        let gov = AuthConfig {
            resource_manager_audience: None,
            environment: Some("usgovernment".into()),
            ..bad_audience.clone()
        };
        assert_eq!(attrs(&gov, true)[0].0, "resource_manager_endpoint");
        // environment = "custom" without endpoints.
        let custom = AuthConfig {
            environment: Some("custom".into()),
            ..ok.clone()
        };
        assert!(attrs(&custom, false).is_empty());
        let p = attrs(&custom, true);
        assert_eq!(p[0].0, "environment");
        assert!(p[0].1.contains("resource_manager_endpoint"), "{p:?}");
    }

    #[test]
    fn token_answers_parse_numbers_as_strings() {
        let t = parse_token_answer(
            200,
            br#"{"access_token":"a","expires_in":"3599","expires_on":"4102444800","token_type":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(
            t.expires_on,
            UNIX_EPOCH + Duration::from_secs(4_102_444_800)
        );
        let e = parse_token_answer(
            401,
            br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid_client: AADSTS7000215: Invalid client secret provided. Trace ID: x"
        );
        assert!(parse_token_answer(200, b"{}").is_err());
    }
}
