//! The policy catalog through the real Terraform CLI: data source `defender_policy_definition`
//! and the functions `policy_definition_id` and `role_definition_ids`. All offline: no ARM
//! request reaches Microsoft.Authorization.

use serde_json::Value;

use crate::common::TfEnv;

const CONFIG: &str = r#"
data "defender_policy_definition" "addon" {
  key = "kubernetes-policy-addon"
}

data "defender_policy_definition" "mde" {
  key = "mde"
}

data "defender_policy_definition" "aks_defender" {
  key = "defender-containers-aks"
}

output "addon_id" { value = data.defender_policy_definition.addon.id }
output "addon_kind" { value = data.defender_policy_definition.addon.kind }
output "addon_roles" { value = data.defender_policy_definition.addon.role_definition_ids }
output "addon_effect_default" {
  value = jsondecode(data.defender_policy_definition.addon.parameters["effect"].default_value)
}
output "addon_effect_allowed" {
  value = [for v in data.defender_policy_definition.addon.parameters["effect"].allowed_values : jsondecode(v)]
}
output "mde_kind" { value = data.defender_policy_definition.mde.kind }
output "mde_members" { value = [for m in data.defender_policy_definition.mde.members : m.key] }
output "workspace_param" {
  value = data.defender_policy_definition.aks_defender.parameters["logAnalyticsWorkspaceResourceId"]
}
output "fn_id" { value = provider::defender::policy_definition_id("dependency-agent-windows") }
output "fn_set_id" { value = provider::defender::policy_definition_id("mde") }
output "fn_roles" { value = provider::defender::role_definition_ids("kubernetes-policy-addon") }
output "fn_matches_data" {
  value = provider::defender::policy_definition_id("kubernetes-policy-addon") == data.defender_policy_definition.addon.id
}
"#;

fn outputs(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("terraform output -json");
    let mut out = serde_json::Map::new();
    for (k, o) in v.as_object().unwrap() {
        out.insert(k.clone(), o["value"].clone());
    }
    Value::Object(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_source_and_functions() {
    let env = TfEnv::start().await;
    env.config(CONFIG);

    // Known at plan time: the plan shows the values, not "(known after apply)".
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(
        plan.stdout.contains(
            "fn_id                = \"/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04\""
        ),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains(
            "addon_id             = \"/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7\""
        ),
        "{}",
        plan.all()
    );

    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let out = env.tf(&["output", "-json"]).await;
    out.assert_code(0);
    let o = outputs(&out.stdout);
    assert_eq!(
        o["addon_id"],
        "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7"
    );
    assert_eq!(o["addon_kind"], "Definition");
    assert_eq!(
        o["addon_roles"],
        serde_json::json!([
            "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
            "18ed5180-3e48-46fd-8541-4ea054d57064"
        ])
    );
    assert_eq!(o["addon_effect_default"], "DeployIfNotExists");
    assert_eq!(
        o["addon_effect_allowed"],
        serde_json::json!(["DeployIfNotExists", "Disabled"])
    );
    assert_eq!(o["mde_kind"], "Set");
    assert_eq!(
        o["mde_members"],
        serde_json::json!([
            "mde-windows",
            "mde-linux",
            "mde-windows-arc",
            "mde-linux-arc"
        ])
    );
    assert_eq!(o["workspace_param"]["assign_permissions"], true);
    assert_eq!(o["workspace_param"]["required"], false);
    assert_eq!(o["workspace_param"]["type"], "String");
    assert_eq!(
        o["fn_set_id"],
        "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc"
    );
    assert_eq!(
        o["fn_roles"],
        serde_json::json!([
            "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8",
            "18ed5180-3e48-46fd-8541-4ea054d57064"
        ])
    );
    assert_eq!(o["fn_matches_data"], true);

    // A second plan is empty.
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Nothing of this asked ARM.
    let policy_requests: Vec<_> = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| {
            r.path
                .to_ascii_lowercase()
                .contains("microsoft.authorization")
        })
        .collect();
    assert!(policy_requests.is_empty(), "{policy_requests:?}");
}

/// Terraform wraps diagnostic text; compare with single spaces.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_fail_at_plan_time() {
    let env = TfEnv::start().await;
    env.config(
        r#"
data "defender_policy_definition" "x" {
  key = "kubernetes-addon"
}
"#,
    );
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = flat(&plan.all());
    assert!(text.contains("Unknown policy"), "{text}");
    assert!(
        text.contains("Did you mean kubernetes-policy-addon"),
        "{text}"
    );
    assert!(text.contains("data.defender_policy_definition.x"), "{text}");

    env.config(r#"output "x" { value = provider::defender::role_definition_ids("mde-window") }"#);
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = flat(&plan.all());
    assert!(
        text.contains("Invalid value for \"key\" parameter"),
        "{text}"
    );
    assert!(text.contains("Did you mean mde-windows"), "{text}");
    // Nothing asked ARM.
    assert!(env.emulator.requests().iter().all(|r| {
        !r.path
            .to_ascii_lowercase()
            .contains("microsoft.authorization")
    }),);
}
