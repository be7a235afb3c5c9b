//! One module per Terraform type, each with the same functions in the same order:
//! model, validate, plan, create, read, update, delete, then import / move.
//! [`registry`] lists them all; it drives the plugin, the docs and the tests.

pub mod auto_provisioning;
pub mod common;
pub mod compliance_scan_action;
pub mod coverage;
pub mod default_workspace;
pub mod discovery;
pub mod plan;
pub mod plan_catalog;
pub mod plans_data;
pub mod policy_assignment;
pub mod policy_common;
pub mod policy_definition_data;
pub mod policy_definition_functions;
pub mod policy_remediation;
pub mod remediate_action;
pub mod security_contact;
pub mod security_event_ids;
pub mod security_events;
pub mod sentinel_connector;
pub mod server_vulnerability_assessment;
pub mod setting;
pub mod workspace_ids;
pub mod workspace_setting;
pub mod workspace_solution;
pub mod workspace_uses;

use crate::framework::{ActionEntry, ListResourceEntry, ProviderEntry, Registry, ResourceEntry};

/// Everything the provider serves.
pub fn registry() -> Registry {
    Registry::new(ProviderEntry::new(crate::provider::DefenderProvider))
        .resource(
            ResourceEntry::new(auto_provisioning::AutoProvisioning)
                .with_identity()
                .movable(),
        )
        .resource(
            ResourceEntry::new(setting::Setting)
                .with_identity()
                .movable(),
        )
        .list_resource(ListResourceEntry::new(setting::Setting))
        .resource(
            ResourceEntry::new(policy_assignment::PolicyAssignment)
                .with_identity()
                .movable(),
        )
        .list_resource(ListResourceEntry::new(policy_assignment::PolicyAssignment))
        .resource(ResourceEntry::new(policy_remediation::PolicyRemediation).with_identity())
        .resource(
            ResourceEntry::new(security_contact::SecurityContact)
                .with_identity()
                .movable(),
        )
        .list_resource(ListResourceEntry::new(security_contact::SecurityContact))
        .resource(
            ResourceEntry::new(server_vulnerability_assessment::ServerVulnerabilityAssessment)
                .with_identity()
                .movable(),
        )
        .resource(
            ResourceEntry::new(workspace_setting::WorkspaceSetting)
                .with_identity()
                .movable(),
        )
        .list_resource(ListResourceEntry::new(workspace_setting::WorkspaceSetting))
        .resource(
            ResourceEntry::new(plan::DefenderPlan)
                .with_identity()
                .movable(),
        )
        .list_resource(ListResourceEntry::new(plan::DefenderPlan))
        .data_source(crate::framework::DataSourceEntry::new(
            plans_data::DefenderPlans,
        ))
        .data_source(crate::framework::DataSourceEntry::new(coverage::Coverage))
        .resource(ResourceEntry::new(security_events::SecurityEvents).with_identity())
        .resource(
            ResourceEntry::new(workspace_solution::WorkspaceSolution)
                .with_identity()
                .movable(),
        )
        .resource(
            ResourceEntry::new(sentinel_connector::SentinelConnector)
                .with_identity()
                .movable(),
        )
        .data_source(crate::framework::DataSourceEntry::new(
            default_workspace::DefaultWorkspaceDataSource,
        ))
        .data_source(crate::framework::DataSourceEntry::new(
            security_event_ids::SecurityEventIdsDataSource,
        ))
        .function(crate::framework::FunctionEntry(
            default_workspace::DefaultWorkspaceIdFunction,
        ))
        .data_source(crate::framework::DataSourceEntry::new(
            policy_definition_data::PolicyDefinitionData,
        ))
        .function(crate::framework::FunctionEntry(
            policy_definition_functions::PolicyDefinitionIdFunction,
        ))
        .function(crate::framework::FunctionEntry(
            policy_definition_functions::RoleDefinitionIdsFunction,
        ))
        .action(ActionEntry::new(remediate_action::Remediate))
        .action(ActionEntry::new(compliance_scan_action::ComplianceScan))
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
