//! `terraform query` with list blocks against the emulator: what was made "in the portal"
//! (stored in the emulator directly, or applied from another configuration whose state is then
//! thrown away) is found, `-generate-config-out` writes configuration and import blocks (by
//! identity), and that configuration imports without a write and then plans empty — for
//! `defender_setting`, `defender_plan`, `defender_security_contact`,
//! `defender_workspace_setting` and `defender_policy_assignment`. `import { identity = { … } }`
//! written by hand works too.

use serde_json::json;

use crate::common::{SUBSCRIPTION, TfEnv, TfOutput};

/// Writes `main.tfquery.hcl`.
fn query_file(env: &TfEnv, body: &str) {
    std::fs::write(env.path().join("main.tfquery.hcl"), body).expect("writing the query file");
}

fn generated(env: &TfEnv) -> String {
    std::fs::read_to_string(env.path().join("generated.tf")).expect("generated.tf written")
}

#[track_caller]
fn assert_contains(out: &TfOutput, text: &str) {
    assert!(
        out.all().contains(text),
        "expected {text:?} in:\n{}",
        out.all()
    );
}

/// Terraform aligns `=` in blocks: compare HCL lines with whitespace collapsed.
fn flat(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[track_caller]
fn assert_hcl(hcl: &str, line: &str) {
    assert!(
        flat(hcl).lines().any(|l| l == line),
        "expected the line {line:?} in:\n{hcl}"
    );
}

/// Requests to ARM (not the token or metadata endpoints), as `METHOD path`.
fn arm_requests(env: &TfEnv) -> Vec<String> {
    env.emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/subscriptions") || r.path.starts_with("/providers"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn list_block(type_name: &str, config: &str) -> String {
    format!(
        "list \"{type_name}\" \"portal\" {{\n  provider         = defender\n  include_resource = true\n  config {{\n{config}\n  }}\n}}\n"
    )
}

/// Runs the query with config generation; then plans and applies the generated import blocks
/// and configuration (no ARM write), and checks the plan after is empty. Returns the query's
/// output and the generated HCL.
async fn query_generate_apply_empty(env: &TfEnv, expect_imports: usize) -> (TfOutput, String) {
    env.emulator.clear_requests();
    let query = env
        .tf(&["query", "-no-color", "-generate-config-out=generated.tf"])
        .await;
    query.assert_code(0);
    let reads: Vec<String> = arm_requests(env)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect();
    assert!(reads.is_empty(), "the query wrote to ARM: {reads:?}");
    let hcl = generated(env);
    assert_eq!(
        hcl.matches("\nimport {").count(),
        expect_imports,
        "{hcl}\n{}",
        query.all()
    );
    assert!(!hcl.contains(" id "), "computed-only id generated:\n{hcl}");
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert_contains(
        &plan,
        &format!("Plan: {expect_imports} to import, 0 to add, 0 to change, 0 to destroy."),
    );
    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let writes: Vec<String> = arm_requests(env)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect();
    assert!(writes.is_empty(), "an import wrote to ARM: {writes:?}");
    let again = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    again.assert_code(0);
    (query, hcl)
}

fn security_id(type_name: &str, name: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/{type_name}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_made_in_the_portal_are_listed_generated_and_plan_empty() {
    let env = TfEnv::start().await;
    for (name, kind) in [
        ("WDATP", "DataExportSettings"),
        ("Sentinel", "AlertSyncSettings"),
    ] {
        let id = security_id("settings", name);
        env.emulator.set_resource(
            &id,
            json!({"name": name, "type": "Microsoft.Security/settings", "id": id,
                   "kind": kind, "properties": {"enabled": true}}),
        );
    }
    env.config("");
    query_file(
        &env,
        &list_block(
            "defender_setting",
            &format!("    subscription_ids = [\"{SUBSCRIPTION}\"]"),
        ),
    );
    let (query, hcl) = query_generate_apply_empty(&env, 5).await;
    // What the query shows: one line per setting, its display name.
    // One line per result: the address, the identity, the display name.
    assert!(
        query
            .stdout
            .lines()
            .any(|l| l.starts_with("list.defender_setting.portal")
                && l.contains(&format!("name=WDATP,subscription_id={SUBSCRIPTION}"))
                && l.ends_with(&format!("WDATP ({SUBSCRIPTION}): enabled"))),
        "{}",
        query.all()
    );
    assert_contains(&query, "MCAS (");
    assert_hcl(&hcl, "resource \"defender_setting\" \"portal_0\" {");
    assert_hcl(&hcl, "name = \"WDATP\"");
    assert_hcl(&hcl, "enabled = true");
    assert_hcl(
        &hcl,
        "name = \"WDATP_VNEXT\""
            .replace("WDATP_VNEXT", "MCAS")
            .as_str(),
    );
    assert_hcl(&hcl, &format!("subscription_id = \"{SUBSCRIPTION}\""));
    assert!(
        !hcl.contains("kind"),
        "computed-only kind generated:\n{hcl}"
    );
    assert!(!hcl.contains("WDATP_VNEXT"), "{hcl}");
    assert_hcl(&hcl, "to = defender_setting.portal_4");
    assert_hcl(&hcl, "name = \"Sentinel\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_made_in_the_portal_are_listed_generated_and_plan_empty() {
    let env = TfEnv::start().await;
    // The published GET answers (2024-01-01 examples): extension properties as JSON in a
    // string, and as a JSON number.
    let vm = security_id("pricings", "VirtualMachines");
    env.emulator.set_resource(
        &vm,
        json!({"id": vm, "name": "VirtualMachines", "type": "Microsoft.Security/pricings",
            "properties": {"pricingTier": "Standard", "subPlan": "P2",
                "freeTrialRemainingTime": "PT0S", "enablementTime": "2023-03-01T12:42:42.1921106Z",
                "enforce": "False", "resourcesCoverageStatus": "PartiallyCovered",
                "extensions": [
                    {"name": "AgentlessVmScanning", "isEnabled": "True",
                     "additionalExtensionProperties": {"ExclusionTags": "[{\"Key\":\"TestKey1\",\"Value\":\"TestValue1\"}]"}},
                    {"name": "MdeDesignatedSubscription", "isEnabled": "False"},
                    {"name": "FileIntegrityMonitoring", "isEnabled": "False"}]}}),
    );
    let storage = security_id("pricings", "StorageAccounts");
    env.emulator.set_resource(
        &storage,
        json!({"id": storage, "name": "StorageAccounts", "type": "Microsoft.Security/pricings",
            "properties": {"pricingTier": "Standard", "subPlan": "DefenderForStorageV2",
                "freeTrialRemainingTime": "PT0S", "enablementTime": "2023-03-01T12:42:42.1921106Z",
                "enforce": "True", "resourcesCoverageStatus": "FullyCovered",
                "extensions": [
                    {"name": "OnUploadMalwareScanning", "isEnabled": "True",
                     "additionalExtensionProperties": {"CapGBPerMonthPerStorageAccount": 10}},
                    {"name": "SensitiveDataDiscovery", "isEnabled": "True"}]}}),
    );
    env.config("");
    // Only the plans that are on.
    query_file(
        &env,
        &list_block("defender_plan", "    tier = \"Standard\""),
    );
    let (query, hcl) = query_generate_apply_empty(&env, 2).await;
    assert_contains(
        &query,
        &format!("VirtualMachines ({SUBSCRIPTION}): Standard P2"),
    );
    assert_hcl(&hcl, "name = \"VirtualMachines\"");
    assert_hcl(&hcl, "subplan = \"P2\"");
    assert_hcl(&hcl, "tier = \"Standard\"");
    assert_hcl(&hcl, "enforce = true");
    assert_hcl(&hcl, "subplan = \"DefenderForStorageV2\"");
    // A JSON document in a string comes back as jsonencode(), a number as its text.
    assert_hcl(&hcl, "CapGBPerMonthPerStorageAccount = \"10\"");
    // Terraform 1.15 writes it as the string (later versions as jsonencode(…)); either way
    // it plans empty.
    assert!(
        hcl.contains(r#"ExclusionTags = "[{\"Key\":\"TestKey1\",\"Value\":\"TestValue1\"}]""#)
            || hcl.contains("ExclusionTags = jsonencode("),
        "{hcl}"
    );
    for computed in [
        "enablement_time",
        "free_trial_remaining",
        "resources_coverage_status",
    ] {
        assert!(!hcl.contains(computed), "computed-only {computed}:\n{hcl}");
    }
    assert_hcl(&hcl, "identity = {");
    assert_hcl(&hcl, "scope = null");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_and_workspace_setting_made_in_the_portal_plan_empty_after_generation() {
    let env = TfEnv::start().await;
    let contact = security_id("securityContacts", "default");
    env.emulator.set_resource(
        &contact,
        json!({"id": contact, "name": "default", "type": "Microsoft.Security/securityContacts",
        "properties": {
            "notificationsByRole": {"state": "On", "roles": ["Owner"]},
            "isEnabled": true,
            "emails": "secops@contoso.com;jane@contoso.com",
            "phone": "+1-214-275-4038",
            "notificationsSources": [
                {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"},
                {"sourceType": "Alert", "minimalSeverity": "Medium"}
            ]}}),
    );
    let workspace = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/security/providers/Microsoft.OperationalInsights/workspaces/central"
    );
    env.emulator.set_resource(
        &workspace,
        json!({"id": workspace, "name": "central", "type": "Microsoft.OperationalInsights/workspaces",
               "location": "westeurope", "tags": {},
               "properties": {"customerId": "3d0e5a0b-1f0c-4a8e-9c35-4f4b2f0e9f11",
                              "provisioningState": "Succeeded", "sku": {"name": "PerGB2018"},
                              "retentionInDays": 30}}),
    );
    let setting = security_id("workspaceSettings", "default");
    env.emulator.set_resource(
        &setting,
        json!({"id": setting, "name": "default", "type": "Microsoft.Security/workspaceSettings",
               "properties": {"workspaceId": workspace, "scope": format!("/subscriptions/{SUBSCRIPTION}")}}),
    );
    env.config("");
    // The workspace setting's documented example: a list block without a config block.
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/list-resources/defender_workspace_setting/workspaces.tfquery.hcl"),
    )
    .unwrap();
    assert!(!example.contains("config {"), "{example}");
    query_file(
        &env,
        &format!("{}\n{example}", list_block("defender_security_contact", "")),
    );
    let (query, hcl) = query_generate_apply_empty(&env, 2).await;
    assert_contains(&query, "secops@contoso.com, jane@contoso.com");
    assert_hcl(
        &hcl,
        "emails = [\"secops@contoso.com\", \"jane@contoso.com\"]",
    );
    assert_hcl(&hcl, "alert_minimal_severity = \"Medium\"");
    assert_hcl(&hcl, "attack_path_minimal_risk_level = \"Critical\"");
    assert_hcl(&hcl, "notify_roles = [\"Owner\"]");
    assert_hcl(&hcl, &format!("workspace_id = \"{workspace}\""));
    assert_hcl(&hcl, &format!("scope = \"/subscriptions/{SUBSCRIPTION}\""));
    assert_hcl(&hcl, "to = defender_workspace_setting.custom_0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_assignments_made_elsewhere_are_listed_generated_and_plan_empty() {
    let env = TfEnv::start().await;
    let scope = format!("/subscriptions/{SUBSCRIPTION}");
    // Made by another configuration (as the portal would: the assignment, its identity and
    // its role assignments); its state is then thrown away.
    env.config(&format!(
        r#"resource "defender_policy_assignment" "elsewhere" {{
  policy   = "dependency-agent-windows"
  scope    = "{scope}"
  location = "westeurope"
  parameters = {{ effect = "Disabled" }}
}}
resource "defender_policy_assignment" "other" {{
  policy   = "kubernetes-policy-addon"
  scope    = "{scope}"
  location = "westeurope"
}}
"#
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    std::fs::remove_file(env.path().join("terraform.tfstate")).unwrap();
    env.config("");
    query_file(
        &env,
        &list_block(
            "defender_policy_assignment",
            &format!("    scope    = \"{scope}\"\n    policies = [\"dependency-agent-windows\"]"),
        ),
    );
    let (query, hcl) = query_generate_apply_empty(&env, 1).await;
    assert_contains(
        &query,
        &format!("dependency-agent-windows ({scope}): dependency-agent-windows"),
    );
    assert!(!query.all().contains("kubernetes"), "{}", query.all());
    assert_hcl(&hcl, "policy = \"dependency-agent-windows\"");
    assert_hcl(&hcl, "location = \"westeurope\"");
    assert_hcl(&hcl, "effect = \"Disabled\"");
    assert_hcl(&hcl, &format!("scope = \"{scope}\""));
    assert_hcl(&hcl, "name = \"dependency-agent-windows\"");
    assert!(!hcl.contains("principal_id"), "{hcl}");
    assert!(!hcl.contains("role_assignments"), "{hcl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_blocks_by_identity_for_plan_and_policy_assignment() {
    let env = TfEnv::start().await;
    let scope = format!("/subscriptions/{SUBSCRIPTION}");
    env.config(&format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{scope}"
  location = "westeurope"
}}
"#
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    std::fs::remove_file(env.path().join("terraform.tfstate")).unwrap();
    let vm = security_id("pricings", "VirtualMachines");
    env.emulator.set_resource(
        &vm,
        json!({"id": vm, "name": "VirtualMachines", "type": "Microsoft.Security/pricings",
            "properties": {"pricingTier": "Standard", "subPlan": "P1", "enforce": "False",
                "extensions": [{"name": "MdeDesignatedSubscription", "isEnabled": "False"}]}}),
    );
    // The subscription of the plan's identity defaults to the provider's.
    env.config(&format!(
        r#"import {{
  to       = defender_plan.servers
  identity = {{ name = "virtualmachines" }}
}}
resource "defender_plan" "servers" {{
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P1"
  extensions = {{
    MdeDesignatedSubscription = {{ enabled = false }}
  }}
}}

import {{
  to       = defender_policy_assignment.deps
  identity = {{
    scope = "{scope}"
    name  = "dependency-agent-linux"
  }}
}}
resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{scope}"
  location = "westeurope"
}}
"#
    ));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert_contains(
        &plan,
        "Plan: 2 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    // The identity is in state, canonical.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.path().join("terraform.tfstate")).unwrap(),
    )
    .unwrap();
    let identity_of = |ty: &str| {
        state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == ty)
            .map(|r| r["instances"][0]["identity"].clone())
            .unwrap()
    };
    assert_eq!(
        identity_of("defender_plan"),
        json!({"name": "VirtualMachines", "subscription_id": SUBSCRIPTION, "scope": null})
    );
    assert_eq!(
        identity_of("defender_policy_assignment"),
        json!({"name": "dependency-agent-linux", "scope": scope})
    );

    // A bad identity is refused before any ARM call.
    env.config(
        r#"import {
  to       = defender_setting.x
  identity = { name = "WDATP", subscription_id = "not-a-guid" }
}
resource "defender_setting" "x" {
  name    = "WDATP"
  enabled = true
}
"#,
    );
    let bad = env.tf(&["plan", "-no-color"]).await;
    bad.assert_code(1);
    assert_contains(&bad, "\"not-a-guid\" is not a subscription ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_configuration_is_refused_on_the_attribute_without_arm_requests() {
    let env = TfEnv::start().await;
    env.config("");
    query_file(
        &env,
        &format!(
            "{}\n{}",
            list_block("defender_plan", "    tier = \"Gold\""),
            list_block(
                "defender_policy_assignment",
                "    policies = [\"no-such-policy\"]"
            )
        ),
    );
    env.emulator.clear_requests();
    let out = env.tf(&["query", "-no-color"]).await;
    out.assert_code(1);
    assert_contains(
        &out,
        "\"Gold\" is not a tier. Allowed values: \"Free\" and \"Standard\".",
    );
    assert_contains(&out, "\"no-such-policy\" is not a catalog key.");
    assert!(arm_requests(&env).is_empty(), "{:?}", arm_requests(&env));
}
