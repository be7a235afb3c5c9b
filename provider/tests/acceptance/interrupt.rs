//! Interrupted applies: Ctrl-C (SIGINT to Terraform, which sends StopProvider) and a provider
//! process killed outright (SIGKILL), both while ARM calls are in flight; then a re-run
//! converges, the state matches the emulator and nothing was assigned twice.

use std::process::Stdio;
use std::time::{Duration, Instant};

use arm_emulator::{Config, FaultRule};

use crate::common::{TfEnv, children_named};
use crate::faults::{
    assert_converged, assert_no_duplicate_assignments, assert_state_matches_emulator, dine_config,
    flat, settings_config,
};

enum Interrupt {
    CtrlC,
    KillProvider,
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill {sig} {pid}");
}

async fn interrupted_apply_then_rerun(how: Interrupt) {
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 100,
        ..Config::default()
    })
    .await;
    // The window: role assignment writes and pricing writes take 5 s each, so the apply is
    // mid-flight (assignment created, its role assignment being written) when it is stopped.
    env.emulator
        .add_fault(
            FaultRule::latency(5_000)
                .method("PUT")
                .path("roleAssignments"),
        )
        .unwrap();
    env.emulator
        .add_fault(FaultRule::latency(5_000).method("PUT").path("pricings"))
        .unwrap();
    env.config(&format!("{}\n{}", dine_config(""), settings_config()));

    let mut cmd = env.command_in(env.path(), &["apply", "-auto-approve", "-no-color"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("starting terraform apply");
    let tf_pid = child.id();
    // Wait for the policy assignment to exist: its role assignment PUT is then in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let created = env.arm_requests().iter().any(|r| {
            r.method == "PUT" && r.path.contains("policyAssignments") && r.status / 100 == 2
        });
        if created {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the apply never created the assignment"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped_at = Instant::now();
    match how {
        Interrupt::CtrlC => signal(tf_pid, "-INT"),
        Interrupt::KillProvider => {
            let providers = children_named(tf_pid, "terraform-provi");
            assert_eq!(providers.len(), 1, "one provider process under {tf_pid}");
            signal(providers[0], "-KILL");
        }
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .expect("waiting for terraform");
    let text = flat(&format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    assert_eq!(out.status.code(), Some(1), "{text}");
    // Stopped promptly: not after the 5 s writes finished on their own.
    assert!(
        stopped_at.elapsed() < Duration::from_secs(4),
        "terraform took {:?} to stop: {text}",
        stopped_at.elapsed()
    );
    match how {
        Interrupt::CtrlC => {
            assert!(text.contains("Interrupt received"), "{text}");
            assert!(
                text.contains("cancelled: the provider is stopping"),
                "{text}"
            );
        }
        Interrupt::KillProvider => {
            assert!(text.to_lowercase().contains("plugin"), "{text}");
        }
    }

    // Re-run without the slowness: converges, with nothing assigned twice.
    env.emulator.clear_faults();
    // A killed provider cannot report what it created: the assignment exists in Azure but
    // not in state. The re-run adopts it because ARM recorded this same principal as its
    // creator (`metadata.createdBy`) for the same definition; an assignment anyone else made
    // would be refused with an import hint (tested in policy_assignment.rs).
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_no_duplicate_assignments(&env);
    let snapshot = env.emulator.state().snapshot_json();
    let count = |segment: &str| {
        snapshot["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["id"]
                    .as_str()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains(segment)
            })
            .count()
    };
    assert_eq!(count("/policyassignments/"), 1);
    assert_eq!(
        count("/roleassignments/"),
        1,
        "dependency-agent-linux needs one role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_apply_then_rerun_converges_without_duplicates() {
    interrupted_apply_then_rerun(Interrupt::CtrlC).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_provider_mid_apply_then_rerun_converges_without_duplicates() {
    interrupted_apply_then_rerun(Interrupt::KillProvider).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_assignment_someone_else_made_is_not_adopted() {
    let env = TfEnv::start().await;
    let id = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/policyAssignments/dependency-agent-linux",
        crate::common::SUBSCRIPTION
    );
    // Made in the portal by another principal, for the same definition.
    env.emulator.set_resource(
        &id,
        serde_json::json!({
            "properties": {
                "displayName": "Deploy Dependency agent for Linux virtual machines",
                "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/4da21710-ce6f-4e06-8cdb-5cc4c93ffbee",
                "metadata": {"createdBy": "0b6ac6b1-0000-4000-8000-00000000a11c"}
            },
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"}
        }),
    );
    env.config(&dine_config(""));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = flat(&apply.all());
    assert!(
        text.contains("Error: Policy assignment already exists"),
        "{text}"
    );
    assert!(
        text.contains(&format!("terraform import <address> {id}")),
        "{text}"
    );
    assert!(
        !env.arm_requests().iter().any(|r| r.method == "PUT"),
        "nothing written over someone else's assignment"
    );
}
