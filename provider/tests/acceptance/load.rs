//! Load: many subscriptions × every Defender plan and setting, applied with
//! `-parallelism=50` against an emulator that throttles per subscription as ARM does
//! (token buckets, 429 + Retry-After, `x-ms-ratelimit-remaining-subscription-*`; arm-api.md
//! §13.3, emulator/src/ratelimit.rs). The apply completes, every 429's Retry-After was
//! honoured (no request sent again before it elapsed), and no subscription got more requests
//! through than its bucket allows — checked from the emulator's request log, independently of
//! the limiter's own counters.
//!
//! CI runs 10 subscriptions against small buckets (5 tokens, 5/s) (so throttling certainly happens within
//! seconds); `scripts/load.sh` runs the ignored 200-subscription variant with ARM's real
//! limits and with the small ones (figures in RELIABILITY.md).

use std::collections::HashMap;
use std::time::Instant;

use arm_emulator::Config;
use arm_emulator::ratelimit::{Class, RateLimits, subscription_of};

use crate::common::TfEnv;

/// Every plan that is not retired (plan.md) and every setting the provider manages.
const PLANS: &[&str] = &[
    "VirtualMachines",
    "StorageAccounts",
    "Containers",
    "CloudPosture",
    "KeyVaults",
    "Arm",
    "Api",
    "AI",
    "AppServices",
    "SqlServers",
    "SqlServerVirtualMachines",
    "OpenSourceRelationalDatabases",
    "CosmosDbs",
];
const SETTINGS: &[&str] = &[
    "WDATP",
    "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW",
    "WDATP_UNIFIED_SOLUTION",
    "MCAS",
    "Sentinel",
];

fn subscription(i: usize) -> String {
    format!("5ab0c0de-0000-4000-8000-{:012}", i + 1)
}

fn config(subscriptions: usize) -> String {
    let subs: Vec<String> = (0..subscriptions)
        .map(|i| format!("\"{}\"", subscription(i)))
        .collect();
    let plans: Vec<String> = PLANS.iter().map(|p| format!("\"{p}\"")).collect();
    let settings: Vec<String> = SETTINGS.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"locals {{
  subscriptions = [{}]
  plans         = [{}]
  settings      = [{}]
  plan_pairs    = {{ for p in setproduct(local.subscriptions, local.plans) : "${{p[0]}}/${{p[1]}}" => p }}
  setting_pairs = {{ for p in setproduct(local.subscriptions, local.settings) : "${{p[0]}}/${{p[1]}}" => p }}
}}

resource "defender_plan" "all" {{
  for_each        = local.plan_pairs
  subscription_id = each.value[0]
  name            = each.value[1]
  tier            = "Standard"
}}

resource "defender_setting" "all" {{
  for_each        = local.setting_pairs
  subscription_id = each.value[0]
  name            = each.value[1]
  enabled         = each.value[1] != "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW"
}}

resource "defender_auto_provisioning" "all" {{
  for_each        = toset(local.subscriptions)
  subscription_id = each.value
  enabled         = false
}}

resource "defender_server_vulnerability_assessment" "all" {{
  for_each        = toset(local.subscriptions)
  subscription_id = each.value
}}
"#,
        subs.join(", "),
        plans.join(", "),
        settings.join(", ")
    )
}

fn arrival(r: &arm_emulator::RequestLogEntry) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(&r.time, &time::format_description::well_known::Rfc3339).unwrap()
}

/// What one run measured.
struct Figures {
    resources: usize,
    apply_secs: f64,
    requests: usize,
    throttled: usize,
}

async fn load(subscriptions: usize, limits: RateLimits) -> Figures {
    let env = TfEnv::with_config(Config {
        rate_limits: Some(limits),
        // Pricing writes of one subscription are serialised (ARM answers 409 otherwise);
        // keep each short so the run measures throttling, not pricing latency.
        pricing_write_ms: 20,
        request_log_limit: 1_000_000,
        ..Config::default()
    })
    .await;
    env.config(&config(subscriptions));
    let resources = subscriptions * (PLANS.len() + SETTINGS.len() + 2);
    let started = Instant::now();
    let apply = env
        .tf(&["apply", "-auto-approve", "-no-color", "-parallelism=50"])
        .await;
    apply.assert_code(0);
    let apply_secs = started.elapsed().as_secs_f64();
    assert!(
        apply
            .stdout
            .contains(&format!("Apply complete! Resources: {resources} added")),
        "{}",
        apply.stdout.lines().last().unwrap_or_default()
    );

    let stats = env.emulator.state().rate_limit_stats().unwrap();
    assert_eq!(stats.subscriptions as usize, subscriptions);
    // Backoff honoured: no request came back before its Retry-After.
    assert_eq!(stats.early_retries, 0, "{stats:?}");

    // From the log: per subscription and class, requests let through within any one second
    // never exceed the bucket (capacity + one second of refill).
    let log = env.arm_requests();
    let mut by_bucket: HashMap<(String, Class), Vec<time::OffsetDateTime>> = HashMap::new();
    let mut throttled = 0;
    for r in &log {
        if r.status == 429 {
            throttled += 1;
            continue;
        }
        if let Some(sub) = subscription_of(&r.path) {
            by_bucket
                .entry((sub, Class::of(&r.method)))
                .or_default()
                .push(arrival(r));
        }
    }
    for ((sub, class), mut times) in by_bucket {
        times.sort();
        let bucket = match class {
            Class::Reads => limits.reads,
            Class::Writes => limits.writes,
            Class::Deletes => limits.deletes,
        };
        let allowed = f64::from(bucket.capacity) + bucket.refill_per_sec;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= time::Duration::seconds(1) {
                start += 1;
            }
            let in_window = (end - start + 1) as f64;
            assert!(
                in_window <= allowed,
                "{sub} {class:?}: {in_window} requests within one second, the bucket allows {allowed}"
            );
        }
    }
    // Every 429 carried Retry-After and was retried (the apply completed).
    assert_eq!(
        throttled as u64,
        stats.throttled.values().sum::<u64>(),
        "{stats:?}"
    );
    let figures = Figures {
        resources,
        apply_secs,
        requests: log.len(),
        throttled,
    };
    eprintln!(
        "load: {subscriptions} subscriptions, {} resources, apply {:.1}s, {} ARM requests, {} answered 429 (retried), {stats:?}",
        figures.resources, figures.apply_secs, figures.requests, figures.throttled
    );
    // The next plan (which refreshes everything, throttled too) is empty.
    env.tf(&["plan", "-detailed-exitcode", "-no-color", "-parallelism=50"])
        .await
        .assert_code(0);
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_subscriptions_under_tight_limits_complete_and_honour_backoff() {
    // Buckets of 5 refilled at 5/s: Terraform walks each subscription's resources together,
    // so its burst of settings writes meets 429s whatever the machine's speed; a throttled
    // request finds 5 new tokens after its Retry-After of 1 s, so retries stay few.
    let f = load(10, RateLimits::uniform(5, 5.0)).await;
    assert!(
        f.throttled > 0,
        "the limits were reached ({} requests)",
        f.requests
    );
}

/// `scripts/load.sh`: 200 subscriptions with ARM's published limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes minutes; run by scripts/load.sh"]
async fn two_hundred_subscriptions_with_arm_limits() {
    load(200, RateLimits::arm()).await;
}

/// `scripts/load.sh`: 200 subscriptions against buckets small enough for the rate a 4000-
/// resource apply reaches per subscription (3–4 writes/s measured; RELIABILITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes minutes; run by scripts/load.sh"]
async fn two_hundred_subscriptions_under_tight_limits() {
    let f = load(200, RateLimits::uniform(2, 1.0)).await;
    assert!(f.throttled > 0);
}
