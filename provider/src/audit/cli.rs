//! `terraform-provider-defender audit`: the audit from the command line, with the provider's
//! credentials and clouds (the `ARM_*` variables azurerm reads, the same credential chain).
//!
//! Exit status: 0 when the audit ran and found nothing at or above `--fail-on` (or no
//! `--fail-on` was given), 1 when it found something at or above `--fail-on`, 2 when it could
//! not run (bad arguments, no credentials, nothing readable, output not writable).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::format::{self, Format};
use super::{AuditOptions, Progress, Severity};
use crate::arm::AuthConfig;

/// Exit status when no finding reaches `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Exit status when a finding is at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status when the audit could not run.
pub const EXIT_ERROR: u8 = 2;

/// When to draw a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// When stderr is a terminal and there are more than 3 subscriptions.
    Auto,
    /// Always (a line per subscription when stderr is not a terminal).
    Always,
    Never,
}

/// Severities accepted by `--fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// Reports which Defender for Cloud protections each subscription has and lacks: plans,
/// settings, security contact, auto-provisioning policy assignments (with their identities'
/// roles and latest remediation). Reads only. Credentials and cloud come from the ARM_*
/// variables, as for the provider.
///
/// Exit status: 0 no finding at or above --fail-on, 1 some finding at or above --fail-on,
/// 2 the audit could not run.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// A subscription to audit (repeat, or separate with commas). Default: ARM_SUBSCRIPTION_ID.
    #[arg(long = "subscription", value_name = "ID", value_delimiter = ',')]
    pub subscriptions: Vec<String>,
    /// Include the policy assignments of this management group (name or ID) for every
    /// subscription, as ARM applies a management group's assignments to its subscriptions.
    #[arg(long, value_name = "ID")]
    pub management_group: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding of at least this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// ARM reads in flight at once.
    #[arg(long, default_value_t = super::DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressMode,
}

/// indicatif's bar, for a terminal.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, subscription: &str) {
        self.0.set_message(subscription.to_owned());
        self.0.inc(1);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A line per subscription, for logs (`--progress always` without a terminal).
struct Lines(parking_lot::Mutex<(u64, u64)>);

impl Progress for Lines {
    fn start(&self, total: u64) {
        self.0.lock().1 = total;
    }
    fn advance(&self, subscription: &str) {
        let mut g = self.0.lock();
        g.0 += 1;
        eprintln!("audited {}/{} subscriptions ({subscription})", g.0, g.1);
    }
    fn finish(&self) {}
}

fn progress(mode: ProgressMode, subscriptions: usize) -> Option<Arc<dyn Progress>> {
    let tty = std::io::stderr().is_terminal();
    let want = match mode {
        ProgressMode::Never => false,
        ProgressMode::Always => true,
        ProgressMode::Auto => tty && subscriptions > 3,
    };
    if !want {
        return None;
    }
    if tty {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(subscriptions as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} auditing [{bar:30}] {pos}/{len} subscriptions {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(Arc::new(Bar(bar)))
    } else {
        Some(Arc::new(Lines(parking_lot::Mutex::new((0, 0)))))
    }
}

/// Runs the command; the return value is the exit status.
pub fn run(args: &AuditArgs) -> u8 {
    crate::protocol::logging::init_from_env();
    let mut auth = AuthConfig::default().with_env_defaults();
    let mut subscriptions = args.subscriptions.clone();
    subscriptions.retain(|s| !s.trim().is_empty());
    if subscriptions.is_empty()
        && let Some(s) = auth.subscription_id.clone()
    {
        subscriptions.push(s);
    }
    if subscriptions.is_empty() {
        eprintln!("error: no subscription: pass --subscription ID or set ARM_SUBSCRIPTION_ID");
        return EXIT_ERROR;
    }
    // The credential checks want a subscription, as the provider block does; the audited one
    // serves when ARM_SUBSCRIPTION_ID is not set.
    if auth.subscription_id.is_none() {
        auth.subscription_id = subscriptions.first().map(|s| s.trim().to_owned());
    }
    let options = AuditOptions {
        subscriptions,
        management_group: args.management_group.clone(),
        concurrency: usize::from(args.concurrency),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return EXIT_ERROR;
        }
    };
    let bar = progress(args.progress, options.subscriptions.len());
    let result = rt.block_on(async {
        let arm = crate::arm::build_client(&auth, "", CancellationToken::new())
            .await
            .map_err(|e| format!("configuring Azure credentials: {e}"))?;
        super::run(&arm, &options, bar)
            .await
            .map_err(|e| e.to_string())
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let text = format::render(&report, args.format);
    let written = match &args.output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| format!("writing {}: {e}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing the report: {e}"))
        }
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return EXIT_ERROR;
    }
    if args.output.is_some() {
        eprintln!("{}", format::summary_line(&report));
    }
    exit_status(&report, args.fail_on.map(Severity::from))
}

/// 1 when a finding is at or above `fail_on`, else 0.
pub fn exit_status(report: &super::AuditReport, fail_on: Option<Severity>) -> u8 {
    match (fail_on, report.worst()) {
        (Some(limit), Some(worst)) if worst >= limit => EXIT_FINDINGS,
        _ => EXIT_OK,
    }
}
