//! `scripts/pr-plan.sh`: the pull-request workflow's steps (examples/ci/github-actions.yml) run
//! with the real Terraform CLI against the ARM emulator, authenticated with OIDC only
//! (`ARM_USE_OIDC=true`, the ID token from the emulator's `/_oidc/github`, no client secret):
//! the plan, then the Defender for Cloud audit, both in the comment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// `target/debug/arm-emulator`, next to this crate's binary; built when a filtered
/// `cargo test` did not build it.
fn emulator_bin() -> PathBuf {
    let provider = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-defender"));
    let bin = provider.with_file_name("arm-emulator");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "arm-emulator", "--bin", "arm-emulator"])
            .status()
            .expect("building arm-emulator");
        assert!(status.success(), "building arm-emulator");
    }
    bin
}

/// Runs the script with prebuilt binaries in `work`, plus `env`.
fn pr_plan(work: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/pr-plan.sh"))
        .env(
            "PROVIDER_BIN",
            env!("CARGO_BIN_EXE_terraform-provider-defender"),
        )
        .env("EMULATOR_BIN", emulator_bin())
        .env("PR_PLAN_WORK", work)
        // Must not be used: the script drops every secret the job would not have.
        .env("ARM_CLIENT_SECRET", "a-secret-the-plan-must-not-use")
        .env("ARM_USE_CLI", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running scripts/pr-plan.sh")
}

fn requests(work: &Path) -> Vec<Value> {
    log(work, "requests.json")
}

/// A request log the script saved: `requests.json` (the plan), `audit-requests.json` (the
/// audit).
fn log(work: &Path, name: &str) -> Vec<Value> {
    let raw = std::fs::read_to_string(work.join(name)).expect(name);
    serde_json::from_str::<Value>(&raw)
        .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
        .as_array()
        .expect("an array")
        .clone()
}

const SUBSCRIPTION: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The quickstart as the base branch has it, plus the pull request's change: the portal's
/// Endpoint protection toggle.
fn pull_request_module(dir: &Path) {
    let quickstart = root().join("examples/quickstart/main.tf");
    let mut tf = std::fs::read_to_string(quickstart).expect("examples/quickstart/main.tf");
    tf.push_str(
        "\nresource \"defender_setting\" \"endpoint_protection\" {\n  name    = \"WDATP\"\n  enabled = true\n}\n",
    );
    std::fs::write(dir.join("main.tf"), tf).expect("writing the pull request's module");
}

#[test]
fn plan_in_a_pull_request_authenticates_with_oidc_and_writes_the_comment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pr = tmp.path().join("pr");
    std::fs::create_dir(&pr).unwrap();
    pull_request_module(&pr);
    let work = tmp.path().join("work");
    let base = root().join("examples/quickstart");
    let o = pr_plan(
        &work,
        &[
            ("PR_PLAN_EXAMPLE", pr.to_str().unwrap()),
            ("PR_PLAN_BASE", base.to_str().unwrap()),
        ],
    );
    assert!(o.status.success(), "{}", describe(&o));

    // The comment: the summary line, then the plan in a details block.
    let comment = std::fs::read_to_string(work.join("comment.md")).expect("comment.md");
    assert!(
        comment.contains("**Plan: 1 to add, 0 to change, 0 to destroy.**"),
        "{comment}"
    );
    assert!(
        comment.contains("# defender_setting.endpoint_protection will be created"),
        "{comment}"
    );
    assert!(comment.contains("<details>") && comment.contains("```terraform"));
    // The base branch's resource was refreshed, not re-planned.
    assert!(
        !comment.contains("defender_auto_provisioning.this will be created"),
        "{comment}"
    );

    // What the emulator saw during the plan (the log is cleared after the base apply).
    let reqs = requests(&work);
    let oidc: Vec<&Value> = reqs
        .iter()
        .filter(|r| r["path"] == "/_oidc/github")
        .collect();
    assert_eq!(oidc.len(), 1, "one ID token request: {reqs:#?}");
    assert_eq!(oidc[0]["method"], "GET");
    assert_eq!(oidc[0]["status"], 200);
    assert_eq!(oidc[0]["auth_present"], true, "the runner's request token");
    assert!(
        oidc[0]["query"]
            .as_str()
            .unwrap_or_default()
            .contains("audience=api%3A%2F%2FAzureADTokenExchange"),
        "{:?}",
        oidc[0]
    );
    let token: Vec<&Value> = reqs
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/oauth2/v2.0/token"))
        })
        .collect();
    assert_eq!(token.len(), 1, "{reqs:#?}");
    assert_eq!(token[0]["status"], 200);
    let token_seq = token[0]["seq"].as_u64().unwrap();
    assert!(
        oidc[0]["seq"].as_u64().unwrap() < token_seq,
        "the ID token is fetched before the token request"
    );
    // The refresh of the base branch's resource, with the access token the exchange gave.
    let arm: Vec<&Value> = reqs
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/subscriptions/"))
        })
        .collect();
    assert!(
        arm.iter().any(|r| r["path"]
            .as_str()
            .unwrap()
            .ends_with("/providers/Microsoft.Security/autoProvisioningSettings/default")),
        "{reqs:#?}"
    );
    for r in &arm {
        assert_eq!(r["auth_present"], true, "{r}");
        assert_eq!(r["status"], 200, "{r}");
        assert!(r["seq"].as_u64().unwrap() > token_seq, "{r}");
        assert_ne!(r["method"], "PUT", "a plan writes nothing: {r}");
    }
    // No Azure CLI fallback and no secret: the log holds no managed identity call either.
    assert!(
        !reqs
            .iter()
            .any(|r| r["path"] == "/metadata/identity/oauth2/token"),
        "{reqs:#?}"
    );

    // The audit section, after the plan: the subscription's coverage as the base branch left
    // it (the pull request's WDATP setting is planned, not applied, so it is still missing).
    let plan_at = comment.find("```terraform").unwrap();
    let audit_at = comment
        .find("<!-- defender-audit -->")
        .unwrap_or_else(|| panic!("no audit section: {comment}"));
    assert!(audit_at > plan_at, "{comment}");
    let audit = &comment[audit_at..];
    assert!(audit.contains("### Defender for Cloud coverage"), "{audit}");
    assert!(
        audit.contains(&format!("| `{SUBSCRIPTION}` |")),
        "a matrix row for the subscription: {audit}"
    );
    for (rule, public) in [
        (
            "DFC-SETTING-WDATP",
            "securitycenter-settings-WDATP-integration-disabled",
        ),
        ("DFC-PLAN-VIRTUALMACHINES", "CKV_AZURE_55"),
        ("DFC-CONTACT-MISSING", "CKV_AZURE_131"),
    ] {
        let line = audit
            .lines()
            .find(|l| l.contains(&format!("`{rule}`")))
            .unwrap_or_else(|| panic!("{rule} in {audit}"));
        assert!(line.contains(public), "{line}");
    }
    assert_eq!(
        std::fs::read_to_string(work.join("audit.md"))
            .unwrap()
            .trim(),
        {
            let end = audit.find("\n_scripts/pr-plan.sh").unwrap_or(audit.len());
            audit[..end].trim()
        }
    );
    // The audit authenticated the same way (OIDC) and only read.
    let audit_reqs = log(&work, "audit-requests.json");
    assert!(
        audit_reqs.iter().any(|r| r["path"] == "/_oidc/github"),
        "{audit_reqs:#?}"
    );
    let arm: Vec<&Value> = audit_reqs
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/subscriptions/") || p.starts_with("/providers/"))
        })
        .collect();
    assert!(arm.len() >= 6, "{audit_reqs:#?}");
    for r in &arm {
        assert_eq!(r["method"], "GET", "the audit reads only: {r}");
        assert_eq!(r["status"], 200, "{r}");
    }
}

#[test]
fn without_the_runners_request_token_the_plan_fails_and_the_comment_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pr = tmp.path().join("pr");
    std::fs::create_dir(&pr).unwrap();
    // A data source reads ARM at plan time, so the provider must authenticate with no state.
    std::fs::write(
        pr.join("main.tf"),
        "terraform {\n  required_providers {\n    defender = { source = \"defenderops/defender\" }\n  }\n}\n\nprovider \"defender\" {}\n\ndata \"defender_plans\" \"all\" {}\n",
    )
    .unwrap();
    let work = tmp.path().join("work");
    let o = pr_plan(
        &work,
        &[
            ("PR_PLAN_EXAMPLE", pr.to_str().unwrap()),
            ("PR_PLAN_BASE", ""),
            // The job without `id-token: write`: no request token.
            ("PR_PLAN_OIDC_REQUEST_TOKEN", ""),
        ],
    );
    assert!(!o.status.success(), "{}", describe(&o));
    let comment = std::fs::read_to_string(work.join("comment.md")).expect("comment.md");
    assert!(comment.contains("**Plan failed.**"), "{comment}");
    assert!(
        comment.to_ascii_lowercase().contains("oidc"),
        "the error names the OIDC settings: {comment}"
    );
    // The audit cannot authenticate either, and says so instead of reporting nothing.
    assert!(
        comment.contains("**Defender for Cloud audit failed.**"),
        "{comment}"
    );
    let audit_reqs = log(&work, "audit-requests.json");
    assert!(
        !audit_reqs.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/subscriptions/"))),
        "{audit_reqs:#?}"
    );
    // No secret was used instead: no token was issued, no ARM request was sent.
    let reqs = requests(&work);
    assert!(
        !reqs.iter().any(|r| {
            r["path"].as_str().is_some_and(|p| {
                p.ends_with("/oauth2/v2.0/token") || p.starts_with("/subscriptions/")
            })
        }),
        "{reqs:#?}"
    );
}
