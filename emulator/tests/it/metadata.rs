//! Cloud metadata discovery, `GET /metadata/endpoints`.

use crate::common;

use arm_emulator::Config;
use common::*;

#[tokio::test]
async fn version_2022_09_01_is_one_cloud_object_pointing_here() {
    let emu = start(Config::default()).await;
    let root = format!("{}/", emu.base_url());
    let (status, body) = json(
        client()
            .get(format!(
                "{}/metadata/endpoints?api-version=2022-09-01",
                emu.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.is_object(),
        "2022-09-01 answers a single object: {body}"
    );
    assert_eq!(body["name"], "ArmEmulator");
    assert_eq!(body["resourceManager"], root.as_str());
    let auth = &body["authentication"];
    assert_eq!(auth["loginEndpoint"], root.as_str());
    assert_eq!(auth["audiences"], serde_json::json!([root]));
    assert_eq!(auth["tenant"], "common");
    assert_eq!(auth["identityProvider"], "AAD");
    for field in [
        "portal",
        "graph",
        "graphAudience",
        "microsoftGraphResourceId",
        "sqlManagement",
        "batch",
        "logAnalyticsResourceId",
    ] {
        assert!(body[field].is_string(), "{field} missing: {body}");
    }
    for suffix in [
        "storage",
        "keyVaultDns",
        "sqlServerHostname",
        "acrLoginServer",
    ] {
        assert!(
            body["suffixes"][suffix].is_string(),
            "suffixes.{suffix} missing"
        );
    }
}

#[tokio::test]
async fn version_2019_05_01_is_an_array_of_clouds() {
    let emu = start(Config::default()).await;
    let (status, body) = json(
        client()
            .get(format!(
                "{}/metadata/endpoints?api-version=2019-05-01",
                emu.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let clouds = body.as_array().expect("an array");
    assert_eq!(clouds.len(), 1);
    assert_eq!(clouds[0]["name"], "ArmEmulator");
    assert_eq!(clouds[0]["resourceManager"], format!("{}/", emu.base_url()));
}

#[tokio::test]
async fn missing_or_unknown_versions_are_refused() {
    let emu = start(Config::default()).await;
    let (status, body) = json(
        client()
            .get(format!("{}/metadata/endpoints", emu.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, arm_code(&body)),
        (400, "MissingApiVersionParameter")
    );
    let (status, body) = json(
        client()
            .get(format!(
                "{}/metadata/endpoints?api-version=2099-01-01",
                emu.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, arm_code(&body)),
        (400, "InvalidApiVersionParameter")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2022-09-01")
    );
}
