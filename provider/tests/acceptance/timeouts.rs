//! The `timeouts` block: azurerm's block syntax, plan-time checks of the durations, and an
//! operation that runs out of time stops, keeps what it created in state, and the next apply
//! (with a longer limit) converges.

use arm_emulator::{Config, RuntimeConfigPatch};

use crate::common::{SUBSCRIPTION, TfEnv};
use crate::faults::{
    assert_converged, assert_no_duplicate_assignments, assert_state_matches_emulator, flat,
};

fn dine(create: &str) -> String {
    format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy      = "dependency-agent-linux"
  scope       = "/subscriptions/{SUBSCRIPTION}"
  location    = "westeurope"
  remediation = {{ wait = true }}

  timeouts {{
    create = "{create}"
  }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_past_its_timeout_keeps_what_it_made_and_the_next_apply_converges() {
    // Each remediation step takes 1.5 s: the remediation of 4 resources outlasts 3 s.
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 1500,
        remediation_resources: 4,
        ..Config::default()
    })
    .await;
    env.config(&dine("3s"));
    let started = std::time::Instant::now();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = flat(&apply.all());
    assert!(text.contains("Error: Operation timed out"), "{text}");
    assert!(
        text.contains(
            "Creating defender_policy_assignment did not finish within 3 seconds (`timeouts.create`)"
        ),
        "{text}"
    );
    assert!(text.contains("is kept in state"), "{text}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "stopped promptly, not after the remediation: {:?}",
        started.elapsed()
    );
    // The assignment and its role assignment were created before the limit: in state.
    let state = env.tf(&["state", "list"]).await;
    state.assert_code(0);
    assert!(
        state.stdout.contains("defender_policy_assignment.deps"),
        "{}",
        state.all()
    );
    assert_state_matches_emulator(&env).await;

    // More time, faster remediations: the next apply finishes the job.
    env.emulator.update_config(RuntimeConfigPatch {
        remediation_step_ms: Some(50),
        ..Default::default()
    });
    env.config(&dine("30m"));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_no_duplicate_assignments(&env);
    // The block is kept in state as configured.
    let show = env.tf(&["show", "-json"]).await;
    show.assert_code(0);
    assert!(
        show.stdout
            .contains(r#""timeouts":{"create":"30m","delete":null,"read":null,"update":null}"#),
        "{}",
        show.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_that_is_not_a_duration_is_refused_at_plan_time() {
    let env = TfEnv::start().await;
    env.config(
        r#"resource "defender_setting" "mcas" {
  name    = "MCAS"
  enabled = true

  timeouts {
    create = "30 minutes"
  }
}
"#,
    );
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = flat(&plan.all());
    assert!(text.contains("Error: Invalid timeout"), "{text}");
    assert!(
        text.contains(r#""30 minutes" is not a duration: write a number and a unit"#),
        "{text}"
    );
    assert!(
        text.contains(r#"create = "30 minutes""#),
        "points at the attribute: {text}"
    );
    assert!(env.arm_requests().is_empty(), "no ARM request");
}
