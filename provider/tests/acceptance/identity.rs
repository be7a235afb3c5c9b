//! `import { to = …, identity = { … } }` for the resources whose identities are not covered by
//! `query.rs`: `defender_auto_provisioning`, `defender_server_vulnerability_assessment`,
//! `defender_policy_remediation`, `defender_security_events`, `defender_workspace_solution` and
//! `defender_sentinel_connector`. Everything is made by one configuration whose state is then
//! thrown away; a second configuration imports all six by identity (spelt with an upper-case
//! subscription where the identity has one), the imports write nothing, the identities in state
//! are canonical and the plan after is empty.

use serde_json::{Value, json};

use crate::common::{SUBSCRIPTION, TfEnv};

const RG: &str = "rg-identity";

fn ws_id(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/{name}"
    )
}

/// A finished workspace with Microsoft Sentinel onboarded, as if made outside Terraform.
fn seed_workspace(env: &TfEnv, name: &str) -> String {
    let id = ws_id(SUBSCRIPTION, name);
    env.emulator.set_resource(
        &id,
        json!({
            "id": id, "name": name, "type": "Microsoft.OperationalInsights/workspaces",
            "location": "westeurope", "tags": {},
            "properties": {"customerId": uuid::Uuid::new_v4().to_string(),
                           "provisioningState": "Succeeded", "sku": {"name": "PerGB2018"},
                           "retentionInDays": 30}
        }),
    );
    let onboarding = format!("{id}/providers/Microsoft.SecurityInsights/onboardingStates/default");
    env.emulator.set_resource(
        &onboarding,
        json!({"id": onboarding, "name": "default",
               "type": "Microsoft.SecurityInsights/onboardingStates",
               "properties": {"customerManagedKey": false}}),
    );
    id
}

/// The six resources, as both configurations write them.
fn resources(law: &str, assignment: &str) -> String {
    format!(
        r#"resource "defender_auto_provisioning" "this" {{
  enabled = false
}}

resource "defender_server_vulnerability_assessment" "this" {{
  selected_provider = "MdeTvm"
}}

resource "defender_policy_remediation" "deps" {{
  policy_assignment_id = "{assignment}"
  name                 = "remediate-deps"
}}

resource "defender_security_events" "this" {{
  workspace_id = "{law}"
  tier         = "Common"
}}

resource "defender_workspace_solution" "this" {{
  workspace_id = "{law}"
  solution     = "Security"
}}

resource "defender_sentinel_connector" "this" {{
  workspace_id = "{law}"
}}
"#
    )
}

/// Requests that write to ARM (not GET), as `METHOD path`.
fn arm_writes(env: &TfEnv) -> Vec<String> {
    env.arm_requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_blocks_by_identity_for_the_remaining_six_resources() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-identity");
    let scope = format!("/subscriptions/{SUBSCRIPTION}");
    let assignment = format!(
        "{scope}/providers/Microsoft.Authorization/policyAssignments/dependency-agent-linux"
    );
    let assignment_hcl = format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{scope}"
  location = "westeurope"
}}
"#
    );
    // Made "elsewhere": applied, then the state is thrown away.
    env.config(&format!(
        "{assignment_hcl}\n{}",
        resources(&law, &assignment).replace(
            &format!("policy_assignment_id = \"{assignment}\""),
            "policy_assignment_id = defender_policy_assignment.deps.id"
        )
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let made: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path().join("terraform.tfstate")).unwrap(),
    )
    .unwrap();
    let connector_name = made["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "defender_sentinel_connector")
        .and_then(|r| r["instances"][0]["attributes"]["name"].as_str())
        .expect("the connector's derived name")
        .to_owned();
    std::fs::remove_file(env.path().join("terraform.tfstate")).unwrap();

    // Identities as a user might spell them: an upper-case subscription, a lower-case
    // solution; optional subscriptions left to the provider's or given.
    let shouty_sub = SUBSCRIPTION.to_uppercase();
    let shouty_law = ws_id(&shouty_sub, "law-identity");
    env.config(&format!(
        r#"import {{
  to       = defender_auto_provisioning.this
  identity = {{}}
}}
import {{
  to       = defender_server_vulnerability_assessment.this
  identity = {{ subscription_id = "{shouty_sub}" }}
}}
import {{
  to       = defender_policy_remediation.deps
  identity = {{
    scope = "/subscriptions/{shouty_sub}"
    name  = "remediate-deps"
  }}
}}
import {{
  to       = defender_security_events.this
  identity = {{ workspace_id = "{shouty_law}" }}
}}
import {{
  to       = defender_workspace_solution.this
  identity = {{
    workspace_id = "{law}"
    solution     = "security"
  }}
}}
import {{
  to       = defender_sentinel_connector.this
  identity = {{
    workspace_id = "{law}"
    name         = "{connector_name}"
  }}
}}

{}"#,
        resources(&law, &assignment)
    ));
    env.emulator.clear_requests();
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(
        plan.all()
            .contains("Plan: 6 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let writes = arm_writes(&env);
    assert!(writes.is_empty(), "an import wrote to ARM: {writes:?}");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // The identities in state, canonical whatever the import blocks spelt.
    let show = env.tf(&["show", "-json", "-no-color"]).await;
    show.assert_code(0);
    let shown: Value = serde_json::from_str(&show.stdout).expect("terraform show -json");
    let identity_of = |ty: &str| {
        shown["values"]["root_module"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == ty)
            .map(|r| r["identity"].clone())
            .unwrap_or_else(|| panic!("{ty} in {shown:#}"))
    };
    assert_eq!(
        identity_of("defender_auto_provisioning"),
        json!({"subscription_id": SUBSCRIPTION})
    );
    assert_eq!(
        identity_of("defender_server_vulnerability_assessment"),
        json!({"subscription_id": SUBSCRIPTION})
    );
    assert_eq!(
        identity_of("defender_policy_remediation"),
        json!({"scope": scope, "name": "remediate-deps"})
    );
    assert_eq!(
        identity_of("defender_security_events"),
        json!({"workspace_id": law})
    );
    assert_eq!(
        identity_of("defender_workspace_solution"),
        json!({"workspace_id": law, "solution": "Security"})
    );
    assert_eq!(
        identity_of("defender_sentinel_connector"),
        json!({"workspace_id": law, "name": connector_name})
    );

    // Import by ID still works beside identity.
    std::fs::remove_file(env.path().join("terraform.tfstate")).unwrap();
    env.config(&resources(&law, &assignment));
    env.tf(&[
        "import",
        "-no-color",
        "defender_security_events.this",
        &format!("{law}/dataSources/SecurityEventCollectionConfiguration"),
    ])
    .await
    .assert_code(0);
    let show = env.state_show("defender_security_events.this").await;
    show.assert_code(0);
    assert!(show.stdout.contains("tier"), "{}", show.all());

    // A bad identity is refused before any ARM call, naming what is expected.
    std::fs::remove_file(env.path().join("terraform.tfstate")).unwrap();
    env.config(&format!(
        r#"import {{
  to       = defender_workspace_solution.this
  identity = {{
    workspace_id = "{law}"
    solution     = "Sentinel"
  }}
}}
resource "defender_workspace_solution" "this" {{
  workspace_id = "{law}"
  solution     = "Security"
}}
"#
    ));
    env.emulator.clear_requests();
    let bad = env.tf(&["plan", "-no-color"]).await;
    bad.assert_code(1);
    assert!(
        bad.all()
            .contains("\"Sentinel\" is not a Defender for Cloud solution"),
        "{}",
        bad.all()
    );
    let requests: Vec<String> = env
        .arm_requests()
        .into_iter()
        .filter(|r| r.path.contains("/solutions/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(requests.is_empty(), "{requests:?}");
}
