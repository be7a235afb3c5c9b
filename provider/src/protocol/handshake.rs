//! The go-plugin launch contract: environment checks, the listener, the handshake line, and
//! the host services (controller, health, stdio) served beside `tfplugin6.Provider`.
//!
//! Facts from tfplugin6.md §2: Terraform reads exactly one line from stdout
//! (`1|6|tcp|ADDR|grpc|CERT`), dials with AutoMTLS, calls `GRPCController.Shutdown` when done
//! and waits 2 s before killing us, so we exit promptly; sockets need TCP_NODELAY or every
//! RPC waits ~40 ms on delayed ACKs; SIGINT goes to the whole process group on Ctrl-C and is
//! followed by `StopProvider`, so it is ignored here.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use super::goplugin;
use super::server::ProviderService;
use super::tfplugin6::provider_server::ProviderServer;
use super::tls;

pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version (first field of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const APP_PROTOCOL_VERSION: u32 = 6;
/// terraform-plugin-go allows messages up to 256 MiB; so do we.
const MAX_MESSAGE_SIZE: usize = 256 << 20;

/// Why the provider refuses to start as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error(
        "This binary is a plugin for Terraform and is not meant to be run directly.\n\
         Add the provider to a configuration's required_providers and run terraform init, or\n\
         run it with --debug to serve it for TF_REATTACH_PROVIDERS, or see --help for its\n\
         other commands (docs, version)."
    )]
    NotLaunchedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {offered:?}; this provider speaks only protocol 6 \
         (Terraform 1.0 or newer)"
    )]
    NoCommonProtocol { offered: Vec<String> },
    #[error("invalid {name} {value:?}: {reason}")]
    BadVariable {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("no free TCP port on 127.0.0.1 between {min} and {max}")]
    NoPort { min: u16, max: u16 },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("serving the plugin: {0}")]
    Io(#[from] std::io::Error),
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// What Terraform told us through the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginEnv {
    pub protocol_versions: BTreeSet<u32>,
    pub min_port: u16,
    pub max_port: u16,
    /// PEM of Terraform's client certificate (AutoMTLS), unless TLS is disabled.
    pub client_cert_pem: Option<String>,
}

impl PluginEnv {
    /// Reads and checks the variables go-plugin sets.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<PluginEnv, HandshakeError> {
        if lookup(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(HandshakeError::NotLaunchedByTerraform);
        }
        // Terraform sends "5,6" or "6,5" (Go map order): a set, not a list.
        let raw = lookup("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
        let mut offered = Vec::new();
        let mut protocol_versions = BTreeSet::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            offered.push(part.to_string());
            if let Ok(v) = part.parse::<u32>() {
                protocol_versions.insert(v);
            }
        }
        // An absent list means the host negotiates nothing (old go-plugin): assume 6.
        if !raw.trim().is_empty() && !protocol_versions.contains(&APP_PROTOCOL_VERSION) {
            return Err(HandshakeError::NoCommonProtocol { offered });
        }
        let port = |name: &'static str, default: u16| -> Result<u16, HandshakeError> {
            match lookup(name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.parse::<u16>().map_err(|e| HandshakeError::BadVariable {
                    name,
                    value: v.clone(),
                    reason: e.to_string(),
                }),
            }
        };
        let min_port = port("PLUGIN_MIN_PORT", 10000)?;
        let max_port = port("PLUGIN_MAX_PORT", 25000)?;
        let tls_disabled = lookup("TF_DISABLE_PLUGIN_TLS").is_some_and(|v| !v.is_empty());
        let client_cert_pem = if tls_disabled {
            None
        } else {
            lookup("PLUGIN_CLIENT_CERT").filter(|v| !v.is_empty())
        };
        Ok(PluginEnv {
            protocol_versions,
            min_port,
            max_port,
            client_cert_pem,
        })
    }
}

/// Binds the first free port in Terraform's range on loopback, as go-plugin's Go servers do.
async fn bind_in_range(min: u16, max: u16) -> Result<TcpListener, HandshakeError> {
    if min == 0 || min > max {
        return Ok(TcpListener::bind(("127.0.0.1", 0)).await?);
    }
    // Start at a random offset so parallel provider processes do not all race for `min`.
    let span = u32::from(max - min) + 1;
    let start = rand::random::<u32>() % span;
    for i in 0..span {
        let port = min + ((start + i) % span) as u16;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(l);
        }
    }
    Err(HandshakeError::NoPort { min, max })
}

/// Serves the provider for Terraform: prints the handshake line and runs until Shutdown.
pub async fn serve(service: ProviderService, env: PluginEnv) -> Result<(), HandshakeError> {
    let listener = bind_in_range(env.min_port, env.max_port).await?;
    let addr = listener.local_addr()?;
    let shutdown = Arc::new(Notify::new());
    ignore_sigint();
    match env.client_cert_pem {
        Some(pem) => {
            let tls = tls::server_tls(&pem)?;
            let cert =
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(&tls.server_cert_der);
            print_handshake(&format!(
                "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}"
            ))?;
            let incoming = tls_incoming(listener, tls.config);
            run(service, shutdown, incoming).await
        }
        None => {
            print_handshake(&format!(
                "{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|"
            ))?;
            run(service, shutdown, plain_incoming(listener)).await
        }
    }
}

/// Debug mode: serve plaintext on loopback and print the `TF_REATTACH_PROVIDERS` value, so a
/// debugger-attached provider serves many Terraform runs. Runs until Ctrl-C.
pub async fn serve_debug(service: ProviderService) -> Result<(), HandshakeError> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let reattach = reattach_json(addr, std::process::id());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n"
    )?;
    writeln!(out, "\tTF_REATTACH_PROVIDERS='{reattach}'\n")?;
    out.flush()?;
    drop(out);
    let shutdown = Arc::new(Notify::new());
    let ctrl_c = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        ctrl_c.notify_one();
    });
    run(service, shutdown, plain_incoming(listener)).await
}

/// The `TF_REATTACH_PROVIDERS` JSON for a provider served at `addr` (tfplugin6.md §2.6).
pub fn reattach_json(addr: SocketAddr, pid: u32) -> String {
    serde_json::json!({
        crate::PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() }
        }
    })
    .to_string()
}

fn print_handshake(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

fn ignore_sigint() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut sig) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                while sig.recv().await.is_some() {
                    tracing::debug!("SIGINT received; waiting for StopProvider");
                }
            });
        }
    }
}

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

fn plain_incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = Result<TcpStream, std::io::Error>> {
    futures::stream::unfold(listener, |listener| async move {
        let next = listener.accept().await.map(|(s, _)| {
            let _ = s.set_nodelay(true);
            s
        });
        Some((next, listener))
    })
}

/// Accepts TCP, sets TCP_NODELAY, and completes TLS handshakes off the accept loop. Clients
/// whose certificate is not Terraform's fail the handshake and never reach gRPC.
fn tls_incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
) -> impl futures::Stream<Item = Result<TlsStream, std::io::Error>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<TlsStream, std::io::Error>>(16);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a plugin connection");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        let _ = tx.send(Ok(tls)).await;
                    }
                    Err(e) => tracing::warn!(%peer, error = %e, "refused a plugin connection"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

async fn run<S, IO>(
    service: ProviderService,
    shutdown: Arc<Notify>,
    incoming: S,
) -> Result<(), HandshakeError>
where
    S: futures::Stream<Item = Result<IO, std::io::Error>> + Send + 'static,
    IO: tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + tonic::transport::server::Connected
        + Unpin
        + Send
        + 'static,
{
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let controller = Controller {
        shutdown: shutdown.clone(),
    };
    let provider = ProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let signal = shutdown.clone();
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(provider)
        .add_service(goplugin::grpc_controller_server::GrpcControllerServer::new(
            controller,
        ))
        .add_service(goplugin::grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(health_service)
        .serve_with_incoming_shutdown(incoming, async move { signal.notified().await });
    tokio::select! {
        r = server => r?,
        // Graceful shutdown waits for Terraform to close its connection; do not let that
        // hold the process past go-plugin's 2 s kill timer.
        _ = async { shutdown.notified().await; tokio::time::sleep(Duration::from_millis(250)).await } => {}
    }
    Ok(())
}

/// go-plugin's controller: `Shutdown` ends the process.
struct Controller {
    shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<goplugin::Empty>,
    ) -> Result<Response<goplugin::Empty>, Status> {
        tracing::debug!("Shutdown requested by Terraform");
        // notify_waiters wakes the server's graceful-shutdown future; notify_one stores a
        // permit for the fallback timer in `run`.
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
        Ok(Response::new(goplugin::Empty {}))
    }
}

/// go-plugin's stdio stream. We never write to stdout after the handshake, so the stream
/// stays open and silent until shutdown.
struct Stdio;

#[tonic::async_trait]
impl goplugin::grpc_stdio_server::GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<goplugin::Empty>,
    ) -> Result<Response<tonic::codegen::BoxStream<goplugin::StdioData>>, Status> {
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn refuses_without_magic_cookie() {
        let e = PluginEnv::from_lookup(env(&[])).unwrap_err();
        assert!(e.to_string().contains("plugin for Terraform"), "{e}");
        let e = PluginEnv::from_lookup(env(&[(MAGIC_COOKIE_KEY, "nope")])).unwrap_err();
        assert!(matches!(e, HandshakeError::NotLaunchedByTerraform));
    }

    #[test]
    fn protocol_versions_are_a_set() {
        for offered in ["5,6", "6,5", " 6 ", "6"] {
            let e = PluginEnv::from_lookup(env(&[
                (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
                ("PLUGIN_PROTOCOL_VERSIONS", offered),
            ]))
            .unwrap();
            assert!(e.protocol_versions.contains(&6), "{offered}");
        }
        let e = PluginEnv::from_lookup(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("only protocol 6"), "{e}");
    }

    #[test]
    fn tls_disabled_drops_client_cert() {
        let e = PluginEnv::from_lookup(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_CLIENT_CERT", "pem"),
            ("TF_DISABLE_PLUGIN_TLS", "1"),
            ("PLUGIN_MIN_PORT", "20000"),
            ("PLUGIN_MAX_PORT", "20010"),
        ]))
        .unwrap();
        assert_eq!(e.client_cert_pem, None);
        assert_eq!((e.min_port, e.max_port), (20000, 20010));
    }

    #[test]
    fn reattach_line_names_the_provider() {
        let json: serde_json::Value =
            serde_json::from_str(&reattach_json("127.0.0.1:4321".parse().unwrap(), 7)).unwrap();
        let p = &json[crate::PROVIDER_ADDRESS];
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Addr"]["String"], "127.0.0.1:4321");
        assert_eq!(p["Pid"], 7);
    }
}
