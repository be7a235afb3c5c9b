//! Protocol benchmark client: launches provider binaries the way Terraform's go-plugin client
//! does (magic cookie, `PLUGIN_PROTOCOL_VERSIONS=5,6`, port range, AutoMTLS with an ECDSA
//! P-521 client certificate shaped like go-plugin's), and measures, per process:
//!
//! - start-up: exec to the handshake line on stdout; connect: TLS + HTTP/2 set-up and the first
//!   GetProviderSchema answer; ready: the two together;
//! - GetProviderSchema, ValidateResourceConfig and PlanResourceChange round trips (p50, p99
//!   over `--calls` calls each, on one connection, sequentially);
//! - peak RSS (`VmHWM` from `/proc/PID/status`, read before Shutdown);
//! - Shutdown to process exit.
//!
//! Providers are driven interleaved (run 1 of each, then run 2 of each, ...) so that the load
//! of a shared machine hits all of them alike; the summary reports min/median/max per figure
//! and, for every provider after the first, the per-run ratio against the first.
//!
//! ```text
//! plugin_bench [--runs 5] [--calls 200] [--json FILE] SPEC...
//! SPEC = NAME=BINARY,RESOURCE_TYPE[,JSON_OBJECT_OF_ATTRIBUTE_VALUES]
//! ```
//!
//! The resource configuration is built from the provider's own GetProviderSchema answer:
//! required attributes get a sample value of their type unless given in the JSON object,
//! everything else is null (blocks: empty collections / null single blocks). The proposed new
//! state for the plan is that configuration (a create: prior state null), as Terraform sends it
//! for a resource whose optional/computed attributes are unset.
//!
//! Run with `scripts/bench.sh` (builds in release and fetches the Go peer).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use defender::protocol::goplugin::grpc_controller_client::GrpcControllerClient;
use defender::protocol::tfplugin6::provider_client::ProviderClient;
use defender::protocol::tfplugin6::schema::nested_block::NestingMode as BlockNesting;
use defender::protocol::tfplugin6::schema::object::NestingMode as ObjectNesting;
use defender::protocol::tfplugin6::{
    DynamicValue, Schema, get_provider_schema, plan_resource_change, validate_resource_config,
};
use defender::protocol::value::{Number, Type, Value, encode_msgpack};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::Channel;

/// go-plugin handshake cookie for Terraform providers (tfplugin6.md §2.2).
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct Spec {
    name: String,
    binary: String,
    resource: String,
    values: serde_json::Map<String, serde_json::Value>,
}

fn parse_spec(s: &str) -> Result<Spec> {
    let (name, rest) = s
        .split_once('=')
        .context("SPEC is NAME=BINARY,RESOURCE[,JSON]")?;
    let mut parts = rest.splitn(3, ',');
    let binary = parts.next().context("binary")?.to_string();
    let resource = parts.next().context("resource type")?.to_string();
    let values = match parts.next() {
        Some(j) => serde_json::from_str(j).context("attribute values JSON")?,
        None => Default::default(),
    };
    Ok(Spec {
        name: name.to_string(),
        binary,
        resource,
        values,
    })
}

/// The client certificate go-plugin makes (GP `mtls.go`): ECDSA P-521, self-signed, a CA,
/// CN/SAN localhost, O=HashiCorp, EKU client+server auth.
struct ClientCert {
    pem: String,
    der: Vec<u8>,
    key: Vec<u8>,
}

/// The P-521 certificate comes from `tests/fixtures/` (made with openssl): the provider's
/// rcgen is built on ring, which has no P-521, and Cargo would unify an aws-lc rcgen from the
/// dev-dependencies into it. The provider's work per process does not depend on which
/// certificate it is (it parses the PEM and pins the DER).
fn client_cert() -> Result<ClientCert> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/goplugin-p521-a.pem"
    );
    let pem = std::fs::read_to_string(path).with_context(|| path.to_string())?;
    let (mut der, mut key) = (None, None);
    for item in rustls_pemfile::read_all(&mut pem.as_bytes()) {
        match item? {
            rustls_pemfile::Item::X509Certificate(c) => der = Some(c.to_vec()),
            rustls_pemfile::Item::Pkcs8Key(k) => key = Some(k.secret_pkcs8_der().to_vec()),
            _ => {}
        }
    }
    let cut = pem
        .find("-----BEGIN PRIVATE KEY")
        .context("no key in the fixture")?;
    Ok(ClientCert {
        pem: pem[..cut].to_string(),
        der: der.context("no certificate in the fixture")?,
        key: key.context("no PKCS#8 key in the fixture")?,
    })
}

/// Pins the server certificate from the handshake line (go-plugin puts it alone in RootCAs).
#[derive(Debug)]
struct PinnedServer(Vec<u8>, Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate differs from the handshake".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

struct Launched {
    child: Child,
    startup: Duration,
    network: String,
    addr: String,
    server_der: Vec<u8>,
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn launch(binary: &str, cert: &ClientCert) -> Result<Launched> {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &cert.pem)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {binary}"))?;
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let startup = started.elapsed();
    // Drain stdout/stderr as go-plugin does, so the provider never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
    });
    let line = line.trim_end();
    let parts: Vec<&str> = line.split('|').collect();
    if parts.len() < 5 || parts[0] != "1" || parts[1] != "6" || parts[4] != "grpc" {
        bail!("{binary}: unexpected handshake line {line:?}");
    }
    let server_der = match parts.get(5) {
        Some(c) if c.len() > 50 => {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(c.trim_end_matches('='))?
        }
        _ => bail!("{binary}: no AutoMTLS certificate in the handshake line"),
    };
    Ok(Launched {
        child,
        startup,
        network: parts[2].to_string(),
        addr: parts[3].to_string(),
        server_der,
    })
}

async fn connect(p: &Launched, cert: &ClientCert) -> Result<Channel> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(p.server_der.clone(), provider)))
        .with_client_auth_cert(
            vec![CertificateDer::from(cert.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone())),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (network, addr) = (p.network.clone(), p.addr.clone());
    let ch = tonic::transport::Endpoint::from_static("http://localhost")
        .tcp_nodelay(true)
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, network, addr) = (connector.clone(), network.clone(), addr.clone());
            async move {
                let name = ServerName::try_from("localhost").unwrap();
                // Go providers listen on a unix socket on Linux, ours on TCP (§2.3).
                let io: Box<dyn IoStream> = if network == "unix" {
                    let s = tokio::net::UnixStream::connect(&addr).await?;
                    Box::new(connector.connect(name, s).await?)
                } else {
                    let s = tokio::net::TcpStream::connect(&addr).await?;
                    s.set_nodelay(true)?;
                    Box::new(connector.connect(name, s).await?)
                };
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await?;
    Ok(ch)
}

trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> IoStream for T {}

// ---------------------------------------------------------------------------------------------
// Building a configuration value from a schema

fn attr_type(a: &defender::protocol::tfplugin6::schema::Attribute) -> Result<Type> {
    if let Some(nested) = &a.nested_type {
        let obj = Type::object(
            nested
                .attributes
                .iter()
                .map(|a| Ok((a.name.clone(), attr_type(a)?)))
                .collect::<Result<Vec<_>>>()?,
        );
        return Ok(match nested.nesting() {
            ObjectNesting::List => Type::list(obj),
            ObjectNesting::Set => Type::set(obj),
            ObjectNesting::Map => Type::map(obj),
            _ => obj,
        });
    }
    Type::from_json_bytes(&a.r#type).map_err(|e| anyhow!("attribute {}: {e}", a.name))
}

fn block_type(b: &defender::protocol::tfplugin6::schema::Block) -> Result<Type> {
    let mut attrs = Vec::new();
    for a in &b.attributes {
        attrs.push((a.name.clone(), attr_type(a)?));
    }
    for nb in &b.block_types {
        let inner = block_type(nb.block.as_ref().context("block")?)?;
        let t = match nb.nesting() {
            BlockNesting::List => Type::list(inner),
            BlockNesting::Set => Type::set(inner),
            BlockNesting::Map => Type::map(inner),
            _ => inner,
        };
        attrs.push((nb.type_name.clone(), t));
    }
    Ok(Type::object(attrs))
}

fn sample(ty: &Type, name: &str) -> Value {
    match ty {
        Type::Bool => Value::Bool(true),
        Type::Number => Value::Number(Number::Int(1)),
        Type::String => Value::String(format!("bench-{name}")),
        Type::List(_) => Value::List(vec![]),
        Type::Set(_) => Value::Set(vec![]),
        Type::Map(_) => Value::Map(BTreeMap::new()),
        _ => Value::Null,
    }
}

fn from_json(ty: &Type, j: &serde_json::Value) -> Result<Value> {
    Ok(match (ty, j) {
        (_, serde_json::Value::Null) => Value::Null,
        (Type::Bool, serde_json::Value::Bool(b)) => Value::Bool(*b),
        (Type::String, serde_json::Value::String(s)) => Value::String(s.clone()),
        (Type::Number, serde_json::Value::Number(n)) => Value::Number(
            n.as_i64()
                .map(Number::Int)
                .unwrap_or(Number::Float(n.as_f64().unwrap_or(0.0))),
        ),
        (Type::List(t), serde_json::Value::Array(a)) => {
            Value::List(a.iter().map(|v| from_json(t, v)).collect::<Result<_>>()?)
        }
        (Type::Set(t), serde_json::Value::Array(a)) => {
            Value::Set(a.iter().map(|v| from_json(t, v)).collect::<Result<_>>()?)
        }
        (Type::Map(t), serde_json::Value::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), from_json(t, v)?)))
                .collect::<Result<_>>()?,
        ),
        (Type::Object { attrs, .. }, serde_json::Value::Object(o)) => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = o.get(k).unwrap_or(&serde_json::Value::Null);
                    Ok((k.clone(), from_json(t, v)?))
                })
                .collect::<Result<_>>()?,
        ),
        _ => bail!("value {j} does not fit type {ty:?}"),
    })
}

fn config_value(schema: &Schema, spec: &Spec) -> Result<(Type, Value)> {
    let block = schema
        .block
        .as_ref()
        .context("resource schema without block")?;
    let ty = block_type(block)?;
    let Type::Object { attrs, .. } = &ty else {
        unreachable!()
    };
    let mut obj = BTreeMap::new();
    for a in &block.attributes {
        let t = &attrs[&a.name];
        let v = match spec.values.get(&a.name) {
            Some(j) => from_json(t, j)?,
            None if a.required => sample(t, &a.name),
            None => Value::Null,
        };
        obj.insert(a.name.clone(), v);
    }
    for nb in &block.block_types {
        let t = &attrs[&nb.type_name];
        let v = match spec.values.get(&nb.type_name) {
            Some(j) => from_json(t, j)?,
            None => match nb.nesting() {
                BlockNesting::Single | BlockNesting::Group => Value::Null,
                _ => sample(t, &nb.type_name),
            },
        };
        obj.insert(nb.type_name.clone(), v);
    }
    for k in spec.values.keys() {
        if !attrs.contains_key(k) {
            bail!("{}: no attribute {k} in {}", spec.name, spec.resource);
        }
    }
    Ok((ty, Value::Object(obj)))
}

// ---------------------------------------------------------------------------------------------
// One run

#[derive(Clone, Debug, Default, serde::Serialize)]
struct RunResult {
    startup_ms: f64,
    connect_ms: f64,
    /// Exec to the first answer: what Terraform waits before it can use the process.
    ready_ms: f64,
    schema_p50_us: f64,
    schema_p99_us: f64,
    validate_p50_us: f64,
    validate_p99_us: f64,
    plan_p50_us: f64,
    plan_p99_us: f64,
    peak_rss_kib: f64,
    shutdown_exit_ms: f64,
}

const FIGURES: &[&str] = &[
    "startup_ms",
    "connect_ms",
    "ready_ms",
    "schema_p50_us",
    "schema_p99_us",
    "validate_p50_us",
    "validate_p99_us",
    "plan_p50_us",
    "plan_p99_us",
    "peak_rss_kib",
    "shutdown_exit_ms",
];

impl RunResult {
    fn get(&self, f: &str) -> f64 {
        match f {
            "startup_ms" => self.startup_ms,
            "connect_ms" => self.connect_ms,
            "ready_ms" => self.ready_ms,
            "schema_p50_us" => self.schema_p50_us,
            "schema_p99_us" => self.schema_p99_us,
            "validate_p50_us" => self.validate_p50_us,
            "validate_p99_us" => self.validate_p99_us,
            "plan_p50_us" => self.plan_p50_us,
            "plan_p99_us" => self.plan_p99_us,
            "peak_rss_kib" => self.peak_rss_kib,
            "shutdown_exit_ms" => self.shutdown_exit_ms,
            _ => unreachable!(),
        }
    }
}

/// p50 and p99 in microseconds (nearest rank).
fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let rank = |p: f64| {
        let i = ((p * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
        d[i].as_secs_f64() * 1e6
    };
    (rank(0.50), rank(0.99))
}

fn vm_hwm_kib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

fn dv(v: &Value, ty: &Type) -> Result<Option<DynamicValue>> {
    Ok(Some(DynamicValue {
        msgpack: encode_msgpack(v, ty)?,
        json: vec![],
    }))
}

fn check_diags(what: &str, d: &[defender::protocol::tfplugin6::Diagnostic]) -> Result<()> {
    // Severity 1 = ERROR.
    if let Some(e) = d.iter().find(|d| d.severity == 1) {
        bail!("{what}: {} {}", e.summary, e.detail);
    }
    Ok(())
}

async fn one_run(spec: &Spec, calls: usize, describe: bool) -> Result<RunResult> {
    let cert = client_cert()?;
    let mut p = launch(&spec.binary, &cert)?;
    let t = Instant::now();
    let ch = connect(&p, &cert).await?;
    let mut client = ProviderClient::new(ch.clone())
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20);
    // The first call completes the HTTP/2 connection set-up; count it in connect time.
    let schema = client
        .get_provider_schema(get_provider_schema::Request {})
        .await?
        .into_inner();
    let connect_ms = t.elapsed().as_secs_f64() * 1e3;
    check_diags("GetProviderSchema", &schema.diagnostics)?;
    let rs = schema
        .resource_schemas
        .get(&spec.resource)
        .with_context(|| format!("{}: no resource type {}", spec.name, spec.resource))?;
    if describe {
        println!(
            "{}: resource types: {:?}",
            spec.name,
            schema.resource_schemas.keys().collect::<Vec<_>>()
        );
        for a in &rs.block.as_ref().context("block")?.attributes {
            println!(
                "  {} {} required={} optional={} computed={}",
                a.name,
                String::from_utf8_lossy(&a.r#type),
                a.required,
                a.optional,
                a.computed
            );
        }
        for b in &rs.block.as_ref().context("block")?.block_types {
            println!(
                "  block {} nesting={} min={}",
                b.type_name, b.nesting, b.min_items
            );
        }
    }
    let (ty, config) = config_value(rs, spec)?;

    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let r = client
            .get_provider_schema(get_provider_schema::Request {})
            .await?;
        times.push(t.elapsed());
        drop(r);
    }
    let (schema_p50_us, schema_p99_us) = percentiles(std::mem::take(&mut times));

    for i in 0..calls {
        let t = Instant::now();
        let r = client
            .validate_resource_config(validate_resource_config::Request {
                type_name: spec.resource.clone(),
                config: dv(&config, &ty)?,
                client_capabilities: None,
            })
            .await?
            .into_inner();
        times.push(t.elapsed());
        if i == 0 {
            check_diags("ValidateResourceConfig", &r.diagnostics)?;
        }
    }
    let (validate_p50_us, validate_p99_us) = percentiles(std::mem::take(&mut times));

    for i in 0..calls {
        let t = Instant::now();
        let r = client
            .plan_resource_change(plan_resource_change::Request {
                type_name: spec.resource.clone(),
                prior_state: dv(&Value::Null, &ty)?,
                proposed_new_state: dv(&config, &ty)?,
                config: dv(&config, &ty)?,
                ..Default::default()
            })
            .await?
            .into_inner();
        times.push(t.elapsed());
        if i == 0 {
            check_diags("PlanResourceChange", &r.diagnostics)?;
            if r.planned_state.is_none() {
                bail!("PlanResourceChange: no planned state");
            }
        }
    }
    let (plan_p50_us, plan_p99_us) = percentiles(times);

    let peak_rss_kib = vm_hwm_kib(p.child.id())?;
    let t = Instant::now();
    let _ = GrpcControllerClient::new(ch)
        .shutdown(defender::protocol::goplugin::Empty {})
        .await;
    loop {
        if p.child.try_wait()?.is_some() {
            break;
        }
        if t.elapsed() > Duration::from_secs(5) {
            bail!("{}: still running 5 s after Shutdown", spec.name);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let shutdown_exit_ms = t.elapsed().as_secs_f64() * 1e3;

    Ok(RunResult {
        startup_ms: p.startup.as_secs_f64() * 1e3,
        connect_ms,
        ready_ms: p.startup.as_secs_f64() * 1e3 + connect_ms,
        schema_p50_us,
        schema_p99_us,
        validate_p50_us,
        validate_p99_us,
        plan_p50_us,
        plan_p99_us,
        peak_rss_kib,
        shutdown_exit_ms,
    })
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (v[0], median, v[n - 1])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut runs = 5usize;
    let mut calls = 200usize;
    let mut json_out = None;
    let mut describe = false;
    let mut specs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--calls" => calls = args.next().context("--calls N")?.parse()?,
            "--describe" => describe = true,
            "--json" => json_out = Some(args.next().context("--json FILE")?),
            "-h" | "--help" => {
                println!(
                    "plugin_bench [--runs 5] [--calls 200] [--json FILE] NAME=BINARY,RESOURCE[,JSON]..."
                );
                return Ok(());
            }
            _ => specs.push(parse_spec(&a)?),
        }
    }
    if specs.is_empty() {
        bail!("give at least one NAME=BINARY,RESOURCE[,JSON]");
    }
    // Warm-up: one unrecorded run each (page cache, first exec of the binaries).
    for s in &specs {
        one_run(s, 5.min(calls), describe)
            .await
            .with_context(|| format!("warm-up of {}", s.name))?;
    }
    let mut results: Vec<Vec<RunResult>> = vec![Vec::new(); specs.len()];
    for run in 0..runs {
        // Interleaved; alternate the order so neither always goes first.
        let order: Vec<usize> = if run % 2 == 0 {
            (0..specs.len()).collect()
        } else {
            (0..specs.len()).rev().collect()
        };
        for i in order {
            let r = one_run(&specs[i], calls, false)
                .await
                .with_context(|| format!("{} run {}", specs[i].name, run + 1))?;
            eprintln!("run {} {}: {r:?}", run + 1, specs[i].name);
            results[i].push(r);
        }
    }

    println!("# plugin_bench: {runs} runs interleaved, {calls} calls per RPC per run\n");
    println!("| figure | provider | min | median | max |");
    println!("|---|---|---|---|---|");
    for f in FIGURES {
        for (s, rs) in specs.iter().zip(&results) {
            let (lo, med, hi) = stats(rs.iter().map(|r| r.get(f)).collect());
            println!("| {f} | {} | {lo:.1} | {med:.1} | {hi:.1} |", s.name);
        }
    }
    let mut ratios = serde_json::Map::new();
    if specs.len() > 1 {
        println!(
            "\n## Ratios {} / other, per run (same run index), min/median/max\n",
            specs[0].name
        );
        println!("| figure | ratio | min | median | max |");
        println!("|---|---|---|---|---|");
        for (j, s) in specs.iter().enumerate().skip(1) {
            for f in FIGURES {
                let r: Vec<f64> = results[0]
                    .iter()
                    .zip(&results[j])
                    .map(|(a, b)| a.get(f) / b.get(f))
                    .collect();
                let (lo, med, hi) = stats(r);
                println!(
                    "| {f} | {} / {} | {lo:.3} | {med:.3} | {hi:.3} |",
                    specs[0].name, s.name
                );
                ratios.insert(
                    format!("{}/{}:{f}", specs[0].name, s.name),
                    serde_json::json!([lo, med, hi]),
                );
            }
        }
    }
    if let Some(path) = json_out {
        let mut all = serde_json::Map::new();
        for (s, rs) in specs.iter().zip(&results) {
            all.insert(s.name.clone(), serde_json::to_value(rs)?);
        }
        all.insert("ratios".into(), serde_json::Value::Object(ratios));
        std::fs::write(path, serde_json::to_vec_pretty(&all)?)?;
    }
    Ok(())
}
