//! One module per Terraform type, each with the same functions in the same order:
//! model, validate, plan, create, read, update, delete, then import / move.
//! [`registry`] lists them all; it drives the plugin, the docs and the tests.

pub mod auto_provisioning;
pub mod common;

use crate::framework::{ProviderEntry, Registry, ResourceEntry};

/// Everything the provider serves.
pub fn registry() -> Registry {
    Registry::new(ProviderEntry::new(crate::provider::DefenderProvider)).resource(
        ResourceEntry::new(auto_provisioning::AutoProvisioning)
            .importable()
            .movable(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_schema_derives_and_has_descriptions() {
        let r = super::registry();
        for (name, res) in &r.resources {
            let s = res.schema();
            assert!(!s.description.is_empty(), "{name} has no description");
            for a in &s.attributes {
                assert!(
                    !a.description.is_empty(),
                    "{name}.{} has no description",
                    a.name
                );
            }
        }
        for a in &r.provider.schema().attributes {
            assert!(
                !a.description.is_empty(),
                "provider.{} has no description",
                a.name
            );
        }
    }
}
