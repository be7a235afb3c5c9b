//! defender_auto_provisioning with the real Terraform CLI against the emulator:
//! plan, apply, empty second plan, drift, import, destroy; the retirement diagnostic;
//! `moved {}` from azurerm; the schema as Terraform sees it.

use crate::common::{SUBSCRIPTION, TfEnv};
use serde_json::json;

fn setting_id(sub: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings/default")
}

fn auto_provision(env: &TfEnv, sub: &str) -> Option<String> {
    env.emulator.get_resource(&setting_id(sub)).and_then(|r| {
        r.pointer("/properties/autoProvision")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_plan_apply_drift_import_destroy() {
    let env = TfEnv::start().await;
    let id = setting_id(SUBSCRIPTION);
    // The portal had turned it on before the legacy agent was retired.
    env.emulator.set_resource(
        &id,
        json!({"id": id, "name": "default", "type": "Microsoft.Security/autoProvisioningSettings",
               "properties": {"autoProvision": "On"}}),
    );
    env.config("resource \"defender_auto_provisioning\" \"this\" {\n  enabled = false\n}\n\noutput \"id\" { value = defender_auto_provisioning.this.id }");

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        plan.stdout
            .contains("defender_auto_provisioning.this will be created"),
        "{}",
        plan.all()
    );
    // The ID is known at plan time: it derives from the provider's subscription.
    assert!(
        plan.stdout.contains(&format!("id              = \"{id}\"")),
        "{}",
        plan.all()
    );

    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 1 added"),
        "{}",
        apply.all()
    );
    assert_eq!(auto_provision(&env, SUBSCRIPTION).as_deref(), Some("Off"));

    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift made outside Terraform shows in the next plan and is repaired.
    env.emulator.set_resource(
        &id,
        json!({"id": id, "name": "default", "type": "Microsoft.Security/autoProvisioningSettings",
               "properties": {"autoProvision": "On"}}),
    );
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert!(
        drift.stdout.contains("~ enabled         = true -> false"),
        "{}",
        drift.all()
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(auto_provision(&env, SUBSCRIPTION).as_deref(), Some("Off"));

    // Import by ARM ID into a fresh state.
    env.tf(&["state", "rm", "defender_auto_provisioning.this"])
        .await
        .assert_code(0);
    let import = env
        .tf(&[
            "import",
            "-no-color",
            "defender_auto_provisioning.this",
            &id,
        ])
        .await;
    import.assert_code(0);
    assert!(
        import.stdout.contains("Import successful!"),
        "{}",
        import.all()
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Destroy resets the singleton to Off (the service default).
    env.emulator.clear_requests();
    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 1 destroyed"),
        "{}",
        destroy.all()
    );
    let puts: Vec<_> = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1, "destroy PUTs Off once: {puts:?}");
    assert_eq!(auto_provision(&env, SUBSCRIPTION).as_deref(), Some("Off"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabling_explains_the_retirement_and_names_the_successors() {
    let env = TfEnv::start().await;
    env.config("resource \"defender_auto_provisioning\" \"this\" {\n  enabled = true\n}");
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(
        plan.all()
            .contains("Warning: Log Analytics agent auto-provisioning is retired"),
        "{}",
        plan.all()
    );

    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = apply.all();
    assert!(
        text.contains("Error: Log Analytics agent auto-provisioning is retired"),
        "{text}"
    );
    assert!(text.contains("Deprecated"), "the ARM code is shown: {text}");
    assert!(
        text.contains("request id"),
        "the ARM request id is shown: {text}"
    );
    assert!(
        text.contains("policy = \"mde\""),
        "Defender for Endpoint named: {text}"
    );
    assert!(text.contains("Azure Monitor Agent"), "AMA named: {text}");
    assert!(
        text.contains("with defender_auto_provisioning.this"),
        "points at the resource: {text}"
    );
    // Nothing was created, so nothing is in state.
    let list = env.tf(&["state", "list"]).await;
    assert!(
        !list.stdout.contains("defender_auto_provisioning.this"),
        "{}",
        list.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subscription_id_is_refused_at_plan_time_without_arm_calls() {
    let env = TfEnv::start().await;
    env.config("resource \"defender_auto_provisioning\" \"this\" {\n  subscription_id = \"not-a-guid\"\n  enabled = false\n}");
    env.emulator.clear_requests();
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = plan.all();
    assert!(text.contains("Error: Invalid subscription ID"), "{text}");
    assert!(
        text.contains("\"not-a-guid\" is not a subscription ID"),
        "{text}"
    );
    assert!(
        text.contains("subscription_id = \"not-a-guid\""),
        "points at the attribute: {text}"
    );
    let arm = env.arm_requests();
    assert!(arm.is_empty(), "no ARM request for bad input: {arm:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_from_azurerm_security_center_auto_provisioning() {
    let env = TfEnv::start().await;
    let id = setting_id(SUBSCRIPTION);
    // A state written by azurerm (its schema version 0: id, auto_provision, timeouts).
    let state = json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1,
        "lineage": "5d0b0a6e-3c55-4b34-9c3a-2a1b6f0f7f11", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "azurerm_security_center_auto_provisioning", "name": "this",
            "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
            "instances": [{"schema_version": 0,
                           "attributes": {"id": id, "auto_provision": "Off", "timeouts": null},
                           "sensitive_attributes": [], "private": "bnVsbA=="}]
        }],
        "check_results": null
    });
    std::fs::write(
        env.path().join("terraform.tfstate"),
        serde_json::to_vec_pretty(&state).unwrap(),
    )
    .unwrap();
    env.config(
        "moved {\n  from = azurerm_security_center_auto_provisioning.this\n  to   = defender_auto_provisioning.this\n}\n\n\
         resource \"defender_auto_provisioning\" \"this\" {\n  enabled = false\n}",
    );
    // A move is a change to state (exit 2) with nothing to do in Azure.
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        plan.stdout
            .contains("has moved to defender_auto_provisioning.this"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let writes: Vec<_> = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/subscriptions"))
        .collect();
    assert!(
        writes.is_empty(),
        "a move writes nothing to ARM: {writes:?}"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    let show = env.state_show("defender_auto_provisioning.this").await;
    show.assert_code(0);
    assert!(show.stdout.contains(&id), "{}", show.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_schema_carries_doc_comment_descriptions() {
    let env = TfEnv::start().await;
    env.config("resource \"defender_auto_provisioning\" \"this\" {\n  enabled = false\n}");
    let out = env.tf(&["providers", "schema", "-json"]).await;
    out.assert_code(0);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).expect("schema JSON");
    let provider = &schema["provider_schemas"]["registry.terraform.io/defenderops/defender"];
    let res = &provider["resource_schemas"]["defender_auto_provisioning"]["block"];
    assert!(
        res["description"]
            .as_str()
            .unwrap()
            .starts_with("Manages the legacy auto-provisioning setting"),
        "{res}"
    );
    let enabled = &res["attributes"]["enabled"];
    assert_eq!(enabled["type"], "bool");
    assert_eq!(enabled["required"], true);
    assert!(
        enabled["description"]
            .as_str()
            .unwrap()
            .contains("autoProvision"),
        "{enabled}"
    );
    assert_eq!(res["attributes"]["id"]["computed"], true);
    assert_eq!(
        provider["provider"]["block"]["attributes"]["client_secret"]["sensitive"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_case_in_subscription_id_updates_singletons_in_place() {
    // Replacing a singleton means resetting it to the service default first (auto provisioning
    // off, the contact deleted). A subscription GUID in another case is the same subscription.
    let env = TfEnv::start().await;
    let config = |sub: &str| {
        format!(
            "resource \"defender_auto_provisioning\" \"this\" {{\n  subscription_id = \"{sub}\"\n  enabled         = false\n}}\n\n\
             resource \"defender_security_contact\" \"this\" {{\n  subscription_id = \"{sub}\"\n  emails          = [\"secops@contoso.com\"]\n}}\n"
        )
    };
    env.config(&config(SUBSCRIPTION));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    env.config(&config(&SUBSCRIPTION.to_ascii_uppercase()));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        !plan.stdout.contains("must be replaced") && plan.stdout.contains("2 to change"),
        "{}",
        plan.all()
    );
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("0 added, 2 changed, 0 destroyed"),
        "{}",
        apply.all()
    );
    for r in env.arm_requests() {
        assert_ne!(r.method, "DELETE", "{} {}", r.method, r.path);
    }
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}
