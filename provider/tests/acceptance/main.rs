//! Acceptance tests: the real Terraform CLI (>= 1.14) drives this crate's provider binary
//! against a fresh ARM emulator per test. One module per resource type; one test binary, so
//! the crate links once.

mod common;

mod actions;
mod auto_provisioning;
mod bad_input;
mod catalog;
mod clouds;
mod coverage;
mod debug_mode;
mod doc_examples;
mod examples;
mod faults;
mod identity;
mod interrupt;
mod load;
mod plan;
mod policy_assignment;
mod query;
mod secrets;
mod settings;
mod timeouts;
mod workspace;
