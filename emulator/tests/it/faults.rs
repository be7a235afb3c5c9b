//! Every kind of fault, through the handle and through the control endpoint.

use crate::common;

use std::time::{Duration, Instant};

use arm_emulator::{Config, FaultRule, RuntimeConfigPatch};
use common::*;
use serde_json::json;

const OFF: fn() -> serde_json::Value = || json!({"properties": {"autoProvision": "Off"}});

#[tokio::test]
async fn throttling_with_retry_after_fires_count_times() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    emu.add_fault(FaultRule::status(429).retry_after(7).method("GET").times(1))
        .unwrap();

    let resp = get(&url, &token).await;
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(resp.headers().contains_key("x-ms-request-id"));
    let (status, body) = json(resp).await;
    assert_eq!((status, arm_code(&body)), (429, "TooManyRequests"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'7' seconds")
    );

    assert_eq!(get(&url, &token).await.status(), 200, "count 1 is spent");
    let faults = emu.faults();
    assert_eq!((faults[0].fired, faults[0].remaining), (1, Some(0)));
    let log = emu.requests();
    let throttled = log.iter().find(|e| e.status == 429).unwrap();
    assert_eq!(throttled.faults, vec![faults[0].rule.id.clone()]);
}

#[tokio::test]
async fn server_errors_have_arm_codes() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    emu.add_fault(FaultRule::status(500).times(1)).unwrap();
    emu.add_fault(FaultRule::status(503).times(1)).unwrap();
    let (status, body) = json(get(&url, &token).await).await;
    assert_eq!((status, arm_code(&body)), (500, "InternalServerError"));
    let (status, body) = json(get(&url, &token).await).await;
    assert_eq!((status, arm_code(&body)), (503, "ServiceUnavailable"));
    assert_eq!(get(&url, &token).await.status(), 200);
}

#[tokio::test]
async fn conflicts_carry_the_given_code_and_match_by_method() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    emu.add_fault(
        FaultRule::arm_error(409, "Conflict", "Another update operation is in progress.")
            .method("PUT")
            .resource_type("microsoft.security/AUTOPROVISIONINGSETTINGS"),
    )
    .unwrap();
    assert_eq!(get(&url, &token).await.status(), 200, "GET does not match");
    for _ in 0..2 {
        let (status, body) = json(put(&url, &token, OFF()).await).await;
        assert_eq!(
            (status, arm_code(&body)),
            (409, "Conflict"),
            "unlimited count"
        );
        assert_eq!(
            body["error"]["message"],
            "Another update operation is in progress."
        );
    }
    emu.clear_faults();
    assert_eq!(put(&url, &token, OFF()).await.status(), 200);
}

#[tokio::test]
async fn latency_rules_and_global_latency_delay_answers() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    let c = client();
    let timed = |url: String| {
        let req = c.get(url).bearer_auth(&token);
        async move {
            let t = Instant::now();
            let status = req.send().await.unwrap().status();
            (status, t.elapsed())
        }
    };

    emu.add_fault(
        FaultRule::latency(400)
            .path("autoProvisioningSettings")
            .times(1),
    )
    .unwrap();
    let (status, took) = timed(url.clone()).await;
    assert_eq!(status, 200);
    assert!(took >= Duration::from_millis(400), "{took:?}");
    let (_, took) = timed(url.clone()).await;
    assert!(
        took < Duration::from_millis(400),
        "the rule is spent: {took:?}"
    );

    emu.update_config(RuntimeConfigPatch {
        latency_ms: Some(400),
        ..Default::default()
    });
    let (_, took) = timed(url.clone()).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");
    // Control endpoints are never delayed.
    let (_, took) = timed(format!("{}/_emulator/state", emu.base_url())).await;
    assert!(took < Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    emu.add_fault(
        FaultRule::drop_connection()
            .path("/autoProvisioningSettings/")
            .times(1),
    )
    .unwrap();

    let err = client()
        .get(&url)
        .bearer_auth(&token)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect_err("no response");
    assert!(!err.is_timeout(), "closed, not hung: {err}");
    assert!(
        err.is_request() || err.is_connect() || err.to_string().contains("connection"),
        "{err}"
    );

    assert_eq!(
        get(&url, &token).await.status(),
        200,
        "the next request is answered"
    );
    let dropped: Vec<_> = emu.requests().into_iter().filter(|e| e.dropped).collect();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].status, 0);
}

#[tokio::test]
async fn not_found_after_create_models_eventual_consistency() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let url = setting_url(&emu, &sub, "default");
    emu.add_fault(FaultRule::not_found_after_create(2).path(&sub).times(1))
        .unwrap();

    // Reads before the first write are not affected.
    assert_eq!(get(&url, &token).await.status(), 200);
    assert_eq!(put(&url, &token, OFF()).await.status(), 200);
    for _ in 0..2 {
        let (status, body) = json(get(&url, &token).await).await;
        assert_eq!((status, arm_code(&body)), (404, "ResourceNotFound"));
    }
    assert_eq!(get(&url, &token).await.status(), 200);
    // An update is not a create.
    assert_eq!(put(&url, &token, OFF()).await.status(), 200);
    assert_eq!(get(&url, &token).await.status(), 200);
    let nf: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|e| e.status == 404)
        .collect();
    assert_eq!(nf.len(), 2);
    assert!(!nf[0].faults.is_empty());
}

#[tokio::test]
async fn regex_matchers_pick_paths() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let a = new_subscription();
    let b = new_subscription();
    emu.add_fault(FaultRule::status(503).path_regex(format!("^/subscriptions/{a}/")))
        .unwrap();
    assert_eq!(
        get(&setting_url(&emu, &a, "default"), &token)
            .await
            .status(),
        503
    );
    assert_eq!(
        get(&setting_url(&emu, &b, "default"), &token)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn control_endpoint_adds_lists_and_clears_rules() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    let faults = format!("{}/_emulator/faults", emu.base_url());

    let resp = client()
        .post(&faults)
        .json(&json!({"method": "GET", "status": 429, "retry_after": 1, "count": 2}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 201);
    let id = body["id"].as_str().unwrap().to_owned();

    assert_eq!(get(&url, &token).await.status(), 429);
    let (status, listed) = json(client().get(&faults).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["status"], 429);
    assert_eq!(listed[0]["remaining"], 1);
    assert_eq!(listed[0]["fired"], 1);

    for bad in [
        json!({"path": "x"}),
        json!({"status": 500, "drop": true}),
        json!({"path_regex": "(", "drop": true}),
    ] {
        let (status, _) = json(client().post(&faults).json(&bad).send().await.unwrap()).await;
        assert_eq!(status, 400, "{bad}");
    }

    assert_eq!(client().delete(&faults).send().await.unwrap().status(), 204);
    assert_eq!(get(&url, &token).await.status(), 200);
}

#[tokio::test]
async fn token_endpoint_faults_answer_in_entra_shape() {
    let emu = start(Config::default()).await;
    emu.add_fault(
        FaultRule::status(503)
            .path("/oauth2/")
            .retry_after(2)
            .times(1),
    )
    .unwrap();
    let resp = client()
        .post(format!("{}/t/oauth2/v2.0/token", emu.base_url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["retry-after"], "2");
    let (status, body) = json(resp).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_codes"].is_array());
    // Spent: the real flow works again.
    token(&emu).await;
}

#[tokio::test]
async fn faults_from_config_are_active_at_start() {
    let emu =
        start(Config::default().with_fault(FaultRule::status(500).path("/metadata/endpoints")))
            .await;
    let resp = client()
        .get(format!(
            "{}/metadata/endpoints?api-version=2022-09-01",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
}
