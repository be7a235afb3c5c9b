//! `defender_coverage` with the real Terraform CLI: the coverage of what a configuration applied
//! (plan on, integration on, an auto-provisioning assignment with its roles), what is still
//! missing with its public rule IDs, a role removed behind Terraform's back showing up as a
//! finding, an empty second plan, and bad input refused before any ARM request.

use serde_json::Value;

use crate::common::{SUBSCRIPTION, TfEnv, http_client};

fn config(extra: &str) -> String {
    format!(
        r#"
resource "defender_plan" "servers" {{
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P2"
}}

resource "defender_setting" "endpoint" {{
  name    = "WDATP"
  enabled = true
}}

resource "defender_policy_assignment" "k8s" {{
  policy   = "kubernetes-policy-addon"
  scope    = "/subscriptions/{SUBSCRIPTION}"
  location = "westeurope"
}}

data "defender_coverage" "this" {{
  depends_on = [defender_plan.servers, defender_setting.endpoint, defender_policy_assignment.k8s]
}}

output "rules" {{
  value = [for f in data.defender_coverage.this.findings : f.rule_id]
}}

output "public" {{
  value = {{ for f in data.defender_coverage.this.findings : f.rule_id => f.public_rule_ids }}
}}

output "servers" {{
  value = [for p in data.defender_coverage.this.subscriptions[0].plans : "${{p.tier}} ${{p.subplan}}" if p.name == "VirtualMachines"][0]
}}

output "assignment" {{
  value = data.defender_coverage.this.subscriptions[0].assignments[0]
}}

output "worst" {{
  value = data.defender_coverage.this.worst_severity
}}
{extra}
"#
    )
}

async fn outputs(env: &TfEnv) -> Value {
    let o = env.tf(&["output", "-json", "-no-color"]).await;
    o.assert_code(0);
    serde_json::from_str(&o.stdout).expect("output -json")
}

fn rules(out: &Value) -> Vec<String> {
    out["rules"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_reports_what_is_applied_and_what_is_missing() {
    let env = TfEnv::start().await;
    env.config(&config(""));
    env.tf(&["init", "-no-color"]).await.assert_code(0);
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let out = outputs(&env).await;
    assert_eq!(out["servers"]["value"], "Standard P2");
    let a = &out["assignment"]["value"];
    assert_eq!(a["policy"], "kubernetes-policy-addon");
    assert_eq!(a["roles_complete"], true, "{a:#}");
    assert_eq!(a["roles"].as_array().unwrap().len(), 2);
    let found = rules(&out);
    // Servers, Endpoint and auto provisioning are covered; the rest is reported.
    for covered in [
        "DFC-PLAN-VIRTUALMACHINES",
        "DFC-SETTING-WDATP",
        "DFC-AUTO-PROVISIONING",
        "DFC-ASSIGNMENT-ROLES",
    ] {
        assert!(
            !found.iter().any(|r| r == covered),
            "{covered} in {found:?}"
        );
    }
    for missing in [
        "DFC-PLAN-CLOUDPOSTURE",
        "DFC-PLAN-STORAGEACCOUNTS",
        "DFC-CONTACT-MISSING",
        "DFC-SETTING-MCAS",
    ] {
        assert!(
            found.iter().any(|r| r == missing),
            "{missing} not in {found:?}"
        );
    }
    assert_eq!(out["worst"]["value"], "high");
    let contact_ids = &out["public"]["value"]["DFC-CONTACT-MISSING"];
    for id in ["CKV_AZURE_20", "CKV_AZURE_131", "AVD-AZU-0062"] {
        assert!(
            contact_ids.as_array().unwrap().iter().any(|v| v == id),
            "{id} in {contact_ids}"
        );
    }

    // Nothing changed: the data source reads the same and the plan is empty.
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // A role removed behind Terraform's back: the next refresh reports it.
    let role_ids = role_assignment_ids(&env).await;
    assert_eq!(role_ids.len(), 2, "{role_ids:?}");
    assert!(env.emulator.delete_resource(&role_ids[0]));
    env.tf(&["apply", "-refresh-only", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let out = outputs(&env).await;
    assert!(
        rules(&out).iter().any(|r| r == "DFC-ASSIGNMENT-ROLES"),
        "{out:#}"
    );
    assert_eq!(out["assignment"]["value"]["roles_complete"], false);
}

/// The role assignments the emulator stores (control API `GET /_emulator/resources`).
async fn role_assignment_ids(env: &TfEnv) -> Vec<String> {
    let url = format!("{}/_emulator/resources", env.emulator.base_url());
    let all: Value = http_client()
        .get(url)
        .send()
        .await
        .expect("GET /_emulator/resources")
        .json()
        .await
        .expect("JSON");
    all.as_array()
        .expect("an array of stored resources")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| {
            id.to_ascii_lowercase()
                .contains("/providers/microsoft.authorization/roleassignments/")
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_at_plan_time_without_arm_requests() {
    let env = TfEnv::start().await;
    env.config(
        r#"
data "defender_coverage" "bad" {
  subscription_ids    = ["20ff7fc3-e762-44dd-bd96-b71116dcdc23", "not-a-subscription"]
  management_group_id = "has spaces"
}
"#,
    );
    env.tf(&["init", "-no-color"]).await.assert_code(0);
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let all = plan.all();
    assert!(all.contains("Invalid subscription ID"), "{all}");
    assert!(
        all.contains("\"not-a-subscription\" is not a subscription ID"),
        "{all}"
    );
    assert!(all.contains("subscription_ids"), "{all}");
    assert!(all.contains("Invalid management group"), "{all}");
    assert!(env.arm_requests().is_empty(), "{:#?}", env.arm_requests());
}
