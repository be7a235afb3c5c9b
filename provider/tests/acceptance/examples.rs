//! The scenario examples under `examples/` apply against the emulator and plan empty after.

use std::path::Path;

use serde_json::json;

use crate::common::{SUBSCRIPTION, TfEnv};

fn copy_example(env: &TfEnv, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, env.path().join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defender_for_servers_applies_then_plans_empty() {
    let env = TfEnv::start().await;
    // The workspace is managed outside this configuration.
    let ws = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-security/providers/Microsoft.OperationalInsights/workspaces/law-security"
    );
    env.emulator.set_resource(
        &ws,
        json!({"id": ws, "name": "law-security", "type": "Microsoft.OperationalInsights/workspaces",
               "location": "westeurope", "tags": {},
               "properties": {"customerId": "4b0c5c0f-0b5e-4f6e-9d56-3c4f2b3f9a11",
                              "provisioningState": "Succeeded", "sku": {"name": "PerGB2018"},
                              "retentionInDays": 30}}),
    );
    copy_example(&env, "defender-for-servers");
    let var = format!("workspace_id={ws}");
    let apply = env
        .tf(&["apply", "-auto-approve", "-no-color", "-var", &var])
        .await;
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 7 added"),
        "{}",
        apply.all()
    );
    assert!(
        apply.stdout.contains("servers_plan = \"Standard P2\""),
        "{}",
        apply.all()
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color", "-var", &var])
        .await
        .assert_code(0);

    let pricing = env
        .emulator
        .get_resource(&format!(
            "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/pricings/VirtualMachines"
        ))
        .unwrap();
    assert_eq!(
        pricing["properties"]["pricingTier"], "Standard",
        "{pricing}"
    );
    let events = env
        .emulator
        .get_resource(&format!(
            "{ws}/dataSources/SecurityEventCollectionConfiguration"
        ))
        .unwrap();
    assert_eq!(
        events["properties"]["tier"], "Recommended",
        "Common is Recommended in the API: {events}"
    );

    env.tf(&["destroy", "-auto-approve", "-no-color", "-var", &var])
        .await
        .assert_code(0);
}
