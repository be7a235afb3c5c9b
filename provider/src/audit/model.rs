//! What the audit found: coverage per subscription and findings. Serialised as the JSON format
//! (field names are the JSON's, stable for scripts).

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::{PublicRule, Rule, Severity};

/// The whole audit.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// `terraform-provider-defender`.
    pub tool: &'static str,
    pub version: &'static str,
    /// The management group whose assignments were included, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_group_id: Option<String>,
    pub subscriptions: Vec<SubscriptionCoverage>,
    /// Every finding count by severity, for summaries.
    pub summary: Summary,
}

/// Findings per severity.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub subscriptions: usize,
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl AuditReport {
    /// Every finding, in subscription order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.subscriptions.iter().flat_map(|s| s.findings.iter())
    }

    /// The worst severity found, if any finding.
    pub fn worst(&self) -> Option<Severity> {
        self.findings().map(|f| f.severity).max()
    }

    /// Counts findings per severity.
    pub fn summarise(subscriptions: &[SubscriptionCoverage]) -> Summary {
        let mut s = Summary {
            subscriptions: subscriptions.len(),
            ..Summary::default()
        };
        for f in subscriptions.iter().flat_map(|s| &s.findings) {
            s.findings += 1;
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::High => s.high += 1,
                Severity::Medium => s.medium += 1,
                Severity::Low => s.low += 1,
            }
        }
        s
    }

    /// The rules that have at least one finding, in table order.
    pub fn rules_found(&self) -> Vec<&'static Rule> {
        super::rules::all()
            .into_iter()
            .filter(|r| self.findings().any(|f| f.rule_id == r.id))
            .collect()
    }
}

/// One subscription.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionCoverage {
    pub subscription_id: String,
    /// Every Defender plan, as ARM lists them.
    pub plans: Vec<PlanState>,
    /// Microsoft.Security/settings by name.
    pub settings: BTreeMap<String, bool>,
    /// The legacy auto-provisioning switch (`On`/`Off`), when the subscription has one.
    pub auto_provision: Option<String>,
    /// The security contact, when there is one.
    pub contact: Option<ContactState>,
    /// Custom workspace settings (empty: machines report to the default workspace).
    pub workspace_settings: Vec<WorkspaceState>,
    /// Auto-provisioning (catalog) policy assignments at or above the subscription.
    pub assignments: Vec<AssignmentState>,
    /// What could not be read (each also a `DFC-READ-FAILED` finding).
    pub errors: Vec<String>,
    pub findings: Vec<Finding>,
}

impl SubscriptionCoverage {
    /// The plan with this name (case-insensitive).
    pub fn plan(&self, name: &str) -> Option<&PlanState> {
        self.plans
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// One Defender plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanState {
    pub name: String,
    /// `Free` or `Standard`.
    pub tier: String,
    pub subplan: Option<String>,
    /// Extension name → enabled.
    pub extensions: BTreeMap<String, bool>,
    /// A retired plan (its replacement is what matters).
    pub deprecated: bool,
}

impl PlanState {
    pub fn is_on(&self) -> bool {
        self.tier.eq_ignore_ascii_case("Standard")
    }
}

/// The security contact (api-version 2023-12-01-preview shape).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ContactState {
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub enabled: bool,
    /// Minimal alert severity emailed (`High`, `Medium`, `Low`); `None`: alert emails off.
    pub alert_minimal_severity: Option<String>,
    /// Minimal attack path risk level emailed; `None`: off.
    pub attack_path_minimal_risk_level: Option<String>,
    /// Roles emailed (empty when notifications by role are off).
    pub notify_roles: Vec<String>,
}

/// A custom workspace setting.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WorkspaceState {
    pub name: String,
    pub workspace_id: String,
    pub scope: String,
}

/// A catalog policy assignment at or above the subscription.
#[derive(Clone, Debug, Serialize)]
pub struct AssignmentState {
    pub id: String,
    pub name: String,
    pub scope: String,
    /// The catalog key (`mde`, `kubernetes-policy-addon`, …).
    pub policy: String,
    pub definition_id: String,
    pub display_name: Option<String>,
    pub enforcement_mode: String,
    /// Whether its effect deploys with the assignment's parameters (false when set to e.g.
    /// `Disabled`).
    pub deploys: bool,
    /// `SystemAssigned`, `UserAssigned` or `None`.
    pub identity_type: String,
    pub principal_id: Option<String>,
    /// The roles its policy needs, each at a scope, and whether the identity holds it there.
    pub roles: Vec<RoleCheck>,
    /// True when every needed role is held.
    pub roles_complete: bool,
    /// The latest remediation task, if any.
    pub remediation: Option<RemediationState>,
}

/// A role the assignment's identity needs.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RoleCheck {
    pub role_definition_id: String,
    pub role_name: Option<String>,
    pub scope: String,
    pub held: bool,
}

/// A remediation task.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RemediationState {
    pub id: String,
    pub state: String,
    pub created_on: Option<String>,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// A missing protection.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The audit's rule (`DFC-…`).
    pub rule_id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub subscription_id: String,
    /// The ARM ID of what is missing or wrong.
    pub resource_id: String,
    pub message: String,
    pub remediation: &'static str,
    /// The public rules this finding corresponds to.
    pub public_rules: &'static [PublicRule],
}

impl Finding {
    pub fn new(
        rule: &'static Rule,
        subscription_id: &str,
        resource_id: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule_id: rule.id,
            severity: rule.severity,
            title: rule.title,
            subscription_id: subscription_id.to_owned(),
            resource_id: resource_id.into(),
            message: message.into(),
            remediation: rule.remediation,
            public_rules: rule.public,
        }
    }

    /// `CKV_AZURE_19, AVD-AZU-0045, …` (unverified IDs marked with `?`).
    pub fn public_ids(&self) -> String {
        self.public_rules
            .iter()
            .map(|p| {
                if p.verified {
                    p.id.to_owned()
                } else {
                    format!("{}?", p.id)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
