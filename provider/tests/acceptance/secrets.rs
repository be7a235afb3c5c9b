//! Credentials never leak: an apply at `TF_LOG=trace` / `TF_LOG_PROVIDER=trace` with a client
//! secret, and another with an OIDC token (workload identity federation), then a failing
//! apply; neither the secret, the OIDC token nor any access token (a JWT: `eyJ…`) appears in
//! Terraform's log, stdout, stderr or the state, and no file under the working directory,
//! HOME or TMPDIR holds one (the token cache lives in memory only).
//!
//! The plugin channel refusing a client whose certificate is not Terraform's is tested in
//! tests/plugin_channel.rs.

use std::path::Path;

use arm_emulator::FaultRule;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::common::TfEnv;
use crate::faults::settings_config;

/// Every file below `dir` whose bytes contain one of `needles`.
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                for n in needles {
                    if text.contains(n) {
                        hits.push(format!("{} contains {n:?}", p.display()));
                    }
                }
            }
        }
    }
    hits
}

/// A federated token as a CI system issues it (unsigned here: the emulator checks the
/// structure, audience and expiry of federated assertions).
fn oidc_token(marker: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"iss": "https://token.actions.githubusercontent.com",
               "sub": format!("repo:contoso/{marker}:ref:refs/heads/main"),
               "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 600})
        .to_string(),
    );
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode(marker))
}

async fn apply_at_trace_and_check(env: &mut TfEnv, secrets: &[&str]) {
    let home = env.path().join("home");
    let tmp = env.path().join("tmp");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let log = env.path().join("terraform-trace.log");
    for (k, v) in [
        ("TF_LOG", "trace".to_owned()),
        ("TF_LOG_PROVIDER", "trace".to_owned()),
        ("TF_LOG_PATH", log.display().to_string()),
        ("HOME", home.display().to_string()),
        ("TMPDIR", tmp.display().to_string()),
    ] {
        env.extra_env.push((k.into(), v));
    }
    env.config(&settings_config());
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    // A failing apply: the error path must not leak either.
    env.emulator
        .add_fault(
            FaultRule::arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            )
            .method("PUT")
            .path("settings/MCAS"),
        )
        .unwrap();
    env.config(&settings_config().replace("enabled = true", "enabled = false"));
    let failed = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    failed.assert_code(1);
    assert!(
        failed.all().contains("InvalidAuthenticationToken"),
        "{}",
        failed.all()
    );

    let trace = std::fs::read_to_string(&log).expect("the trace log");
    // The log is the provider's too: its ARM responses are there (bodies redacted).
    assert!(
        trace.contains("ARM response"),
        "provider trace in the log ({} bytes)",
        trace.len()
    );
    assert!(trace.len() > 100_000, "a trace log ({} bytes)", trace.len());
    // Access tokens are JWTs; so is the OIDC token. None may appear anywhere. A JWT is
    // `eyJ….eyJ….sig` (base64url JSON header, a dot, base64url JSON payload): the needle is
    // the dot and the payload's start, since the private state Terraform keeps beside each
    // resource is base64 JSON too (`eyJkZWZlbmRlcl93cml0dGVuX2F0Ijo…`, a time, no secret).
    let mut needles: Vec<&str> = secrets.to_vec();
    needles.push(".eyJ");
    for (name, text) in [
        ("apply stdout", &apply.stdout),
        ("apply stderr", &apply.stderr),
        ("failed apply output", &failed.all()),
        ("trace log", &trace),
    ] {
        for n in &needles {
            assert!(!text.contains(n), "{name} contains {n:?}");
        }
    }
    let state = std::fs::read_to_string(env.path().join("terraform.tfstate")).unwrap();
    for n in &needles {
        assert!(!state.contains(n), "the state contains {n:?}");
    }
    // Nothing on disk: the working directory (state, lock file, log), HOME and TMPDIR.
    let hits = files_containing(env.path(), &needles);
    assert!(hits.is_empty(), "{hits:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_never_reaches_logs_state_or_disk() {
    let mut env = TfEnv::start().await;
    let secret = format!("cs-{}-Secret~Value", uuid::Uuid::new_v4().simple());
    env.extra_env
        .push(("ARM_CLIENT_SECRET".into(), secret.clone()));
    apply_at_trace_and_check(&mut env, &[&secret]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_token_never_reaches_logs_state_or_disk() {
    let mut env = TfEnv::start().await;
    let marker = format!("oidc{}", uuid::Uuid::new_v4().simple());
    let token = oidc_token(&marker);
    let payload = token.split('.').nth(1).unwrap().to_owned();
    for (k, v) in [
        ("ARM_CLIENT_SECRET", ""),
        ("ARM_USE_OIDC", "true"),
        ("ARM_OIDC_TOKEN", token.as_str()),
    ] {
        env.extra_env.push((k.into(), v.into()));
    }
    apply_at_trace_and_check(&mut env, &[&token, &payload, &marker]).await;
    // The emulator saw a federated assertion, not a secret.
    let token_calls: Vec<_> = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .collect();
    assert!(!token_calls.is_empty());
}
