//! Acceptance tests: the real Terraform CLI (>= 1.14) drives this crate's provider binary
//! against a fresh ARM emulator per test. One module per resource type; one test binary, so
//! the crate links once.

mod common;

mod auto_provisioning;
mod catalog;
mod debug_mode;
mod examples;
mod plan;
mod policy_assignment;
mod settings;
mod workspace;
