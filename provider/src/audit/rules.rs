//! The audit's rules and the public rules each one corresponds to: one table, so a team can show
//! an auditor which Checkov, Trivy, Prowler, ScoutSuite and Trend Micro Conformity checks a
//! finding answers.
//!
//! Where each public ID was learned (read in their source, July 2026):
//! - Checkov: bridgecrewio/checkov `checkov/terraform/checks/resource/azure/` and
//!   `checkov/arm/checks/resource/`: SecurityCenterStandardPricing.py (CKV_AZURE_19, `tier` must
//!   be `Standard`), SecurityCenterContactPhone.py (CKV_AZURE_20), SecurityCenterContactEmailAlert.py
//!   (CKV_AZURE_21, `alertNotifications`), SecurityCenterEmailAlertAdmins.py /
//!   SecurityCenterContactEmailAlertAdmins.py (CKV_AZURE_22, `alerts_to_admins`),
//!   SecurityCenterContactEmails.py (CKV_AZURE_131 in the Terraform checks: "Ensure that 'Security
//!   contact emails' is set"; the ARM check with that number is an unrelated secureString check),
//!   AzureDefenderOn*.py per plan: Servers CKV_AZURE_55 (`VirtualMachines`), App Service
//!   CKV_AZURE_61, Azure SQL CKV_AZURE_69 (`SqlServers`), SQL on machines CKV_AZURE_79,
//!   Storage CKV_AZURE_84, Kubernetes CKV_AZURE_85 (`KubernetesService`), container registries
//!   CKV_AZURE_86 (`ContainerRegistry`), Key Vault CKV_AZURE_87, and
//!   AzureDefenderDisabledForResManager.py (Resource Manager: CKV_AZURE_234 in the current
//!   Terraform and ARM checks; an older revision of the Terraform check said CKV_AZURE_233).
//! - Trivy: aquasecurity/trivy-checks `checks/cloud/azure/securitycenter/*.rego` METADATA:
//!   AVD-AZU-0044 alert-on-severe-notifications, AVD-AZU-0045 enable-standard-subscription,
//!   AVD-AZU-0046 set-required-contact-details (phone), AVD-AZU-0062 security-contact-email,
//!   AVD-AZU-0063 email-alerts-disabled (alert notifications and alerts to admins),
//!   AVD-AZU-0064 security-contact-disabled (`isEnabled`). The numbers between 0046 and 0062 are
//!   other services' checks, not Defender's.
//! - Prowler: prowler-cloud/prowler `prowler/providers/azure/services/defender/<check>/<check>.py`
//!   (the pricing each `defender_ensure_defender_for_*_is_on` reads is named in its source;
//!   `defender_ensure_defender_for_databases_is_on` needs SqlServers, SqlServerVirtualMachines,
//!   OpenSourceRelationalDatabases and CosmosDbs all Standard).
//! - ScoutSuite: nccgroup/ScoutSuite `ScoutSuite/providers/azure/rules/findings/securitycenter-*.json`.
//! - Trend Micro Conformity: SecurityCenter-018 is named by issue 5 for auto provisioning; the
//!   knowledge-base page found (`knowledge-base/azure/SecurityCenter/enable-auto-provisioning.html`,
//!   "Enable Defender Auto Provisioning Extensions") matches the subject, but its rule number was
//!   not visible in what could be read: marked unverified.

use serde::Serialize;

/// How bad a finding is; ordered, so `--fail-on` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// SARIF `level`.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Low => "note",
            Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }

    /// GitHub code scanning's `security-severity` (0.1-10; >= 9 critical, >= 7 high, >= 4
    /// medium, else low).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A public tool whose rules the audit's rules correspond to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Tool {
    Checkov,
    Trivy,
    Prowler,
    ScoutSuite,
    #[serde(rename = "Trend Micro Conformity")]
    Conformity,
}

impl Tool {
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Checkov => "Checkov",
            Tool::Trivy => "Trivy",
            Tool::Prowler => "Prowler",
            Tool::ScoutSuite => "ScoutSuite",
            Tool::Conformity => "Trend Micro Conformity",
        }
    }
}

/// One public rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PublicRule {
    pub tool: Tool,
    pub id: &'static str,
    /// False when the ID could not be confirmed in the tool's own source (see the module docs).
    pub verified: bool,
    /// What the public rule checks, when it differs from ours (e.g. a retired plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

const fn r(tool: Tool, id: &'static str) -> PublicRule {
    PublicRule {
        tool,
        id,
        verified: true,
        note: None,
    }
}

const fn noted(tool: Tool, id: &'static str, note: &'static str) -> PublicRule {
    PublicRule {
        tool,
        id,
        verified: true,
        note: Some(note),
    }
}

/// One rule of the audit.
#[derive(Debug, Serialize)]
pub struct Rule {
    /// Stable ID (SARIF `ruleId`), e.g. `DFC-PLAN-VIRTUALMACHINES`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// What to do, in one sentence.
    pub remediation: &'static str,
    pub public: &'static [PublicRule],
}

impl Rule {
    /// The guide's section for this rule (SARIF `helpUri`).
    pub fn help_uri(&self) -> String {
        format!(
            "https://registry.terraform.io/providers/defenderops/defender/latest/docs/guides/audit#{}",
            self.id.to_ascii_lowercase()
        )
    }
}

// Rules every plan shares (a plan that is not Standard).
const ANY_PLAN: [PublicRule; 3] = [
    r(Tool::Checkov, "CKV_AZURE_19"),
    r(Tool::Trivy, "AVD-AZU-0045"),
    r(Tool::ScoutSuite, "securitycenter-standard-tier-not-enabled"),
];
const PROWLER_DATABASES: PublicRule = r(
    Tool::Prowler,
    "defender_ensure_defender_for_databases_is_on",
);

macro_rules! plan_rules {
    ($($extra:expr),* $(,)?) => {
        &[ANY_PLAN[0], ANY_PLAN[1], ANY_PLAN[2], $($extra),*]
    };
}

/// A plan's rule: the plan (pricing name) and its rule.
pub struct PlanRule {
    pub plan: &'static str,
    pub rule: Rule,
}

const fn plan_rule(
    plan: &'static str,
    id: &'static str,
    title: &'static str,
    severity: Severity,
    public: &'static [PublicRule],
) -> PlanRule {
    PlanRule {
        plan,
        rule: Rule {
            id,
            title,
            severity,
            remediation: "Set the plan to Standard with a `defender_plan` resource.",
            public,
        },
    }
}

/// One rule per current plan: the plan is not `Standard`. Retired plans (Dns,
/// KubernetesService, ContainerRegistry) have none; their public checks are listed under the
/// plan that replaced them.
pub static PLAN_RULES: &[PlanRule] = &[
    plan_rule(
        "VirtualMachines",
        "DFC-PLAN-VIRTUALMACHINES",
        "Defender for Servers is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_55"),
            r(Tool::Prowler, "defender_ensure_defender_for_server_is_on"),
            noted(
                Tool::Prowler,
                "defender_ensure_defender_for_dns_is_on",
                "checks the retired Dns plan, which Defender for Servers replaced"
            ),
        ],
    ),
    plan_rule(
        "CloudPosture",
        "DFC-PLAN-CLOUDPOSTURE",
        "Defender CSPM is off",
        Severity::High,
        plan_rules![r(Tool::Prowler, "defender_ensure_defender_cspm_is_on")],
    ),
    plan_rule(
        "Containers",
        "DFC-PLAN-CONTAINERS",
        "Defender for Containers is off",
        Severity::High,
        plan_rules![
            noted(
                Tool::Checkov,
                "CKV_AZURE_85",
                "checks the retired KubernetesService plan, which Containers replaced"
            ),
            noted(
                Tool::Checkov,
                "CKV_AZURE_86",
                "checks the retired ContainerRegistry plan, which Containers replaced"
            ),
            r(
                Tool::Prowler,
                "defender_ensure_defender_for_containers_is_on"
            ),
        ],
    ),
    plan_rule(
        "StorageAccounts",
        "DFC-PLAN-STORAGEACCOUNTS",
        "Defender for Storage is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_84"),
            r(Tool::Prowler, "defender_ensure_defender_for_storage_is_on"),
        ],
    ),
    plan_rule(
        "SqlServers",
        "DFC-PLAN-SQLSERVERS",
        "Defender for Azure SQL is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_69"),
            r(
                Tool::Prowler,
                "defender_ensure_defender_for_azure_sql_databases_is_on"
            ),
            PROWLER_DATABASES,
        ],
    ),
    plan_rule(
        "SqlServerVirtualMachines",
        "DFC-PLAN-SQLSERVERVIRTUALMACHINES",
        "Defender for SQL servers on machines is off",
        Severity::Medium,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_79"),
            r(
                Tool::Prowler,
                "defender_ensure_defender_for_sql_servers_is_on"
            ),
            PROWLER_DATABASES,
        ],
    ),
    plan_rule(
        "OpenSourceRelationalDatabases",
        "DFC-PLAN-OPENSOURCERELATIONALDATABASES",
        "Defender for open-source relational databases is off",
        Severity::Medium,
        plan_rules![
            r(
                Tool::Prowler,
                "defender_ensure_defender_for_os_relational_databases_is_on"
            ),
            PROWLER_DATABASES,
        ],
    ),
    plan_rule(
        "CosmosDbs",
        "DFC-PLAN-COSMOSDBS",
        "Defender for Azure Cosmos DB is off",
        Severity::Medium,
        plan_rules![
            r(Tool::Prowler, "defender_ensure_defender_for_cosmosdb_is_on"),
            PROWLER_DATABASES,
        ],
    ),
    plan_rule(
        "KeyVaults",
        "DFC-PLAN-KEYVAULTS",
        "Defender for Key Vault is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_87"),
            r(Tool::Prowler, "defender_ensure_defender_for_keyvault_is_on"),
        ],
    ),
    plan_rule(
        "AppServices",
        "DFC-PLAN-APPSERVICES",
        "Defender for App Service is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_61"),
            r(
                Tool::Prowler,
                "defender_ensure_defender_for_app_services_is_on"
            ),
        ],
    ),
    plan_rule(
        "Arm",
        "DFC-PLAN-ARM",
        "Defender for Resource Manager is off",
        Severity::High,
        plan_rules![
            r(Tool::Checkov, "CKV_AZURE_234"),
            r(Tool::Prowler, "defender_ensure_defender_for_arm_is_on"),
        ],
    ),
    plan_rule(
        "Api",
        "DFC-PLAN-API",
        "Defender for APIs is off",
        Severity::Low,
        plan_rules![],
    ),
    plan_rule(
        "AI",
        "DFC-PLAN-AI",
        "Defender for AI services is off",
        Severity::Low,
        plan_rules![],
    ),
];

/// The rule of a plan, if it has one (case-insensitive).
pub fn plan_rule_for(plan: &str) -> Option<&'static Rule> {
    PLAN_RULES
        .iter()
        .find(|p| p.plan.eq_ignore_ascii_case(plan))
        .map(|p| &p.rule)
}

pub static CONTACT_MISSING: Rule = Rule {
    id: "DFC-CONTACT-MISSING",
    title: "No security contact",
    severity: Severity::High,
    remediation: "Add a `defender_security_contact` with emails, a phone, alert notifications and \
                  Owner notifications.",
    public: &[
        r(Tool::Checkov, "CKV_AZURE_20"),
        r(Tool::Checkov, "CKV_AZURE_21"),
        r(Tool::Checkov, "CKV_AZURE_22"),
        r(Tool::Checkov, "CKV_AZURE_131"),
        r(Tool::Trivy, "AVD-AZU-0044"),
        r(Tool::Trivy, "AVD-AZU-0046"),
        r(Tool::Trivy, "AVD-AZU-0062"),
        r(Tool::Trivy, "AVD-AZU-0063"),
        r(
            Tool::Prowler,
            "defender_additional_email_configured_with_a_security_contact",
        ),
        r(
            Tool::Prowler,
            "defender_ensure_notify_alerts_severity_is_high",
        ),
        r(Tool::Prowler, "defender_ensure_notify_emails_to_owners"),
        r(Tool::ScoutSuite, "securitycenter-security-contacts-not-set"),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-email-not-set",
        ),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-phone-not-set",
        ),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-no-email-notifications",
        ),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-no-admin-email-notifications",
        ),
    ],
};

pub static CONTACT_DISABLED: Rule = Rule {
    id: "DFC-CONTACT-DISABLED",
    title: "The security contact is disabled",
    severity: Severity::High,
    remediation: "Set `enabled = true` on the `defender_security_contact`.",
    public: &[r(Tool::Trivy, "AVD-AZU-0064")],
};

pub static CONTACT_EMAIL: Rule = Rule {
    id: "DFC-CONTACT-EMAIL",
    title: "The security contact has no email address",
    severity: Severity::High,
    remediation: "Set `emails` on the `defender_security_contact`.",
    public: &[
        r(Tool::Checkov, "CKV_AZURE_131"),
        r(Tool::Trivy, "AVD-AZU-0062"),
        r(
            Tool::Prowler,
            "defender_additional_email_configured_with_a_security_contact",
        ),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-email-not-set",
        ),
    ],
};

pub static CONTACT_PHONE: Rule = Rule {
    id: "DFC-CONTACT-PHONE",
    title: "The security contact has no phone number",
    severity: Severity::Low,
    remediation: "Set `phone` on the `defender_security_contact`.",
    public: &[
        r(Tool::Checkov, "CKV_AZURE_20"),
        r(Tool::Trivy, "AVD-AZU-0046"),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-phone-not-set",
        ),
    ],
};

pub static CONTACT_ALERTS: Rule = Rule {
    id: "DFC-CONTACT-ALERTS",
    title: "Alert emails are off (or only for a severity above High)",
    severity: Severity::Medium,
    remediation: "Set `alert_minimal_severity` (High, Medium or Low) on the \
                  `defender_security_contact`.",
    public: &[
        r(Tool::Checkov, "CKV_AZURE_21"),
        r(Tool::Trivy, "AVD-AZU-0044"),
        r(Tool::Trivy, "AVD-AZU-0063"),
        r(
            Tool::Prowler,
            "defender_ensure_notify_alerts_severity_is_high",
        ),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-no-email-notifications",
        ),
    ],
};

pub static CONTACT_OWNERS: Rule = Rule {
    id: "DFC-CONTACT-OWNERS",
    title: "Subscription owners are not emailed about alerts",
    severity: Severity::Medium,
    remediation: "Add \"Owner\" to `notify_roles` on the `defender_security_contact`.",
    public: &[
        r(Tool::Checkov, "CKV_AZURE_22"),
        r(Tool::Trivy, "AVD-AZU-0063"),
        r(Tool::Prowler, "defender_ensure_notify_emails_to_owners"),
        r(
            Tool::ScoutSuite,
            "securitycenter-security-contacts-no-admin-email-notifications",
        ),
    ],
};

pub static CONTACT_ATTACK_PATH: Rule = Rule {
    id: "DFC-CONTACT-ATTACK-PATH",
    title: "Attack path emails are off",
    severity: Severity::Low,
    remediation: "Set `attack_path_minimal_risk_level` on the `defender_security_contact`.",
    public: &[r(
        Tool::Prowler,
        "defender_attack_path_notifications_properly_configured",
    )],
};

pub static SETTING_WDATP: Rule = Rule {
    id: "DFC-SETTING-WDATP",
    title: "The Defender for Endpoint integration is off",
    severity: Severity::High,
    remediation: "Add `defender_setting` WDATP with `enabled = true`.",
    public: &[
        r(Tool::Prowler, "defender_ensure_wdatp_is_enabled"),
        r(
            Tool::ScoutSuite,
            "securitycenter-settings-WDATP-integration-disabled",
        ),
    ],
};

pub static SETTING_MCAS: Rule = Rule {
    id: "DFC-SETTING-MCAS",
    title: "The Defender for Cloud Apps integration is off",
    severity: Severity::Medium,
    remediation: "Add `defender_setting` MCAS with `enabled = true`.",
    public: &[
        r(Tool::Prowler, "defender_ensure_mcas_is_enabled"),
        r(
            Tool::ScoutSuite,
            "securitycenter-settings-MCAS-integration-disabled",
        ),
    ],
};

pub static AUTO_PROVISIONING: Rule = Rule {
    id: "DFC-AUTO-PROVISIONING",
    title: "Nothing provisions agents: no auto-provisioning policy assignment",
    severity: Severity::Medium,
    remediation: "Add a `defender_policy_assignment` for the agents you need (e.g. `mde`, \
                  `kubernetes-policy-addon`); the legacy autoProvision switch drives the retired \
                  Log Analytics agent.",
    public: &[
        noted(
            Tool::Prowler,
            "defender_auto_provisioning_log_analytics_agent_vms_on",
            "checks the legacy autoProvision switch (the retired Log Analytics agent)",
        ),
        noted(
            Tool::ScoutSuite,
            "securitycenter-auto-provisioning-off",
            "checks the legacy autoProvision switch (the retired Log Analytics agent)",
        ),
        PublicRule {
            tool: Tool::Conformity,
            id: "SecurityCenter-018",
            verified: false,
            note: Some("rule number from issue 5, not confirmed in Conformity's knowledge base"),
        },
    ],
};

pub static ASSIGNMENT_IDENTITY: Rule = Rule {
    id: "DFC-ASSIGNMENT-IDENTITY",
    title: "An auto-provisioning assignment has no managed identity",
    severity: Severity::High,
    remediation: "Give the assignment an identity (`defender_policy_assignment` does by \
                  default) so it can deploy and remediate.",
    public: &[],
};

pub static ASSIGNMENT_ROLES: Rule = Rule {
    id: "DFC-ASSIGNMENT-ROLES",
    title: "An auto-provisioning assignment's identity lacks a role its policy needs",
    severity: Severity::High,
    remediation: "Manage the assignment with `defender_policy_assignment`, which assigns every \
                  role of the policy's roleDefinitionIds.",
    public: &[],
};

pub static REMEDIATION_FAILED: Rule = Rule {
    id: "DFC-REMEDIATION-FAILED",
    title: "The latest remediation of an auto-provisioning assignment failed",
    severity: Severity::Medium,
    remediation: "Look at the remediation's deployments, fix the cause and remediate again \
                  (`defender_policy_remediation`).",
    public: &[],
};

pub static READ_FAILED: Rule = Rule {
    id: "DFC-READ-FAILED",
    title: "Part of the subscription could not be read",
    severity: Severity::Medium,
    remediation: "Give the identity Reader and Security Reader on the subscription, then audit \
                  again.",
    public: &[],
};

/// Every rule, plan rules first.
pub fn all() -> Vec<&'static Rule> {
    let mut out: Vec<&'static Rule> = PLAN_RULES.iter().map(|p| &p.rule).collect();
    out.extend([
        &CONTACT_MISSING,
        &CONTACT_DISABLED,
        &CONTACT_EMAIL,
        &CONTACT_PHONE,
        &CONTACT_ALERTS,
        &CONTACT_OWNERS,
        &CONTACT_ATTACK_PATH,
        &SETTING_WDATP,
        &SETTING_MCAS,
        &AUTO_PROVISIONING,
        &ASSIGNMENT_IDENTITY,
        &ASSIGNMENT_ROLES,
        &REMEDIATION_FAILED,
        &READ_FAILED,
    ]);
    out
}

/// The rule with this ID.
pub fn find(id: &str) -> Option<&'static Rule> {
    all().into_iter().find(|r| r.id == id)
}

/// Well-known role names, for messages (policy-catalog.md §1).
pub fn role_name(guid: &str) -> Option<&'static str> {
    const ROLES: &[(&str, &str)] = &[
        ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
        ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
        ("fb1c8493-542b-48eb-b624-b4c8fea62acd", "Security Admin"),
        (
            "92aaf0da-9dab-42b6-94a3-d43ce8d16293",
            "Log Analytics Contributor",
        ),
        (
            "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
            "Virtual Machine Contributor",
        ),
        (
            "cd570a14-e51a-42ad-bac8-bafd67325302",
            "Azure Connected Machine Resource Administrator",
        ),
        (
            "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
            "Monitoring Contributor",
        ),
        (
            "f1a07417-d97a-45cb-824c-7a7467783830",
            "Managed Identity Operator",
        ),
        (
            "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
            "User Access Administrator",
        ),
        (
            "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
            "Azure Kubernetes Service Contributor Role",
        ),
        (
            "85cb6faf-e071-4c9b-8136-154b5a04f717",
            "Kubernetes Extension Contributor",
        ),
        (
            "18ed5180-3e48-46fd-8541-4ea054d57064",
            "Azure Kubernetes Service Policy Add-on Deployment",
        ),
        (
            "5e93ba01-8f92-4c7a-b12a-801e3df23824",
            "Kubernetes Agent Operator",
        ),
        (
            "8bb6f106-b146-4ee6-a3f9-b9c5a96e0ae5",
            "Defender Kubernetes Agent Operator",
        ),
    ];
    ROLES
        .iter()
        .find(|(g, _)| g.eq_ignore_ascii_case(guid))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_plans_known() {
        let rules = all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rules.len());
        for p in PLAN_RULES {
            let plan = crate::resources::plan_catalog::find(p.plan).expect(p.plan);
            assert!(!plan.is_retired(), "{} is retired", p.plan);
            assert!(p.rule.public.contains(&ANY_PLAN[0]));
        }
        // Every current plan has a rule.
        for plan in crate::resources::plan_catalog::PLANS
            .iter()
            .filter(|p| !p.is_retired())
        {
            assert!(plan_rule_for(plan.name).is_some(), "{}", plan.name);
        }
    }

    #[test]
    fn the_issue_s_public_ids_are_all_mapped() {
        let mapped: Vec<&str> = all()
            .iter()
            .flat_map(|r| r.public.iter().map(|p| p.id))
            .collect();
        for id in [
            "CKV_AZURE_19",
            "CKV_AZURE_20",
            "CKV_AZURE_21",
            "CKV_AZURE_22",
            "CKV_AZURE_131",
            "AVD-AZU-0044",
            "AVD-AZU-0045",
            "AVD-AZU-0046",
            "AVD-AZU-0062",
            "AVD-AZU-0063",
            "AVD-AZU-0064",
            "SecurityCenter-018",
        ] {
            assert!(mapped.contains(&id), "{id}");
        }
        let unverified: Vec<&str> = all()
            .iter()
            .flat_map(|r| r.public.iter().filter(|p| !p.verified).map(|p| p.id))
            .collect();
        assert_eq!(unverified, ["SecurityCenter-018"]);
        assert!(find("DFC-PLAN-ARM").is_some_and(|r| r.help_uri().ends_with("#dfc-plan-arm")));
        // The guide every helpUri points at has a section per rule naming its public rules.
        let guide = include_str!("../../../docs/guides/audit.md");
        for rule in all() {
            let at = guide
                .find(&format!("\n### {}\n", rule.id))
                .unwrap_or_else(|| panic!("docs/guides/audit.md has no section {}", rule.id));
            let section = &guide[at + 1..];
            let section = &section[..section[4..].find("\n### ").map_or(section.len(), |e| e + 4)];
            assert!(section.contains(rule.severity.as_str()), "{}", rule.id);
            for p in rule.public {
                assert!(
                    section.contains(&format!("`{}`", p.id)),
                    "{} {}",
                    rule.id,
                    p.id
                );
            }
        }
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
    }
}
