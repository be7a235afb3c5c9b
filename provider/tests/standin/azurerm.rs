//! A stand-in for `hashicorp/azurerm` in the `moved {}` acceptance test.
//!
//! Terraform insists that the source provider of a cross-provider move is installed (it reads
//! the source state with it), and the real azurerm cannot be downloaded on a machine without
//! the public registry. This stand-in serves, over the same plugin channel as our provider,
//! only the schema of `azurerm_security_center_auto_provisioning` as azurerm 4.x declares it
//! (`id` computed, `auto_provision` required; its `timeouts` block is left out). It never
//! talks to ARM: reads return the state unchanged and writes are refused.

use std::sync::Arc;

use defender::framework::{
    Ctx, Diagnostic, OpResult, ProviderDef, ProviderEntry, Registry, Resource, ResourceEntry,
};
use defender::protocol::handshake::{self, PluginEnv};
use defender::protocol::server::ProviderService;
use defender::provider::ProviderData;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Stand-in for azurerm's provider block (no attributes needed).
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
struct Empty {}

struct StandinProvider;

impl ProviderDef for StandinProvider {
    type Model = Empty;
    async fn configure(
        &self,
        _config: Empty,
        _terraform_version: &str,
        _cancel: tokio_util::sync::CancellationToken,
    ) -> Result<ProviderData, defender::framework::Diagnostics> {
        Ok(ProviderData::offline())
    }
}

/// azurerm_security_center_auto_provisioning (schema version 0).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct AutoProvisioning {
    /// The ID.
    #[schemars(extend("computed" = true))]
    id: Option<String>,
    /// "On" or "Off".
    auto_provision: String,
}

struct AutoProvisioningResource;

fn refuse<T>() -> OpResult<T, AutoProvisioning> {
    Err(Diagnostic::error("stand-in", "the azurerm stand-in does not manage resources").into())
}

impl Resource for AutoProvisioningResource {
    type Model = AutoProvisioning;
    const TYPE_NAME: &'static str = "azurerm_security_center_auto_provisioning";
    async fn create(
        &self,
        _: &Ctx,
        _: AutoProvisioning,
    ) -> OpResult<AutoProvisioning, AutoProvisioning> {
        refuse()
    }
    async fn read(
        &self,
        _: &Ctx,
        state: AutoProvisioning,
    ) -> OpResult<Option<AutoProvisioning>, AutoProvisioning> {
        Ok(Some(state))
    }
    async fn update(
        &self,
        _: &Ctx,
        _: AutoProvisioning,
        _: AutoProvisioning,
    ) -> OpResult<AutoProvisioning, AutoProvisioning> {
        refuse()
    }
    async fn delete(&self, _: &Ctx, _: AutoProvisioning) -> OpResult<(), AutoProvisioning> {
        refuse()
    }
}

fn main() -> std::process::ExitCode {
    let env = match PluginEnv::from_lookup(|k| std::env::var(k).ok()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let registry = Registry::new(ProviderEntry::new(StandinProvider))
        .resource(ResourceEntry::new(AutoProvisioningResource));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let r = rt.block_on(handshake::serve(
        ProviderService::new(Arc::new(registry)),
        env,
    ));
    rt.shutdown_background();
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
