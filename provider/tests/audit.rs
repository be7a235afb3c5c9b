//! `terraform-provider-defender audit` against the ARM emulator: a half-protected subscription
//! and a fully protected one, audited in every format. The audit must report exactly the
//! missing protections with their public rule IDs, and send nothing but GETs to ARM. The HTML
//! page is opened in headless Chromium and a screenshot kept in `target/test-output/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arm_emulator::{Config, Emulator, EmulatorHandle, FaultRule};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21";
const CLIENT_SECRET: &str = "audit-test-secret-value";
const HALF: &str = "3b1f2c4d-0a0b-4c5d-8e9f-101112131415";
const FULL: &str = "5d6e7f80-1a2b-4c3d-9e8f-a0b1c2d3e4f5";
const MG: &str = "platform";

const AKS_CONTRIBUTOR: &str = "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8";
const AKS_POLICY_ADDON: &str = "18ed5180-3e48-46fd-8541-4ea054d57064";
const K8S_ADDON_DEFINITION: &str =
    "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7";
const DEP_AGENT_LINUX: &str =
    "/providers/Microsoft.Authorization/policyDefinitions/4da21710-ce6f-4e06-8cdb-5cc4c93ffbee";

/// The plans the audit has a rule for (all current ones).
const PLANS: &[&str] = &[
    "VirtualMachines",
    "CloudPosture",
    "Containers",
    "StorageAccounts",
    "SqlServers",
    "SqlServerVirtualMachines",
    "OpenSourceRelationalDatabases",
    "CosmosDbs",
    "KeyVaults",
    "AppServices",
    "Arm",
    "Api",
    "AI",
];

/// What the half-protected subscription lacks: rule → a public rule ID it must carry.
const EXPECTED_HALF: &[(&str, &str)] = &[
    ("DFC-PLAN-CONTAINERS", "CKV_AZURE_85"),
    ("DFC-PLAN-STORAGEACCOUNTS", "CKV_AZURE_84"),
    ("DFC-PLAN-SQLSERVERS", "CKV_AZURE_69"),
    ("DFC-PLAN-SQLSERVERVIRTUALMACHINES", "CKV_AZURE_79"),
    (
        "DFC-PLAN-OPENSOURCERELATIONALDATABASES",
        "defender_ensure_defender_for_os_relational_databases_is_on",
    ),
    (
        "DFC-PLAN-COSMOSDBS",
        "defender_ensure_defender_for_cosmosdb_is_on",
    ),
    ("DFC-PLAN-APPSERVICES", "CKV_AZURE_61"),
    ("DFC-PLAN-ARM", "CKV_AZURE_234"),
    ("DFC-PLAN-API", "AVD-AZU-0045"),
    ("DFC-PLAN-AI", "CKV_AZURE_19"),
    ("DFC-CONTACT-MISSING", "CKV_AZURE_131"),
    (
        "DFC-SETTING-MCAS",
        "securitycenter-settings-MCAS-integration-disabled",
    ),
    ("DFC-ASSIGNMENT-ROLES", ""),
];

struct Seeded {
    emulator: EmulatorHandle,
    http: reqwest::Client,
    token: String,
}

impl Seeded {
    async fn put(&self, path: &str, api: &str, body: Value) -> Value {
        let url = format!("{}{path}?api-version={api}", self.emulator.base_url());
        let resp = self
            .http
            .put(&url)
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("PUT");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "PUT {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn plan(&self, sub: &str, name: &str) {
        self.put(
            &format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}"),
            "2024-01-01",
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .await;
    }

    async fn setting(&self, sub: &str, name: &str) {
        self.put(
            &format!("/subscriptions/{sub}/providers/Microsoft.Security/settings/{name}"),
            "2022-05-01",
            json!({"kind": "DataExportSettings", "properties": {"enabled": true}}),
        )
        .await;
    }

    /// A DINE assignment with a system-assigned identity; returns (id, principal).
    async fn assignment(&self, scope: &str, name: &str, definition: &str) -> (String, String) {
        let id = format!("{scope}/providers/Microsoft.Authorization/policyAssignments/{name}");
        let body = self
            .put(
                &id,
                "2025-03-01",
                json!({"location": "westeurope", "identity": {"type": "SystemAssigned"},
                    "properties": {"policyDefinitionId": definition, "displayName": name}}),
            )
            .await;
        let principal = body["identity"]["principalId"]
            .as_str()
            .expect("principalId")
            .to_owned();
        (id, principal)
    }

    async fn role(&self, scope: &str, role: &str, principal: &str) {
        let name = uuid::Uuid::new_v4();
        self.put(
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            "2022-04-01",
            json!({"properties": {
                "roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": principal, "principalType": "ServicePrincipal"}}),
        )
        .await;
    }
}

/// A half-protected subscription (3 plans, WDATP, no contact, an assignment whose identity
/// lacks one of its two roles) and a fully protected one (every plan, both integrations, a
/// complete contact, an assignment with both roles and a finished remediation).
async fn seed(config: Config) -> Seeded {
    let emulator = Emulator::start(config).await.expect("emulator");
    let token = emulator.issue_token(CLIENT_ID);
    // Both of rustls's back-ends are linked into test binaries: install the provider's (ring)
    // before building a client, or the build panics unless another test did it first.
    defender::crypto::install_default();
    let s = Seeded {
        emulator,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        token,
    };
    for p in ["VirtualMachines", "CloudPosture", "KeyVaults"] {
        s.plan(HALF, p).await;
    }
    s.setting(HALF, "WDATP").await;
    let half_scope = format!("/subscriptions/{HALF}");
    let (_, p) = s
        .assignment(&half_scope, "k8s-addon", K8S_ADDON_DEFINITION)
        .await;
    s.role(&half_scope, AKS_CONTRIBUTOR, &p).await;

    for p in PLANS {
        s.plan(FULL, p).await;
    }
    s.setting(FULL, "WDATP").await;
    s.setting(FULL, "MCAS").await;
    s.put(
        &format!("/subscriptions/{FULL}/providers/Microsoft.Security/securityContacts/default"),
        "2023-12-01-preview",
        json!({"properties": {"emails": "soc@contoso.com", "phone": "+1-555-0100", "isEnabled": true,
            "notificationsByRole": {"state": "On", "roles": ["Owner"]},
            "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Medium"},
                {"sourceType": "AttackPath", "minimalRiskLevel": "High"}]}}),
    )
    .await;
    let full_scope = format!("/subscriptions/{FULL}");
    let (full_assignment, p) = s
        .assignment(&full_scope, "k8s-addon", K8S_ADDON_DEFINITION)
        .await;
    s.role(&full_scope, AKS_CONTRIBUTOR, &p).await;
    s.role(&full_scope, AKS_POLICY_ADDON, &p).await;
    s.put(
        &format!("{full_scope}/providers/Microsoft.PolicyInsights/remediations/k8s-addon-1"),
        "2021-10-01",
        json!({"properties": {"policyAssignmentId": full_assignment}}),
    )
    .await;
    // The remediation runs on the emulator's clock (remediation_step_ms per state).
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    s.emulator.clear_requests();
    s
}

fn config() -> Config {
    Config {
        // Small pages, so the audit must follow nextLink.
        page_size: 4,
        pricing_write_ms: 0,
        remediation_step_ms: 20,
        ..Config::default()
    }
}

fn target_dir() -> PathBuf {
    // target/debug/terraform-provider-defender → target/
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// Runs the CLI with the emulator's credentials (and no other ARM_* variable).
async fn audit(emulator: &EmulatorHandle, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"));
    cmd.arg("audit").args(args);
    with_emulator_credentials(&mut cmd, emulator);
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("running the audit")
}

/// The emulator's credentials and cloud in `cmd`'s environment, and no other ARM_* variable.
fn with_emulator_credentials(cmd: &mut Command, emulator: &EmulatorHandle) {
    for (k, _) in std::env::vars() {
        if k.starts_with("ARM_") || k.starts_with("ACTIONS_ID_TOKEN") || k == "TF_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env(
        "ARM_METADATA_HOSTNAME",
        emulator.base_url().trim_start_matches("http://"),
    )
    .env("ARM_TENANT_ID", TENANT)
    .env("ARM_CLIENT_ID", CLIENT_ID)
    .env("ARM_CLIENT_SECRET", CLIENT_SECRET);
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every request the audit sent to ARM was a GET; the only other one is the token request.
fn assert_read_only(emulator: &EmulatorHandle) {
    let reqs = emulator.requests();
    assert!(!reqs.is_empty());
    let arm: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.starts_with("/subscriptions/") || r.path.starts_with("/providers/"))
        .collect();
    assert!(arm.len() >= 12, "{arm:#?}");
    for r in &reqs {
        if r.path.ends_with("/oauth2/v2.0/token") {
            assert_eq!(r.method, "POST");
            continue;
        }
        assert_eq!(r.method, "GET", "the audit wrote: {r:?}");
    }
    for r in &arm {
        assert_eq!(r.status, 200, "{r:?}");
    }
    // nextLink was followed (pricings list has more items than a page).
    assert!(
        arm.iter().any(|r| r.path.ends_with("/pricings")
            && r.query.as_deref().is_some_and(|q| q.contains("skipToken"))),
        "{arm:#?}"
    );
}

fn findings_of<'a>(report: &'a Value, sub: &str) -> Vec<&'a Value> {
    report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subscription_id"] == sub)
        .unwrap_or_else(|| panic!("{sub} in {report:#}"))["findings"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reports_exactly_the_missing_protections_in_every_format() {
    let s = seed(config()).await;
    let subs = format!("{HALF},{FULL}");

    // JSON, parsed.
    let o = audit(&s.emulator, &["--subscription", &subs, "--format", "json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let half = findings_of(&report, HALF);
    let rules: Vec<&str> = half
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = EXPECTED_HALF.iter().map(|(r, _)| *r).collect();
    assert_eq!(rules, expected, "{report:#}");
    for (f, (rule, public)) in half.iter().zip(EXPECTED_HALF) {
        let ids: Vec<&str> = f["public_rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert!(public.is_empty() || ids.contains(public), "{rule}: {ids:?}");
        assert_eq!(f["subscription_id"], HALF);
    }
    let roles = half
        .iter()
        .find(|f| f["rule_id"] == "DFC-ASSIGNMENT-ROLES")
        .unwrap();
    assert!(
        roles["message"]
            .as_str()
            .unwrap()
            .contains(AKS_POLICY_ADDON),
        "{roles:#}"
    );
    assert!(!roles["message"].as_str().unwrap().contains(AKS_CONTRIBUTOR));
    assert!(findings_of(&report, FULL).is_empty(), "{report:#}");

    // The coverage behind the findings.
    let full = &report["subscriptions"][1];
    assert_eq!(full["subscription_id"], FULL);
    let a = &full["assignments"][0];
    assert_eq!(a["policy"], "kubernetes-policy-addon");
    assert_eq!(a["roles_complete"], true);
    assert_eq!(a["remediation"]["state"], "Succeeded", "{a:#}");
    assert_eq!(full["contact"]["notify_roles"], json!(["Owner"]));
    let half_cov = &report["subscriptions"][0];
    assert_eq!(half_cov["assignments"][0]["roles_complete"], false);
    assert_eq!(half_cov["assignments"][0]["remediation"], Value::Null);
    let vm = half_cov["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "VirtualMachines")
        .unwrap();
    assert_eq!(
        (vm["tier"].as_str(), vm["subplan"].as_str()),
        (Some("Standard"), Some("P2"))
    );
    assert_eq!(report["summary"]["findings"], 13);
    assert_read_only(&s.emulator);

    // SARIF, validated structurally.
    s.emulator.clear_requests();
    let o = audit(
        &s.emulator,
        &[
            "--subscription",
            HALF,
            "--subscription",
            FULL,
            "--format",
            "sarif",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let sarif: Value = serde_json::from_str(&stdout(&o)).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let result_rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(result_rules, expected);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(
            rules[idx]["helpUri"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        assert_eq!(
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            format!("/subscriptions/{HALF}")
        );
        assert_eq!(r["locations"][0]["logicalLocations"][0]["kind"], "resource");
    }
    let contact = results
        .iter()
        .find(|r| r["ruleId"] == "DFC-CONTACT-MISSING")
        .unwrap();
    assert_eq!(contact["level"], "error");
    assert!(
        contact["properties"]["publicRules"]
            .as_array()
            .unwrap()
            .contains(&json!("CKV_AZURE_20"))
    );
    assert_read_only(&s.emulator);

    // Markdown for the PR comment.
    let o = audit(
        &s.emulator,
        &["--subscription", &subs, "--format", "markdown"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let md = stdout(&o);
    assert!(md.contains("### Defender for Cloud coverage"), "{md}");
    assert!(
        md.contains("13 findings (7 high, 4 medium, 2 low) in 2 subscriptions."),
        "{md}"
    );
    for (rule, public) in EXPECTED_HALF {
        let line = md
            .lines()
            .find(|l| l.contains(&format!("`{rule}`")))
            .unwrap_or_else(|| panic!("{rule} in {md}"));
        assert!(line.contains(HALF) && line.contains(public), "{line}");
    }
    let full_row = md
        .lines()
        .find(|l| l.starts_with(&format!("| `{FULL}`")))
        .unwrap();
    assert!(!full_row.contains('❌'), "{full_row}");
    let half_row = md
        .lines()
        .find(|l| l.starts_with(&format!("| `{HALF}`")))
        .unwrap();
    assert_eq!(half_row.matches('❌').count(), 13, "{half_row}");

    // The table, with --fail-on: exit 1 at high, 0 at critical.
    let o = audit(&s.emulator, &["--subscription", &subs, "--fail-on", "high"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let table = stdout(&o);
    for (rule, public) in EXPECTED_HALF {
        let at = table
            .find(&format!("{HALF}  {rule}\n"))
            .unwrap_or_else(|| panic!("{rule}:\n{table}"));
        let block: String = table[at..].lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(block.contains(public), "{block}");
    }
    assert_eq!(
        table.matches("\nHIGH ").count()
            + table.matches("\nMEDIUM ").count()
            + table.matches("\nLOW ").count(),
        13,
        "{table}"
    );
    let o = audit(
        &s.emulator,
        &[
            "--subscription",
            &subs,
            "--fail-on",
            "critical",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // HTML to a file, then a screenshot in headless Chromium.
    let out_dir = target_dir().join("test-output");
    std::fs::create_dir_all(&out_dir).unwrap();
    let html_path = out_dir.join("audit.html");
    let o = audit(
        &s.emulator,
        &[
            "--subscription",
            &subs,
            "--format",
            "html",
            "--output",
            html_path.to_str().unwrap(),
            "--progress",
            "always",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("audited 2/2 subscriptions"),
        "progress lines: {stderr}"
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    for (rule, _) in EXPECTED_HALF {
        assert!(html.contains(rule), "{rule}");
    }
    screenshot(&html_path, &out_dir.join("audit.png"));
    assert_read_only(&s.emulator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_group_assignments_count_for_every_subscription() {
    let s = seed(config()).await;
    // A Linux dependency agent assignment at the management group whose identity has no role.
    let mg_scope = format!("/providers/Microsoft.Management/managementGroups/{MG}");
    s.assignment(&mg_scope, "dep-linux", DEP_AGENT_LINUX).await;
    s.emulator.clear_requests();
    let o = audit(
        &s.emulator,
        &[
            "--subscription",
            FULL,
            "--management-group",
            MG,
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["management_group_id"], mg_scope);
    let full = &report["subscriptions"][0];
    let policies: Vec<&str> = full["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        policies,
        ["kubernetes-policy-addon", "dependency-agent-linux"]
    );
    let f = findings_of(&report, FULL);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["rule_id"], "DFC-ASSIGNMENT-ROLES");
    assert!(f[0]["resource_id"].as_str().unwrap().starts_with(&mg_scope));
    assert_read_only(&s.emulator);
}

/// Many subscriptions are read in parallel, never more than `--concurrency` at once, and
/// ARM's per-subscription throttling (429 + Retry-After) is waited out, not hammered: the
/// audit still covers every subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_subscriptions_are_read_in_parallel_within_the_limit_and_throttling_is_honoured() {
    use arm_emulator::ratelimit::{Bucket, RateLimits};
    let limits = RateLimits {
        // A few reads per subscription go through at once, the rest wait for the refill.
        reads: Bucket {
            capacity: 6,
            refill_per_sec: 6.0,
        },
        ..RateLimits::arm()
    };
    let emulator = Emulator::start(Config {
        latency_ms: 40,
        ..config().with_rate_limits(limits)
    })
    .await
    .unwrap();
    let subs: Vec<String> = (1..=8)
        .map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}"))
        .collect();
    let o = audit(
        &emulator,
        &[
            "--subscription",
            &subs.join(","),
            "--format",
            "json",
            "--concurrency",
            "6",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let audited: Vec<&str> = report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscription_id"].as_str().unwrap())
        .collect();
    assert_eq!(audited.len(), subs.len(), "{report:#}");

    let stats = emulator.state().rate_limit_stats().unwrap();
    assert!(
        stats.throttled.get("reads").copied().unwrap_or(0) > 0,
        "the limits were reached: {stats:?}"
    );
    assert_eq!(stats.early_retries, 0, "Retry-After honoured: {stats:?}");

    // In flight at once, from each request's arrival and duration.
    let mut edges: Vec<(i128, i32)> = Vec::new();
    for r in emulator
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/subscriptions/") || r.path.starts_with("/providers/"))
    {
        assert_eq!(r.method, "GET", "the audit wrote: {r:?}");
        let start =
            time::OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339)
                .unwrap()
                .unix_timestamp_nanos();
        edges.push((start, 1));
        edges.push((start + i128::from(r.duration_ms) * 1_000_000, -1));
    }
    // Ends sort before starts at the same instant.
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    eprintln!(
        "audit of {} subscriptions: {} reads let through, {} throttled, at most {most} in flight",
        subs.len(),
        stats.allowed.get("reads").copied().unwrap_or(0),
        stats.throttled.get("reads").copied().unwrap_or(0)
    );
    assert!(most <= 6, "at most --concurrency reads at once, saw {most}");
    assert!(most >= 3, "reads overlap, saw at most {most} at once");
}

/// On a terminal the progress is a bar on stderr (`--progress auto`, more than three
/// subscriptions), and the report on stdout stays clean. The terminal is util-linux `script`'s
/// pseudo-terminal; stdout goes to a file inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_progress_is_a_bar_on_stderr_and_stdout_stays_clean() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for the terminal test");
    }
    let emulator = Emulator::start(Config {
        latency_ms: 60,
        ..config()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let terminal = dir.path().join("terminal.txt");
    let subs: Vec<String> = (1..=5)
        .map(|i| format!("{i:08x}-1111-4000-8000-{i:012x}"))
        .collect();
    let inner = format!(
        "'{}' audit --subscription {} --format json --concurrency 1 > '{}'",
        env!("CARGO_BIN_EXE_terraform-provider-defender"),
        subs.join(","),
        report.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &inner])
        .arg(&terminal)
        .env("TERM", "xterm")
        .env("COLUMNS", "120");
    with_emulator_credentials(&mut cmd, &emulator);
    let o = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("running script");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let shown = String::from_utf8_lossy(&std::fs::read(&terminal).unwrap()).into_owned();
    assert!(shown.contains("auditing ["), "a bar: {shown:?}");
    assert!(shown.contains("/5 subscriptions"), "{shown:?}");
    assert!(
        shown.contains('\r') || shown.contains('\u{1b}'),
        "redrawn in place: {shown:?}"
    );
    assert!(
        !shown.contains("audited 1/5"),
        "not the line-per-subscription form of a pipe: {shown:?}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).expect("JSON");
    assert_eq!(report["subscriptions"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_and_unreachable_arm_exit_2() {
    let emulator = Emulator::start(config()).await.unwrap();
    let o = audit(&emulator, &["--subscription", "not-a-guid"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not-a-guid"));
    let o = audit(&emulator, &["--format", "yaml", "--subscription", HALF]).await;
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    // No subscription at all.
    let o = audit(&emulator, &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ARM_SUBSCRIPTION_ID"));
    // Every read refused: nothing audited is an error, not a clean report.
    emulator
        .add_fault(
            FaultRule::arm_error(403, "AuthorizationFailed", "The client has no access.")
                .path("/subscriptions/"),
        )
        .unwrap();
    let o = audit(&emulator, &["--subscription", HALF]).await;
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("AuthorizationFailed"),
        "{}",
        describe(&o)
    );
}

/// Opens the page in headless Chromium and checks the PNG is a real, non-trivial picture.
fn screenshot(html: &Path, png: &Path) {
    let chromium = std::env::var("CHROMIUM")
        .ok()
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        })
        .expect("headless Chromium is needed for the HTML check: apt-get install -y chromium (scripts/test.sh does)");
    let _ = std::fs::remove_file(png);
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--screenshot={}", png.display()),
            "--window-size=1800,1100",
        ])
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("running chromium");
    assert!(png.exists(), "no screenshot: {}", describe(&o));
    let bytes = std::fs::read(png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    // IHDR: width and height.
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (1800, 1100));
    // A blank page compresses to a few kilobytes; the matrix and findings do not.
    assert!(
        bytes.len() > 40_000,
        "suspiciously small screenshot: {} bytes",
        bytes.len()
    );
}
