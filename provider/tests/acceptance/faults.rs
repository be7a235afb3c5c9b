//! The fault suite: the real Terraform CLI against the emulator's fault injection. For every
//! fault the apply either succeeds after bounded retries or fails with a diagnostic naming the
//! operation, the resource and the request ID; afterwards the state matches the emulator
//! (nothing created is missing from state, nothing in state is missing from the emulator) and
//! the next plan is empty (after the cause is gone, for faults that must fail).

use std::collections::HashSet;
use std::time::Duration;

use arm_emulator::{Config, FaultRule, RequestLogEntry, RuntimeConfigPatch};
use serde_json::Value;

use crate::common::{SUBSCRIPTION, TfEnv};

fn sub_scope() -> String {
    format!("/subscriptions/{SUBSCRIPTION}")
}

/// Three resources of different types: a Defender plan (pricings), a setting and a contact.
pub fn settings_config() -> String {
    r#"resource "defender_plan" "vm" {
  name    = "VirtualMachines"
  tier    = "Standard"
  subplan = "P1"
}

resource "defender_setting" "mcas" {
  name    = "MCAS"
  enabled = true
}

resource "defender_security_contact" "soc" {
  emails                 = ["soc@contoso.com"]
  alert_minimal_severity = "High"
}
"#
    .to_owned()
}

/// A DeployIfNotExists assignment: identity, role assignments, optionally a remediation.
pub fn dine_config(remediation: &str) -> String {
    format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{}"
  location = "westeurope"
{remediation}
}}
"#,
        sub_scope()
    )
}

pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn arrival(r: &RequestLogEntry) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339).unwrap()
}

/// `terraform show -json`: the managed resources' values.
async fn state_resources(env: &TfEnv) -> Vec<(String, Value)> {
    let show = env.tf(&["show", "-json"]).await;
    show.assert_code(0);
    let v: Value = serde_json::from_str(&show.stdout).expect("show -json");
    let mut out = Vec::new();
    let mut stack = vec![v["values"]["root_module"].clone()];
    while let Some(m) = stack.pop() {
        for r in m["resources"].as_array().into_iter().flatten() {
            if r["mode"] == "managed" {
                out.push((
                    r["address"].as_str().unwrap_or_default().to_owned(),
                    r["values"].clone(),
                ));
            }
        }
        stack.extend(m["child_modules"].as_array().into_iter().flatten().cloned());
    }
    out
}

fn strings_of(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.to_ascii_lowercase());
        }
        Value::Array(a) => a.iter().for_each(|x| strings_of(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings_of(x, out)),
        _ => {}
    }
}

/// Nothing in state is missing from the emulator; nothing the provider created (a PUT that
/// ARM answered 200/201, whose resource still exists) is missing from state. Remediation tasks
/// are left out of the second check: they are jobs that run on in Azure, not tracked resources
/// of `defender_policy_assignment` (docs/resources/policy_assignment.md).
pub async fn assert_state_matches_emulator(env: &TfEnv) {
    let resources = state_resources(env).await;
    let mut known = HashSet::new();
    for (address, values) in &resources {
        let id = values["id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{address} has no id in state");
        assert!(
            env.emulator.get_resource(id).is_some(),
            "{address} is in state ({id}) but not in the emulator"
        );
        strings_of(values, &mut known);
    }
    let created: HashSet<String> = env
        .arm_requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && (r.status == 200 || r.status == 201))
        .map(|r| r.path)
        .filter(|p| {
            !p.to_ascii_lowercase()
                .contains("/microsoft.policyinsights/remediations/")
        })
        .filter(|p| env.emulator.get_resource(p).is_some())
        .collect();
    for path in created {
        assert!(
            known.contains(&path.to_ascii_lowercase()),
            "{path} was created in the emulator but is not in state: {known:?}"
        );
    }
}

pub async fn assert_converged(env: &TfEnv) {
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(0);
}

/// How many times a fault rule fired (the emulator's counter: a request whose client hung up
/// during injected latency never reaches the request log).
fn fired(env: &TfEnv, id: &str) -> u32 {
    env.emulator
        .faults()
        .iter()
        .find(|f| f.rule.id == id)
        .map(|f| f.fired)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_storm_honours_retry_after() {
    let env = TfEnv::start().await;
    // Four writes and three reads answer 429 with Retry-After: 1 before ARM lets them through.
    let puts = env
        .emulator
        .add_fault(FaultRule::status(429).retry_after(1).method("PUT").times(4))
        .unwrap();
    let gets = env
        .emulator
        .add_fault(
            FaultRule::status(429)
                .retry_after(1)
                .method("GET")
                .path_regex("^/subscriptions/")
                .times(3),
        )
        .unwrap();
    env.config(&settings_config());
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_eq!(fired(&env, &puts), 4);
    assert_state_matches_emulator(&env).await;
    // The reads fail while Terraform refreshes.
    assert_converged(&env).await;
    assert_eq!(fired(&env, &gets), 3);
    assert_retry_after_honoured(&env);
}

/// Every 429 was followed by the same request no sooner than its Retry-After (1 s here).
fn assert_retry_after_honoured(env: &TfEnv) {
    let log = env.arm_requests();
    for (i, r) in log.iter().enumerate().filter(|(_, r)| r.status == 429) {
        let again = log[i + 1..]
            .iter()
            .find(|n| n.method == r.method && n.path == r.path)
            .unwrap_or_else(|| panic!("{} {} was not retried", r.method, r.path));
        let gap = arrival(again) - arrival(r);
        assert!(
            gap >= time::Duration::milliseconds(990),
            "{} {} retried after {gap} despite Retry-After: 1",
            r.method,
            r.path
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_500_and_503_are_retried() {
    let env = TfEnv::start().await;
    let a = env
        .emulator
        .add_fault(
            FaultRule::status(500)
                .method("PUT")
                .path("settings/MCAS")
                .times(2),
        )
        .unwrap();
    let b = env
        .emulator
        .add_fault(
            FaultRule::status(503)
                .method("PUT")
                .path("securityContacts")
                .times(2),
        )
        .unwrap();
    let c = env
        .emulator
        .add_fault(
            FaultRule::status(503)
                .method("GET")
                .path("pricings")
                .times(2),
        )
        .unwrap();
    env.config(&settings_config());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!((fired(&env, &a), fired(&env, &b)), (2, 2));
    assert_state_matches_emulator(&env).await;
    // The reads fail while Terraform refreshes.
    assert_converged(&env).await;
    assert_eq!(fired(&env, &c), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_mid_request_are_retried() {
    let env = TfEnv::start().await;
    // The connection closes after the request arrived, without an answer.
    let puts = env
        .emulator
        .add_fault(FaultRule::drop_connection().method("PUT").times(3))
        .unwrap();
    let gets = env
        .emulator
        .add_fault(
            FaultRule::drop_connection()
                .method("GET")
                .path_regex("^/subscriptions/")
                .times(2),
        )
        .unwrap();
    env.config(&settings_config());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(fired(&env, &puts), 3);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_eq!(fired(&env, &gets), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_attempt_timeout_are_retried() {
    let mut env = TfEnv::start().await;
    // The client gives up on an attempt after 1.5 s (a knob honoured only against a loopback
    // ARM); these answers take 4 s.
    env.extra_env
        .push(("DEFENDER_EMULATOR_ATTEMPT_TIMEOUT_MS".into(), "1500".into()));
    let put = env
        .emulator
        .add_fault(
            FaultRule::latency(4_000)
                .method("PUT")
                .path("settings/MCAS")
                .times(1),
        )
        .unwrap();
    let get = env
        .emulator
        .add_fault(
            FaultRule::latency(4_000)
                .method("GET")
                .path("securityContacts")
                .times(1),
        )
        .unwrap();
    env.config(&settings_config());
    let started = std::time::Instant::now();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_eq!(fired(&env, &put), 1);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_eq!(fired(&env, &get), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pricing_conflicts_are_retried() {
    let env = TfEnv::start().await;
    let conflict = env
        .emulator
        .add_fault(
            FaultRule::arm_error(409, "Conflict", "Another update operation is in progress.")
                .method("PUT")
                .path("pricings")
                .times(3),
        )
        .unwrap();
    env.config(&settings_config());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(fired(&env, &conflict), 3);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_after_create_and_principal_not_found_are_absorbed() {
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 100,
        ..Config::default()
    })
    .await;
    // The new assignment reads 404 three times (ARM's eventual consistency); its identity is
    // unknown to role assignments for the first three PUTs (Entra replication).
    let nf = env
        .emulator
        .add_fault(FaultRule::not_found_after_create(3).path("policyAssignments"))
        .unwrap();
    let pnf = env
        .emulator
        .add_fault(
            FaultRule::arm_error(
                400,
                "PrincipalNotFound",
                "Principal 6f1e0d4c5b7a49d8a1c2e3f4a5b6c7d8 does not exist in the directory 72f9acb2-0000-4e00-8000-00000000e1a0.",
            )
            .method("PUT")
            .path("roleAssignments")
            .times(3),
        )
        .unwrap();
    env.config(&dine_config(""));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(fired(&env, &pnf), 3);
    let not_found = env
        .arm_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.status == 404 && r.path.contains("policyAssignments"))
        .count();
    assert!(not_found >= 3, "read until consistent ({not_found} 404s)");
    assert!(fired(&env, &nf) >= 1);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_names_operation_resource_and_request_id_then_converges() {
    let env = TfEnv::start().await;
    let deny = env
        .emulator
        .add_fault(
            FaultRule::arm_error(
                403,
                "AuthorizationFailed",
                "The client does not have authorization to perform action 'Microsoft.Security/pricings/write'.",
            )
            .method("PUT")
            .path("pricings")
            .times(1),
        )
        .unwrap();
    env.config(&settings_config());
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let denied = env
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.faults.contains(&deny))
        .expect("the fault fired");
    let text = flat(&apply.all());
    for needle in [
        "creating Pricing (Subscription \"20ff7fc3-e762-44dd-bd96-b71116dcdc23\" / Name \"VirtualMachines\")",
        "AuthorizationFailed",
        "status 403",
        &format!("request id {}", denied.request_id),
        "with defender_plan.vm",
    ] {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
    // The other two resources were created and are in state; the plan is not.
    assert_state_matches_emulator(&env).await;
    let list = env.tf(&["state", "list"]).await;
    assert!(!list.stdout.contains("defender_plan.vm"), "{}", list.all());
    assert!(
        list.stdout.contains("defender_setting.mcas"),
        "{}",
        list.all()
    );
    // The cause is gone: the next apply finishes the job and then nothing is left to do.
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_failing_half_its_deployments_is_reported_then_rerun() {
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 100,
        remediation_resources: 4,
        remediation_failures: 0.5,
        ..Config::default()
    })
    .await;
    env.config(&dine_config("  remediation = { wait = true }"));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = flat(&apply.all());
    assert!(text.contains("Error: Remediation failed"), "{text}");
    assert!(text.contains("2 of 4 deployments failed"), "{text}");
    assert!(
        text.contains("(task started by request id "),
        "names the request that started the task: {text}"
    );
    assert!(
        text.contains(": DeploymentFailed"),
        "names the deployments: {text}"
    );
    assert!(
        text.contains("with defender_policy_assignment.deps"),
        "{text}"
    );
    // The assignment and its role assignment exist and are in state (tainted).
    assert_state_matches_emulator(&env).await;
    // The cause is fixed; the re-run replaces the tainted assignment.
    env.emulator.update_config(RuntimeConfigPatch {
        remediation_failures: Some(0.0),
        ..Default::default()
    });
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_no_duplicate_assignments(&env);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_running_operation_that_fails_is_reported_then_rerun() {
    // A remediation task is ARM's long-running job here (provisioningState Accepted →
    // Evaluating → Failed once failed deployments pass failureThreshold); the client-level LRO
    // protocol (Azure-AsyncOperation / Location ending Failed) is covered in
    // tests/arm_client.rs lro_*_failed, as no resource of this provider PUTs an async type.
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 100,
        remediation_resources: 2,
        remediation_failures: 0.5,
        ..Config::default()
    })
    .await;
    env.config(&dine_config(
        "  remediation = {\n    wait              = true\n    failure_threshold = 0.1\n  }",
    ));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = flat(&apply.all());
    assert!(text.contains("Error: Remediation failed"), "{text}");
    assert!(
        text.contains("Policy Remediation (Scope \"/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23\" / Name"),
        "names the task: {text}"
    );
    assert!(
        text.contains("(task started by request id "),
        "names the request that started the task: {text}"
    );
    assert!(
        text.contains("ended Failed: 1 of 2 deployments failed"),
        "{text}"
    );
    assert_state_matches_emulator(&env).await;
    env.emulator.update_config(RuntimeConfigPatch {
        remediation_failures: Some(0.0),
        ..Default::default()
    });
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_state_matches_emulator(&env).await;
    assert_converged(&env).await;
    assert_no_duplicate_assignments(&env);
}

/// At most one policy assignment per (scope, definition) and one role assignment per (scope,
/// principal, role) in the emulator.
pub fn assert_no_duplicate_assignments(env: &TfEnv) {
    let snapshot = env.emulator.state().snapshot_json();
    let mut roles = HashSet::new();
    let mut assignments = HashSet::new();
    for r in snapshot["resources"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap().to_ascii_lowercase();
        let body = &r["body"];
        if id.contains("/microsoft.authorization/roleassignments/") {
            let scope = id
                .split("/providers/microsoft.authorization/")
                .next()
                .unwrap()
                .to_owned();
            let key = (
                scope,
                body["properties"]["principalId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                body["properties"]["roleDefinitionId"]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            );
            assert!(
                roles.insert(key.clone()),
                "duplicate role assignment {key:?}"
            );
        }
        if id.contains("/microsoft.authorization/policyassignments/") {
            // The same definition assigned twice at one scope (e.g. under two names).
            let scope = id
                .split("/providers/microsoft.authorization/")
                .next()
                .unwrap()
                .to_owned();
            let key = (
                scope,
                body["properties"]["policyDefinitionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            );
            assert!(
                assignments.insert(key.clone()),
                "duplicate policy assignment {key:?}"
            );
        }
    }
}
