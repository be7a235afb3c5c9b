use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::audit::model::*;
use crate::audit::rules::PLAN_RULES;

const HALF: &str = "11111111-1111-1111-1111-111111111111";
const FULL: &str = "22222222-2222-2222-2222-222222222222";

fn plans(on: &[&str]) -> Vec<PlanState> {
    PLAN_RULES
        .iter()
        .map(|p| PlanState {
            name: p.plan.into(),
            tier: if on.contains(&p.plan) {
                "Standard"
            } else {
                "Free"
            }
            .into(),
            subplan: (p.plan == "VirtualMachines" && on.contains(&p.plan)).then(|| "P2".into()),
            extensions: BTreeMap::new(),
            deprecated: false,
        })
        .collect()
}

fn assignment(sub: &str, held: bool) -> AssignmentState {
    AssignmentState {
        id: format!("/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments/k8s"),
        name: "k8s".into(),
        scope: format!("/subscriptions/{sub}"),
        policy: "kubernetes-policy-addon".into(),
        definition_id: "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7".into(),
        display_name: None,
        enforcement_mode: "Default".into(),
        deploys: true,
        identity_type: "SystemAssigned".into(),
        principal_id: Some("p".into()),
        roles: vec![
            RoleCheck {
                role_definition_id: "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8".into(),
                role_name: Some("Azure Kubernetes Service Contributor Role".into()),
                scope: format!("/subscriptions/{sub}"),
                held: true,
            },
            RoleCheck {
                role_definition_id: "18ed5180-3e48-46fd-8541-4ea054d57064".into(),
                role_name: Some("Azure Kubernetes Service Policy Add-on Deployment".into()),
                scope: format!("/subscriptions/{sub}"),
                held,
            },
        ],
        roles_complete: held,
        remediation: Some(RemediationState {
            id: format!("/subscriptions/{sub}/providers/Microsoft.PolicyInsights/remediations/r"),
            state: "Succeeded".into(),
            created_on: None,
            total: 1,
            succeeded: 1,
            failed: 0,
        }),
    }
}

/// A half-protected and a fully protected subscription.
pub fn sample() -> AuditReport {
    let all: Vec<&str> = PLAN_RULES.iter().map(|p| p.plan).collect();
    let mut half = SubscriptionCoverage {
        subscription_id: HALF.into(),
        plans: plans(&["VirtualMachines", "CloudPosture", "KeyVaults"]),
        settings: BTreeMap::from([("WDATP".into(), true), ("MCAS".into(), false)]),
        auto_provision: Some("Off".into()),
        contact: None,
        workspace_settings: vec![],
        assignments: vec![assignment(HALF, false)],
        errors: vec![],
        findings: vec![],
    };
    half.findings = crate::audit::evaluate::findings(&half);
    let mut full = SubscriptionCoverage {
        subscription_id: FULL.into(),
        plans: plans(&all),
        settings: BTreeMap::from([("WDATP".into(), true), ("MCAS".into(), true)]),
        auto_provision: Some("Off".into()),
        contact: Some(ContactState {
            emails: vec!["soc@contoso.com".into()],
            phone: Some("+1-555-0100".into()),
            enabled: true,
            alert_minimal_severity: Some("Medium".into()),
            attack_path_minimal_risk_level: Some("High".into()),
            notify_roles: vec!["Owner".into()],
        }),
        workspace_settings: vec![],
        assignments: vec![assignment(FULL, true)],
        errors: vec![],
        findings: vec![],
    };
    full.findings = crate::audit::evaluate::findings(&full);
    let subscriptions = vec![half, full];
    AuditReport {
        tool: "terraform-provider-defender",
        version: "0.0.0-test",
        management_group_id: None,
        summary: AuditReport::summarise(&subscriptions),
        subscriptions,
    }
}

#[test]
fn the_sample_has_exactly_the_gaps_of_the_half_protected_subscription() {
    let r = sample();
    assert!(r.subscriptions[1].findings.is_empty());
    let ids: Vec<&str> = r.subscriptions[0]
        .findings
        .iter()
        .map(|f| f.rule_id)
        .collect();
    assert_eq!(
        ids,
        [
            "DFC-PLAN-CONTAINERS",
            "DFC-PLAN-STORAGEACCOUNTS",
            "DFC-PLAN-SQLSERVERS",
            "DFC-PLAN-SQLSERVERVIRTUALMACHINES",
            "DFC-PLAN-OPENSOURCERELATIONALDATABASES",
            "DFC-PLAN-COSMOSDBS",
            "DFC-PLAN-APPSERVICES",
            "DFC-PLAN-ARM",
            "DFC-PLAN-API",
            "DFC-PLAN-AI",
            "DFC-CONTACT-MISSING",
            "DFC-SETTING-MCAS",
            "DFC-ASSIGNMENT-ROLES",
        ]
    );
    assert_eq!(r.worst(), Some(crate::audit::Severity::High));
    assert_eq!(
        summary_line(&r),
        "13 findings (7 high, 4 medium, 2 low) in 2 subscriptions."
    );
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(render(&sample(), Format::Markdown));
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(render(&sample(), Format::Table));
}

#[test]
fn json_is_the_report() {
    let v: Value = serde_json::from_str(&render(&sample(), Format::Json)).unwrap();
    assert_eq!(v["summary"]["findings"], 13);
    let f = &v["subscriptions"][0]["findings"][0];
    assert_eq!(f["rule_id"], "DFC-PLAN-CONTAINERS");
    assert_eq!(f["severity"], "high");
    assert!(
        f["public_rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "CKV_AZURE_85" && p["tool"] == "Checkov")
    );
    assert_eq!(
        v["subscriptions"][1]["assignments"][0]["roles_complete"],
        true
    );
}

/// The parts of SARIF 2.1.0 GitHub code scanning reads, checked structurally.
pub fn check_sarif(v: &Value) -> Vec<&str> {
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(run["tool"]["driver"]["name"].is_string());
    for r in rules {
        assert!(r["id"].is_string() && r["shortDescription"]["text"].is_string());
        assert!(r["helpUri"].as_str().unwrap().starts_with("https://"));
        assert!(
            ["note", "warning", "error"]
                .contains(&r["defaultConfiguration"]["level"].as_str().unwrap())
        );
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
    }
    let mut ids = Vec::new();
    for res in run["results"].as_array().unwrap() {
        let id = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id, "ruleIndex points at the rule");
        assert!(["note", "warning", "error"].contains(&res["level"].as_str().unwrap()));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let loc = &res["locations"][0];
        let logical = &loc["logicalLocations"][0];
        assert_eq!(logical["kind"], "resource");
        assert!(
            logical["fullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with("/subscriptions/")
        );
        assert!(
            loc["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("azure/subscriptions/")
        );
        assert!(res["partialFingerprints"]["defenderFinding/v1"].is_string());
        ids.push(id);
    }
    ids
}

#[test]
fn sarif_is_structurally_valid() {
    let v: Value = serde_json::from_str(&render(&sample(), Format::Sarif)).unwrap();
    let ids = check_sarif(&v);
    assert_eq!(ids.len(), 13);
    assert!(ids.contains(&"DFC-CONTACT-MISSING"));
    let rule = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "DFC-AUTO-PROVISIONING")
        .unwrap();
    assert!(
        rule["properties"]["publicRules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "SecurityCenter-018" && p["verified"] == false)
    );
}

#[test]
fn html_is_self_contained_and_readable_without_colour() {
    let h = render(&sample(), Format::Html);
    assert!(h.starts_with("<!DOCTYPE html>"));
    for external in ["http://", "https://", "<script", "<link", "@import", "url("] {
        assert!(!h.contains(external), "{external} in the page");
    }
    // Every matrix cell has a symbol and a word besides its colour.
    assert!(h.contains("<td class=\"c missing\" title=\"Defender for Containers: missing\"><span class=\"sym\">✘</span>Free</td>"));
    assert!(h.contains("<span class=\"sym\">✔</span>P2</td>"));
    assert!(h.contains("1 role missing"));
    assert_eq!(h.matches("<tr><td class=\"id\">").count(), 2);
}

#[test]
fn escaping() {
    let mut r = sample();
    r.subscriptions[0].findings[0].message = "a <b> | c".into();
    assert!(render(&r, Format::Html).contains("a &lt;b&gt; | c"));
    assert!(render(&r, Format::Markdown).contains("a &lt;b&gt; \\| c"));
}

#[test]
fn exit_status_follows_fail_on() {
    use crate::audit::Severity;
    use crate::audit::cli::exit_status;
    let r = sample();
    assert_eq!(exit_status(&r, None), 0);
    assert_eq!(exit_status(&r, Some(Severity::High)), 1);
    assert_eq!(exit_status(&r, Some(Severity::Low)), 1);
    assert_eq!(exit_status(&r, Some(Severity::Critical)), 0);
}
