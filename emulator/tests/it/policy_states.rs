//! `policyStates/latest/triggerEvaluation` and the `asyncOperationResults` URL it answers with
//! (shapes UNVERIFIED: see `types/policy_states.rs`). The provider's `defender_compliance_scan`
//! action polls this; here the wire contract is pinned on its own.

use arm_emulator::{Config, EmulatorHandle};
use serde_json::Value;

use crate::common;
use common::*;

const API: &str = "2019-10-01";

fn trigger_url(emu: &EmulatorHandle, scope: &str, name: &str) -> String {
    format!(
        "{}{scope}/providers/Microsoft.PolicyInsights/policyStates/{name}/triggerEvaluation?api-version={API}",
        emu.base_url()
    )
}

async fn post(url: &str, token: &str) -> reqwest::Response {
    client().post(url).bearer_auth(token).send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn trigger_evaluation_is_a_202_whose_location_ends_in_succeeded() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    for scope in [
        format!("/subscriptions/{sub}"),
        format!("/subscriptions/{sub}/resourceGroups/rg-scan"),
    ] {
        let resp = post(&trigger_url(&emu, &scope, "latest"), &token).await;
        assert_eq!(resp.status(), 202, "{scope}");
        assert_eq!(header(&resp, "retry-after").as_deref(), Some("1"));
        let location = header(&resp, "location").expect("Location");
        assert!(
            location.contains(&format!(
                "/subscriptions/{sub}/providers/Microsoft.PolicyInsights/asyncOperationResults/"
            )),
            "{location}"
        );
        // Two observations in progress, then done; a done scan stays done.
        for _ in 0..2 {
            let r = get(&location, &token).await;
            assert_eq!(r.status(), 202);
            assert_eq!(header(&r, "location").as_deref(), Some(location.as_str()));
        }
        for _ in 0..2 {
            let (status, body) = json(get(&location, &token).await).await;
            assert_eq!(status, 200);
            assert_eq!(body, serde_json::json!({"status": "Succeeded"}));
        }
    }
}

#[tokio::test]
async fn only_latest_is_served_and_unknown_operations_are_404() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let scope = format!("/subscriptions/{sub}");
    let (status, body) = json(post(&trigger_url(&emu, &scope, "default"), &token).await).await;
    assert_eq!(status, 404, "{body}");
    let unknown = format!(
        "{}/subscriptions/{sub}/providers/Microsoft.PolicyInsights/asyncOperationResults/{}?api-version={API}",
        emu.base_url(),
        uuid::Uuid::new_v4()
    );
    let (status, body): (u16, Value) = json(get(&unknown, &token).await).await;
    assert_eq!(status, 404, "{body}");
    // No token, no scan.
    let resp = client()
        .post(trigger_url(&emu, &scope, "latest"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
