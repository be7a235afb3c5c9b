//! defender_plan and defender_plans with the real Terraform CLI against the emulator: the
//! subscription plan lifecycle (apply, empty plan, drift, import, destroy to Free), extensions
//! Azure adds causing no diff, resource-level pricing, `moved {}` from azurerm, partial
//! extension failure, ten plans applied in parallel against 409s, plan-time diagnostics.

use std::time::Duration;

use arm_emulator::{Config, FaultRule, RuntimeConfigPatch};
use serde_json::{Value, json};

use crate::common::{SUBSCRIPTION, TfEnv, http_client};

fn pricing_id(name: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/pricings/{name}")
}

fn vm_id() -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/demo/providers/Microsoft.Compute/virtualMachines/vm-1"
    )
}

fn ext<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["properties"]["extensions"]
        .as_array()
        .unwrap_or_else(|| panic!("no extensions: {body}"))
        .iter()
        .find(|e| {
            e["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .unwrap_or_else(|| panic!("{name} not in {body}"))
}

fn ext_mut<'a>(body: &'a mut Value, name: &str) -> &'a mut Value {
    body["properties"]["extensions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == name)
        .unwrap()
}

fn arm_requests(env: &TfEnv) -> Vec<arm_emulator::RequestLogEntry> {
    env.arm_requests()
}

fn puts(env: &TfEnv) -> Vec<arm_emulator::RequestLogEntry> {
    arm_requests(env)
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect()
}

fn fast_writes() -> Config {
    Config {
        pricing_write_ms: 20,
        ..Config::default()
    }
}

const SERVERS: &str = r#"
resource "defender_plan" "servers" {
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P2"
  extensions = {
    AgentlessVmScanning = {
      enabled    = true
      properties = { ExclusionTags = jsonencode([{ Key = "env", Value = "dev" }]) }
    }
    MdeDesignatedSubscription = { enabled = false }
    FileIntegrityMonitoring   = { enabled = false }
  }
}

output "id" { value = defender_plan.servers.id }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_subscription_plan_with_extensions() {
    let env = TfEnv::with_config(fast_writes()).await;
    let id = pricing_id("VirtualMachines");
    env.config(SERVERS);

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        plan.stdout
            .contains("defender_plan.servers will be created"),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains(&format!("\"{id}\"")),
        "ID known at plan time: {}",
        plan.all()
    );

    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    // Free -> Standard: the service turned on its defaults and ignored the extensions of the
    // first PUT, so they were sent again.
    assert_eq!(puts(&env).len(), 2, "{:?}", puts(&env));
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(body["properties"]["pricingTier"], "Standard");
    assert_eq!(body["properties"]["subPlan"], "P2");
    assert_eq!(ext(&body, "AgentlessVmScanning")["isEnabled"], "True");
    assert_eq!(
        ext(&body, "AgentlessVmScanning")["additionalExtensionProperties"]["ExclusionTags"],
        r#"[{"Key":"env","Value":"dev"}]"#
    );
    assert_eq!(
        ext(&body, "MdeDesignatedSubscription")["isEnabled"],
        "False"
    );

    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // The same settings in the service's other spellings are no change: lower-case strings,
    // single-quoted JSON, properties Azure adds.
    let mut same = body.clone();
    same["properties"]["pricingTier"] = json!("standard");
    same["properties"]["subPlan"] = json!("p2");
    let scan = ext_mut(&mut same, "AgentlessVmScanning");
    scan["isEnabled"] = json!("true");
    scan["additionalExtensionProperties"] =
        json!({"exclusionTags": "[{'Key':'env','Value':'dev'}]", "AddedByAzure": "x"});
    env.emulator.set_resource(&id, same);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift made outside Terraform shows in the next plan and is repaired.
    let mut drifted = body.clone();
    ext_mut(&mut drifted, "AgentlessVmScanning")["isEnabled"] = json!("False");
    drifted["properties"]["subPlan"] = json!("P1");
    env.emulator.set_resource(&id, drifted);
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert!(drift.stdout.contains("false -> true"), "{}", drift.all());
    assert!(drift.stdout.contains("\"P1\" -> \"P2\""), "{}", drift.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(ext(&body, "AgentlessVmScanning")["isEnabled"], "True");
    assert_eq!(body["properties"]["subPlan"], "P2");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Import by ARM ID into a fresh state.
    env.tf(&["state", "rm", "defender_plan.servers"])
        .await
        .assert_code(0);
    let import = env
        .tf(&["import", "-no-color", "defender_plan.servers", &id])
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

    // A destroy Azure refuses is a clear error, and the plan stays in state.
    env.emulator
        .add_fault(
            FaultRule::arm_error(400, "BadRequest", "Pricing is locked")
                .method("PUT")
                .path("pricings/VirtualMachines")
                .times(1),
        )
        .unwrap();
    let refused = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    refused.assert_code(1);
    assert!(
        refused
            .all()
            .contains("Cannot set plan VirtualMachines back to Free"),
        "{}",
        refused.all()
    );
    assert!(
        refused.all().contains("Pricing is locked"),
        "{}",
        refused.all()
    );
    let list = env.tf(&["state", "list"]).await;
    assert!(
        list.stdout.contains("defender_plan.servers"),
        "{}",
        list.all()
    );

    // Destroy resets the plan to Free (the service default).
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
    assert_eq!(puts(&env).len(), 1, "{:?}", puts(&env));
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(body["properties"]["pricingTier"], "Free");
    assert_eq!(body["properties"]["enforce"], "False");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_azure_adds_or_reformats_cause_no_diff() {
    let env = TfEnv::with_config(fast_writes()).await;
    env.config(
        r#"
resource "defender_plan" "cspm" {
  name = "CloudPosture"
  tier = "Standard"
  extensions = {
    SensitiveDataDiscovery = { enabled = true }
  }
}

resource "defender_plan" "storage" {
  name    = "StorageAccounts"
  tier    = "Standard"
  subplan = "DefenderForStorageV2"
  extensions = {
    OnUploadMalwareScanning = {
      enabled    = true
      properties = { CapGBPerMonthPerStorageAccount = "5000" }
    }
  }
}
"#,
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    // The service answers the cap as a number, in its own casing
    // (GetPricingByNameStorageAccounts_example.json).
    let storage = env
        .emulator
        .get_resource(&pricing_id("StorageAccounts"))
        .unwrap();
    assert_eq!(
        ext(&storage, "OnUploadMalwareScanning")["additionalExtensionProperties"],
        json!({"capGBPerMonthPerStorageAccount": 5000})
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Azure adds an extension, changes one this configuration does not mention, and adds a
    // property to a managed one: none of it is this resource's business.
    let id = pricing_id("CloudPosture");
    let mut body = env.emulator.get_resource(&id).unwrap();
    body["properties"]["extensions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "ApiPosture", "isEnabled": "True"}));
    ext_mut(&mut body, "EntraPermissionsManagement")["isEnabled"] = json!("False");
    ext_mut(&mut body, "SensitiveDataDiscovery")["additionalExtensionProperties"] =
        json!({"Scope": "All"});
    env.emulator.set_resource(&id, body);
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(0);

    // Writes send only the managed extensions: the others stay as Azure has them.
    env.config(
        r#"
resource "defender_plan" "cspm" {
  name = "CloudPosture"
  tier = "Standard"
  extensions = {
    SensitiveDataDiscovery = { enabled = false }
  }
}

resource "defender_plan" "storage" {
  name    = "StorageAccounts"
  tier    = "Standard"
  subplan = "DefenderForStorageV2"
  extensions = {
    OnUploadMalwareScanning = {
      enabled    = true
      properties = { CapGBPerMonthPerStorageAccount = "5000" }
    }
  }
}
"#,
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(ext(&body, "SensitiveDataDiscovery")["isEnabled"], "False");
    assert_eq!(ext(&body, "ApiPosture")["isEnabled"], "True");
    assert_eq!(
        ext(&body, "EntraPermissionsManagement")["isEnabled"],
        "False"
    );
    assert_eq!(ext(&body, "AgentlessVmScanning")["isEnabled"], "True");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_level_pricing_lifecycle() {
    let env = TfEnv::with_config(fast_writes()).await;
    let vm = vm_id();
    let id = format!("{vm}/providers/Microsoft.Security/pricings/VirtualMachines");
    env.config(&format!(
        r#"
resource "defender_plan" "vm" {{
  name  = "VirtualMachines"
  tier  = "Standard"
  scope = "{vm}"
}}
"#
    ));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    // Resource level takes P1 only: known at plan time.
    assert!(
        plan.stdout.contains("subplan                   = \"P1\""),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout
            .contains(&format!("subscription_id           = \"{SUBSCRIPTION}\"")),
        "{}",
        plan.all()
    );

    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(body["properties"]["pricingTier"], "Standard");
    assert_eq!(body["properties"]["subPlan"], "P1");
    assert_eq!(body["properties"]["inherited"], "False");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Someone removed the machine's own pricing: it is recreated.
    assert!(env.emulator.delete_resource(&id));
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert!(drift.stdout.contains("will be created"), "{}", drift.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);

    // Import by the resource-level ID.
    env.tf(&["state", "rm", "defender_plan.vm"])
        .await
        .assert_code(0);
    env.tf(&["import", "-no-color", "defender_plan.vm", &id])
        .await
        .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Destroy deletes the machine's pricing; it inherits its subscription's plan again.
    env.emulator.clear_requests();
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let deletes: Vec<_> = arm_requests(&env)
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].status, 200);
    let body = env.emulator.get_resource(&id).unwrap();
    assert_eq!(body["properties"]["inherited"], "True", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_case_updates_in_place_and_never_drops_to_free() {
    // Replacing a subscription plan means destroy (back to Free) then create: a gap in
    // protection. The subscription GUID, the plan name and a machine's ID compare without case
    // in ARM, so writing them in another case is an in-place update.
    let env = TfEnv::with_config(fast_writes()).await;
    let vm = vm_id();
    let config = |sub: &str, name: &str, scope: &str| {
        format!(
            r#"
resource "defender_plan" "kv" {{
  subscription_id = "{sub}"
  name            = "{name}"
  tier            = "Standard"
}}
resource "defender_plan" "vm" {{
  name  = "VirtualMachines"
  tier  = "Free"
  scope = "{scope}"
}}
"#
        )
    };
    env.config(&config(SUBSCRIPTION, "KeyVaults", &vm));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let upper = SUBSCRIPTION.to_ascii_uppercase();
    env.config(&config(
        &upper,
        "keyvaults",
        &vm.replace("resourceGroups", "resourcegroups"),
    ));
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
    // A replacement would set KeyVaults to Free first ("2 destroyed").
    assert!(
        apply.stdout.contains("0 added, 2 changed, 0 destroyed"),
        "{}",
        apply.all()
    );
    for r in env.arm_requests() {
        assert_ne!(r.method, "DELETE", "{} {}", r.method, r.path);
    }
    let stored = env.emulator.get_resource(&pricing_id("KeyVaults")).unwrap();
    assert_eq!(stored["properties"]["pricingTier"], "Standard");
    let machine = format!("{vm}/providers/Microsoft.Security/pricings/VirtualMachines");
    assert!(
        env.emulator.get_resource(&machine).is_some(),
        "the machine's pricing stays"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Another subscription is another plan.
    env.config(&config(
        "11111111-2222-4333-8444-555555555555",
        "KeyVaults",
        &vm,
    ));
    let other = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    other.assert_code(2);
    assert!(other.stdout.contains("must be replaced"), "{}", other.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_from_azurerm_security_center_subscription_pricing() {
    let env = TfEnv::with_config(fast_writes()).await;
    let id = pricing_id("CloudPosture");
    // What azurerm left in Azure: CSPM on, two extensions enabled.
    let mut body = env.emulator.get_resource(&id).unwrap();
    body["properties"]["pricingTier"] = json!("Standard");
    for e in body["properties"]["extensions"].as_array_mut().unwrap() {
        let on = e["name"] == "AgentlessVmScanning" || e["name"] == "SensitiveDataDiscovery";
        e["isEnabled"] = json!(if on { "True" } else { "False" });
        if e["name"] == "AgentlessVmScanning" {
            e["additionalExtensionProperties"] = json!({"ExclusionTags": "[]"});
        }
    }
    env.emulator.set_resource(&id, body);
    // A state written by azurerm (schema version 1): extension blocks list the enabled ones.
    let state = json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1,
        "lineage": "0f5e3f63-7d0a-4c1b-a3a2-91c1f2a3b4c5", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "azurerm_security_center_subscription_pricing", "name": "cspm",
            "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
            "instances": [{"schema_version": 1,
                "attributes": {
                    "id": id, "tier": "Standard", "resource_type": "CloudPosture", "subplan": "",
                    "extension": [
                        {"name": "AgentlessVmScanning", "additional_extension_properties": {"ExclusionTags": "[]"}},
                        {"name": "SensitiveDataDiscovery", "additional_extension_properties": null}
                    ],
                    "timeouts": null
                },
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
        r#"
moved {
  from = azurerm_security_center_subscription_pricing.cspm
  to   = defender_plan.cspm
}

resource "defender_plan" "cspm" {
  name = "CloudPosture"
  tier = "Standard"
  extensions = {
    AgentlessVmScanning    = { enabled = true, properties = { ExclusionTags = "[]" } }
    SensitiveDataDiscovery = { enabled = true }
  }
}
"#,
    );
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        plan.stdout.contains("has moved to defender_plan.cspm"),
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
    let writes: Vec<_> = arm_requests(&env)
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(
        writes.is_empty(),
        "a move writes nothing to ARM: {writes:?}"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_extension_is_an_error_and_kept_disabled_in_state() {
    let env = TfEnv::with_config(Config {
        pricing_write_ms: 20,
        pricing_failing_extensions: vec!["SensitiveDataDiscovery".into()],
        ..Config::default()
    })
    .await;
    env.config(
        r#"
resource "defender_plan" "cspm" {
  name = "CloudPosture"
  tier = "Standard"
  extensions = {
    SensitiveDataDiscovery     = { enabled = true }
    EntraPermissionsManagement = { enabled = true }
  }
}
"#,
    );
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = apply.all();
    assert!(
        text.contains("Extension SensitiveDataDiscovery was not enabled"),
        "{text}"
    );
    assert!(
        text.contains("Failed assigning roles"),
        "the service's message: {text}"
    );
    assert!(
        !text.contains("Extension EntraPermissionsManagement"),
        "{text}"
    );
    // What was applied is in state; the failed extension is recorded off, so the next plan
    // tries again.
    let list = env.tf(&["state", "list"]).await;
    assert!(list.stdout.contains("defender_plan.cspm"), "{}", list.all());
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(plan.stdout.contains("false -> true"), "{}", plan.all());

    env.emulator.update_config(RuntimeConfigPatch {
        pricing_failing_extensions: Some(vec![]),
        ..Default::default()
    });
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

const TEN_PLANS: [(&str, &str); 10] = [
    ("VirtualMachines", "P1"),
    ("StorageAccounts", "DefenderForStorageV2"),
    ("KeyVaults", "PerKeyVault"),
    ("Arm", "PerSubscription"),
    ("Api", "P1"),
    ("Containers", ""),
    ("CloudPosture", ""),
    ("AppServices", ""),
    ("SqlServers", ""),
    ("OpenSourceRelationalDatabases", ""),
];

fn ten_plans(tier: &str) -> String {
    TEN_PLANS
        .iter()
        .map(|(name, sub)| {
            let sub = if sub.is_empty() || tier == "Free" {
                String::new()
            } else {
                format!("\n  subplan = \"{sub}\"")
            };
            format!(
                "resource \"defender_plan\" \"{}\" {{\n  name = \"{name}\"\n  tier = \"{tier}\"{sub}\n}}\n",
                name.to_lowercase()
            )
        })
        .collect()
}

fn arrival(r: &arm_emulator::RequestLogEntry) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_plans_in_parallel_are_serialised_and_409s_retried() {
    // Every pricing write stays in flight 300 ms; a concurrent one answers 409.
    let env = TfEnv::with_config(Config {
        pricing_write_ms: 300,
        ..Config::default()
    })
    .await;
    env.config(&ten_plans("Standard"));
    env.emulator.clear_requests();
    let apply = env
        .tf(&["apply", "-auto-approve", "-no-color", "-parallelism=10"])
        .await;
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 10 added"),
        "{}",
        apply.all()
    );
    for (name, _) in TEN_PLANS {
        let body = env.emulator.get_resource(&pricing_id(name)).unwrap();
        assert_eq!(body["properties"]["pricingTier"], "Standard", "{name}");
    }
    // The provider serialised its writes: none overlapped, so none was refused.
    let mut writes = puts(&env);
    assert_eq!(writes.len(), 10, "{writes:?}");
    assert!(writes.iter().all(|w| w.status == 200), "{writes:?}");
    writes.sort_by_key(arrival);
    for pair in writes.windows(2) {
        let end = arrival(&pair[0]) + Duration::from_millis(pair[0].duration_ms);
        assert!(
            arrival(&pair[1]) + Duration::from_millis(5) >= end,
            "overlapping pricing writes: {pair:?}"
        );
    }
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Someone else (the portal, a policy) writes pricings of the subscription meanwhile: the
    // provider's writes meet 409 "Another update operation is in progress" and retry.
    env.emulator.clear_requests();
    let token = env.emulator.issue_token("portal-user");
    let url = format!(
        "{}{}?api-version=2024-01-01",
        env.emulator.base_url(),
        pricing_id("CosmosDbs")
    );
    let emulator = env.emulator.state();
    let portal = tokio::spawn(async move {
        let client = http_client();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut writes = 0;
        // Keep a write in flight until the provider has been refused at least once.
        while tokio::time::Instant::now() < deadline {
            let refused = emulator
                .requests()
                .iter()
                .any(|r| r.status == 409 && !r.path.ends_with("/CosmosDbs"));
            if refused {
                break;
            }
            let _ = client
                .put(&url)
                .bearer_auth(&token)
                .json(&json!({"properties": {"pricingTier": "Standard"}}))
                .send()
                .await;
            writes += 1;
        }
        writes
    });
    env.config(&ten_plans("Free"));
    let apply = env
        .tf(&["apply", "-auto-approve", "-no-color", "-parallelism=10"])
        .await;
    let portal_writes = portal.await.unwrap();
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("Resources: 0 added, 10 changed"),
        "{}",
        apply.all()
    );
    assert!(portal_writes > 0);
    let provider_writes: Vec<_> = puts(&env)
        .into_iter()
        .filter(|r| !r.path.ends_with("/CosmosDbs"))
        .collect();
    let refused = provider_writes.iter().filter(|r| r.status == 409).count();
    assert!(refused >= 1, "the provider met a 409: {provider_writes:?}");
    assert_eq!(
        provider_writes.iter().filter(|r| r.status == 200).count(),
        10,
        "every plan written once the 409s were retried: {provider_writes:?}"
    );
    for (name, _) in TEN_PLANS {
        let body = env.emulator.get_resource(&pricing_id(name)).unwrap();
        assert_eq!(body["properties"]["pricingTier"], "Free", "{name}");
    }
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_at_plan_time_without_arm_calls() {
    let env = TfEnv::start().await;
    let cases = [
        (
            "name = \"VirtualMachine\"\n  tier = \"Standard\"",
            "Error: Unknown plan",
            "\"VirtualMachines\"",
            "name = \"VirtualMachine\"",
        ),
        (
            "name    = \"KeyVaults\"\n  tier    = \"Standard\"\n  subplan = \"P2\"",
            "Error: Sub-plan not allowed for the plan",
            "\"PerTransaction\" and \"PerKeyVault\"",
            "subplan = \"P2\"",
        ),
        (
            "name = \"VirtualMachines\"\n  tier = \"Free\"\n  extensions = {\n    AgentlessVmScanning = { enabled = true }\n  }",
            "Error: Extension needs Standard",
            "tier = \"Standard\"",
            "AgentlessVmScanning = { enabled = true }",
        ),
        (
            "name = \"CloudPosture\"\n  tier = \"Standard\"\n  extensions = {\n    Foo = { enabled = true }\n  }",
            "Error: Unknown extension",
            "\"EntraPermissionsManagement\"",
            "Foo = { enabled = true }",
        ),
    ];
    for (body, summary, allowed, pointer) in cases {
        env.config(&format!(
            "resource \"defender_plan\" \"bad\" {{\n  {body}\n}}\n"
        ));
        env.emulator.clear_requests();
        let plan = env.tf(&["plan", "-no-color"]).await;
        plan.assert_code(1);
        // Terraform wraps long lines.
        let text = plan.all().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains(summary), "{summary}: {text}");
        assert!(
            text.contains(allowed),
            "names what is allowed ({allowed}): {text}"
        );
        assert!(
            text.contains(pointer),
            "points at the attribute ({pointer}): {text}"
        );
        let arm = arm_requests(&env);
        assert!(arm.is_empty(), "no ARM request for bad input: {arm:?}");
    }

    // A retired plan is a warning naming its replacement.
    env.config("resource \"defender_plan\" \"old\" {\n  name = \"KubernetesService\"\n  tier = \"Free\"\n}\n");
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(
        plan.all().contains("Warning: Retired plan"),
        "{}",
        plan.all()
    );
    assert!(plan.all().contains("\"Containers\""), "{}", plan.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_source_lists_plans_with_an_optional_name_filter() {
    let env = TfEnv::with_config(fast_writes()).await;
    env.config(
        r#"
resource "defender_plan" "servers" {
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P2"
}

data "defender_plans" "all" {
  depends_on = [defender_plan.servers]
}

data "defender_plans" "some" {
  names      = ["virtualmachines", "KeyVaults"]
  depends_on = [defender_plan.servers]
}

output "all" { value = data.defender_plans.all.plans }
output "some" { value = data.defender_plans.some.plans }
"#,
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let out = env.tf(&["output", "-json"]).await;
    out.assert_code(0);
    let outputs: Value = serde_json::from_str(&out.stdout).unwrap();
    let all = outputs["all"]["value"].as_array().unwrap();
    assert_eq!(all.len(), 16, "{all:?}");
    let vm = all.iter().find(|p| p["name"] == "VirtualMachines").unwrap();
    assert_eq!(vm["tier"], "Standard");
    assert_eq!(vm["subplan"], "P2");
    assert_eq!(vm["extensions"]["AgentlessVmScanning"]["enabled"], true);
    assert_eq!(
        vm["extensions"]["AgentlessVmScanning"]["properties"]["ExclusionTags"],
        "[]"
    );
    let dns = all.iter().find(|p| p["name"] == "Dns").unwrap();
    assert_eq!(dns["deprecated"], true);
    assert_eq!(dns["replaced_by"], json!(["VirtualMachines"]));
    let some: Vec<&str> = outputs["some"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(some, ["VirtualMachines", "KeyVaults"]);
    let filtered = env
        .emulator
        .requests()
        .into_iter()
        .any(|r| r.query.as_deref().is_some_and(|q| q.contains("filter")));
    assert!(filtered, "the name filter is ARM's $filter");

    let env2 = TfEnv::start().await;
    env2.config("data \"defender_plans\" \"bad\" {\n  names = [\"Servers\"]\n}\n");
    let plan = env2.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    assert!(plan.all().contains("Error: Unknown plan"), "{}", plan.all());
    assert!(arm_requests(&env2).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_apply_and_plan_empty() {
    let env = TfEnv::with_config(fast_writes()).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let resource =
        std::fs::read_to_string(root.join("examples/resources/defender_plan/resource.tf")).unwrap();
    let data =
        std::fs::read_to_string(root.join("examples/data-sources/defender_plans/data-source.tf"))
            .unwrap();
    env.config(&format!("{resource}\n{data}"));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    // The data sources were read before the plans were applied; a second apply reads them
    // again and changes no resource.
    let again = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    again.assert_code(0);
    assert!(
        again
            .stdout
            .contains("Resources: 0 added, 0 changed, 0 destroyed"),
        "{}",
        again.all()
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    let out = env.tf(&["output", "-json"]).await;
    let outputs: Value = serde_json::from_str(&out.stdout).unwrap();
    let enabled: Vec<&str> = outputs["enabled_plans"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(enabled, ["VirtualMachines", "CloudPosture"], "{outputs}");
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
}
