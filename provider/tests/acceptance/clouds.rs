//! Where the provider finds its cloud, with the real Terraform CLI against the emulator:
//! endpoints named directly (`resource_manager_endpoint`, `active_directory_authority_host`,
//! azapi's `ARM_RESOURCE_MANAGER_ENDPOINT` / `ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST`) are used
//! without the metadata round trip; bad combinations are refused at plan time on the attribute.

use crate::common::{SUBSCRIPTION, TfEnv};

const SETTING: &str =
    "resource \"defender_setting\" \"wdatp\" {\n  name    = \"WDATP\"\n  enabled = true\n}\n";

fn main_tf(provider_body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    defender = {{ source = \"defenderops/defender\" }}\n  }}\n}}\n\nprovider \"defender\" {{\n{provider_body}}}\n\n{SETTING}"
    )
}

/// (metadata requests, token requests, ARM requests) the emulator logged since it was cleared.
fn requests(env: &TfEnv) -> (usize, usize, usize) {
    let log = env.emulator.requests();
    let metadata = log
        .iter()
        .filter(|r| r.path.starts_with("/metadata/"))
        .count();
    let token = log
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count();
    (metadata, token, env.arm_requests().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_endpoints_from_the_environment_skip_discovery() {
    let mut env = TfEnv::start().await;
    let base = env.emulator.base_url();
    // As tools that export every variable do: the metadata host stays set beside the
    // endpoints, and the named endpoints win.
    env.extra_env = vec![
        ("ARM_RESOURCE_MANAGER_ENDPOINT".into(), base.clone()),
        ("ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST".into(), base.clone()),
        ("ARM_ENVIRONMENT".into(), "custom".into()),
    ];
    env.config(SETTING);
    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let (metadata, token, arm) = requests(&env);
    assert_eq!(metadata, 0, "no discovery: {:?}", env.emulator.requests());
    // Apply configures two processes (plan walk, apply walk); the plan walk's token is
    // fetched in the background and may not be asked for before it exits.
    assert!(
        (1..=2).contains(&token),
        "one token per configured process: {token}"
    );
    assert_eq!(arm, 1, "the setting's PUT: {:?}", env.arm_requests());
    let id = format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/settings/WDATP");
    assert_eq!(
        env.emulator
            .get_resource(&id)
            .and_then(|b| b.pointer("/properties/enabled").cloned()),
        Some(serde_json::json!(true))
    );

    env.emulator.clear_requests();
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    let (metadata, token, arm) = requests(&env);
    assert_eq!(
        (metadata, token, arm),
        (0, 1, 1),
        "refresh: one token, one GET"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_endpoints_in_the_provider_block_win_over_the_environments_metadata_host() {
    let mut env = TfEnv::start().await;
    let base = env.emulator.base_url();
    std::fs::write(
        env.path().join("main.tf"),
        main_tf(&format!(
            "  resource_manager_endpoint       = \"{base}\"\n  active_directory_authority_host = \"{base}\"\n  resource_manager_audience       = \"https://management.core.windows.net/\"\n"
        )),
    )
    .expect("writing main.tf");
    // A metadata host that answers nothing: were it used, configuration would fail.
    env.extra_env = vec![("ARM_METADATA_HOSTNAME".into(), "127.0.0.1:9".into())];
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let (metadata, token, _) = requests(&env);
    assert_eq!(metadata, 0);
    assert!(
        (1..=2).contains(&token),
        "one token per configured process: {token}"
    );
    env.emulator.clear_requests();
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(requests(&env), (0, 1, 1), "refresh: one token, one GET");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoint_settings_are_refused_on_the_attribute_before_any_request() {
    let env = TfEnv::start().await;
    let base = env.emulator.base_url();
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!(
                "  metadata_host                   = \"{}\"\n  resource_manager_endpoint       = \"{base}\"\n  active_directory_authority_host = \"{base}\"\n",
                env.metadata_host()
            ),
            "metadata_host: conflicts with resource_manager_endpoint / active_directory_authority_host: either name the endpoints or let the metadata host name them",
            "metadata_host                   =",
        ),
        (
            "  resource_manager_endpoint       = \"http://10.1.2.3/\"\n  active_directory_authority_host = \"https://login.example\"\n".into(),
            "resource_manager_endpoint: http://10.1.2.3/ uses plain http; http is only allowed for loopback hosts (127.0.0.0/8, ::1, localhost), use https",
            "resource_manager_endpoint       = \"http://10.1.2.3/\"",
        ),
        (
            format!(
                "  environment                     = \"china\"\n  resource_manager_endpoint       = \"{base}\"\n  active_directory_authority_host = \"{base}\"\n"
            ),
            "resource_manager_endpoint: conflicts with environment = \"china\": the endpoints define the cloud, remove environment or set it to \"custom\"",
            "resource_manager_endpoint       =",
        ),
        (
            "  environment = \"custom\"\n".into(),
            "environment: = \"custom\" needs the cloud's endpoints: set resource_manager_endpoint and active_directory_authority_host (or ARM_RESOURCE_MANAGER_ENDPOINT and ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST), or metadata_host",
            // The attribute's line (line 8, after the terraform block).
            "on main.tf line 8, in provider \"defender\"",
        ),
    ];
    for (i, (body, message, line)) in cases.iter().enumerate() {
        let dir = env.path().join(format!("case-{i}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("main.tf"), main_tf(body)).expect("writing main.tf");
        let mut cmd = env.command_in(&dir, &["plan", "-no-color"]);
        if message.starts_with("environment:") {
            // No metadata host anywhere: the environment's would otherwise name the cloud.
            cmd.env("ARM_METADATA_HOSTNAME", "");
        }
        env.emulator.clear_requests();
        let out = crate::common::run(cmd).await;
        out.assert_code(1);
        let text = out.all();
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(message),
            "case {i}: expected {message:?} in:\n{text}"
        );
        assert!(
            text.contains(line),
            "case {i}: expected the line {line:?} in:\n{text}"
        );
        assert!(
            env.arm_requests().is_empty(),
            "case {i}: no ARM request: {:?}",
            env.arm_requests()
        );
    }
}
