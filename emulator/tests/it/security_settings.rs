//! Microsoft.Security settings, security contacts and server vulnerability assessment
//! settings over HTTP: singletons that always exist, resources that exist once written,
//! status codes and answer shapes of arm-api.md sections 4, 5 and 6.1.

use crate::common;

use arm_emulator::{Config, EmulatorHandle};
use common::*;
use serde_json::{Value, json};

const SETTINGS_API: &str = "2022-05-01";
const CONTACTS_API: &str = "2023-12-01-preview";
const VA_API: &str = "2023-05-01";

fn url(emu: &EmulatorHandle, path: &str, api: &str) -> String {
    format!("{}{path}?api-version={api}", emu.base_url())
}

fn settings_path(sub: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Security/settings")
}

fn contact_path(sub: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Security/securityContacts/default")
}

fn va_path(sub: &str) -> String {
    format!(
        "/subscriptions/{sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting"
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

fn names(list: &Value) -> Vec<&str> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// settings

#[tokio::test]
async fn every_setting_exists_disabled_with_its_kind() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, list) =
        json(get(&url(&emu, &settings_path(&sub), SETTINGS_API), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&list),
        [
            "MCAS",
            "WDATP",
            "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW",
            "WDATP_UNIFIED_SOLUTION",
            "WDATP_VNEXT",
            "Sentinel"
        ]
    );
    for item in list["value"].as_array().unwrap() {
        let name = item["name"].as_str().unwrap();
        let kind = if name == "Sentinel" {
            "AlertSyncSettings"
        } else {
            "DataExportSettings"
        };
        assert_eq!(
            item,
            &json!({
                "name": name,
                "type": "Microsoft.Security/settings",
                "id": format!("{}/{name}", settings_path(&sub)),
                "kind": kind,
                "properties": {"enabled": false}
            })
        );
    }
    // Names are case-insensitive; the answer spells them canonically.
    let (status, one) = json(
        get(
            &url(
                &emu,
                &format!("{}/sentinel", settings_path(&sub)),
                SETTINGS_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], "Sentinel");
    assert_eq!(one["kind"], "AlertSyncSettings");
}

#[tokio::test]
async fn put_a_setting_then_read_it_back_and_no_delete() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let wdatp = url(
        &emu,
        &format!("{}/WDATP", settings_path(&sub)),
        SETTINGS_API,
    );
    let (status, body) = json(
        put(
            &wdatp,
            &token,
            json!({"kind": "DataExportSettings", "properties": {"enabled": true}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"], json!({"enabled": true}));
    assert_eq!(body["kind"], "DataExportSettings");
    let (_, read) = json(get(&wdatp, &token).await).await;
    assert_eq!(read, body);
    let (_, list) = json(get(&url(&emu, &settings_path(&sub), SETTINGS_API), &token).await).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 6);
    assert_eq!(list["value"][1], body);

    let (status, err) = json(delete(&wdatp, &token).await).await;
    assert_eq!(status, 405, "{err}");

    // The kind must fit the name; enabled is a required boolean; the names are fixed.
    let (status, err) = json(
        put(
            &wdatp,
            &token,
            json!({"kind": "AlertSyncSettings", "properties": {"enabled": true}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidSettingKind"));
    let (status, err) =
        json(put(&wdatp, &token, json!({"properties": {"enabled": true}})).await).await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidInputJson"));
    let (status, err) = json(
        put(
            &wdatp,
            &token,
            json!({"kind": "DataExportSettings", "properties": {}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidInputJson"));
    let (status, err) = json(
        put(
            &url(&emu, &format!("{}/NOPE", settings_path(&sub)), SETTINGS_API),
            &token,
            json!({"kind": "DataExportSettings", "properties": {"enabled": true}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidSettingName"));
    // Nothing of the refused writes stuck.
    let (_, read) = json(get(&wdatp, &token).await).await;
    assert_eq!(read["properties"]["enabled"], true);

    let (status, err) = json(
        get(
            &url(
                &emu,
                &format!("{}/WDATP", settings_path(&sub)),
                "2017-08-01-preview",
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, arm_code(&err)),
        (400, "InvalidApiVersionParameter")
    );
}

#[tokio::test]
async fn seeded_examples_give_settings_their_published_values() {
    // An example in the published layout (a Settings_Get answer), written for this test.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("Microsoft.Security/2022-05-01");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("GetSetting_example.json"),
        serde_json::to_vec(&json!({
            "parameters": {"api-version": "2022-05-01", "settingName": "WDATP",
                           "subscriptionId": "20ff7fc3-e762-44dd-bd96-b71116dcdc23"},
            "responses": {"200": {"body": {
                "name": "WDATP", "type": "Microsoft.Security/settings",
                "id": "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Security/settings/WDATP",
                "kind": "DataExportSettings", "properties": {"enabled": true}}}}
        }))
        .unwrap(),
    )
    .unwrap();
    let config = Config {
        seed_examples: Some(dir.path().to_path_buf()),
        ..Config::default()
    };
    let emu = start(config).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(
        get(
            &url(
                &emu,
                &format!("{}/WDATP", settings_path(&sub)),
                SETTINGS_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["enabled"], true);
    assert_eq!(body["id"], format!("{}/WDATP", settings_path(&sub)));
    let (_, mcas) = json(
        get(
            &url(&emu, &format!("{}/MCAS", settings_path(&sub)), SETTINGS_API),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(
        mcas["properties"]["enabled"], false,
        "unseeded: the default"
    );
}

// ---------------------------------------------------------------------------------------------
// securityContacts

fn contact_request() -> Value {
    json!({"properties": {
        "notificationsByRole": {"state": "On", "roles": ["Owner"]},
        "isEnabled": true,
        "emails": "john@contoso.com;jane@contoso.com",
        "phone": "(214)275-4038",
        "notificationsSources": [
            {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"},
            {"sourceType": "Alert", "minimalSeverity": "Medium"}
        ]
    }})
}

#[tokio::test]
async fn a_contact_is_created_replaced_listed_and_deleted() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let contact = url(&emu, &contact_path(&sub), CONTACTS_API);

    let (status, err) = json(get(&contact, &token).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));

    // 201 in the published shape: notificationsByRole without its state.
    let (status, created) = json(put(&contact, &token, contact_request()).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["id"], contact_path(&sub));
    assert_eq!(created["name"], "default");
    assert_eq!(
        created["properties"]["notificationsByRole"],
        json!({"roles": ["Owner"]})
    );
    assert_eq!(
        created["properties"]["emails"],
        "john@contoso.com;jane@contoso.com"
    );
    assert_eq!(created["properties"]["isEnabled"], true);
    let (status, read) = json(get(&contact, &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);

    let (status, replaced) = json(put(&contact, &token, contact_request()).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        replaced["properties"]["notificationsByRole"],
        json!({"state": "On", "roles": ["Owner"]})
    );
    let (status, list) = json(
        get(
            &url(
                &emu,
                &format!("/subscriptions/{sub}/providers/Microsoft.Security/securityContacts"),
                CONTACTS_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["value"], json!([replaced]));

    let resp = delete(&contact, &token).await;
    assert_eq!(resp.status(), 200);
    let resp = delete(&contact, &token).await;
    assert_eq!(resp.status(), 204, "deleting what does not exist");
    let (status, _) = json(get(&contact, &token).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn contact_validation_follows_the_spec() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let contact = url(&emu, &contact_path(&sub), CONTACTS_API);
    for (body, why) in [
        (
            json!({"properties": {"emails": "a@contoso.com,b@contoso.com"}}),
            "comma-separated emails",
        ),
        (
            json!({"properties": {"notificationsByRole": {"state": "On", "roles": ["Admin"]}}}),
            "a role outside the enum",
        ),
        (
            json!({"properties": {"notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Critical"}]}}),
            "Critical is a risk level, not a severity",
        ),
        (
            json!({"properties": {"notificationsSources": [{"sourceType": "AttachPath", "minimalRiskLevel": "High"}]}}),
            "the GET example's misspelling is not accepted on write",
        ),
    ] {
        let (status, err) = json(put(&contact, &token, body).await).await;
        assert_eq!(
            (status, arm_code(&err)),
            (400, "InvalidInputJson"),
            "{why}: {err}"
        );
    }
    let (status, err) = json(
        put(
            &url(
                &emu,
                &format!(
                    "/subscriptions/{sub}/providers/Microsoft.Security/securityContacts/default1"
                ),
                CONTACTS_API,
            ),
            &token,
            contact_request(),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, arm_code(&err)),
        (400, "InvalidSecurityContactName")
    );
    let (status, err) = json(
        put(
            &url(&emu, &contact_path(&sub), "2017-08-01-preview"),
            &token,
            contact_request(),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, arm_code(&err)),
        (400, "InvalidApiVersionParameter")
    );
    let (status, _) = json(get(&contact, &token).await).await;
    assert_eq!(status, 404, "no refused write created the contact");
}

// ---------------------------------------------------------------------------------------------
// serverVulnerabilityAssessmentsSettings

#[tokio::test]
async fn the_azure_servers_setting_is_created_replaced_and_deleted() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let setting = url(&emu, &va_path(&sub), VA_API);
    let body = json!({"kind": "AzureServersSetting", "properties": {"selectedProvider": "MdeTvm"}});

    let (status, _) = json(get(&setting, &token).await).await;
    assert_eq!(status, 404);
    let (status, created) = json(put(&setting, &token, body.clone()).await).await;
    assert_eq!(status, 201);
    assert_eq!(created["name"], "azureServersSetting");
    assert_eq!(
        created["type"],
        "Microsoft.Security/serverVulnerabilityAssessmentsSettings"
    );
    assert_eq!(created["kind"], "AzureServersSetting");
    assert_eq!(created["properties"], json!({"selectedProvider": "MdeTvm"}));
    assert!(created["systemData"]["createdAt"].is_string(), "{created}");

    // azurerm's spelling of the name addresses the same setting.
    let azurerm = url(
        &emu,
        &format!(
            "/subscriptions/{sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting"
        ),
        VA_API,
    );
    let (status, replaced) = json(put(&azurerm, &token, body.clone()).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        replaced["systemData"]["createdAt"],
        created["systemData"]["createdAt"]
    );
    assert_eq!(replaced["id"], va_path(&sub));

    let (_, list) = json(
        get(
            &url(
                &emu,
                &format!("/subscriptions/{sub}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings"),
                VA_API,
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(names(&list), ["azureServersSetting"]);

    let (status, err) = json(
        put(
            &setting,
            &token,
            json!({"kind": "AzureServersSetting", "properties": {"selectedProvider": "Qualys"}}),
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidInputJson"));

    assert_eq!(delete(&setting, &token).await.status(), 200);
    assert_eq!(delete(&setting, &token).await.status(), 204);
    let (status, _) = json(get(&setting, &token).await).await;
    assert_eq!(status, 404);
}
