//! The workspace side of the emulator over HTTP: Log Analytics workspaces and their
//! long-running operations, data sources, Defender for Cloud's workspace setting, solutions,
//! Microsoft Sentinel's onboarding and data connectors; a missing workspace is ARM's 404.

use crate::common;

use arm_emulator::{Config, EmulatorHandle, FaultRule};
use common::*;
use serde_json::{Value, json};

const WS_API: &str = "2023-09-01";
const DS_API: &str = "2020-08-01";
const SETTINGS_API: &str = "2017-08-01-preview";
const SOLUTIONS_API: &str = "2015-11-01-preview";
const SENTINEL_API: &str = "2025-09-01";

fn ws_path(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-sec/providers/Microsoft.OperationalInsights/workspaces/{name}"
    )
}

fn url(emu: &EmulatorHandle, path: &str, api: &str) -> String {
    format!("{}{path}?api-version={api}", emu.base_url())
}

async fn delete(url: &str, token: &str) -> reqwest::Response {
    client()
        .delete(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Creates a workspace through its long-running PUT and waits for it, as an SDK would.
async fn create_workspace(emu: &EmulatorHandle, token: &str, path: &str) -> Value {
    let resp = put(
        &url(emu, path, WS_API),
        token,
        json!({"location": "westeurope"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let op = header(&resp, "azure-asyncoperation").expect("Azure-AsyncOperation");
    loop {
        let (status, body) = json(get(&op, token).await).await;
        assert_eq!(status, 200);
        if body["status"] == "Succeeded" {
            break;
        }
        assert_eq!(body["status"], "InProgress");
    }
    let (status, body) = json(get(&url(emu, path, WS_API), token).await).await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn workspace_put_and_delete_are_long_running_operations() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let path = ws_path(&sub, "law-lro");

    let resp = put(
        &url(&emu, &path, WS_API),
        &token,
        json!({"location": "West Europe", "properties": {"sku": {"name": "PerGB2018"}}}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let op = header(&resp, "azure-asyncoperation").expect("Azure-AsyncOperation on 201");
    assert!(
        op.starts_with(&format!(
            "{}/subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/westeurope/operationStatuses/",
            emu.base_url()
        )),
        "{op}"
    );
    assert!(op.contains("api-version="), "{op}");
    let (_, created) = json(resp).await;
    assert_eq!(created["properties"]["provisioningState"], "Creating");
    assert_eq!(created["location"], "westeurope");

    // First look: in progress; second: done (arm-api.md 13.4 shape).
    let (status, first) = json(get(&op, &token).await).await;
    assert_eq!(
        (status, first["status"].as_str()),
        (200, Some("InProgress"))
    );
    assert!(
        first.get("_emulator").is_none(),
        "no bookkeeping leaks: {first}"
    );
    let (_, second) = json(get(&op, &token).await).await;
    assert_eq!(second["status"], "Succeeded");
    assert!(second["endTime"].is_string());

    let (status, ws) = json(get(&url(&emu, &path, WS_API), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(ws["properties"]["provisioningState"], "Succeeded");
    let customer = ws["properties"]["customerId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&customer).is_ok());

    // An update answers 200 with a non-terminal state; GETs of the workspace settle it.
    let resp = put(
        &url(&emu, &path, WS_API),
        &token,
        json!({"location": "westeurope", "properties": {"retentionInDays": 90}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let (_, updating) = json(resp).await;
    assert_eq!(updating["properties"]["provisioningState"], "Updating");
    let (_, ws) = json(get(&url(&emu, &path, WS_API), &token).await).await;
    assert_eq!(ws["properties"]["provisioningState"], "Updating");
    let (_, ws) = json(get(&url(&emu, &path, WS_API), &token).await).await;
    assert_eq!(ws["properties"]["provisioningState"], "Succeeded");
    assert_eq!(ws["properties"]["retentionInDays"], 90);
    assert_eq!(ws["properties"]["customerId"], customer.as_str());

    // A data source goes with its workspace.
    let ds = format!("{path}/dataSources/SecurityEventCollectionConfiguration");
    let resp = put(
        &url(&emu, &ds, DS_API),
        &token,
        json!({"kind": "SecurityEventCollectionConfiguration", "properties": {"tier": "All"}}),
    )
    .await;
    assert_eq!(resp.status(), 201);

    let resp = delete(&url(&emu, &path, WS_API), &token).await;
    assert_eq!(resp.status(), 202);
    let op = header(&resp, "azure-asyncoperation").expect("Azure-AsyncOperation on 202");
    let location = header(&resp, "location").expect("Location on 202");
    assert!(location.contains("/operationResults/"), "{location}");
    let (_, ws) = json(get(&url(&emu, &path, WS_API), &token).await).await;
    assert_eq!(ws["properties"]["provisioningState"], "Deleting");
    // The Location URL says 202 while running, then 204 for a finished delete.
    assert_eq!(get(&location, &token).await.status(), 204);
    let (_, done) = json(get(&op, &token).await).await;
    assert_eq!(done["status"], "Succeeded");
    let (status, body) = json(get(&url(&emu, &path, WS_API), &token).await).await;
    assert_eq!((status, arm_code(&body)), (404, "ResourceNotFound"));
    let (status, _) = json(get(&url(&emu, &ds, DS_API), &token).await).await;
    assert_eq!(status, 404, "the data source went with the workspace");
    // Deleting again: nothing there.
    assert_eq!(
        delete(&url(&emu, &path, WS_API), &token).await.status(),
        204
    );
}

#[tokio::test]
async fn workspace_validation() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(
        put(
            &url(&emu, &ws_path(&sub, "law-1"), WS_API),
            &token,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&body)), (400, "LocationRequired"));
    let (status, _) = json(
        put(
            &url(&emu, &ws_path(&sub, "ab"), WS_API),
            &token,
            json!({"location": "eastus"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = json(
        get(
            &url(
                &emu,
                &format!("/subscriptions/{sub}/providers/Microsoft.OperationalInsights/locations/westeurope/operationStatuses/{}", uuid::Uuid::new_v4()),
                WS_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&body)), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn data_sources_need_their_workspace_and_the_api_tier_names() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let path = ws_path(&sub, "law-ds");
    let ds = format!("{path}/dataSources/SecurityEventCollectionConfiguration");
    let body = json!({"kind": "SecurityEventCollectionConfiguration",
                      "properties": {"tier": "Recommended", "tierSetMethod": "Custom"}});

    let (status, err) = json(put(&url(&emu, &ds, DS_API), &token, body.clone()).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ParentResourceNotFound"));
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Parent resource 'law-ds' not found"),
        "{err}"
    );
    let (status, err) = json(get(&url(&emu, &ds, DS_API), &token).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.OperationalInsights/workspaces/law-ds"),
        "the 404 names the workspace: {err}"
    );

    create_workspace(&emu, &token, &path).await;
    let (status, created) = json(put(&url(&emu, &ds, DS_API), &token, body.clone()).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["kind"], "SecurityEventCollectionConfiguration");
    assert_eq!(
        created["type"],
        "Microsoft.OperationalInsights/workspaces/dataSources"
    );
    assert_eq!(created["properties"]["tier"], "Recommended");
    let (status, _) = json(put(&url(&emu, &ds, DS_API), &token, body).await).await;
    assert_eq!(status, 200);

    let (status, err) = json(
        put(
            &url(&emu, &ds, DS_API),
            &token,
            json!({"kind": "SecurityEventCollectionConfiguration", "properties": {"tier": "Common"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "the API calls Common Recommended: {err}");

    let (status, list) =
        json(get(&url(&emu, &format!("{path}/dataSources"), DS_API), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    assert_eq!(delete(&url(&emu, &ds, DS_API), &token).await.status(), 200);
    assert_eq!(delete(&url(&emu, &ds, DS_API), &token).await.status(), 204);
}

#[tokio::test]
async fn the_workspace_setting_points_at_an_existing_workspace() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let setting =
        format!("/subscriptions/{sub}/providers/Microsoft.Security/workspaceSettings/default");
    let ws = ws_path(&sub, "law-setting");
    let body = json!({"properties": {"workspaceId": ws, "scope": format!("/subscriptions/{sub}")}});

    let (status, _) = json(get(&url(&emu, &setting, SETTINGS_API), &token).await).await;
    assert_eq!(status, 404, "no custom workspace until one is set");
    let (status, err) =
        json(put(&url(&emu, &setting, SETTINGS_API), &token, body.clone()).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));

    create_workspace(&emu, &token, &ws).await;
    let (status, put_body) =
        json(put(&url(&emu, &setting, SETTINGS_API), &token, body.clone()).await).await;
    assert_eq!(status, 200);
    assert_eq!(put_body["properties"], body["properties"]);
    let (status, got) = json(get(&url(&emu, &setting, SETTINGS_API), &token).await).await;
    assert_eq!((status, &got), (200, &put_body));
    let (_, list) = json(
        get(
            &url(
                &emu,
                &format!("/subscriptions/{sub}/providers/Microsoft.Security/workspaceSettings"),
                SETTINGS_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(list["value"], json!([got]));

    let other = setting.replace("/default", "/kttest");
    let (status, err) = json(put(&url(&emu, &other, SETTINGS_API), &token, body).await).await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only default is allowed")
    );

    assert_eq!(
        delete(&url(&emu, &setting, SETTINGS_API), &token)
            .await
            .status(),
        204
    );
    let (status, _) = json(get(&url(&emu, &setting, SETTINGS_API), &token).await).await;
    assert_eq!(status, 404);
}

/// Update (PATCH, arm-api.md §3): 404 before the setting exists, then 200 with the new
/// workspace, checked as a PUT's (the workspace must exist); a member outside the update model
/// is ignored.
#[tokio::test]
async fn the_workspace_setting_is_updated_with_patch() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let setting = url(
        &emu,
        &format!("/subscriptions/{sub}/providers/Microsoft.Security/workspaceSettings/default"),
        SETTINGS_API,
    );
    let (first, second) = (ws_path(&sub, "law-one"), ws_path(&sub, "law-two"));
    let (status, err) = json(
        patch(
            &setting,
            &token,
            json!({"properties": {"workspaceId": first}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));

    create_workspace(&emu, &token, &first).await;
    let scope = format!("/subscriptions/{sub}");
    let resp = put(
        &setting,
        &token,
        json!({"properties": {"workspaceId": first, "scope": scope}}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    // A workspace that does not exist is refused, as by PUT.
    let (status, _) = json(
        patch(
            &setting,
            &token,
            json!({"properties": {"workspaceId": second}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    create_workspace(&emu, &token, &second).await;
    let (status, patched) = json(
        patch(
            &setting,
            &token,
            json!({"properties": {"workspaceId": second}, "name": "ignored"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["properties"]["workspaceId"], second);
    assert_eq!(patched["properties"]["scope"], scope, "kept");
    assert_eq!(patched["name"], "default");
    let (_, got) = json(get(&setting, &token).await).await;
    assert_eq!(got, patched);
}

#[tokio::test]
async fn solutions_are_named_after_their_workspace() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let ws = ws_path(&sub, "law-sol");
    let sol = format!(
        "/subscriptions/{sub}/resourceGroups/rg-sec/providers/Microsoft.OperationsManagement/solutions/Security(law-sol)"
    );
    let body = json!({
        "location": "westeurope",
        "plan": {"name": "Security(law-sol)", "publisher": "Microsoft",
                 "product": "OMSGallery/Security", "promotionCode": ""},
        "properties": {"workspaceResourceId": ws}
    });
    let (status, err) =
        json(put(&url(&emu, &sol, SOLUTIONS_API), &token, body.clone()).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));

    create_workspace(&emu, &token, &ws).await;
    let (status, created) = json(put(&url(&emu, &sol, SOLUTIONS_API), &token, body).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created["plan"]["product"], "OMSGallery/Security");

    let wrong = sol.replace("Security(law-sol)", "SecurityCenterFree(law-sol)");
    let (status, _) = json(
        put(
            &url(&emu, &wrong, SOLUTIONS_API),
            &token,
            json!({"location": "westeurope",
                   "plan": {"name": "SecurityCenterFree(law-sol)", "publisher": "Microsoft", "product": "OMSGallery/Security"},
                   "properties": {"workspaceResourceId": ws}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "the product names another solution");

    assert_eq!(
        delete(&url(&emu, &sol, SOLUTIONS_API), &token)
            .await
            .status(),
        200
    );
    assert_eq!(
        delete(&url(&emu, &sol, SOLUTIONS_API), &token)
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn sentinel_connectors_need_an_onboarded_workspace() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let ws = ws_path(&sub, "law-sentinel");
    let connector = format!(
        "{ws}/providers/Microsoft.SecurityInsights/dataConnectors/763f9fa1-c2d3-4fa2-93e9-bccd4899aa12"
    );
    let onboarding = format!("{ws}/providers/Microsoft.SecurityInsights/onboardingStates/default");
    let body = json!({"kind": "AzureSecurityCenter",
                      "properties": {"subscriptionId": sub, "dataTypes": {"alerts": {"state": "Enabled"}}}});

    let (status, err) =
        json(put(&url(&emu, &connector, SENTINEL_API), &token, body.clone()).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ParentResourceNotFound"));
    let (status, err) = json(get(&url(&emu, &connector, SENTINEL_API), &token).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));

    create_workspace(&emu, &token, &ws).await;
    let (status, err) =
        json(put(&url(&emu, &connector, SENTINEL_API), &token, body.clone()).await).await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Workspace 'law-sentinel' is not onboarded to Microsoft Sentinel"),
        "{err}"
    );

    let (status, state) = json(
        put(
            &url(&emu, &onboarding, SENTINEL_API),
            &token,
            json!({"properties": {}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(state["properties"]["customerManagedKey"], false);
    let (status, created) =
        json(put(&url(&emu, &connector, SENTINEL_API), &token, body).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["kind"], "AzureSecurityCenter");
    assert_eq!(created["type"], "Microsoft.SecurityInsights/dataConnectors");
    let (status, got) = json(get(&url(&emu, &connector, SENTINEL_API), &token).await).await;
    assert_eq!((status, &got), (200, &created));
    let (_, list) = json(
        get(
            &url(
                &emu,
                &format!("{ws}/providers/Microsoft.SecurityInsights/dataConnectors"),
                SENTINEL_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(list["value"], json!([created]));

    // Not an extension of anything but a workspace.
    let vm_connector = format!(
        "/subscriptions/{sub}/resourceGroups/rg-sec/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.SecurityInsights/dataConnectors/x"
    );
    let (status, _) = json(get(&url(&emu, &vm_connector, SENTINEL_API), &token).await).await;
    assert_eq!(status, 404);

    // Deleting the workspace takes Sentinel's resources along.
    let resp = delete(&url(&emu, &ws, WS_API), &token).await;
    assert_eq!(resp.status(), 202);
    let op = header(&resp, "azure-asyncoperation").unwrap();
    while json(get(&op, &token).await).await.1["status"] == "InProgress" {}
    assert!(emu.get_resource(&connector).is_none());
    assert!(emu.get_resource(&onboarding).is_none());
}

#[tokio::test]
async fn onboarding_state_reads_honour_not_found_after_create() {
    // Every stored type answers a `not_found_after_create` fault's 404s after its PUT; the
    // onboarding state used to skip them.
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let ws = ws_path(&sub, "law-onboarding-lag");
    create_workspace(&emu, &token, &ws).await;
    let onboarding = format!("{ws}/providers/Microsoft.SecurityInsights/onboardingStates/default");
    emu.add_fault(
        FaultRule::not_found_after_create(2)
            .path("onboardingStates")
            .times(1),
    )
    .unwrap();
    let resp = put(
        &url(&emu, &onboarding, SENTINEL_API),
        &token,
        json!({"properties": {}}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    for _ in 0..2 {
        let (status, body) = json(get(&url(&emu, &onboarding, SENTINEL_API), &token).await).await;
        assert_eq!(
            (status, arm_code(&body)),
            (404, "ResourceNotFound"),
            "{body}"
        );
    }
    let (status, body) = json(get(&url(&emu, &onboarding, SENTINEL_API), &token).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "default");
}
