//! AutoMTLS for the plugin channel.
//!
//! go-plugin's client generates an ECDSA P-521 certificate, passes it PEM-encoded in
//! `PLUGIN_CLIENT_CERT`, and dials with it; the server presents a self-signed certificate whose
//! DER goes into the handshake line. Quirks (tfplugin6.md §2.4):
//! - the client certificate has `IsCA: true`, so webpki refuses it as an end entity
//!   (`CaUsedAsEndEntity`): we pin the exact DER bytes instead of building a chain;
//! - P-521 signatures must be accepted, or Go silently sends no certificate: ring has no P-521,
//!   so [`crate::crypto::plugin_provider`] adds a pure-Rust P-521 verifier;
//! - the server's P-256 key comes from ring, whose RNG reads getrandom: aws-lc's first RNG use
//!   seeded from CPU jitter and took most of start-up (BENCHMARKS.md);
//! - grpc-go ≥ 1.67 insists on ALPN `h2`.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Errors setting up the plugin channel's TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate")]
    NoClientCert,
    #[error("reading PLUGIN_CLIENT_CERT: {0}")]
    Pem(String),
    #[error("generating the server certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("building the TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The server side of AutoMTLS: its configuration and the DER of the certificate it presents.
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    pub server_cert_der: Vec<u8>,
}

fn provider() -> Arc<CryptoProvider> {
    crate::crypto::plugin_provider()
}

/// Parses the first certificate of a PEM text into DER.
pub fn client_cert_from_pem(pem: &str) -> Result<Vec<u8>, TlsError> {
    let mut reader = pem.as_bytes();
    for item in rustls_pemfile::read_all(&mut reader) {
        match item {
            Ok(rustls_pemfile::Item::X509Certificate(der)) => return Ok(der.to_vec()),
            Ok(_) => continue,
            Err(e) => return Err(TlsError::Pem(e.to_string())),
        }
    }
    Err(TlsError::NoClientCert)
}

/// Builds the server TLS configuration for a client certificate given as PEM.
pub fn server_tls(client_cert_pem: &str) -> Result<ServerTls, TlsError> {
    let client_der = client_cert_from_pem(client_cert_pem)?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params.distinguished_name.push(
        rcgen::DnType::OrganizationName,
        "terraform-provider-defender",
    );
    let cert = params.self_signed(&key)?;
    let server_cert_der = cert.der().to_vec();
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = provider();
    let verifier = Arc::new(PinnedClientCert {
        der: client_der,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(server_cert_der.clone())], key_der)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls {
        config: Arc::new(config),
        server_cert_der,
    })
}

/// Accepts exactly one client certificate: the one Terraform passed in `PLUGIN_CLIENT_CERT`.
#[derive(Debug)]
struct PinnedClientCert {
    der: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
