//! The plugin channel as Terraform's go-plugin client meets it: the handshake line, AutoMTLS
//! with the client certificate pinned, the refusal of any other client, and a prompt exit on
//! `GRPCController.Shutdown`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use defender::protocol::goplugin::grpc_controller_client::GrpcControllerClient;
use defender::protocol::tfplugin6::get_provider_schema;
use defender::protocol::tfplugin6::provider_client::ProviderClient;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

struct ClientCert {
    pem: String,
    der: Vec<u8>,
    key: Vec<u8>,
}

fn client_cert() -> ClientCert {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    // go-plugin's client certificate is a CA certificate; make ours one too.
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientCert {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        key: key.serialize_der(),
    }
}

/// A certificate shaped like go-plugin's (ECDSA P-521, a CA), from `tests/fixtures/`: the
/// provider's crypto (ring) cannot make P-521 keys, so the test cannot make one either.
fn client_cert_p521(fixture: &str) -> ClientCert {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(&path).unwrap();
    let (mut der, mut key) = (None, None);
    for item in rustls_pemfile::read_all(&mut pem.as_bytes()) {
        match item.unwrap() {
            rustls_pemfile::Item::X509Certificate(c) => der = Some(c.to_vec()),
            rustls_pemfile::Item::Pkcs8Key(k) => key = Some(k.secret_pkcs8_der().to_vec()),
            _ => {}
        }
    }
    let cert_pem = pem[..pem.find("-----BEGIN PRIVATE KEY").unwrap()].to_string();
    ClientCert {
        pem: cert_pem,
        der: der.unwrap(),
        key: key.unwrap(),
    }
}

struct Plugin {
    child: Child,
    addr: String,
    server_der: Vec<u8>,
    line: String,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(envs: &[(&str, &str)]) -> Plugin {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"));
    cmd.env_clear()
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starting the provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line = line.trim_end().to_string();
    let parts: Vec<&str> = line.split('|').collect();
    assert!(parts.len() >= 5, "handshake line {line:?}");
    assert_eq!(&parts[..3], ["1", "6", "tcp"], "{line}");
    assert_eq!(parts[4], "grpc");
    let server_der = match parts.get(5) {
        Some(c) if !c.is_empty() => base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(c)
            .unwrap(),
        _ => Vec::new(),
    };
    Plugin {
        child,
        addr: parts[3].to_string(),
        server_der,
        line,
    }
}

/// Pins the server certificate from the handshake line, as go-plugin's client does by putting
/// it alone in RootCAs.
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

async fn channel(
    p: &Plugin,
    cert: Option<&ClientCert>,
) -> Result<tonic::transport::Channel, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(p.server_der.clone(), provider)));
    let mut config = match cert {
        Some(c) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(c.der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = p.addr.clone();
    tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, addr) = (connector.clone(), addr.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| format!("{e:?}"))
}

async fn schema_call(
    ch: tonic::transport::Channel,
) -> Result<get_provider_schema::Response, tonic::Status> {
    ProviderClient::new(ch)
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn terraforms_certificate_is_accepted_and_shutdown_exits_promptly() {
    let cert = client_cert();
    let mut p = start(&[("PLUGIN_CLIENT_CERT", &cert.pem)]);
    assert!(
        p.server_der.len() > 50,
        "certificate in field 6: {}",
        p.line
    );
    let ch = channel(&p, Some(&cert))
        .await
        .expect("connecting with Terraform's certificate");
    let schema = schema_call(ch.clone()).await.expect("GetProviderSchema");
    assert!(
        schema
            .resource_schemas
            .contains_key("defender_auto_provisioning")
    );
    assert!(
        schema
            .server_capabilities
            .unwrap()
            .get_provider_schema_optional
    );

    let started = Instant::now();
    GrpcControllerClient::new(ch)
        .shutdown(defender::protocol::goplugin::Empty {})
        .await
        .expect("Shutdown");
    loop {
        if p.child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the provider must exit soon after Shutdown"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Terraform's real client certificate is P-521, which ring (the provider's crypto) cannot
/// verify on its own: the provider must still offer the scheme and check the signature, or Go
/// sends no certificate and the handshake fails.
#[tokio::test]
async fn a_p521_certificate_as_go_plugin_makes_is_accepted() {
    let cert = client_cert_p521("goplugin-p521-a.pem");
    let p = start(&[("PLUGIN_CLIENT_CERT", &cert.pem)]);
    let ch = channel(&p, Some(&cert))
        .await
        .expect("connecting with a P-521 certificate");
    schema_call(ch)
        .await
        .expect("GetProviderSchema over P-521 mTLS");
    // Another P-521 certificate is still refused.
    let intruder = client_cert_p521("goplugin-p521-b.pem");
    let refused = match channel(&p, Some(&intruder)).await {
        Err(_) => true,
        Ok(ch) => schema_call(ch).await.is_err(),
    };
    assert!(refused, "only PLUGIN_CLIENT_CERT's certificate is accepted");
}

#[tokio::test]
async fn a_client_with_another_certificate_is_refused() {
    let terraforms = client_cert();
    let intruder = client_cert();
    let p = start(&[("PLUGIN_CLIENT_CERT", &terraforms.pem)]);
    let refused = match channel(&p, Some(&intruder)).await {
        Err(_) => true,
        Ok(ch) => schema_call(ch).await.is_err(),
    };
    assert!(
        refused,
        "a certificate other than PLUGIN_CLIENT_CERT must be refused"
    );
    let refused = match channel(&p, None).await {
        Err(_) => true,
        Ok(ch) => schema_call(ch).await.is_err(),
    };
    assert!(refused, "a client without certificate must be refused");
    // And the right certificate still works on the same server.
    let ch = channel(&p, Some(&terraforms)).await.unwrap();
    schema_call(ch)
        .await
        .expect("Terraform's certificate still accepted");
}

#[tokio::test]
async fn plaintext_when_tls_is_disabled() {
    let p = start(&[
        ("TF_DISABLE_PLUGIN_TLS", "1"),
        ("PLUGIN_CLIENT_CERT", "ignored"),
    ]);
    assert!(p.line.ends_with("|grpc|"), "{}", p.line);
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{}", p.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    schema_call(ch).await.expect("plaintext GetProviderSchema");
}

#[test]
fn run_by_hand_it_explains_itself() {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin for Terraform"), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout without Terraform");
}

/// StopProvider makes an in-flight ARM call return promptly: Terraform sends it on Ctrl-C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_arm_calls() {
    use std::collections::BTreeMap;

    use defender::protocol::tfplugin6::{
        DynamicValue, apply_resource_change, configure_provider, stop_provider,
    };
    use defender::protocol::value::{Value, encode_msgpack};

    let emulator = arm_emulator::Emulator::start(arm_emulator::Config::default())
        .await
        .unwrap();
    // Every PUT hangs for a minute: the apply is in flight when Terraform stops the provider.
    emulator
        .add_fault(arm_emulator::FaultRule::latency(60_000).method("PUT"))
        .unwrap();
    let host = emulator
        .base_url()
        .trim_start_matches("http://")
        .to_string();
    let sub = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";
    let p = start(&[
        ("TF_DISABLE_PLUGIN_TLS", "1"),
        ("ARM_METADATA_HOSTNAME", &host),
        ("ARM_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
        ("ARM_CLIENT_ID", "9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21"),
        ("ARM_CLIENT_SECRET", "stop-test-secret"),
        ("ARM_SUBSCRIPTION_ID", sub),
    ]);
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{}", p.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let registry = defender::resources::registry();
    let provider_ty = registry.provider.value_type().clone();
    let config = Value::null_object(&provider_ty);
    let mut client = ProviderClient::new(ch);
    let configured = client
        .configure_provider(configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: Some(DynamicValue {
                msgpack: encode_msgpack(&config, &provider_ty).unwrap(),
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        configured.diagnostics.is_empty(),
        "{:?}",
        configured.diagnostics
    );

    let res_ty = registry.resources["defender_auto_provisioning"]
        .value_type()
        .clone();
    let planned = Value::Object(BTreeMap::from([
        ("id".to_string(), Value::unknown()),
        ("subscription_id".to_string(), Value::String(sub.into())),
        ("enabled".to_string(), Value::Bool(false)),
        // The framework's `timeouts` block, absent from the configuration.
        ("timeouts".to_string(), Value::Null),
    ]));
    let dv = |v: &Value| {
        Some(DynamicValue {
            msgpack: encode_msgpack(v, &res_ty).unwrap(),
            json: vec![],
        })
    };
    let mut apply_client = client.clone();
    let request = apply_resource_change::Request {
        type_name: "defender_auto_provisioning".into(),
        prior_state: dv(&Value::Null),
        planned_state: dv(&planned),
        config: dv(&planned),
        ..Default::default()
    };
    let apply = tokio::spawn(async move { apply_client.apply_resource_change(request).await });
    // Let the PUT reach the emulator (token first, then the PUT).
    for _ in 0..100 {
        if emulator.requests().iter().any(|r| r.method == "PUT") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped_at = Instant::now();
    client
        .stop_provider(stop_provider::Request {})
        .await
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), apply)
        .await
        .expect("the apply returns promptly after StopProvider")
        .unwrap()
        .unwrap()
        .into_inner();
    assert!(
        stopped_at.elapsed() < Duration::from_secs(3),
        "took {:?}",
        stopped_at.elapsed()
    );
    let text = format!("{:?}", resp.diagnostics);
    assert!(
        !resp.diagnostics.is_empty(),
        "the cancelled apply reports an error"
    );
    assert!(text.to_lowercase().contains("cancel"), "{text}");
}
