//! `arm-emulator`: the local ARM + Entra token endpoint as a process, for demos and for
//! acceptance tests that run Terraform against it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use arm_emulator::auth::assertion::certificates_from_pem;
use arm_emulator::{ClientRegistration, Config, Emulator, FaultRule};
use clap::Parser;

/// A local Azure Resource Manager and Entra token endpoint (loopback only).
#[derive(Debug, Parser)]
#[command(name = "arm-emulator", version)]
struct Args {
    /// Address to listen on; loopback only. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", env = "ARM_EMULATOR_LISTEN")]
    listen: SocketAddr,

    /// Write the base URL (http://127.0.0.1:PORT) to this file once listening.
    #[arg(long, value_name = "PATH")]
    port_file: Option<PathBuf>,

    /// Load resources from this file at start (if it exists); save after every write.
    #[arg(long, value_name = "PATH", env = "ARM_EMULATOR_STATE_FILE")]
    state_file: Option<PathBuf>,

    /// Let `autoProvision: On` succeed instead of answering 400 Deprecated.
    #[arg(long)]
    allow_mma_autoprovision: bool,

    /// Latency added to every request (control endpoints excepted).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,

    /// Items per list page before a nextLink.
    #[arg(long, value_name = "N", default_value_t = 100)]
    page_size: usize,

    /// How long a new managed identity stays unknown to role assignments that do not say
    /// principalType ServicePrincipal (PrincipalNotFound meanwhile).
    #[arg(long, value_name = "MS", default_value_t = 2_000)]
    principal_replication_ms: u64,

    /// How long a remediation task stays Accepted, then Evaluating, before it ends.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    remediation_step_ms: u64,

    /// Non-compliant resources each new remediation task finds (its totalDeployments).
    #[arg(long, value_name = "N", default_value_t = 2)]
    remediation_resources: u32,

    /// Fraction (0.0 to 1.0) of a remediation task's deployments that fail.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    remediation_failures: f64,

    /// A fault rule, as JSON (same shape as POST /_emulator/faults). Repeatable.
    #[arg(long, value_name = "JSON")]
    fault: Vec<String>,

    /// A registered app: CLIENT_ID:SECRET. Repeatable. Without any, every client ID with a
    /// non-empty secret is accepted.
    #[arg(long, value_name = "ID:SECRET")]
    client: Vec<String>,

    /// A certificate for an app: CLIENT_ID:PEM_PATH; assertions are then verified against
    /// it. Repeatable; registers the app if --client did not.
    #[arg(long, value_name = "ID:PEM_PATH")]
    client_cert: Vec<String>,

    /// A subscription that exists. Repeatable. Without any, every subscription GUID exists.
    #[arg(long, value_name = "GUID")]
    subscription: Vec<String>,

    /// The tenant ID put into tokens and subscriptions.
    #[arg(long, value_name = "GUID", default_value = arm_emulator::config::DEFAULT_TENANT_ID)]
    tenant_id: String,

    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3599)]
    token_lifetime_secs: u64,

    /// A folder of REST API examples whose GET answers become the singletons' defaults.
    #[arg(long, value_name = "DIR")]
    seed_examples: Option<PathBuf>,
}

fn config_from(args: &Args) -> anyhow::Result<Config> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {}: the emulator serves loopback addresses only",
            args.listen
        );
    }
    let mut config = Config {
        listen: args.listen,
        allow_mma_autoprovision: args.allow_mma_autoprovision,
        latency_ms: args.latency_ms,
        page_size: args.page_size.max(1),
        principal_replication_ms: args.principal_replication_ms,
        remediation_step_ms: args.remediation_step_ms,
        remediation_resources: args.remediation_resources,
        remediation_failures: args.remediation_failures.clamp(0.0, 1.0),
        subscriptions: args.subscription.clone(),
        tenant_id: args.tenant_id.clone(),
        token_lifetime: Duration::from_secs(args.token_lifetime_secs),
        state_file: args.state_file.clone(),
        seed_examples: args.seed_examples.clone(),
        ..Config::default()
    };
    for (i, fault) in args.fault.iter().enumerate() {
        let rule: FaultRule = serde_json::from_str(fault)
            .with_context(|| format!("--fault #{}: not a valid fault rule", i + 1))?;
        config.faults.push(rule);
    }
    for client in &args.client {
        config
            .clients
            .push(ClientRegistration::parse(client).map_err(|e| anyhow::anyhow!("--client: {e}"))?);
    }
    for spec in &args.client_cert {
        let Some((id, path)) = spec
            .split_once(':')
            .filter(|(id, p)| !id.is_empty() && !p.is_empty())
        else {
            bail!("--client-cert: expected CLIENT_ID:PEM_PATH");
        };
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("--client-cert: reading {path}"))?;
        let certs = certificates_from_pem(&pem);
        if certs.is_empty() {
            bail!("--client-cert: {path} holds no CERTIFICATE block");
        }
        match config
            .clients
            .iter_mut()
            .find(|c| c.client_id.eq_ignore_ascii_case(id))
        {
            Some(c) => c.certificates.extend(certs),
            None => config.clients.push(ClientRegistration {
                client_id: id.to_owned(),
                secret: None,
                certificates: certs,
            }),
        }
    }
    Ok(config)
}

/// Writes `contents` beside `path` and renames it into place, so a poller never reads half.
fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARM_EMULATOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let args = Args::parse();
    let config = config_from(&args)?;
    let emulator = Emulator::start(config).await?;
    let base_url = emulator.base_url();

    // The port file first: whoever sees the stdout line can rely on the file.
    if let Some(path) = &args.port_file {
        write_atomically(path, &base_url)
            .with_context(|| format!("writing port file {}", path.display()))?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "arm-emulator listening on {base_url}")?;
        out.flush()?;
    }

    wait_for_signal().await;
    tracing::info!("signal received, stopping");
    emulator.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> anyhow::Result<Config> {
        let mut argv = vec!["arm-emulator"];
        argv.extend_from_slice(extra);
        config_from(&Args::try_parse_from(argv)?)
    }

    #[test]
    fn refuses_non_loopback() {
        assert!(parse(&["--listen", "0.0.0.0:0"]).is_err());
        assert!(parse(&["--listen", "[::1]:0"]).is_ok());
    }

    #[test]
    fn faults_and_clients_parse() {
        let c = parse(&[
            "--fault",
            r#"{"status":429,"retry_after":1}"#,
            "--client",
            "app:secret",
            "--subscription",
            "00000000-0000-0000-0000-000000000001",
        ])
        .unwrap();
        assert_eq!(c.faults.len(), 1);
        assert_eq!(c.clients[0].client_id, "app");
        assert_eq!(c.subscriptions.len(), 1);
        assert!(parse(&["--fault", "{}"]).is_err());
        assert!(parse(&["--client", "nosecret"]).is_err());
    }
}
