//! Helpers shared by the integration tests: an emulator per test on 127.0.0.1:0.
#![allow(dead_code)]

use arm_emulator::{Config, Emulator, EmulatorHandle};
use serde_json::Value;

pub const API: &str = "2017-08-01-preview";

pub async fn start(config: Config) -> EmulatorHandle {
    Emulator::start(config).await.expect("emulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds")
}

/// A fresh subscription ID per call, so tests never share state by accident.
pub fn new_subscription() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn setting_path(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings/{name}")
}

pub fn setting_url(emu: &EmulatorHandle, sub: &str, name: &str) -> String {
    format!(
        "{}{}?api-version={API}",
        emu.base_url(),
        setting_path(sub, name)
    )
}

pub fn list_url(emu: &EmulatorHandle, sub: &str) -> String {
    format!(
        "{}/subscriptions/{sub}/providers/Microsoft.Security/autoProvisioningSettings?api-version={API}",
        emu.base_url()
    )
}

/// A token through the real client-credentials flow.
pub async fn token(emu: &EmulatorHandle) -> String {
    let resp = client()
        .post(format!("{}/tenant/oauth2/v2.0/token", emu.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "test-app"),
            ("client_secret", "test-secret"),
            ("scope", &format!("{}//.default", emu.base_url())),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub async fn get(url: &str, token: &str) -> reqwest::Response {
    client().get(url).bearer_auth(token).send().await.unwrap()
}

pub async fn put(url: &str, token: &str, body: Value) -> reqwest::Response {
    client()
        .put(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn patch(url: &str, token: &str, body: Value) -> reqwest::Response {
    client()
        .patch(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Status and JSON body.
pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

pub fn arm_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}
