//! A local Azure Resource Manager and Entra token endpoint: the other side of the wire for
//! the provider's tests and demos, faithful to the REST contract (`reference/arm-api.md`).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emulator = arm_emulator::Emulator::start(arm_emulator::Config::default()).await?;
//! let base = emulator.base_url(); // http://127.0.0.1:PORT
//! # let _ = base; Ok(()) }
//! ```
//!
//! Modules, one concern each: `server` (start/stop, routes), `pipeline` (IDs, headers,
//! faults, log around every request), `arm` (ARM dispatch, paging, subscriptions), `types`
//! (the resource type registry, one file per type), `auth` (token endpoint, IMDS, OIDC,
//! tokens, bearer check), `metadata` (cloud discovery), `faults`, `store`, `requests`,
//! `control` (`/_emulator/`), `seed` (examples), `error` (ARM/Entra/IMDS error shapes).

pub mod arm;
pub mod auth;
pub mod config;
pub mod control;
pub mod directory;
pub mod error;
pub mod faults;
pub mod metadata;
pub mod pipeline;
pub mod ratelimit;
pub mod requests;
pub mod seed;
pub mod server;
pub mod state;
pub mod store;
pub mod types;
pub mod util;

pub use config::{ClientRegistration, Config, RuntimeConfig, RuntimeConfigPatch};
pub use faults::{FaultAction, FaultRule, FaultStatus};
pub use requests::RequestLogEntry;
pub use server::{Emulator, EmulatorHandle};
pub use state::EmulatorState;
