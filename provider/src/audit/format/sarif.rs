//! SARIF 2.1.0 for GitHub code scanning and other dashboards.
//!
//! - Every rule of the audit is in `tool.driver.rules` (with `helpUri` to the guide, the
//!   default level, `security-severity` as GitHub reads it, and the public rule IDs as tags and
//!   in `properties.publicRules`); results refer to them by `ruleId` and `ruleIndex`.
//! - A finding is about a subscription, not a file: each result's location has a logical
//!   location (`kind: "resource"`, the subscription's ARM ID as `fullyQualifiedName`) and, because
//!   GitHub code scanning only shows results with a physical location, a repository-relative
//!   pseudo path `azure/subscriptions/{id}` (no region).
//! - `partialFingerprints` is a UUIDv5 of rule, subscription and resource, so a finding keeps its
//!   alert across runs.

use serde_json::{Value, json};

use crate::audit::model::AuditReport;
use crate::audit::rules;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn rule_json(r: &rules::Rule) -> Value {
    let public: Vec<Value> = r
        .public
        .iter()
        .map(|p| {
            let mut v = json!({"tool": p.tool.as_str(), "id": p.id, "verified": p.verified});
            if let Some(n) = p.note {
                v["note"] = json!(n);
            }
            v
        })
        .collect();
    let mut tags = vec!["security".to_owned(), "defender-for-cloud".to_owned()];
    tags.extend(r.public.iter().map(|p| p.id.to_owned()));
    let public_text = if r.public.is_empty() {
        "No public rule corresponds.".to_owned()
    } else {
        format!(
            "Corresponds to: {}.",
            r.public
                .iter()
                .map(|p| format!(
                    "{} {}{}",
                    p.tool.as_str(),
                    p.id,
                    if p.verified { "" } else { " (unverified)" }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    json!({
        "id": r.id,
        "name": r.id.trim_start_matches("DFC-").to_ascii_lowercase().replace('-', "_"),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": format!("{} {}", r.title, public_text)},
        "helpUri": r.help_uri(),
        "help": {
            "text": format!("{} {}", r.remediation, public_text),
            "markdown": format!("{}\n\n{}", r.remediation, public_text),
        },
        "defaultConfiguration": {"level": r.severity.sarif_level()},
        "properties": {
            "tags": tags,
            "precision": "very-high",
            "problem.severity": r.severity.sarif_level(),
            "security-severity": r.severity.security_severity(),
            "publicRules": public,
        }
    })
}

/// The SARIF log.
pub fn log(report: &AuditReport) -> Value {
    let all = rules::all();
    let results: Vec<Value> = report
        .findings()
        .map(|f| {
            let index = all.iter().position(|r| r.id == f.rule_id).unwrap_or(0);
            let sub_id = format!("/subscriptions/{}", f.subscription_id);
            let fingerprint = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("{}|{}|{}", f.rule_id, f.subscription_id, f.resource_id.to_ascii_lowercase())
                    .as_bytes(),
            );
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index,
                "level": f.severity.sarif_level(),
                "message": {"text": format!("{} {}", f.message, f.remediation)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": format!("azure/subscriptions/{}", f.subscription_id)}
                    },
                    "logicalLocations": [{
                        "name": f.subscription_id,
                        "fullyQualifiedName": sub_id,
                        "kind": "resource"
                    }]
                }],
                "partialFingerprints": {"defenderFinding/v1": fingerprint.to_string()},
                "properties": {
                    "subscriptionId": f.subscription_id,
                    "resourceId": f.resource_id,
                    "severity": f.severity.as_str(),
                    "publicRules": f.public_rules.iter().map(|p| p.id).collect::<Vec<_>>(),
                }
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "terraform-provider-defender audit",
                "semanticVersion": crate::VERSION,
                "informationUri": "https://registry.terraform.io/providers/defenderops/defender/latest/docs/guides/audit",
                "rules": all.iter().map(|r| rule_json(r)).collect::<Vec<_>>(),
            }},
            "automationDetails": {"id": "defender-audit/"},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
