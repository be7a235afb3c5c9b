//! Microsoft.Security/pricings: plans at subscription and resource level, PUT validation and
//! echo, `$filter`, and ARM's serialisation of pricing writes (409 while one is in flight).

use crate::common;

use arm_emulator::{Config, EmulatorHandle};
use common::*;
use serde_json::{Value, json};

const API: &str = "2024-01-01";

fn pricing_path(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}")
}

fn url(emu: &EmulatorHandle, path: &str, api: &str) -> String {
    format!("{}{path}?api-version={api}", emu.base_url())
}

fn vm(sub: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/DEMO/providers/Microsoft.Compute/virtualMachines/VM-1"
    )
}

async fn delete(url: &str, token: &str) -> reqwest::Response {
    client()
        .delete(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn ext<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["properties"]["extensions"]
        .as_array()
        .unwrap_or_else(|| panic!("no extensions in {body}"))
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {body}"))
}

fn fast() -> Config {
    Config {
        pricing_write_ms: 0,
        ..Config::default()
    }
}

#[tokio::test]
async fn every_plan_exists_free_and_lists_filter_by_name() {
    let emu = start(fast()).await;
    let token = token(&emu).await;
    let sub = new_subscription();

    let (status, body) = json(
        get(
            &url(&emu, &pricing_path(&sub, "virtualmachines"), API),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], pricing_path(&sub, "VirtualMachines"));
    assert_eq!(body["name"], "VirtualMachines");
    assert_eq!(body["type"], "Microsoft.Security/pricings");
    assert_eq!(body["properties"]["pricingTier"], "Free");
    assert_eq!(body["properties"]["enforce"], "False");
    assert_eq!(ext(&body, "AgentlessVmScanning")["isEnabled"], "False");

    let collection = format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings");
    let (status, list) = json(get(&url(&emu, &collection, API), &token).await).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 16, "{names:?}");
    for n in [
        "VirtualMachines",
        "CloudPosture",
        "KubernetesService",
        "Dns",
        "AI",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let k8s = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "KubernetesService")
        .unwrap();
    assert_eq!(k8s["properties"]["deprecated"], true);
    assert_eq!(k8s["properties"]["replacedBy"], json!(["Containers"]));

    // ListPricingsWithPlanFilter_example.json's filter (the parameter name is case-insensitive).
    let filtered = format!(
        "{}&$Filter={}",
        url(&emu, &collection, API),
        "name%20in%20(VirtualMachines,KeyVaults)"
    );
    let (status, list) = json(get(&filtered, &token).await).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["VirtualMachines", "KeyVaults"]);
    let bad = format!("{}&$filter=name%20eq%20'Arm'", url(&emu, &collection, API));
    let (status, body) = json(get(&bad, &token).await).await;
    assert_eq!((status, arm_code(&body)), (400, "InvalidFilter"));

    // Unknown plans do not exist.
    let (status, body) =
        json(get(&url(&emu, &pricing_path(&sub, "Nope"), API), &token).await).await;
    assert_eq!((status, arm_code(&body)), (404, "ResourceNotFound"));

    // 2023-01-01 knows no enforce or coverage status.
    let (status, body) =
        json(get(&url(&emu, &pricing_path(&sub, "Arm"), "2023-01-01"), &token).await).await;
    assert_eq!(status, 200);
    assert!(body["properties"].get("enforce").is_none(), "{body}");
    assert!(
        body["properties"].get("resourcesCoverageStatus").is_none(),
        "{body}"
    );
}

#[tokio::test]
async fn put_echoes_with_computed_fields_and_extension_status() {
    let emu = start(fast()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let u = url(&emu, &pricing_path(&sub, "VirtualMachines"), API);

    // Free -> Standard: the service enables the plan's defaults; the request's extensions do
    // not take effect in this PUT.
    let (status, body) = json(
        put(
            &u,
            &token,
            json!({"properties": {"pricingTier": "standard", "subPlan": "p2", "enforce": "true",
                "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "False"}]}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let p = &body["properties"];
    assert_eq!(p["pricingTier"], "Standard");
    assert_eq!(p["subPlan"], "P2");
    assert_eq!(p["enforce"], "True");
    assert_eq!(p["freeTrialRemainingTime"], "P30D");
    assert_eq!(p["resourcesCoverageStatus"], "FullyCovered");
    assert!(p["enablementTime"].as_str().unwrap().ends_with('Z'));
    let scan = ext(&body, "AgentlessVmScanning");
    assert_eq!(scan["isEnabled"], "True");
    assert_eq!(
        scan["additionalExtensionProperties"],
        json!({"ExclusionTags": "[]"})
    );
    assert_eq!(scan["operationStatus"]["code"], "Succeeded");
    let enabled_at = p["enablementTime"].clone();

    // Standard -> Standard: only the named extensions change.
    let (status, body) = json(
        put(
            &u,
            &token,
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P2",
                "extensions": [
                    {"name": "AgentlessVmScanning", "isEnabled": "true",
                     "additionalExtensionProperties": {"ExclusionTags": "[ {\"Key\": \"env\", \"Value\": \"dev\"} ]"}},
                    {"name": "MdeDesignatedSubscription", "isEnabled": "True"}]}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["enablementTime"], enabled_at);
    assert_eq!(body["properties"]["enforce"], "True", "kept when not sent");
    assert_eq!(
        ext(&body, "AgentlessVmScanning")["additionalExtensionProperties"]["ExclusionTags"],
        "[{\"Key\":\"env\",\"Value\":\"dev\"}]"
    );
    assert_eq!(
        ext(&body, "MdeDesignatedSubscription")["operationStatus"]["code"],
        "Succeeded"
    );
    assert!(
        ext(&body, "FileIntegrityMonitoring")
            .get("operationStatus")
            .is_none()
    );

    // GET: the stored resource, without operationStatus.
    let (_, got) = json(get(&u, &token).await).await;
    assert_eq!(ext(&got, "MdeDesignatedSubscription")["isEnabled"], "True");
    assert!(
        ext(&got, "MdeDesignatedSubscription")
            .get("operationStatus")
            .is_none()
    );

    // Back to Free: extensions off, sub-plan gone.
    let (status, body) =
        json(put(&u, &token, json!({"properties": {"pricingTier": "Free"}})).await).await;
    assert_eq!(status, 200);
    assert!(body["properties"].get("subPlan").is_none());
    assert_eq!(body["properties"]["resourcesCoverageStatus"], "NotCovered");
    assert_eq!(ext(&body, "AgentlessVmScanning")["isEnabled"], "False");
}

#[tokio::test]
async fn put_validation() {
    let emu = start(fast()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let u = |name: &str| url(&emu, &pricing_path(&sub, name), API);
    // Make VirtualMachines Standard first, so extension requests are applied (not ignored).
    let (status, _) = json(
        put(
            &u("VirtualMachines"),
            &token,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    for (name, body, status, code, words) in [
        (
            "VirtualMachines",
            json!({"properties": {}}),
            400,
            "InvalidInputJson",
            "pricingTier",
        ),
        (
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Gold"}}),
            400,
            "InvalidInputJson",
            "'Free', 'Standard'",
        ),
        (
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P3"}}),
            400,
            "InvalidInputJson",
            "'P1', 'P2'",
        ),
        (
            "KeyVaults",
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}}),
            400,
            "InvalidInputJson",
            "'PerTransaction', 'PerKeyVault'",
        ),
        (
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "extensions": [{"name": "Foo", "isEnabled": "True"}]}}),
            400,
            "InvalidInputJson",
            "AgentlessVmScanning",
        ),
        (
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Free", "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "True"}]}}),
            400,
            "InvalidInputJson",
            "'Free'",
        ),
        (
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "extensions": [{"name": "AgentlessVmScanning", "isEnabled": "False", "additionalExtensionProperties": {"ExclusionTags": "[]"}}]}}),
            500,
            "InternalServerError",
            "while the extension is disabled",
        ),
        (
            "Nope",
            json!({"properties": {"pricingTier": "Free"}}),
            400,
            "InvalidInputJson",
            "is not supported",
        ),
    ] {
        let (s, b) = json(put(&u(name), &token, body.clone()).await).await;
        assert_eq!((s, arm_code(&b)), (status, code), "{body} -> {b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(words),
            "{b}"
        );
    }
    // Subscription-level pricings cannot be deleted.
    let (s, b) = json(delete(&u("VirtualMachines"), &token).await).await;
    assert_eq!(s, 400, "{b}");
}

#[tokio::test]
async fn a_failing_extension_reports_failed_and_stays_off() {
    let emu = start(Config {
        pricing_write_ms: 0,
        pricing_failing_extensions: vec!["SensitiveDataDiscovery".into()],
        ..Config::default()
    })
    .await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let u = url(&emu, &pricing_path(&sub, "CloudPosture"), API);
    let (status, body) = json(
        put(
            &u,
            &token,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    // As PutPricingByNamePartialSuccess_example.json: 200, the extension answered enabled with
    // a failed operationStatus, the others succeeded.
    let sdd = ext(&body, "SensitiveDataDiscovery");
    assert_eq!(sdd["isEnabled"], "True");
    assert_eq!(sdd["operationStatus"]["code"], "Failed");
    assert_eq!(
        ext(&body, "EntraPermissionsManagement")["operationStatus"]["code"],
        "Succeeded"
    );
    let (_, got) = json(get(&u, &token).await).await;
    assert_eq!(ext(&got, "SensitiveDataDiscovery")["isEnabled"], "False");
}

#[tokio::test]
async fn concurrent_writes_of_one_subscription_get_409() {
    let emu = start(Config {
        pricing_write_ms: 400,
        ..Config::default()
    })
    .await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let other = new_subscription();
    let body = json!({"properties": {"pricingTier": "Standard"}});
    let first = url(&emu, &pricing_path(&sub, "KeyVaults"), API);
    let second = url(&emu, &pricing_path(&sub, "Arm"), API);
    let elsewhere = url(&emu, &pricing_path(&other, "Arm"), API);
    let (a, b, c) = tokio::join!(
        put(&first, &token, body.clone()),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            put(&second, &token, body.clone()).await
        },
        // Another subscription is not serialised with these.
        put(&elsewhere, &token, body.clone()),
    );
    let (a, b, c) = (json(a).await, json(b).await, json(c).await);
    assert_eq!(a.0, 200, "{}", a.1);
    assert_eq!(c.0, 200, "{}", c.1);
    assert_eq!((b.0, arm_code(&b.1)), (409, "Conflict"), "{}", b.1);
    assert_eq!(
        b.1["error"]["message"],
        "Another update operation is in progress"
    );
    // The refused write changed nothing; once the first is done, writes go through again.
    let (_, arm) = json(get(&url(&emu, &pricing_path(&sub, "Arm"), API), &token).await).await;
    assert_eq!(arm["properties"]["pricingTier"], "Free");
    let (s, _) = json(put(&url(&emu, &pricing_path(&sub, "Arm"), API), &token, body).await).await;
    assert_eq!(s, 200);
    // The write duration is a runtime setting.
    let rt = emu.update_config(arm_emulator::RuntimeConfigPatch {
        pricing_write_ms: Some(0),
        ..Default::default()
    });
    assert_eq!(rt.pricing_write_ms, 0);
}

#[tokio::test]
async fn resource_level_pricing_on_a_vm() {
    let emu = start(fast()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let path = format!(
        "{}/providers/Microsoft.Security/pricings/VirtualMachines",
        vm(&sub)
    );
    let u = url(&emu, &path, API);

    // The subscription's plan, inherited.
    let (status, _) = json(
        put(
            &url(&emu, &pricing_path(&sub, "VirtualMachines"), API),
            &token,
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P2"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = json(get(&u, &token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["inherited"], "True");
    assert_eq!(
        body["properties"]["inheritedFrom"],
        format!("/subscriptions/{sub}")
    );
    assert_eq!(body["properties"]["subPlan"], "P2");

    // Only VirtualMachines with P1 (or Free).
    let (s, b) = json(
        put(
            &u,
            &token,
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P2"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("subPlan='P1'"),
        "{b}"
    );
    let cspm = format!(
        "{}/providers/Microsoft.Security/pricings/CloudPosture",
        vm(&sub)
    );
    let (s, _) = json(
        put(
            &url(&emu, &cspm, API),
            &token,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 400);

    let (s, b) = json(
        put(
            &u,
            &token,
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["id"], path);
    assert_eq!(b["properties"]["inherited"], "False");
    assert_eq!(b["properties"]["inheritedFrom"], Value::Null);
    let (s, _) = json(put(&u, &token, json!({"properties": {"pricingTier": "Free"}})).await).await;
    assert_eq!(s, 200);
    let (_, b) = json(get(&u, &token).await).await;
    assert_eq!(b["properties"]["pricingTier"], "Free");
    assert_eq!(b["properties"]["inherited"], "False");

    // Lists at the VM: its VirtualMachines pricing, the other plans Free.
    let (s, list) = json(
        get(
            &url(
                &emu,
                &format!("{}/providers/Microsoft.Security/pricings", vm(&sub)),
                API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let items = list["value"].as_array().unwrap();
    assert_eq!(items[0]["properties"]["pricingTier"], "Free");
    assert!(
        items
            .iter()
            .any(|i| i["name"] == "CloudPosture" && i["properties"]["inherited"] == "False")
    );

    // DELETE: 200, then 204 "pricing does not exist"; the VM inherits again.
    let (s, _) = json(delete(&u, &token).await).await;
    assert_eq!(s, 200);
    let (s, _) = json(delete(&u, &token).await).await;
    assert_eq!(s, 204);
    let (_, b) = json(get(&u, &token).await).await;
    assert_eq!(b["properties"]["inherited"], "True");

    // Not on other resource types, not with 2023-01-01.
    let aks = format!(
        "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/k/providers/Microsoft.Security/pricings/VirtualMachines"
    );
    let (s, _) = json(get(&url(&emu, &aks, API), &token).await).await;
    assert_eq!(s, 400);
    let (s, b) = json(get(&url(&emu, &path, "2023-01-01"), &token).await).await;
    assert_eq!((s, arm_code(&b)), (400, "InvalidApiVersionParameter"));
}
