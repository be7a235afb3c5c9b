//! ARM behaviour: api-versions, headers, routing, the auto-provisioning singleton, paging.

use crate::common;

use arm_emulator::Config;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn api_version_is_required_and_checked_per_type() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let base = format!("{}{}", emu.base_url(), setting_path(&sub, "default"));

    let (status, body) = json(get(&base, &token).await).await;
    assert_eq!(
        (status, arm_code(&body)),
        (400, "MissingApiVersionParameter")
    );
    assert_eq!(
        body["error"]["message"],
        "The api-version query parameter (?api-version=) is required for all requests."
    );

    let (status, body) = json(get(&format!("{base}?api-version=2024-01-01"), &token).await).await;
    assert_eq!(
        (status, arm_code(&body)),
        (400, "InvalidApiVersionParameter")
    );
    assert_eq!(
        body["error"]["message"],
        "The api-version '2024-01-01' is invalid. The supported versions are '2017-08-01-preview'."
    );
}

#[tokio::test]
async fn a_new_subscription_reads_off() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(get(&setting_url(&emu, &sub, "default"), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "id": setting_path(&sub, "default"),
            "name": "default",
            "type": "Microsoft.Security/autoProvisioningSettings",
            "properties": {"autoProvision": "Off"}
        })
    );
    let (status, list) = json(get(&list_url(&emu, &sub), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(list["value"], json!([body]));
    assert!(
        list.get("nextLink").is_none(),
        "no nextLink on the last page"
    );
}

#[tokio::test]
async fn put_off_echoes_the_resource_and_on_is_deprecated() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let url = setting_url(&emu, &sub, "default");

    let (status, body) = json(
        put(
            &url,
            &token,
            json!({"properties": {"autoProvision": "off"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], setting_path(&sub, "default"));
    assert_eq!(body["name"], "default");
    assert_eq!(body["type"], "Microsoft.Security/autoProvisioningSettings");
    assert_eq!(body["properties"], json!({"autoProvision": "Off"}));

    let (status, body) =
        json(put(&url, &token, json!({"properties": {"autoProvision": "On"}})).await).await;
    assert_eq!((status, arm_code(&body)), (400, "Deprecated"));
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Log Analytics agent"), "{message}");
    assert!(message.contains("Azure Monitor Agent"), "{message}");
    assert!(message.contains("Defender for Endpoint"), "{message}");

    // The refused write changed nothing.
    let (_, body) = json(get(&url, &token).await).await;
    assert_eq!(body["properties"]["autoProvision"], "Off");
}

#[tokio::test]
async fn the_published_example_request_shape_is_accepted() {
    // CreateAutoProvisioningSettingsSubscription_example.json sends id, name and type in the
    // body (with "On", which today's service refuses; "Off" here).
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let body = json!({
        "id": setting_path(&sub, "default"),
        "name": "default",
        "type": "Microsoft.Security/autoProvisioningSettings",
        "properties": {"autoProvision": "Off"}
    });
    let (status, answer) =
        json(put(&setting_url(&emu, &sub, "default"), &token, body.clone()).await).await;
    assert_eq!(status, 200);
    assert_eq!(answer, body);
}

#[tokio::test]
async fn on_succeeds_when_mma_autoprovisioning_is_allowed() {
    let emu = start(Config::default().allow_mma_autoprovision(true)).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let url = setting_url(&emu, &sub, "default");
    let (status, body) =
        json(put(&url, &token, json!({"properties": {"autoProvision": "ON"}})).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["properties"]["autoProvision"], "On");
    let (_, body) = json(get(&url, &token).await).await;
    assert_eq!(body["properties"]["autoProvision"], "On");
}

#[tokio::test]
async fn the_allow_flag_can_be_toggled_at_run_time() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    let on = json!({"properties": {"autoProvision": "On"}});
    assert_eq!(put(&url, &token, on.clone()).await.status(), 400);
    let resp = client()
        .post(format!("{}/_emulator/config", emu.base_url()))
        .json(&json!({"allow_mma_autoprovision": true}))
        .send()
        .await
        .unwrap();
    let (status, cfg) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(cfg["allow_mma_autoprovision"], true);
    assert_eq!(put(&url, &token, on).await.status(), 200);
}

#[tokio::test]
async fn invalid_bodies_and_names_are_bad_requests() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let url = setting_url(&emu, &sub, "default");
    for body in [
        json!({}),
        json!({"properties": {"autoProvision": "Sometimes"}}),
        json!({"properties": {"autoProvision": 1}}),
    ] {
        let (status, err) = json(put(&url, &token, body).await).await;
        assert_eq!((status, arm_code(&err)), (400, "InvalidInputJson"), "{err}");
    }
    let resp = client()
        .put(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, err) = json(resp).await;
    assert_eq!((status, arm_code(&err)), (400, "InvalidRequestContent"));

    let (status, err) = json(
        put(
            &setting_url(&emu, &sub, "custom"),
            &token,
            json!({"properties": {"autoProvision": "Off"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = json(get(&setting_url(&emu, &sub, "custom"), &token).await).await;
    assert_eq!((status, arm_code(&err)), (404, "ResourceNotFound"));
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Security/autoProvisioningSettings/custom")
    );
}

#[tokio::test]
async fn delete_is_not_supported() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let resp = client()
        .delete(setting_url(&emu, &new_subscription(), "default"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let allow = resp
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = json(resp).await;
    assert_eq!((status, arm_code(&body)), (405, "MethodNotAllowed"));
    assert!(
        allow.contains("PUT") && !allow.contains("DELETE"),
        "{allow}"
    );
}

#[tokio::test]
async fn ids_and_names_are_case_insensitive() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let shouty = format!(
        "{}/SUBSCRIPTIONS/{}/PROVIDERS/microsoft.security/AUTOPROVISIONINGSETTINGS/DEFAULT?API-VERSION=2017-08-01-PREVIEW",
        emu.base_url(),
        sub.to_uppercase()
    );
    let (status, body) = json(
        put(
            &shouty,
            &token,
            json!({"properties": {"autoProvision": "Off"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The namespace and type come back in their canonical casing, the name as the singleton's.
    let id = body["id"].as_str().unwrap();
    assert!(
        id.ends_with("/providers/Microsoft.Security/autoProvisioningSettings/default"),
        "{id}"
    );
    assert_eq!(body["name"], "default");

    // Stored once: the lower-case GET finds the same resource.
    let (status, again) = json(get(&setting_url(&emu, &sub, "Default"), &token).await).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], body["id"]);
    let stored = emu
        .get_resource(&setting_path(&sub.to_lowercase(), "default"))
        .unwrap();
    assert_eq!(stored["id"], body["id"]);
    let all = emu.state().snapshot_json();
    assert_eq!(all["resources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_response_has_arm_headers() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");

    let resp = client()
        .get(&url)
        .bearer_auth(&token)
        .header("x-ms-correlation-request-id", "my-correlation")
        .header("x-ms-client-request-id", "my-client-id")
        .header("x-ms-return-client-request-id", "true")
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    let request_id = h["x-ms-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok());
    assert_eq!(h["x-ms-correlation-request-id"], "my-correlation");
    assert_eq!(h["x-ms-client-request-id"], "my-client-id");
    assert!(
        h["x-ms-routing-request-id"]
            .to_str()
            .unwrap()
            .ends_with(&request_id)
    );
    assert!(h.contains_key("x-ms-ratelimit-remaining-subscription-reads"));
    assert!(!h.contains_key("x-ms-ratelimit-remaining-subscription-writes"));

    let resp = put(
        &url,
        &token,
        json!({"properties": {"autoProvision": "Off"}}),
    )
    .await;
    let h = resp.headers();
    assert!(h.contains_key("x-ms-ratelimit-remaining-subscription-writes"));
    assert!(!h.contains_key("x-ms-ratelimit-remaining-subscription-reads"));
    let generated = h["x-ms-correlation-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(generated).is_ok(),
        "a new GUID when none was sent"
    );
    assert_ne!(
        h["x-ms-request-id"].to_str().unwrap(),
        request_id,
        "new per request"
    );

    // Error answers and non-ARM routes carry the IDs too.
    let resp = client().get(&url).send().await.unwrap();
    assert!(resp.headers().contains_key("x-ms-request-id"));
    let resp = client()
        .get(format!(
            "{}/metadata/endpoints?api-version=2022-09-01",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("x-ms-request-id"));
}

/// Tenant calls carry ARM's `-tenant-` quota headers (arm-api.md §13.1); with the rate limiter
/// on, an answer carries the one count of its bucket (a DELETE's `-deletes`, not also the
/// default `-writes`).
#[tokio::test]
async fn remaining_quota_headers_name_tenant_or_subscription_and_appear_once() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let mg = format!(
        "{}/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyAssignments?api-version=2025-03-01",
        emu.base_url()
    );
    let resp = get(&mg, &token).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert!(
        h.contains_key("x-ms-ratelimit-remaining-tenant-reads"),
        "{h:?}"
    );
    assert!(
        !h.contains_key("x-ms-ratelimit-remaining-subscription-reads"),
        "{h:?}"
    );

    let limited =
        start(Config::default().with_rate_limits(arm_emulator::ratelimit::RateLimits::arm())).await;
    let token = common::token(&limited).await;
    let url = format!(
        "{}/subscriptions/{}/providers/Microsoft.Authorization/policyAssignments/none?api-version=2025-03-01",
        limited.base_url(),
        new_subscription()
    );
    let resp = client()
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert!(
        h.contains_key("x-ms-ratelimit-remaining-subscription-deletes"),
        "{h:?}"
    );
    assert!(
        !h.contains_key("x-ms-ratelimit-remaining-subscription-writes"),
        "{h:?}"
    );
}

#[tokio::test]
async fn unknown_routes_answer_arm_404s() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let b = emu.base_url();

    let (status, body) = json(
        get(
            &format!(
                "{b}/subscriptions/{sub}/providers/Microsoft.Security/widgets?api-version={API}"
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&body)), (404, "InvalidResourceType"));

    let (status, body) = json(
        get(
            &format!("{b}/subscriptions/{sub}/providers/Contoso.Widgets/things?api-version=1"),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!((status, arm_code(&body)), (404, "InvalidResourceNamespace"));

    let (status, body) = json(
        client()
            .get(format!("{b}/nothing/here"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn subscriptions_can_be_restricted() {
    let known = new_subscription();
    let emu = start(Config::default().with_subscription(known.clone())).await;
    let token = token(&emu).await;
    assert_eq!(
        get(&setting_url(&emu, &known, "default"), &token)
            .await
            .status(),
        200
    );

    let other = new_subscription();
    let (status, body) = json(get(&setting_url(&emu, &other, "default"), &token).await).await;
    assert_eq!((status, arm_code(&body)), (404, "SubscriptionNotFound"));
    assert!(body["error"]["message"].as_str().unwrap().contains(&other));

    let (status, body) = json(get(&setting_url(&emu, "not-a-guid", "default"), &token).await).await;
    assert_eq!((status, arm_code(&body)), (400, "InvalidSubscriptionId"));

    let (status, body) = json(
        get(
            &format!(
                "{}/subscriptions/{known}?api-version=2022-12-01",
                emu.base_url()
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["subscriptionId"], known.as_str());
    assert_eq!(body["state"], "Enabled");
}

#[tokio::test]
async fn any_guid_is_a_subscription_by_default() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(
        get(
            &format!(
                "{}/subscriptions/{sub}?api-version=2022-12-01",
                emu.base_url()
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], format!("/subscriptions/{sub}"));
    let (status, body) = json(
        get(
            &format!("{}/subscriptions?api-version=2022-12-01", emu.base_url()),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subscriptionId"] == sub.as_str())
    );
}

#[tokio::test]
async fn lists_page_with_next_link() {
    let emu = start(Config::default().with_page_size(1)).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    // Two extra settings beside the `default` singleton, seeded directly.
    for name in ["extra1", "extra2"] {
        let id = setting_path(&sub, name);
        emu.set_resource(
            &id,
            json!({"id": id, "name": name, "type": "Microsoft.Security/autoProvisioningSettings", "properties": {"autoProvision": "Off"}}),
        );
    }
    let mut url = list_url(&emu, &sub);
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = json(get(&url, &token).await).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        let value = body["value"].as_array().unwrap();
        assert!(value.len() <= 1);
        names.extend(value.iter().map(|v| v["name"].as_str().unwrap().to_owned()));
        match body.get("nextLink").and_then(Value::as_str) {
            Some(next) => {
                assert!(next.starts_with(&emu.base_url()), "absolute: {next}");
                assert!(next.contains("$skipToken="), "{next}");
                assert!(next.contains("api-version=2017-08-01-preview"), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["default", "extra1", "extra2"]);

    let (status, body) = json(
        get(
            &format!("{}&$skipToken=bogus", list_url(&emu, &sub)),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn provider_registration_is_answered() {
    let emu = start(Config::default()).await;
    let token = token(&emu).await;
    let sub = new_subscription();
    let (status, body) = json(
        get(
            &format!(
                "{}/subscriptions/{sub}/providers/Microsoft.Security?api-version=2021-04-01",
                emu.base_url()
            ),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["registrationState"], "Registered");
    assert!(
        body["resourceTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["resourceType"] == "autoProvisioningSettings")
    );
    let resp = client()
        .post(format!(
            "{}/subscriptions/{sub}/providers/Microsoft.Security/register?api-version=2021-04-01",
            emu.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
