//! From what was read to findings: one pure function, unit-tested without ARM.

use super::model::{Finding, SubscriptionCoverage};
use super::rules::{self, Rule};

fn severity_rank(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "low" => Some(1),
        "medium" => Some(2),
        "high" => Some(3),
        "critical" => Some(4),
        _ => None,
    }
}

/// The findings of one subscription, in rule-table order.
pub fn findings(cov: &SubscriptionCoverage) -> Vec<Finding> {
    let sub = cov.subscription_id.as_str();
    let sub_id = format!("/subscriptions/{sub}");
    let security = |t: &str| format!("{sub_id}/providers/Microsoft.Security/{t}");
    let mut out = Vec::new();
    let mut add = |rule: &'static Rule, resource: String, message: String| {
        out.push(Finding::new(rule, sub, resource, message));
    };

    // Plans (only when the pricings could be read: an unreadable list is a read finding).
    if !cov.plans.is_empty() {
        for p in rules::PLAN_RULES {
            let on = cov.plan(p.plan).is_some_and(|s| s.is_on());
            if !on {
                let tier = cov
                    .plan(p.plan)
                    .map_or("missing".to_owned(), |s| s.tier.clone());
                add(
                    &p.rule,
                    security(&format!("pricings/{}", p.plan)),
                    format!(
                        "Plan {} ({}) is {tier} in subscription {sub}.",
                        p.plan,
                        crate::resources::plan_catalog::find(p.plan).map_or(p.plan, |c| c.title)
                    ),
                );
            }
        }
    }

    // Security contact.
    let contact_id = security("securityContacts/default");
    match &cov.contact {
        None if !cov.errors.iter().any(|e| e.contains("securityContacts")) => add(
            &rules::CONTACT_MISSING,
            contact_id,
            format!(
                "Subscription {sub} has no security contact: Defender for Cloud emails nobody about alerts."
            ),
        ),
        None => {}
        Some(c) => {
            if !c.enabled {
                add(
                    &rules::CONTACT_DISABLED,
                    contact_id.clone(),
                    "The security contact is disabled: it receives no notifications.".into(),
                );
            }
            if c.emails.is_empty() {
                add(
                    &rules::CONTACT_EMAIL,
                    contact_id.clone(),
                    "The security contact has no email address.".into(),
                );
            }
            if c.phone.is_none() {
                add(
                    &rules::CONTACT_PHONE,
                    contact_id.clone(),
                    "The security contact has no phone number.".into(),
                );
            }
            let alerts_ok = c
                .alert_minimal_severity
                .as_deref()
                .and_then(severity_rank)
                .is_some_and(|r| r <= 3);
            if !alerts_ok {
                add(
                    &rules::CONTACT_ALERTS,
                    contact_id.clone(),
                    match &c.alert_minimal_severity {
                        None => "Alert emails are off.".to_owned(),
                        Some(s) => format!("Alert emails are sent only from severity {s}."),
                    },
                );
            }
            if !c
                .notify_roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case("Owner"))
            {
                add(
                    &rules::CONTACT_OWNERS,
                    contact_id.clone(),
                    "Subscription owners are not emailed about alerts.".into(),
                );
            }
            if c.attack_path_minimal_risk_level.is_none() {
                add(
                    &rules::CONTACT_ATTACK_PATH,
                    contact_id,
                    "Attack path emails are off.".into(),
                );
            }
        }
    }

    // Integrations.
    for (rule, name) in [
        (&rules::SETTING_WDATP, "WDATP"),
        (&rules::SETTING_MCAS, "MCAS"),
    ] {
        let unreadable = cov.settings.is_empty();
        let on = cov
            .settings
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(name) && *v);
        if !unreadable && !on {
            add(
                rule,
                security(&format!("settings/{name}")),
                format!("Setting {name} is disabled in subscription {sub}."),
            );
        }
    }

    // Auto provisioning: some catalog assignment that deploys, or the legacy switch.
    let deploying = cov.assignments.iter().any(|a| a.deploys);
    let legacy_on = cov
        .auto_provision
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("On"));
    let assignments_read = !cov.errors.iter().any(|e| e.contains("policyAssignments"));
    if !deploying && !legacy_on && assignments_read {
        add(
            &rules::AUTO_PROVISIONING,
            sub_id.clone(),
            format!(
                "No auto-provisioning policy assignment applies to subscription {sub}, so no \
                 agent is deployed to new resources."
            ),
        );
    }

    for a in cov.assignments.iter().filter(|a| a.deploys) {
        if a.principal_id.is_none() {
            add(
                &rules::ASSIGNMENT_IDENTITY,
                a.id.clone(),
                format!(
                    "Assignment {} ({}) has no managed identity: it cannot deploy or remediate.",
                    a.name, a.policy
                ),
            );
            continue;
        }
        let missing: Vec<String> = a
            .roles
            .iter()
            .filter(|r| !r.held)
            .map(|r| {
                format!(
                    "{} ({}) at {}",
                    r.role_name.as_deref().unwrap_or("role"),
                    r.role_definition_id,
                    r.scope
                )
            })
            .collect();
        if !missing.is_empty() {
            add(
                &rules::ASSIGNMENT_ROLES,
                a.id.clone(),
                format!(
                    "The identity of assignment {} ({}) lacks {}.",
                    a.name,
                    a.policy,
                    missing.join(", ")
                ),
            );
        }
        if let Some(r) = &a.remediation
            && r.state.eq_ignore_ascii_case("Failed")
        {
            add(
                &rules::REMEDIATION_FAILED,
                r.id.clone(),
                format!(
                    "The latest remediation of assignment {} failed ({} of {} deployments \
                     failed).",
                    a.name, r.failed, r.total
                ),
            );
        }
    }

    for e in &cov.errors {
        add(&rules::READ_FAILED, sub_id.clone(), e.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::audit::model::{AssignmentState, ContactState, PlanState, RoleCheck};

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    fn all_on() -> SubscriptionCoverage {
        SubscriptionCoverage {
            subscription_id: SUB.into(),
            plans: rules::PLAN_RULES
                .iter()
                .map(|p| PlanState {
                    name: p.plan.into(),
                    tier: "Standard".into(),
                    subplan: None,
                    extensions: BTreeMap::new(),
                    deprecated: false,
                })
                .collect(),
            settings: BTreeMap::from([("WDATP".into(), true), ("MCAS".into(), true)]),
            auto_provision: Some("Off".into()),
            contact: Some(ContactState {
                emails: vec!["soc@contoso.com".into()],
                phone: Some("+1-555".into()),
                enabled: true,
                alert_minimal_severity: Some("High".into()),
                attack_path_minimal_risk_level: Some("Critical".into()),
                notify_roles: vec!["Owner".into()],
            }),
            workspace_settings: vec![],
            assignments: vec![AssignmentState {
                id: format!(
                    "/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/mde"
                ),
                name: "mde".into(),
                scope: format!("/subscriptions/{SUB}"),
                policy: "mde".into(),
                definition_id: String::new(),
                display_name: None,
                enforcement_mode: "Default".into(),
                deploys: true,
                identity_type: "SystemAssigned".into(),
                principal_id: Some("p".into()),
                roles: vec![RoleCheck {
                    role_definition_id: "b24988ac-6180-42a0-ab88-20f7382dd24c".into(),
                    role_name: Some("Contributor".into()),
                    scope: format!("/subscriptions/{SUB}"),
                    held: true,
                }],
                roles_complete: true,
                remediation: None,
            }],
            errors: vec![],
            findings: vec![],
        }
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule_id).collect()
    }

    #[test]
    fn a_fully_protected_subscription_has_no_findings() {
        assert!(findings(&all_on()).is_empty(), "{:#?}", findings(&all_on()));
    }

    #[test]
    fn each_gap_is_one_finding() {
        let mut c = all_on();
        c.plans[0].tier = "Free".into();
        c.settings.insert("MCAS".into(), false);
        c.assignments[0].roles[0].held = false;
        c.assignments[0].remediation = Some(crate::audit::model::RemediationState {
            id: "r".into(),
            state: "Failed".into(),
            created_on: None,
            total: 2,
            succeeded: 0,
            failed: 2,
        });
        let f = findings(&c);
        assert_eq!(
            ids(&f),
            [
                "DFC-PLAN-VIRTUALMACHINES",
                "DFC-SETTING-MCAS",
                "DFC-ASSIGNMENT-ROLES",
                "DFC-REMEDIATION-FAILED"
            ]
        );
        assert!(f[2].message.contains("Contributor"), "{}", f[2].message);
        assert!(f[0].public_ids().contains("CKV_AZURE_55"));
    }

    #[test]
    fn a_missing_contact_is_one_finding_and_a_partial_one_several() {
        let mut c = all_on();
        c.contact = None;
        assert_eq!(ids(&findings(&c)), ["DFC-CONTACT-MISSING"]);
        c.contact = Some(ContactState {
            emails: vec![],
            phone: None,
            enabled: false,
            alert_minimal_severity: None,
            attack_path_minimal_risk_level: None,
            notify_roles: vec![],
        });
        assert_eq!(
            ids(&findings(&c)),
            [
                "DFC-CONTACT-DISABLED",
                "DFC-CONTACT-EMAIL",
                "DFC-CONTACT-PHONE",
                "DFC-CONTACT-ALERTS",
                "DFC-CONTACT-OWNERS",
                "DFC-CONTACT-ATTACK-PATH"
            ]
        );
    }

    #[test]
    fn no_deploying_assignment_means_no_auto_provisioning() {
        let mut c = all_on();
        c.assignments[0].deploys = false;
        assert_eq!(ids(&findings(&c)), ["DFC-AUTO-PROVISIONING"]);
        c.auto_provision = Some("On".into());
        assert!(findings(&c).is_empty());
        c.assignments.clear();
        c.auto_provision = None;
        c.errors.push("listing policyAssignments: forbidden".into());
        assert_eq!(ids(&findings(&c)), ["DFC-READ-FAILED"]);
    }
}
