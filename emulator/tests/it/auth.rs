//! The Entra token endpoint, IMDS, the OIDC issuer and ARM's bearer check.

use crate::common;

use std::time::Duration;

use arm_emulator::{ClientRegistration, Config};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::{Value, json};

fn token_url(base: &str) -> String {
    format!("{base}/72f9acb2-0000-4e00-8000-00000000e1a0/oauth2/v2.0/token")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(header: Value, claims: Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, Value, reqwest::header::HeaderMap) {
    let resp = client().post(url).form(form).send().await.unwrap();
    let headers = resp.headers().clone();
    let (status, body) = json(resp).await;
    (status, body, headers)
}

fn assert_entra_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}: {body}"
        );
    }
}

#[tokio::test]
async fn client_secret_flow_issues_a_token_arm_accepts() {
    let emu = start(Config::default()).await;
    let scope = format!("{}//.default", emu.base_url());
    let (status, body, _) = post_form(
        &token_url(&emu.base_url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "anything"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "JWT-shaped");

    let sub = new_subscription();
    let (status, _) = json(get(&setting_url(&emu, &sub, "default"), token).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn basic_auth_and_public_arm_scope_are_accepted() {
    let emu =
        start(Config::default().with_client(ClientRegistration::with_secret("app", "p@ss:word")))
            .await;
    let resp = client()
        .post(token_url(&emu.base_url()))
        .basic_auth("app", Some("p@ss:word"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com//.default"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, _) =
        json(get(&setting_url(&emu, &new_subscription(), "default"), token).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_secrets_and_clients_get_entra_errors() {
    let emu =
        start(Config::default().with_client(ClientRegistration::with_secret("app", "right"))).await;
    let url = token_url(&emu.base_url());
    let scope = format!("{}//.default", emu.base_url());

    let (status, body, headers) = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "wrong"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 7000215);
    assert_eq!(
        body["trace_id"].as_str(),
        headers.get("x-ms-request-id").and_then(|v| v.to_str().ok())
    );

    let (status, body, _) = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "stranger"),
            ("client_secret", "x"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "unauthorized_client", 700016);

    let (status, body, _) = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 7000218);
}

#[tokio::test]
async fn empty_secret_is_refused_without_registrations() {
    let emu = start(Config::default()).await;
    let scope = format!("{}//.default", emu.base_url());
    let (status, body, _) = post_form(
        &token_url(&emu.base_url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", ""),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 7000215);
}

#[tokio::test]
async fn scope_and_grant_type_are_checked() {
    let emu = start(Config::default()).await;
    let url = token_url(&emu.base_url());
    let (status, body, _) = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "s"),
            ("scope", "https://management.azure.com/user_impersonation"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_scope", 1002012);

    let (status, body, _) = post_form(
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "s"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 900144);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("'scope'")
    );

    let (status, body, _) = post_form(
        &url,
        &[
            ("grant_type", "password"),
            ("client_id", "app"),
            ("scope", "x/.default"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "unsupported_grant_type", 70003);
}

fn assertion_form<'a>(assertion: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", "app"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", scope),
    ]
}

#[tokio::test]
async fn certificate_assertions_are_checked_structurally() {
    let emu = start(Config::default()).await;
    let url = token_url(&emu.base_url());
    let scope = format!("{}//.default", emu.base_url());
    let exp = now() + 600;
    let claims = |aud: &str, iss: &str, exp: u64| json!({"aud": aud, "iss": iss, "sub": "app", "exp": exp, "nbf": now(), "jti": "1"});

    let good = jwt(
        json!({"alg": "RS256", "x5t": "AAAA"}),
        claims(&url, "app", exp),
        b"sig",
    );
    let (status, body, _) = post_form(&url, &assertion_form(&good, &scope)).await;
    assert_eq!(status, 200, "{body}");

    let wrong_aud = jwt(
        json!({"alg": "RS256", "x5t": "AAAA"}),
        claims(
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "app",
            exp,
        ),
        b"sig",
    );
    let (status, body, _) = post_form(&url, &assertion_form(&wrong_aud, &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700023);

    let wrong_iss = jwt(
        json!({"alg": "RS256", "x5t": "AAAA"}),
        claims(&url, "other", exp),
        b"s",
    );
    let (status, body, _) = post_form(&url, &assertion_form(&wrong_iss, &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700021);

    let expired = jwt(
        json!({"alg": "RS256", "x5t": "AAAA"}),
        claims(&url, "app", now() - 10),
        b"s",
    );
    let (status, body, _) = post_form(&url, &assertion_form(&expired, &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700024);

    let no_thumbprint = jwt(json!({"alg": "RS256"}), claims(&url, "app", exp), b"s");
    let (status, body, _) = post_form(&url, &assertion_form(&no_thumbprint, &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700027);

    let (status, body, _) = post_form(&url, &assertion_form("not-a-jwt", &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 50027);
}

/// An RSA key and self-signed certificate; returns (certificate DER, PKCS#8 key DER).
fn certificate() -> (Vec<u8>, Vec<u8>) {
    // rcgen is built on ring (as in the provider), which cannot generate RSA keys.
    use aws_lc_rs::encoding::AsDer;
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8: aws_lc_rs::encoding::Pkcs8V1Der = rsa.as_der().unwrap();
    let key = rcgen::KeyPair::try_from(pkcs8.as_ref()).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["app".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.der().to_vec(), key.serialize_der())
}

fn signed_assertion(key_pkcs8: &[u8], cert_der: &[u8], aud: &str) -> String {
    use aws_lc_rs::{digest, rand::SystemRandom, signature};
    let x5t = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der));
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": x5t});
    let claims = json!({"aud": aud, "iss": "app", "sub": "app", "exp": now() + 600, "nbf": now(), "jti": "j"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let pair = signature::RsaKeyPair::from_pkcs8(key_pkcs8).unwrap();
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[tokio::test]
async fn certificate_assertions_are_verified_against_registered_certificates() {
    let (cert, key) = certificate();
    let (_, other_key) = certificate();
    let registration = ClientRegistration {
        client_id: "app".to_owned(),
        secret: None,
        certificates: vec![cert.clone()],
    };
    let emu = start(Config::default().with_client(registration)).await;
    let url = token_url(&emu.base_url());
    let scope = format!("{}//.default", emu.base_url());

    let good = signed_assertion(&key, &cert, &url);
    let (status, body, _) = post_form(&url, &assertion_form(&good, &scope)).await;
    assert_eq!(status, 200, "{body}");

    // Same thumbprint, signed by a different key.
    let forged = signed_assertion(&other_key, &cert, &url);
    let (status, body, _) = post_form(&url, &assertion_form(&forged, &scope)).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 700027);
}

#[tokio::test]
async fn federated_flow_through_the_github_oidc_endpoint() {
    let emu = start(Config::default()).await;
    let oidc = format!(
        "{}/_oidc/github?api-version=2.0&audience=api://AzureADTokenExchange",
        emu.base_url()
    );
    let (status, _) = json(client().get(&oidc).send().await.unwrap()).await;
    assert_eq!(status, 401, "the request token is required");

    let (status, body) = json(
        client()
            .get(&oidc)
            .bearer_auth("runner-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let id_token = body["value"].as_str().unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "api://AzureADTokenExchange");

    let url = token_url(&emu.base_url());
    let scope = format!("{}//.default", emu.base_url());
    let (status, body, _) = post_form(&url, &assertion_form(&id_token, &scope)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, _) =
        json(get(&setting_url(&emu, &new_subscription(), "default"), token).await).await;
    assert_eq!(status, 200);

    // A token for another audience is not a federated credential nor a certificate one.
    let other = format!("{}/_oidc/github?audience=something-else", emu.base_url());
    let (_, body) = json(client().get(&other).bearer_auth("t").send().await.unwrap()).await;
    let (status, body, _) = post_form(
        &url,
        &assertion_form(body["value"].as_str().unwrap(), &scope),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn imds_needs_the_metadata_header_and_answers_strings() {
    let emu = start(Config::default()).await;
    let url = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/",
        emu.base_url()
    );
    let (status, body) = json(client().get(&url).send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");

    let (status, body) = json(
        client()
            .get(&url)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "refresh_token",
            "expires_in",
            "expires_on",
            "not_before",
            "resource",
            "token_type"
        ]
    );
    assert_eq!(body["expires_in"], "3599");
    assert!(body["expires_on"].as_str().unwrap().parse::<u64>().unwrap() > now());
    assert_eq!(body["resource"], "https://management.azure.com/");
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    let (status, _) =
        json(get(&setting_url(&emu, &new_subscription(), "default"), token).await).await;
    assert_eq!(status, 200);

    let no_resource = format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01",
        emu.base_url()
    );
    let (status, _) = json(
        client()
            .get(&no_resource)
            .header("Metadata", "true")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn arm_refuses_missing_bad_expired_and_foreign_tokens() {
    let emu = start(Config::default()).await;
    let url = setting_url(&emu, &new_subscription(), "default");

    let resp = client().get(&url).send().await.unwrap();
    assert!(resp.headers().contains_key("www-authenticate"));
    let (status, body) = json(resp).await;
    assert_eq!((status, arm_code(&body)), (401, "AuthenticationFailed"));

    let (status, body) = json(
        client()
            .get(&url)
            .header("Authorization", "Basic abc")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, arm_code(&body)), (401, "AuthenticationFailed"));

    let (status, body) = json(get(&url, "eyJhbGciOiJub25lIn0.e30.").await).await;
    assert_eq!(
        (status, arm_code(&body)),
        (401, "InvalidAuthenticationToken")
    );

    // A token for Microsoft Graph is not one for ARM.
    let (_, body, _) = post_form(
        &token_url(&emu.base_url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "s"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    let graph = body["access_token"].as_str().unwrap();
    let (status, body) = json(get(&url, graph).await).await;
    assert_eq!(
        (status, arm_code(&body)),
        (401, "InvalidAuthenticationTokenAudience")
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    // `exp` is whole seconds (as in Entra's JWTs), counted from the second the token was
    // issued in: a 1 s token could expire at once. 3 s leaves at least 2 s for the first call.
    let emu = start(Config::default().with_token_lifetime(Duration::from_secs(3))).await;
    let token = token(&emu).await;
    let url = setting_url(&emu, &new_subscription(), "default");
    let (status, _) = json(get(&url, &token).await).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let (status, body) = json(get(&url, &token).await).await;
    assert_eq!(
        (status, arm_code(&body)),
        (401, "ExpiredAuthenticationToken")
    );
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_request_log() {
    let emu = start(Config::default()).await;
    let scope = format!("{}//.default", emu.base_url());
    let (_, body, _) = post_form(
        &token_url(&emu.base_url()),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "super-secret-value"),
            ("scope", &scope),
        ],
    )
    .await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let _ = get(&setting_url(&emu, &new_subscription(), "default"), &token).await;
    // A secret in a query string is redacted too.
    let _ = client()
        .get(format!(
            "{}/_oidc/github?client_secret=qs-secret-value",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    let log = client()
        .get(format!("{}/_emulator/requests", emu.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(log.contains("/oauth2/v2.0/token"), "{log}");
    assert!(!log.contains("super-secret-value"));
    assert!(!log.contains("qs-secret-value"));
    assert!(!log.contains(&token));
}
