//! terraform-provider-defender: Microsoft Defender for Cloud from Terraform.
//!
//! Data flows one way (DESIGN.md §3):
//! `protocol` (tfplugin6 wire, knows nothing of Azure) → `framework` (typed resources,
//! schemas from models) → `resources` (one module per Terraform type) → `arm` (HTTP to ARM).

pub mod arm;
pub mod audit;
pub mod catalog;
pub mod crypto;
pub mod docs;
pub mod framework;
pub mod protocol;
pub mod provider;
pub mod resources;

/// The provider's version, as released.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The provider's registry address, used in debug mode's reattach line and in docs.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/defenderops/defender";
