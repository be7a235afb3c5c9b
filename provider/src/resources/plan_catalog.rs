//! The Defender plans the provider knows, for plan-time validation of `defender_plan` and
//! `defender_plans`: names, sub-plans, extensions, retired plans (arm-api.md 2.3, from the
//! Azure REST examples, azure-policy's plan-enabling policies and azurerm's plan list).
//!
//! Names are compared case-insensitively, as ARM compares them; messages name the allowed
//! values in the service's casing.

/// An extension of a plan (`properties.extensions[].name`).
#[derive(Debug)]
pub struct Extension {
    pub name: &'static str,
    /// Only with sub-plan `P2` (Defender for Servers Plan 2).
    pub p2_only: bool,
    /// What it does, for the docs.
    pub summary: &'static str,
}

/// A Defender plan (`pricingName`).
#[derive(Debug)]
pub struct Plan {
    pub name: &'static str,
    /// The product name, for messages and docs.
    pub title: &'static str,
    /// Allowed `subPlan` values; empty when the plan has none.
    pub sub_plans: &'static [&'static str],
    pub extensions: &'static [Extension],
    /// The plans that replace a retired one; empty for current plans.
    pub replaced_by: &'static [&'static str],
}

const fn ext(name: &'static str, summary: &'static str) -> Extension {
    Extension {
        name,
        p2_only: false,
        summary,
    }
}

const fn plan(name: &'static str, title: &'static str) -> Plan {
    Plan {
        name,
        title,
        sub_plans: &[],
        extensions: &[],
        replaced_by: &[],
    }
}

const AGENTLESS_VM_SCANNING: Extension = ext(
    "AgentlessVmScanning",
    "agentless disk scanning of machines; property `ExclusionTags` (a JSON array of {Key, Value})",
);
const AGENTLESS_DISCOVERY_K8S: Extension = ext(
    "AgentlessDiscoveryForKubernetes",
    "agentless discovery of Kubernetes clusters",
);
const REGISTRY_VA: Extension = ext(
    "ContainerRegistriesVulnerabilityAssessments",
    "vulnerability assessment of container registry images",
);
const SENSITIVE_DATA: Extension = ext("SensitiveDataDiscovery", "sensitive data discovery");

/// Every plan, current ones first.
pub static PLANS: &[Plan] = &[
    Plan {
        sub_plans: &["P1", "P2"],
        extensions: &[
            ext(
                "MdeDesignatedSubscription",
                "designates the subscription for Defender for Endpoint direct onboarding",
            ),
            Extension {
                p2_only: true,
                ..AGENTLESS_VM_SCANNING
            },
            Extension {
                name: "FileIntegrityMonitoring",
                p2_only: true,
                summary: "file integrity monitoring; properties `DefinedWorkspaceId`, `Rules`",
            },
        ],
        ..plan("VirtualMachines", "Defender for Servers")
    },
    Plan {
        sub_plans: &["DefenderForStorageV2", "PerStorageAccount"],
        extensions: &[
            ext(
                "OnUploadMalwareScanning",
                "malware scanning on upload; property `CapGBPerMonthPerStorageAccount`",
            ),
            SENSITIVE_DATA,
        ],
        ..plan("StorageAccounts", "Defender for Storage")
    },
    Plan {
        extensions: &[
            REGISTRY_VA,
            AGENTLESS_DISCOVERY_K8S,
            AGENTLESS_VM_SCANNING,
            ext(
                "ContainerSensor",
                "the Defender sensor on clusters; property `SecurityGatingEnabled`",
            ),
            ext(
                "ContainerIntegrityContribution",
                "container image integrity contribution",
            ),
        ],
        ..plan("Containers", "Defender for Containers")
    },
    Plan {
        extensions: &[
            AGENTLESS_VM_SCANNING,
            AGENTLESS_DISCOVERY_K8S,
            SENSITIVE_DATA,
            REGISTRY_VA,
            ext(
                "EntraPermissionsManagement",
                "permissions management (CIEM)",
            ),
        ],
        ..plan("CloudPosture", "Defender CSPM")
    },
    Plan {
        sub_plans: &["PerTransaction", "PerKeyVault"],
        ..plan("KeyVaults", "Defender for Key Vault")
    },
    Plan {
        sub_plans: &["PerSubscription", "PerApiCall"],
        ..plan("Arm", "Defender for Resource Manager")
    },
    Plan {
        // P1-P5 are UNVERIFIED (arm-api.md 2.3); ListPricings_example.json shows P1.
        sub_plans: &["P1", "P2", "P3", "P4", "P5"],
        ..plan("Api", "Defender for APIs")
    },
    Plan {
        extensions: &[
            ext("AIPromptEvidence", "prompt evidence in alerts"),
            ext(
                "AIPromptSharingWithPurview",
                "prompt sharing with Microsoft Purview",
            ),
        ],
        ..plan("AI", "Defender for AI services")
    },
    plan("AppServices", "Defender for App Service"),
    plan("SqlServers", "Defender for Azure SQL"),
    plan(
        "SqlServerVirtualMachines",
        "Defender for SQL servers on machines",
    ),
    plan(
        "OpenSourceRelationalDatabases",
        "Defender for open-source relational databases",
    ),
    plan("CosmosDbs", "Defender for Azure Cosmos DB"),
    Plan {
        replaced_by: &["Containers"],
        ..plan("KubernetesService", "Defender for Kubernetes (retired)")
    },
    Plan {
        replaced_by: &["Containers"],
        ..plan(
            "ContainerRegistry",
            "Defender for container registries (retired)",
        )
    },
    Plan {
        // GetPricingByNameDns_example.json: deprecated, replacedBy VirtualMachines.
        replaced_by: &["VirtualMachines"],
        ..plan("Dns", "Defender for DNS (retired)")
    },
];

/// The plan named `name` (case-insensitive).
pub fn find(name: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// `"A", "B" and "C"` for messages.
pub fn quoted_list(items: impl IntoIterator<Item = &'static str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("{s:?}")).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// Every plan name, for messages.
pub fn plan_names() -> String {
    quoted_list(PLANS.iter().map(|p| p.name))
}

impl Plan {
    pub fn is_retired(&self) -> bool {
        !self.replaced_by.is_empty()
    }

    /// The allowed sub-plan spelled as the service spells it.
    pub fn sub_plan(&self, name: &str) -> Option<&'static str> {
        self.sub_plans
            .iter()
            .copied()
            .find(|s| s.eq_ignore_ascii_case(name))
    }

    pub fn extension(&self, name: &str) -> Option<&'static Extension> {
        self.extensions
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    pub fn extension_names(&self) -> String {
        quoted_list(self.extensions.iter().map(|e| e.name))
    }

    pub fn sub_plan_names(&self) -> String {
        quoted_list(self.sub_plans.iter().copied())
    }
}

/// Resource types a resource-level pricing can sit on (arm-api.md 2.1: "VirtualMachines,
/// VMSS and ARC Machines").
pub const RESOURCE_SCOPE_TYPES: &[&str] = &[
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Compute/virtualMachineScaleSets",
    "Microsoft.HybridCompute/machines",
];

/// The only plan with resource-level pricing, and its only Standard sub-plan there.
pub const RESOURCE_LEVEL_PLAN: &str = "VirtualMachines";
pub const RESOURCE_LEVEL_SUB_PLAN: &str = "P1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_case_insensitive_and_names_unique() {
        assert_eq!(find("virtualmachines").unwrap().name, "VirtualMachines");
        assert!(find("Nope").is_none());
        let vm = find("VirtualMachines").unwrap();
        assert_eq!(vm.sub_plan("p2"), Some("P2"));
        assert!(vm.extension("agentlessvmscanning").unwrap().p2_only);
        assert!(!vm.extension("MdeDesignatedSubscription").unwrap().p2_only);
        let mut names: Vec<String> = PLANS.iter().map(|p| p.name.to_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PLANS.len());
        for p in PLANS {
            for r in p.replaced_by {
                assert!(find(r).is_some_and(|r| !r.is_retired()), "{} → {r}", p.name);
            }
        }
    }

    #[test]
    fn messages_list_values() {
        assert_eq!(
            find("VirtualMachines").unwrap().extension_names(),
            "\"MdeDesignatedSubscription\", \"AgentlessVmScanning\" and \"FileIntegrityMonitoring\""
        );
        assert_eq!(
            find("KeyVaults").unwrap().sub_plan_names(),
            "\"PerTransaction\" and \"PerKeyVault\""
        );
        assert_eq!(quoted_list(["A"]), "\"A\"");
        assert!(plan_names().contains("\"CloudPosture\""));
    }
}
