//! The `arm-emulator` binary: first stdout line, port file, state file, flags, SIGTERM.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_arm-emulator");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("ARM_EMULATOR_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let base = first
        .trim()
        .strip_prefix("arm-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    (Running(child), base)
}

fn terminate(running: &mut Running) -> std::process::ExitStatus {
    let pid = running.0.id().to_string();
    let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(ok.success());
    for _ in 0..100 {
        if let Some(status) = running.0.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("did not exit on SIGTERM");
}

async fn token_for(base: &str, id: &str, secret: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/t/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", &format!("{base}//.default")),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serves_writes_port_and_state_files_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let state_file = dir.path().join("state.json");
    let sub = new_subscription();
    let (mut running, base) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--port-file",
        port_file.to_str().unwrap(),
        "--state-file",
        state_file.to_str().unwrap(),
        "--allow-mma-autoprovision",
        "--client",
        "app:s3cret",
        "--subscription",
        &sub,
        "--fault",
        r#"{"path":"/metadata/endpoints","status":503,"count":1}"#,
    ]);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!(std::fs::read_to_string(&port_file).unwrap(), base);

    let metadata = format!("{base}/metadata/endpoints?api-version=2022-09-01");
    assert_eq!(
        client().get(&metadata).send().await.unwrap().status(),
        503,
        "--fault"
    );
    assert_eq!(client().get(&metadata).send().await.unwrap().status(), 200);

    assert_eq!(
        token_for(&base, "app", "wrong").await.status(),
        401,
        "--client"
    );
    let (_, body) = json(token_for(&base, "app", "s3cret").await).await;
    let token = body["access_token"].as_str().unwrap().to_owned();

    let url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings/default?api-version={API}"
    );
    let (status, _) =
        json(put(&url, &token, json!({"properties": {"autoProvision": "On"}})).await).await;
    assert_eq!(status, 200, "--allow-mma-autoprovision");
    let other = new_subscription();
    let (status, _) = json(get(&url.replace(&sub, &other), &token).await).await;
    assert_eq!(status, 404, "--subscription restricts");

    let status = terminate(&mut running);
    assert!(status.success(), "{status:?}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(
        saved["resources"][0]["body"]["properties"]["autoProvision"],
        "On"
    );

    // A second run loads it.
    let (mut again, base) = spawn(&["--state-file", state_file.to_str().unwrap()]);
    let (_, body) = json(token_for(&base, "any", "x").await).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let url = format!(
        "{base}/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings/default?api-version={API}"
    );
    let (status, body) = json(get(&url, &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["properties"]["autoProvision"], "On");
    assert!(terminate(&mut again).success());
}

#[test]
fn refuses_non_loopback_listen_addresses() {
    let output = Command::new(BIN)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
}

#[test]
fn refuses_bad_fault_rules() {
    let output = Command::new(BIN)
        .args(["--fault", r#"{"status": 200}"#])
        .output()
        .unwrap();
    assert!(!output.status.success());
}
