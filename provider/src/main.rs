//! `terraform-provider-defender`: the plugin Terraform starts, plus commands for people.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use defender::protocol::handshake::{self, PluginEnv};
use defender::protocol::server::ProviderService;

/// Terraform provider for Microsoft Defender for Cloud.
///
/// Terraform starts this binary itself. Run by hand it serves in debug mode (--debug) or
/// runs one of the commands below.
#[derive(Parser)]
#[command(name = "terraform-provider-defender", version = defender::VERSION)]
struct Cli {
    /// Serve plaintext on loopback and print a TF_REATTACH_PROVIDERS value to attach Terraform.
    #[arg(long)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Write the registry documentation (docs/) from the schemas and examples/.
    Docs {
        /// Repository root holding examples/ and docs/.
        #[arg(long, default_value = ".")]
        root: std::path::PathBuf,
        /// Fail when docs/ differs from what would be written, instead of writing.
        #[arg(long)]
        check: bool,
    },
    /// Print the requests the provider would send for a policy assignment (assignment, role
    /// assignments, remediations), for review in a pull request. Offline.
    Render(defender::catalog::cli::RenderArgs),
    /// Report which Defender for Cloud protections each subscription has and lacks (reads
    /// only). Exit status: 0 nothing at or above --fail-on, 1 findings at or above
    /// --fail-on, 2 the audit could not run.
    Audit(defender::audit::cli::AuditArgs),
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // Two workers are plenty for one Terraform client; fewer threads start faster.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn main() -> ExitCode {
    // Fast path: launched by Terraform. No argument parsing beyond this check.
    if std::env::args_os().len() == 1 {
        return serve_plugin();
    }
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Docs { root, check }) => match defender::docs::run(&root, check) {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Audit(args)) => ExitCode::from(defender::audit::cli::run(&args)),
        Some(Command::Render(args)) => match defender::catalog::cli::run(&args) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        None if cli.debug => {
            defender::protocol::logging::init_from_env();
            let service = ProviderService::new(Arc::new(defender::resources::registry()));
            match runtime().and_then(|rt| {
                rt.block_on(handshake::serve_debug(service))
                    .map_err(std::io::Error::other)
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        None => serve_plugin(),
    }
}

fn serve_plugin() -> ExitCode {
    let env = match PluginEnv::from_lookup(|k| std::env::var(k).ok()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    defender::protocol::logging::init_from_env();
    let service = ProviderService::new(Arc::new(defender::resources::registry()));
    let result = runtime()
        .map_err(handshake::HandshakeError::from)
        .and_then(|rt| {
            let r = rt.block_on(handshake::serve(service, env));
            // Do not wait for stray tasks (e.g. an open stdio stream) on the way out.
            rt.shutdown_background();
            r
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin server stopped");
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
