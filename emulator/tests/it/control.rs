//! The request log, the control endpoints and the state file.

use crate::common;

use arm_emulator::Config;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn the_request_log_records_what_was_asked_and_answered() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let url = setting_url(&emu, &sub, "default");
    emu.clear_requests();

    let resp = client()
        .get(&url)
        .bearer_auth(&token)
        .header("x-ms-correlation-request-id", "corr-1")
        .send()
        .await
        .unwrap();
    let request_id = resp.headers()["x-ms-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = client().get(&url).send().await.unwrap(); // no token: 401

    let (status, log) = json(
        client()
            .get(format!("{}/_emulator/requests", emu.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    let first = &entries[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["path"], setting_path(&sub, "default"));
    assert_eq!(first["query"], "api-version=2017-08-01-preview");
    assert_eq!(first["api_version"], "2017-08-01-preview");
    assert_eq!(
        first["resource_type"],
        "Microsoft.Security/autoProvisioningSettings"
    );
    assert_eq!(first["status"], 200);
    assert_eq!(first["request_id"], request_id.as_str());
    assert_eq!(first["correlation_id"], "corr-1");
    assert_eq!(first["auth_present"], true);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(entries[1]["status"], 401);
    assert_eq!(entries[1]["auth_present"], false);

    let resp = client()
        .delete(format!("{}/_emulator/requests", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // Control requests are logged too: after the clear only the DELETE itself remains.
    let remaining = emu.requests();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].method, "DELETE");
}

#[tokio::test]
async fn resources_can_be_seeded_and_drifted_without_validation() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let id = setting_path(&sub, "default");
    let control = format!("{}/_emulator/resources?id={id}", emu.base_url());

    // Drift to a value the API would refuse to write.
    let drifted = json!({"id": id, "name": "default", "type": "Microsoft.Security/autoProvisioningSettings", "properties": {"autoProvision": "On"}});
    let resp = client().put(&control).json(&drifted).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = json(get(&setting_url(&emu, &sub, "default"), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body, drifted);

    let (status, body) = json(client().get(&control).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, drifted);

    // Forgetting it brings the singleton's default back.
    assert_eq!(
        client().delete(&control).send().await.unwrap().status(),
        204
    );
    let (_, body) = json(get(&setting_url(&emu, &sub, "default"), &token).await).await;
    assert_eq!(body["properties"]["autoProvision"], "Off");
    assert_eq!(
        client().delete(&control).send().await.unwrap().status(),
        404
    );

    // The handle does the same.
    emu.set_resource(&id, json!({"properties": {"autoProvision": "Weird"}}));
    assert_eq!(
        emu.get_resource(&id).unwrap()["properties"]["autoProvision"],
        "Weird"
    );
    let (status, body) = json(
        client()
            .get(format!(
                "{}/_emulator/resources?id=/subscriptions/{sub}/nothing",
                emu.base_url()
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_state_endpoint_shows_everything() {
    let emu = start(Config::default().with_page_size(7)).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    put(
        &setting_url(&emu, &sub, "default"),
        &token,
        json!({"properties": {"autoProvision": "Off"}}),
    )
    .await;
    emu.add_fault(arm_emulator::FaultRule::latency(1)).unwrap();
    let (status, state) = json(
        client()
            .get(format!("{}/_emulator/state", emu.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(state["config"]["page_size"], 7);
    assert_eq!(state["resources"][0]["id"], setting_path(&sub, "default"));
    assert!(
        state["subscriptions"]
            .as_array()
            .unwrap()
            .contains(&Value::String(sub))
    );
    assert_eq!(state["faults"][0]["latency_ms"], 1);
}

#[tokio::test]
async fn the_state_file_is_saved_on_write_and_loaded_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let sub = new_subscription();
    {
        let emu = start(
            Config::default()
                .with_state_file(&file)
                .allow_mma_autoprovision(true),
        )
        .await;
        let token = token(&emu).await;
        let (status, _) = json(
            put(
                &setting_url(&emu, &sub, "default"),
                &token,
                json!({"properties": {"autoProvision": "On"}}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        // Saved right after the write, before any shutdown.
        let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            saved["resources"][0]["body"]["properties"]["autoProvision"],
            "On"
        );
        emu.shutdown().await.unwrap();
    }
    // No temporary files left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["state.json"]);

    let emu = start(Config::default().with_state_file(&file)).await;
    let token = token(&emu).await;
    let (status, body) = json(get(&setting_url(&emu, &sub, "default"), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["autoProvision"], "On");
}

#[tokio::test]
async fn a_corrupt_state_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::write(&file, "{ nope").unwrap();
    let err = arm_emulator::Emulator::start(Config::default().with_state_file(&file))
        .await
        .err()
        .expect("refuses to start");
    assert!(err.to_string().contains("state file"), "{err}");
}

#[tokio::test]
async fn tokens_can_be_issued_directly_for_tests() {
    let emu = start(Config::default()).await;
    let (status, body) = json(
        client()
            .post(format!("{}/_emulator/tokens", emu.base_url()))
            .json(&json!({"client_id": "direct"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        get(&setting_url(&emu, &new_subscription(), "default"), token)
            .await
            .status(),
        200
    );
    let from_handle = emu.issue_token("handle");
    assert_eq!(
        get(
            &setting_url(&emu, &new_subscription(), "default"),
            &from_handle
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let emu = start(Config::default()).await;
    let base = emu.base_url();
    assert!(
        client()
            .get(format!("{base}/_emulator/state"))
            .send()
            .await
            .is_ok()
    );
    drop(emu);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        client()
            .get(format!("{base}/_emulator/state"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn non_loopback_addresses_are_refused() {
    let config = Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Config::default()
    };
    assert!(arm_emulator::Emulator::start(config).await.is_err());
}

#[tokio::test]
async fn examples_seed_the_singletons() {
    let dir = tempfile::tempdir().unwrap();
    let example = json!({
        "parameters": {"api-version": "2017-08-01-preview", "subscriptionId": "20ff7fc3-e762-44dd-bd96-b71116dcdc23", "settingName": "default"},
        "responses": {"200": {"body": {
            "id": "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Security/autoProvisioningSettings/default",
            "name": "default", "type": "Microsoft.Security/autoProvisioningSettings",
            "properties": {"autoProvision": "On"}}}}
    });
    std::fs::write(
        dir.path()
            .join("GetAutoProvisioningSettingSubscription_example.json"),
        example.to_string(),
    )
    .unwrap();
    let emu = start(Config {
        seed_examples: Some(dir.path().to_owned()),
        ..Config::default()
    })
    .await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(get(&setting_url(&emu, &sub, "default"), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["autoProvision"], "On");
    assert_eq!(
        body["id"],
        setting_path(&sub, "default"),
        "rewritten for the subscription"
    );
}
