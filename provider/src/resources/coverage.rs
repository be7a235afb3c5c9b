//! `defender_coverage`: the audit (`crate::audit`) as a data source. Reads only: every Defender
//! plan, the Microsoft.Security settings, the security contact, the workspace settings and the
//! auto-provisioning policy assignments at or above each subscription (with their identities'
//! roles and latest remediation), plus findings carrying public rule IDs.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{is_guid, subscriptions};
use crate::audit::{self, AuditOptions, AuditReport};
use crate::framework::{AttrPath, Config, Ctx, DataSource, Diagnostic, Diagnostics};

/// Reports which Microsoft Defender for Cloud protections one or more subscriptions have and
/// lack: every plan with tier, sub-plan and extensions, the Microsoft.Security settings, the
/// security contact, the workspace settings, and the auto-provisioning policy assignments at or
/// above each subscription, with whether each assignment's identity holds every role its policy
/// needs and the latest remediation. Findings name what is missing, with the IDs of the Checkov,
/// Trivy, Prowler, ScoutSuite and Trend Micro Conformity rules they correspond to (see the audit
/// guide). Reads only; the same audit runs from the command line as
/// `terraform-provider-defender audit`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_coverage")]
pub struct CoverageModel {
    /// The subscriptions to audit. Defaults to the provider's subscription.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub subscription_ids: Option<Vec<String>>,
    /// A management group (name or ID) whose policy assignments apply to every subscription
    /// audited, as ARM applies a management group's assignments to the subscriptions below it.
    pub management_group_id: Option<String>,
    /// One entry per subscription, in the order given.
    #[schemars(extend("computed" = true))]
    pub subscriptions: Option<Vec<SubscriptionModel>>,
    /// Every finding of every subscription.
    #[schemars(extend("computed" = true))]
    pub findings: Option<Vec<FindingModel>>,
    /// The most severe finding (`critical`, `high`, `medium`, `low`), or null when none.
    #[schemars(extend("computed" = true))]
    pub worst_severity: Option<String>,
}

/// One subscription's coverage.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SubscriptionModel {
    /// The subscription ID.
    #[schemars(extend("computed" = true))]
    pub subscription_id: Option<String>,
    /// Every Defender plan, as Azure lists them.
    #[schemars(extend("computed" = true))]
    pub plans: Option<Vec<PlanModel>>,
    /// Microsoft.Security settings (`WDATP`, `MCAS`, …) by name: enabled or not.
    #[schemars(extend("computed" = true))]
    pub settings: Option<BTreeMap<String, bool>>,
    /// The legacy auto-provisioning switch (`On`/`Off`) of the retired Log Analytics agent.
    #[schemars(extend("computed" = true))]
    pub auto_provision: Option<String>,
    /// The security contact; null when there is none.
    #[schemars(extend("computed" = true))]
    pub contact: Option<ContactModel>,
    /// Custom workspace settings (empty: machines report to the default workspace).
    #[schemars(extend("computed" = true))]
    pub workspace_settings: Option<Vec<WorkspaceModel>>,
    /// Auto-provisioning policy assignments (policies of the provider's catalog) at or above
    /// the subscription.
    #[schemars(extend("computed" = true))]
    pub assignments: Option<Vec<AssignmentModel>>,
    /// What could not be read (each is also a `DFC-READ-FAILED` finding).
    #[schemars(extend("computed" = true))]
    pub errors: Option<Vec<String>>,
    /// This subscription's findings.
    #[schemars(extend("computed" = true))]
    pub findings: Option<Vec<FindingModel>>,
}

/// A Defender plan.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PlanModel {
    /// The plan (pricing name), e.g. `VirtualMachines`.
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// `Standard` (on) or `Free` (off).
    #[schemars(extend("computed" = true))]
    pub tier: Option<String>,
    /// The sub-plan, e.g. `P2`; null when the plan has none.
    #[schemars(extend("computed" = true))]
    pub subplan: Option<String>,
    /// Extensions by name: enabled or not (an extension whose enablement failed is not).
    #[schemars(extend("computed" = true))]
    pub extensions: Option<BTreeMap<String, bool>>,
    /// Whether Azure has retired the plan.
    #[schemars(extend("computed" = true))]
    pub deprecated: Option<bool>,
}

/// The security contact.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ContactModel {
    /// Email addresses notified.
    #[schemars(extend("computed" = true))]
    pub emails: Option<Vec<String>>,
    /// The phone number; null when none.
    #[schemars(extend("computed" = true))]
    pub phone: Option<String>,
    /// Whether the contact receives notifications.
    #[schemars(extend("computed" = true))]
    pub enabled: Option<bool>,
    /// The minimal alert severity emailed; null when alert emails are off.
    #[schemars(extend("computed" = true))]
    pub alert_minimal_severity: Option<String>,
    /// The minimal attack path risk level emailed; null when off.
    #[schemars(extend("computed" = true))]
    pub attack_path_minimal_risk_level: Option<String>,
    /// Roles emailed (empty when notifications by role are off).
    #[schemars(extend("computed" = true))]
    pub notify_roles: Option<Vec<String>>,
}

/// A custom workspace setting.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct WorkspaceModel {
    /// The setting's name (`default`).
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// The Log Analytics workspace's resource ID.
    #[schemars(extend("computed" = true))]
    pub workspace_id: Option<String>,
    /// The scope whose machines report to it.
    #[schemars(extend("computed" = true))]
    pub scope: Option<String>,
}

/// An auto-provisioning policy assignment.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AssignmentModel {
    /// The assignment's ARM ID.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The assignment's name.
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// Where it is assigned (a management group, the subscription or a resource group).
    #[schemars(extend("computed" = true))]
    pub scope: Option<String>,
    /// The catalog key of its policy (`mde`, `kubernetes-policy-addon`, …).
    #[schemars(extend("computed" = true))]
    pub policy: Option<String>,
    /// The policy definition or initiative ID.
    #[schemars(extend("computed" = true))]
    pub policy_definition_id: Option<String>,
    /// `Default` or `DoNotEnforce`.
    #[schemars(extend("computed" = true))]
    pub enforcement_mode: Option<String>,
    /// Whether its effect deploys with its parameters (false when set to e.g. `Disabled`).
    #[schemars(extend("computed" = true))]
    pub deploys: Option<bool>,
    /// `SystemAssigned`, `UserAssigned` or `None`.
    #[schemars(extend("computed" = true))]
    pub identity_type: Option<String>,
    /// The identity's principal ID; null without an identity.
    #[schemars(extend("computed" = true))]
    pub principal_id: Option<String>,
    /// The roles its policy needs, each at a scope, and whether the identity holds it there.
    #[schemars(extend("computed" = true))]
    pub roles: Option<Vec<RoleModel>>,
    /// True when the identity holds every role its policy needs.
    #[schemars(extend("computed" = true))]
    pub roles_complete: Option<bool>,
    /// The latest remediation task; null when none was run.
    #[schemars(extend("computed" = true))]
    pub remediation: Option<RemediationModel>,
}

/// A role an assignment's identity needs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct RoleModel {
    /// The role definition GUID.
    #[schemars(extend("computed" = true))]
    pub role_definition_id: Option<String>,
    /// The role's name, when it is a well-known one.
    #[schemars(extend("computed" = true))]
    pub role_name: Option<String>,
    /// Where the role is needed.
    #[schemars(extend("computed" = true))]
    pub scope: Option<String>,
    /// Whether the identity holds it there (or above).
    #[schemars(extend("computed" = true))]
    pub held: Option<bool>,
}

/// A remediation task.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct RemediationModel {
    /// The remediation's ARM ID.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// Its `provisioningState` (`Succeeded`, `Failed`, `Evaluating`, …).
    #[schemars(extend("computed" = true))]
    pub state: Option<String>,
    /// When it was created.
    #[schemars(extend("computed" = true))]
    pub created_on: Option<String>,
    /// Deployments it made.
    #[schemars(extend("computed" = true))]
    pub total_deployments: Option<i64>,
    /// Deployments that failed.
    #[schemars(extend("computed" = true))]
    pub failed_deployments: Option<i64>,
}

/// A missing protection.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FindingModel {
    /// The audit's rule, e.g. `DFC-PLAN-VIRTUALMACHINES` (see the audit guide).
    #[schemars(extend("computed" = true))]
    pub rule_id: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    #[schemars(extend("computed" = true))]
    pub severity: Option<String>,
    /// The rule's title.
    #[schemars(extend("computed" = true))]
    pub title: Option<String>,
    /// The subscription.
    #[schemars(extend("computed" = true))]
    pub subscription_id: Option<String>,
    /// The ARM ID of what is missing or wrong.
    #[schemars(extend("computed" = true))]
    pub resource_id: Option<String>,
    /// What is wrong.
    #[schemars(extend("computed" = true))]
    pub message: Option<String>,
    /// What to do.
    #[schemars(extend("computed" = true))]
    pub remediation: Option<String>,
    /// The public rules the finding corresponds to (Checkov `CKV_AZURE_…`, Trivy
    /// `AVD-AZU-…`, Prowler `defender_…`, ScoutSuite `securitycenter-…`, Trend Micro Conformity
    /// `SecurityCenter-…`); an ID that could not be verified ends in `?`.
    #[schemars(extend("computed" = true))]
    pub public_rule_ids: Option<Vec<String>>,
}

pub struct Coverage;

fn finding(f: &audit::Finding) -> FindingModel {
    FindingModel {
        rule_id: Some(f.rule_id.to_owned()),
        severity: Some(f.severity.as_str().to_owned()),
        title: Some(f.title.to_owned()),
        subscription_id: Some(f.subscription_id.clone()),
        resource_id: Some(f.resource_id.clone()),
        message: Some(f.message.clone()),
        remediation: Some(f.remediation.to_owned()),
        public_rule_ids: Some(
            f.public_rules
                .iter()
                .map(|p| {
                    if p.verified {
                        p.id.to_owned()
                    } else {
                        format!("{}?", p.id)
                    }
                })
                .collect(),
        ),
    }
}

/// The report as the data source's state.
fn to_model(config: CoverageModel, subs: Vec<String>, report: &AuditReport) -> CoverageModel {
    let subscriptions = report
        .subscriptions
        .iter()
        .map(|s| SubscriptionModel {
            subscription_id: Some(s.subscription_id.clone()),
            plans: Some(
                s.plans
                    .iter()
                    .map(|p| PlanModel {
                        name: Some(p.name.clone()),
                        tier: Some(p.tier.clone()),
                        subplan: p.subplan.clone(),
                        extensions: Some(p.extensions.clone()),
                        deprecated: Some(p.deprecated),
                    })
                    .collect(),
            ),
            settings: Some(s.settings.clone()),
            auto_provision: s.auto_provision.clone(),
            contact: s.contact.as_ref().map(|c| ContactModel {
                emails: Some(c.emails.clone()),
                phone: c.phone.clone(),
                enabled: Some(c.enabled),
                alert_minimal_severity: c.alert_minimal_severity.clone(),
                attack_path_minimal_risk_level: c.attack_path_minimal_risk_level.clone(),
                notify_roles: Some(c.notify_roles.clone()),
            }),
            workspace_settings: Some(
                s.workspace_settings
                    .iter()
                    .map(|w| WorkspaceModel {
                        name: Some(w.name.clone()),
                        workspace_id: Some(w.workspace_id.clone()),
                        scope: Some(w.scope.clone()),
                    })
                    .collect(),
            ),
            assignments: Some(
                s.assignments
                    .iter()
                    .map(|a| AssignmentModel {
                        id: Some(a.id.clone()),
                        name: Some(a.name.clone()),
                        scope: Some(a.scope.clone()),
                        policy: Some(a.policy.clone()),
                        policy_definition_id: Some(a.definition_id.clone()),
                        enforcement_mode: Some(a.enforcement_mode.clone()),
                        deploys: Some(a.deploys),
                        identity_type: Some(a.identity_type.clone()),
                        principal_id: a.principal_id.clone(),
                        roles: Some(
                            a.roles
                                .iter()
                                .map(|r| RoleModel {
                                    role_definition_id: Some(r.role_definition_id.clone()),
                                    role_name: r.role_name.clone(),
                                    scope: Some(r.scope.clone()),
                                    held: Some(r.held),
                                })
                                .collect(),
                        ),
                        roles_complete: Some(a.roles_complete),
                        remediation: a.remediation.as_ref().map(|r| RemediationModel {
                            id: Some(r.id.clone()),
                            state: Some(r.state.clone()),
                            created_on: r.created_on.clone(),
                            total_deployments: Some(r.total as i64),
                            failed_deployments: Some(r.failed as i64),
                        }),
                    })
                    .collect(),
            ),
            errors: Some(s.errors.clone()),
            findings: Some(s.findings.iter().map(finding).collect()),
        })
        .collect();
    CoverageModel {
        subscription_ids: Some(subs),
        management_group_id: config.management_group_id,
        subscriptions: Some(subscriptions),
        findings: Some(report.findings().map(finding).collect()),
        worst_severity: report.worst().map(|s| s.as_str().to_owned()),
    }
}

impl DataSource for Coverage {
    type Model = CoverageModel;
    const TYPE_NAME: &'static str = "defender_coverage";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        if let Some(ids) = &config.model.subscription_ids {
            if ids.is_empty() {
                diags.error_at(
                    AttrPath::root("subscription_ids"),
                    "No subscription",
                    "subscription_ids is empty. List at least one subscription ID, or leave it \
                     unset for the provider's subscription.",
                );
            }
            for (i, s) in ids.iter().enumerate() {
                if !is_guid(s) {
                    diags.error_at(
                        AttrPath::root("subscription_ids").index(i as i64),
                        "Invalid subscription ID",
                        format!(
                            "{s:?} is not a subscription ID. Expected a GUID such as \
                             \"00000000-0000-0000-0000-000000000000\"."
                        ),
                    );
                }
            }
        }
        if let Some(mg) = &config.model.management_group_id
            && audit::management_group_scope(mg).is_err()
        {
            diags.error_at(
                AttrPath::root("management_group_id"),
                "Invalid management group",
                format!(
                    "{mg:?} is not a management group. Give its name (letters, digits, - _ ( ) \
                     ., at most 90) or its ID \
                     /providers/Microsoft.Management/managementGroups/{{name}}."
                ),
            );
        }
    }

    async fn read(&self, ctx: &Ctx, config: Self::Model) -> Result<Self::Model, Diagnostics> {
        let subs = subscriptions(
            ctx,
            config.subscription_ids.as_deref(),
            "subscription_ids on the data source",
        )?;
        let arm = ctx.provider()?.arm().await?;
        let options = AuditOptions {
            subscriptions: subs.clone(),
            management_group: config.management_group_id.clone(),
            concurrency: audit::DEFAULT_CONCURRENCY,
        };
        let report = audit::run(arm, &options, None).await.map_err(|e| {
            Diagnostic::error(
                "Error reading Defender for Cloud coverage",
                format!("reading Defender for Cloud coverage: {e}"),
            )
        })?;
        Ok(to_model(config, subs, &report))
    }
}
