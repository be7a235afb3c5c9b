//! The `provider "defender"` block: credentials and clouds as azurerm reads them, and the
//! data every operation shares once Terraform has configured the provider.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::arm::{self, ArmClient, AuthConfig};
use crate::framework::{AttrPath, Config, Diagnostic, Diagnostics, ProviderDef};

/// The defender provider manages Microsoft Defender for Cloud: Defender plans and their
/// extensions, Microsoft.Security settings, and the DeployIfNotExists policy assignments
/// behind auto provisioning.
///
/// Credentials follow the azurerm provider: every attribute can also come from its `ARM_*`
/// environment variable, so existing CI keeps working.
///
/// The cloud: `environment` picks Azure's public, US Government or China cloud, whose endpoints
/// the provider knows. A custom cloud (Azure Stack Hub, a local emulator) is either discovered
/// from `metadata_host` (azurerm's way: one request before the first token) or named with
/// `resource_manager_endpoint` and `active_directory_authority_host` (azapi's way: no request).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "provider")]
pub struct ProviderModel {
    /// The subscription resources work in unless they set their own `subscription_id`.
    /// Environment: `ARM_SUBSCRIPTION_ID`.
    pub subscription_id: Option<String>,
    /// The Entra ID tenant to authenticate in. Environment: `ARM_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Tenants besides `tenant_id` to obtain tokens for (cross-tenant operations).
    /// Environment: `ARM_AUXILIARY_TENANT_IDS` (separated by `;`).
    pub auxiliary_tenant_ids: Option<Vec<String>>,
    /// The client (application) ID of the service principal or managed identity.
    /// Environment: `ARM_CLIENT_ID`.
    pub client_id: Option<String>,
    /// A file holding the client ID. Environment: `ARM_CLIENT_ID_FILE_PATH`.
    pub client_id_file_path: Option<String>,
    /// A client secret of the service principal. Environment: `ARM_CLIENT_SECRET`.
    #[schemars(extend("sensitive" = true))]
    pub client_secret: Option<String>,
    /// A file holding the client secret. Environment: `ARM_CLIENT_SECRET_FILE_PATH`.
    pub client_secret_file_path: Option<String>,
    /// Path to a PKCS#12 (.pfx) client certificate. Environment: `ARM_CLIENT_CERTIFICATE_PATH`.
    pub client_certificate_path: Option<String>,
    /// A base64-encoded PKCS#12 client certificate. Environment: `ARM_CLIENT_CERTIFICATE`.
    #[schemars(extend("sensitive" = true))]
    pub client_certificate: Option<String>,
    /// The password of the client certificate. Environment: `ARM_CLIENT_CERTIFICATE_PASSWORD`.
    #[schemars(extend("sensitive" = true))]
    pub client_certificate_password: Option<String>,
    /// Authenticate with an OpenID Connect token (workload identity federation).
    /// Environment: `ARM_USE_OIDC`.
    pub use_oidc: Option<bool>,
    /// An OIDC ID token to exchange for an access token. Environment: `ARM_OIDC_TOKEN`.
    #[schemars(extend("sensitive" = true))]
    pub oidc_token: Option<String>,
    /// A file holding the OIDC ID token, read at each token acquisition.
    /// Environment: `ARM_OIDC_TOKEN_FILE_PATH`.
    pub oidc_token_file_path: Option<String>,
    /// The URL from which to request an OIDC token (GitHub Actions). Environment:
    /// `ARM_OIDC_REQUEST_URL` or `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub oidc_request_url: Option<String>,
    /// The bearer token for `oidc_request_url`. Environment: `ARM_OIDC_REQUEST_TOKEN` or
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    #[schemars(extend("sensitive" = true))]
    pub oidc_request_token: Option<String>,
    /// The Azure DevOps service connection to request OIDC tokens for.
    /// Environment: `ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID` or `ARM_OIDC_AZURE_SERVICE_CONNECTION_ID`.
    pub ado_pipeline_service_connection_id: Option<String>,
    /// Authenticate with AKS workload identity (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`,
    /// `AZURE_FEDERATED_TOKEN_FILE`). Environment: `ARM_USE_AKS_WORKLOAD_IDENTITY`.
    pub use_aks_workload_identity: Option<bool>,
    /// Authenticate with a managed identity. Environment: `ARM_USE_MSI`.
    pub use_msi: Option<bool>,
    /// The managed identity token endpoint, when not the instance metadata service.
    /// Environment: `ARM_MSI_ENDPOINT`.
    pub msi_endpoint: Option<String>,
    /// The api-version of the managed identity endpoint. Environment: `ARM_MSI_API_VERSION`.
    pub msi_api_version: Option<String>,
    /// Authenticate with the Azure CLI's signed-in account. Environment: `ARM_USE_CLI`.
    pub use_cli: Option<bool>,
    /// The cloud: `public`, `usgovernment`, `china`, or `custom` with
    /// `resource_manager_endpoint` and `active_directory_authority_host`.
    /// Environment: `ARM_ENVIRONMENT`.
    pub environment: Option<String>,
    /// The host of a custom cloud's metadata endpoint (Azure Stack Hub, or the local
    /// emulator), whose `/metadata/endpoints` names the Resource Manager and login endpoints.
    /// Plain `http://` is accepted for loopback hosts only. Environment: `ARM_METADATA_HOSTNAME`.
    pub metadata_host: Option<String>,
    /// The Resource Manager endpoint of a cloud named directly, instead of discovering it
    /// from `metadata_host` (one round trip less before the first request; azapi's setting).
    /// Requires `active_directory_authority_host`; conflicts with `metadata_host`. Plain
    /// `http://` is accepted for loopback hosts only. Environment: `ARM_RESOURCE_MANAGER_ENDPOINT`.
    pub resource_manager_endpoint: Option<String>,
    /// The Entra ID authority host (login endpoint) of a cloud named directly, e.g.
    /// `https://login.microsoftonline.com/`. Requires `resource_manager_endpoint`.
    /// Environment: `ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST`.
    pub active_directory_authority_host: Option<String>,
    /// The audience tokens for Resource Manager are requested for, when the cloud is named
    /// directly (default: `resource_manager_endpoint` without its trailing `/`).
    /// Environment: `ARM_RESOURCE_MANAGER_AUDIENCE`.
    pub resource_manager_audience: Option<String>,
}

impl ProviderModel {
    fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            subscription_id: self.subscription_id.clone(),
            tenant_id: self.tenant_id.clone(),
            auxiliary_tenant_ids: self.auxiliary_tenant_ids.clone(),
            client_id: self.client_id.clone(),
            client_id_file_path: self.client_id_file_path.clone(),
            client_secret: self.client_secret.clone(),
            client_secret_file_path: self.client_secret_file_path.clone(),
            client_certificate_path: self.client_certificate_path.clone(),
            client_certificate: self.client_certificate.clone(),
            client_certificate_password: self.client_certificate_password.clone(),
            use_oidc: self.use_oidc,
            oidc_token: self.oidc_token.clone(),
            oidc_token_file_path: self.oidc_token_file_path.clone(),
            oidc_request_url: self.oidc_request_url.clone(),
            oidc_request_token: self.oidc_request_token.clone(),
            ado_pipeline_service_connection_id: self.ado_pipeline_service_connection_id.clone(),
            use_aks_workload_identity: self.use_aks_workload_identity,
            use_msi: self.use_msi,
            msi_endpoint: self.msi_endpoint.clone(),
            msi_api_version: self.msi_api_version.clone(),
            use_cli: self.use_cli,
            environment: self.environment.clone(),
            metadata_host: self.metadata_host.clone(),
            resource_manager_endpoint: self.resource_manager_endpoint.clone(),
            active_directory_authority_host: self.active_directory_authority_host.clone(),
            resource_manager_audience: self.resource_manager_audience.clone(),
        }
    }
}

fn problems_to_diags(problems: Vec<arm::ConfigProblem>, diags: &mut Diagnostics) {
    for p in problems {
        diags.error_at(
            AttrPath::root(p.attribute),
            "Invalid provider configuration",
            p.to_string(),
        );
    }
}

/// The provider definition.
pub struct DefenderProvider;

impl ProviderDef for DefenderProvider {
    type Model = ProviderModel;

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        // Provider processes inherit Terraform's environment, so the ARM_* variables count
        // here as they do at configure time. Unknown values (set from other resources) are
        // checked once known, at configure.
        if config.raw.is_wholly_known() {
            problems_to_diags(
                config.model.auth_config().with_env_defaults().validate(),
                diags,
            );
        }
    }

    async fn configure(
        &self,
        config: Self::Model,
        terraform_version: &str,
        cancel: CancellationToken,
    ) -> Result<ProviderData, Diagnostics> {
        let auth = config.auth_config().with_env_defaults();
        let mut diags = Diagnostics::new();
        problems_to_diags(auth.validate(), &mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        let data = ProviderData {
            subscription_id: auth.subscription_id.clone(),
            auth,
            terraform_version: terraform_version.to_string(),
            cancel,
            arm: Arc::new(OnceCell::new()),
            locks: KeyedLocks::default(),
            shared: Shared::default(),
        };
        data.warm_up();
        Ok(data)
    }
}

/// What operations share after ConfigureProvider. The ARM client (cloud discovery and
/// credentials) is built once per configured process, in the background from
/// ConfigureProvider on (`warm_up`); processes that are never configured (schema, validate)
/// never touch the network.
pub struct ProviderData {
    subscription_id: Option<String>,
    auth: AuthConfig,
    terraform_version: String,
    cancel: CancellationToken,
    /// The client, or why it could not be built (kept, so that N resources report one
    /// failed discovery instead of running N of them, each with its retries).
    arm: Arc<OnceCell<Result<ArmClient, String>>>,
    locks: KeyedLocks,
    shared: Shared,
}

/// Named async locks: writes that ARM serialises (one pricing update per subscription) are
/// serialised here first, so they do not become 409s.
#[derive(Default)]
struct KeyedLocks(parking_lot::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl KeyedLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.0
            .lock()
            .entry(key.to_ascii_lowercase())
            .or_default()
            .clone()
    }
}

/// One value per type that resources share for the life of a configuration (e.g. which
/// workspaces the planned resources use, to warn about conflicting uses across resources).
/// Each ConfigureProvider starts empty.
#[derive(Default)]
struct Shared(parking_lot::Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>);

impl ProviderData {
    /// Data for a provider that never calls ARM (test stand-ins, offline tools).
    pub fn offline() -> Self {
        ProviderData {
            subscription_id: None,
            auth: AuthConfig::default(),
            terraform_version: String::new(),
            cancel: CancellationToken::new(),
            arm: Arc::new(OnceCell::new()),
            locks: KeyedLocks::default(),
            shared: Shared::default(),
        }
    }

    pub fn default_subscription(&self) -> Option<&str> {
        self.subscription_id.as_deref()
    }

    /// Starts building the ARM client and fetching its first token in the background.
    ///
    /// Terraform configures a provider process only when it is about to read or change
    /// resources, and sends its first ReadResource some milliseconds later, after upgrading
    /// state. Cloud discovery (`metadata_host`) and the token request are two serial round
    /// trips that every first ARM call would otherwise wait for; started here, they overlap
    /// Terraform's own work (issue 6, BENCHMARKS.md section 3). ConfigureProvider itself
    /// returns at once, unlike azurerm's, which discovers and registers resource providers
    /// before it answers. A token that cannot be had is not reported here: the first ARM
    /// call asks again and its diagnostic says why.
    fn warm_up(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let cell = self.arm.clone();
        let auth = self.auth.clone();
        let version = self.terraform_version.clone();
        let cancel = self.cancel.clone();
        runtime.spawn(async move {
            let built = cell
                .get_or_init(|| Self::build(&auth, &version, cancel))
                .await;
            if let Ok(client) = built {
                client.warm_up().await;
            }
        });
    }

    async fn build(
        auth: &AuthConfig,
        version: &str,
        cancel: CancellationToken,
    ) -> Result<ArmClient, String> {
        arm::build_client(auth, version, cancel)
            .await
            .map_err(|e| e.to_string())
    }

    /// The ARM client (built once; see `warm_up`).
    pub async fn arm(&self) -> Result<&ArmClient, Diagnostic> {
        self.arm
            .get_or_init(|| Self::build(&self.auth, &self.terraform_version, self.cancel.clone()))
            .await
            .as_ref()
            .map_err(|e| Diagnostic::error("Cannot reach Azure Resource Manager", e.clone()))
    }

    /// Holds the named lock until the guard drops, e.g. `serialize(&format!("pricings/{sub}"))`
    /// around a pricing write. Keys are case-insensitive.
    pub async fn serialize(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        self.locks.get(key).lock_owned().await
    }

    /// The configuration's shared value of type `T`, created on first use; every operation of
    /// this configuration gets the same one.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let any = self
            .shared
            .0
            .lock()
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        // The map is keyed by the value's own TypeId, so the downcast cannot fail.
        any.downcast::<T>()
            .unwrap_or_else(|_| unreachable!("shared value of the wrong type"))
    }

    /// StopProvider: cancel every in-flight ARM call.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}
