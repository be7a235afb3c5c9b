//! Starting and stopping: the router, the accept loop (hyper directly, so a fault can close
//! a connection without answering) and the handle tests hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::middleware;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::config::{Config, RuntimeConfig, RuntimeConfigPatch};
use crate::faults::{FaultError, FaultRule, FaultStatus};
use crate::pipeline::{self, ConnectionKiller};
use crate::requests::RequestLogEntry;
use crate::seed::Seeds;
use crate::state::EmulatorState;
use crate::store::Store;
use crate::{arm, auth, control, metadata};

/// How long `shutdown` lets in-flight requests finish.
const GRACE: Duration = Duration::from_secs(2);

/// The emulator. `Emulator::start(Config::default()).await?` serves on a free loopback port.
pub struct Emulator;

impl Emulator {
    /// Binds, loads the state file and seeds, and starts serving in the background.
    pub async fn start(config: Config) -> anyhow::Result<EmulatorHandle> {
        if !config.listen.ip().is_loopback() {
            bail!(
                "refusing to listen on {}: the emulator serves loopback addresses only",
                config.listen
            );
        }
        let store = Store::open(config.state_file.clone())?;
        let seeds = match &config.seed_examples {
            Some(dir) => Seeds::load(dir)?,
            None => Seeds::default(),
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let state = Arc::new(EmulatorState::new(
            &config,
            base_url,
            addr.port(),
            store,
            seeds,
        )?);
        let router = router(state.clone());
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(serve(listener, router, shutdown_rx));
        tracing::info!(base_url = %state.base_url, "arm-emulator started");
        Ok(EmulatorHandle {
            state,
            addr,
            shutdown: Some(shutdown_tx),
            task: Some(task),
        })
    }
}

/// Every route. Fixed routes first; everything else goes to ARM's dispatcher.
pub fn router(state: Arc<EmulatorState>) -> Router {
    Router::new()
        .route("/metadata/endpoints", get(metadata::endpoints))
        .route("/metadata/identity/oauth2/token", get(auth::imds::token))
        .route("/{tenant}/oauth2/v2.0/token", post(auth::entra::token))
        .route("/_oidc/github", get(auth::oidc::github))
        .merge(control::router())
        .fallback(arm::fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            pipeline::pipeline,
        ))
        .with_state(state)
}

async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let killer = Arc::new(Notify::new());
                let tag = ConnectionKiller(killer.clone());
                let router = router.clone();
                let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(tag.clone());
                    router.clone().oneshot(req.map(Body::new))
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    tokio::select! {
                        result = connection => {
                            if let Err(e) = result {
                                tracing::debug!(error = %e, "connection ended with an error");
                            }
                        }
                        // A drop fault: returning drops the connection, closing the socket
                        // with no response written.
                        _ = killer.notified() => {}
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    connections.abort_all();
}

/// A running emulator. Dropping it stops the server; `shutdown().await` stops it gracefully
/// and saves the state file.
pub struct EmulatorHandle {
    state: Arc<EmulatorState>,
    addr: SocketAddr,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.state.requests()
    }

    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Stores a body under `id` as it is, no validation (seeding, drift). A failure to save
    /// the state file is logged.
    pub fn set_resource(&self, id: &str, body: Value) {
        if let Err(e) = self.state.set_resource(id, body) {
            tracing::error!(error = %e, "saving state");
        }
    }

    /// What ARM's GET of `id` would answer: the stored body or a singleton's default.
    pub fn get_resource(&self, id: &str) -> Option<Value> {
        self.state.get_resource(id)
    }

    /// Forgets a stored resource (a singleton falls back to its default); true if there was
    /// one. A failure to save the state file is logged.
    pub fn delete_resource(&self, id: &str) -> bool {
        let removed = self.state.store.delete(id).is_some();
        self.state.store.save_or_log();
        removed
    }

    /// Adds a fault rule at the end of the list; returns its ID.
    pub fn add_fault(&self, rule: FaultRule) -> Result<String, FaultError> {
        self.state.add_fault(rule)
    }

    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }

    pub fn faults(&self) -> Vec<FaultStatus> {
        self.state.faults()
    }

    pub fn config(&self) -> RuntimeConfig {
        self.state.runtime()
    }

    pub fn update_config(&self, patch: RuntimeConfigPatch) -> RuntimeConfig {
        self.state.update_runtime(&patch)
    }

    pub fn set_allow_mma_autoprovision(&self, allow: bool) {
        self.update_config(RuntimeConfigPatch {
            allow_mma_autoprovision: Some(allow),
            ..Default::default()
        });
    }

    /// An access token for ARM, as if `client_id` had signed in.
    pub fn issue_token(&self, client_id: &str) -> String {
        self.state.issue_token(client_id)
    }

    pub fn state(&self) -> Arc<EmulatorState> {
        self.state.clone()
    }

    /// Stops accepting, lets in-flight requests finish (up to 2 s) and saves the state file.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state.save()?;
        tracing::info!("arm-emulator stopped");
        Ok(())
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
