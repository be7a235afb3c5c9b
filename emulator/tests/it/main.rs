//! The emulator's integration tests, one module per ARM area, linked into a single test binary
//! (one link instead of ten: less time and disk in CI).

mod common;

mod arm;
mod auth;
mod binary;
mod control;
mod faults;
mod metadata;
mod policy;
mod policy_states;
mod pricings;
mod security_settings;
mod workspaces;
