//! `--debug`: the provider serves on its own and prints a TF_REATTACH_PROVIDERS value that a
//! Terraform run then uses instead of starting the provider.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::TfEnv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_attaches_to_a_provider_started_with_debug() {
    let mut env = TfEnv::start().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .arg("--debug")
        // In debug mode the provider has its own environment, not Terraform's.
        .envs(env.arm_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the provider with --debug");
    let mut reattach = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(v) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(v.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("a TF_REATTACH_PROVIDERS line");
    let parsed: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    assert_eq!(
        parsed["registry.terraform.io/defenderops/defender"]["Pid"],
        child.id(),
        "{reattach}"
    );
    env.extra_env
        .push(("TF_REATTACH_PROVIDERS".into(), reattach));
    env.config("resource \"defender_auto_provisioning\" \"this\" {\n  enabled = false\n}");
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    // Two runs against the same process: it keeps serving ("Test": true).
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the debug provider keeps running"
    );
    let _ = child.kill();
    let _ = child.wait();
}
