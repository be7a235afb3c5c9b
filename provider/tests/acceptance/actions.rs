//! Terraform actions against the emulator: `defender_remediate` and
//! `defender_compliance_scan`, invoked with `terraform apply -invoke=…` and from an
//! `action_trigger` in a resource's lifecycle; progress reaches the CLI output, the emulator
//! sees the requests, failures name what failed, bad configuration fails before any ARM call.

use arm_emulator::Config;
use serde_json::Value;

use crate::common::{SUBSCRIPTION, TfEnv, TfOutput};

fn fast() -> Config {
    Config {
        remediation_step_ms: 100,
        ..Config::default()
    }
}

fn sub_scope() -> String {
    format!("/subscriptions/{SUBSCRIPTION}")
}

#[track_caller]
fn assert_contains(out: &TfOutput, text: &str) {
    assert!(
        flat(&out.all()).contains(&flat(text)),
        "expected {text:?} in:\n{}",
        out.all()
    );
}

/// Terraform wraps diagnostics at its terminal width: compare with whitespace collapsed.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ARM requests (not token or metadata calls) as `METHOD path status`.
fn arm_requests(env: &TfEnv) -> Vec<String> {
    env.emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/subscriptions") || r.path.starts_with("/providers"))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

/// The remediation tasks the emulator holds (stored bodies).
fn remediation_tasks(env: &TfEnv) -> Vec<Value> {
    env.emulator.state().snapshot_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"].as_str().unwrap().contains("/remediations/"))
        .cloned()
        .collect()
}

fn assignment(policy: &str, extra: &str) -> String {
    format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "{policy}"
  scope    = "{}"
  location = "westeurope"
{extra}
}}
"#,
        sub_scope()
    )
}

const REMEDIATE: &str = r#"
action "defender_remediate" "deps" {
  config {
    policy_assignment_id = defender_policy_assignment.deps.id
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_invoked_from_the_cli_reports_progress_until_the_task_ends() {
    let env = TfEnv::with_config(fast()).await;
    env.config(&format!(
        "{}{REMEDIATE}",
        assignment("dependency-agent-windows", "")
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let assignment_id = format!(
        "{}/providers/Microsoft.Authorization/policyAssignments/dependency-agent-windows",
        sub_scope()
    );
    env.emulator.clear_requests();
    let run = env
        .tf(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-invoke=action.defender_remediate.deps",
        ])
        .await;
    run.assert_code(0);
    // Progress as it happens, then the end.
    assert_contains(
        &run,
        "Action action.defender_remediate.deps (triggered by CLI): started remediation task",
    );
    assert_contains(
        &run,
        &format!(
            "Policy Assignment (Scope \"{}\" / Name \"dependency-agent-windows\")",
            sub_scope()
        ),
    );
    assert_contains(&run, "Accepted (0 succeeded, 0 failed of 2 deployments)");
    assert_contains(&run, "Succeeded (2 succeeded, 0 failed of 2 deployments)");
    assert_contains(
        &run,
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed. Actions: 1 invoked.",
    );
    let requests = arm_requests(&env);
    let puts: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("/Microsoft.PolicyInsights/remediations/"))
        .collect();
    assert_eq!(puts.len(), 1, "{requests:#?}");
    assert!(
        requests
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains("/remediations/"))
            .count()
            >= 2,
        "the task was polled: {requests:#?}"
    );
    // Nothing else was written: an action changes no state.
    assert!(
        requests
            .iter()
            .all(|r| !r.starts_with("PUT ") || r.contains("/remediations/")),
        "{requests:#?}"
    );
    let tasks = remediation_tasks(&env);
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        tasks[0]["body"]["properties"]["policyAssignmentId"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase(),
        assignment_id.to_ascii_lowercase()
    );

    // A second run is a new task.
    env.tf(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-invoke=action.defender_remediate.deps",
    ])
    .await
    .assert_code(0);
    assert_eq!(remediation_tasks(&env).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_remediation_fails_the_action_naming_assignment_and_request_id() {
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 100,
        remediation_failures: 1.0,
        ..Config::default()
    })
    .await;
    env.config(&format!(
        "{}{REMEDIATE}",
        assignment("dependency-agent-windows", "")
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let run = env
        .tf(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-invoke=action.defender_remediate.deps",
        ])
        .await;
    run.assert_code(1);
    assert_contains(&run, "Remediation failed");
    assert_contains(
        &run,
        &format!(
            "remediating Policy Assignment (Scope \"{}\" / Name \"dependency-agent-windows\")",
            sub_scope()
        ),
    );
    assert_contains(&run, "(task started by request id");
    assert_contains(
        &run,
        "ended Failed: 2 of 2 deployments failed, 0 succeeded.",
    );
    assert_contains(&run, "Failed deployments:");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_scan_runs_from_an_action_trigger_after_create_and_from_the_cli() {
    let env = TfEnv::with_config(fast()).await;
    let trigger = r#"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.defender_compliance_scan.subscription]
    }
  }"#;
    env.config(&format!(
        r#"{}
action "defender_compliance_scan" "subscription" {{
  config {{
    scope = "{}"
  }}
}}

action "defender_compliance_scan" "group" {{
  config {{
    scope = "{}/resourceGroups/workloads"
  }}
}}
"#,
        assignment("dependency-agent-linux", trigger),
        sub_scope(),
        sub_scope()
    ));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert_contains(&plan, "# Actions to be invoked after this change in order:");
    assert_contains(
        &plan,
        "action \"defender_compliance_scan\" \"subscription\" {",
    );
    assert_contains(
        &plan,
        "Plan: 1 to add, 0 to change, 0 to destroy. Actions: 1 to invoke.",
    );
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_contains(
        &apply,
        &format!(
            "compliance evaluation of {} started (request id",
            sub_scope()
        ),
    );
    assert_contains(
        &apply,
        &format!("compliance evaluation of {} running", sub_scope()),
    );
    assert_contains(
        &apply,
        &format!("compliance evaluation of {} finished", sub_scope()),
    );
    let requests = arm_requests(&env);
    let trigger_path = format!(
        "POST {}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation 202",
        sub_scope()
    );
    let at = requests
        .iter()
        .position(|r| r == &trigger_path)
        .unwrap_or_else(|| panic!("{requests:#?}"));
    let created = requests
        .iter()
        .position(|r| r.starts_with("PUT ") && r.contains("/policyAssignments/"))
        .unwrap();
    assert!(
        created < at,
        "the scan runs after the create: {requests:#?}"
    );
    let polls: Vec<&String> = requests[at..]
        .iter()
        .filter(|r| r.contains("/Microsoft.PolicyInsights/asyncOperationResults/"))
        .collect();
    assert_eq!(polls.len(), 3, "two 202s, then 200: {polls:#?}");
    assert!(
        polls[0].ends_with(" 202") && polls[2].ends_with(" 200"),
        "{polls:#?}"
    );

    // Not again for a plan without changes (the trigger is after_create only).
    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(
        !arm_requests(&env)
            .iter()
            .any(|r| r.contains("triggerEvaluation")),
        "{:#?}",
        arm_requests(&env)
    );

    // A resource group, from the CLI.
    let run = env
        .tf(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-invoke=action.defender_compliance_scan.group",
        ])
        .await;
    run.assert_code(0);
    assert_contains(
        &run,
        &format!(
            "compliance evaluation of {}/resourceGroups/workloads finished",
            sub_scope()
        ),
    );
    assert!(
        arm_requests(&env).iter().any(|r| r.starts_with(&format!(
            "POST {}/resourceGroups/workloads/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation",
            sub_scope()
        ))),
        "{:#?}",
        arm_requests(&env)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_action_configuration_fails_before_any_arm_request() {
    let env = TfEnv::start().await;
    env.config(
        r#"action "defender_compliance_scan" "mg" {
  config {
    scope = "/providers/Microsoft.Management/managementGroups/contoso"
  }
}

action "defender_remediate" "bad" {
  config {
    policy_assignment_id = "not-an-id"
    mode                 = "Whenever"
    parallel_deployments = 100
  }
}
"#,
    );
    env.emulator.clear_requests();
    let out = env
        .tf(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-invoke=action.defender_compliance_scan.mg",
        ])
        .await;
    out.assert_code(1);
    assert_contains(&out, "cannot be scanned on demand");
    assert_contains(
        &out,
        "\"Whenever\" is not a remediation mode. Allowed values: \"ExistingNonCompliant\", \"ReEvaluateCompliance\".",
    );
    assert_contains(
        &out,
        "100 is out of range: Azure remediates 1 to 30 resources at once.",
    );
    assert!(arm_requests(&env).is_empty(), "{:#?}", arm_requests(&env));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediate_runs_from_an_action_trigger_after_create_and_after_update() {
    let env = TfEnv::with_config(fast()).await;
    let config = |description: &str| {
        let trigger = format!(
            r#"  description = "{description}"
  lifecycle {{
    action_trigger {{
      events  = [after_create, after_update]
      actions = [action.defender_remediate.deps]
    }}
  }}"#
        );
        format!(
            "{}{REMEDIATE}",
            assignment("dependency-agent-windows", &trigger)
        )
    };

    env.config(&config("first"));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert_contains(
        &plan,
        "Plan: 1 to add, 0 to change, 0 to destroy. Actions: 1 to invoke.",
    );
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_contains(
        &apply,
        "Action action.defender_remediate.deps (triggered by defender_policy_assignment.deps):",
    );
    assert_contains(&apply, "Succeeded (2 succeeded, 0 failed of 2 deployments)");
    let requests = arm_requests(&env);
    let created = requests
        .iter()
        .position(|r| r.starts_with("PUT ") && r.contains("/policyAssignments/"))
        .unwrap_or_else(|| panic!("{requests:#?}"));
    let task = requests
        .iter()
        .position(|r| r.starts_with("PUT ") && r.contains("/remediations/"))
        .unwrap_or_else(|| panic!("{requests:#?}"));
    assert!(created < task, "the task follows the create: {requests:#?}");
    assert_eq!(remediation_tasks(&env).len(), 1);

    // No change: no action.
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(remediation_tasks(&env).len(), 1);

    // An update runs it again, as a new task.
    env.config(&config("second"));
    let update = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    update.assert_code(0);
    assert_contains(
        &update,
        "Apply complete! Resources: 0 added, 1 changed, 0 destroyed. Actions: 1 invoked.",
    );
    assert_eq!(remediation_tasks(&env).len(), 2);
}
