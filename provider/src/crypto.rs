//! The provider's cryptography: ring, everywhere (TLS to ARM and Entra, the plugin channel's
//! AutoMTLS, client assertions).
//!
//! Why ring and not aws-lc (issue 6, BENCHMARKS.md "profile of the slowest path"): AWS-LC seeds
//! its DRBG from CPU-jitter entropy the first time anything asks it for randomness — 71 % of
//! the provider's start-up samples, 30–140 ms per process under load, paid three times per
//! `terraform plan` because Terraform starts the provider three times. ring takes its
//! randomness from `getrandom(2)`, as Go's `crypto/rand` does.
//!
//! ring has no P-521, and go-plugin's client certificate is ECDSA P-521 (tfplugin6.md §2.4): its
//! TLS `CertificateVerify` signature is checked with the pure-Rust `p521` crate
//! ([`plugin_provider`]). Without that scheme in the server's `CertificateRequest`, Go sends no
//! certificate at all and the handshake fails.

use std::sync::{Arc, LazyLock};

use rustls::SignatureScheme;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};

/// ring's default provider (cipher suites, key exchange, signature checks), one per process.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: LazyLock<Arc<CryptoProvider>> =
        LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));
    PROVIDER.clone()
}

/// Makes ring the process-wide rustls provider, which reqwest (feature `rustls-no-provider`)
/// uses for every HTTPS client. Idempotent; keeps a provider someone installed before.
pub fn install_default() {
    if CryptoProvider::get_default().is_none() {
        // Err only if another thread won the race: theirs stays, which is as good.
        let _ = CryptoProvider::install_default((*provider()).clone());
    }
}

/// The TLS client configuration every HTTPS client of the process shares (ARM, Entra ID, cloud
/// metadata, OIDC token requests): ring, TLS 1.2 and 1.3, the system's root certificates
/// through rustls-platform-verifier and ALPN `h2`, `http/1.1` — what reqwest builds when given
/// nothing, built once.
///
/// Loading the system's roots reads the CA bundle and stats every file of `/etc/ssl/certs`
/// (rustls-native-certs): 10 % of a configured provider process's CPU in the plan profile of
/// BENCHMARKS.md §3, and reqwest did it again for each client it built (token, ARM, metadata),
/// each time on the path to the first request.
pub fn tls_client_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: LazyLock<Result<rustls::ClientConfig, String>> = LazyLock::new(|| {
        let verifier = rustls_platform_verifier::Verifier::new(provider())
            .map_err(|e| format!("loading the system's root certificates: {e}"))?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    });
    CONFIG.clone()
}

/// A reqwest builder on the shared [`tls_client_config`], ring installed. Should the system's
/// roots fail to load, the builder is reqwest's own, whose `build()` then reports why.
pub fn https_client_builder() -> reqwest::ClientBuilder {
    install_default();
    let builder = reqwest::Client::builder();
    match tls_client_config() {
        Ok(config) => builder.tls_backend_preconfigured(config),
        Err(_) => builder,
    }
}

/// The plugin server's provider: ring plus verification of ECDSA P-521 / SHA-512 signatures,
/// for Terraform's client certificate.
pub fn plugin_provider() -> Arc<CryptoProvider> {
    static PROVIDER: LazyLock<Arc<CryptoProvider>> = LazyLock::new(|| {
        let mut p = rustls::crypto::ring::default_provider();
        p.signature_verification_algorithms = WebPkiSupportedAlgorithms {
            all: &VERIFY_ALL,
            mapping: &VERIFY_MAPPING,
        };
        Arc::new(p)
    });
    PROVIDER.clone()
}

static P521_SHA512: &[&dyn SignatureVerificationAlgorithm] = &[&EcdsaP521Sha512];

static VERIFY_ALL: LazyLock<Vec<&'static dyn SignatureVerificationAlgorithm>> =
    LazyLock::new(|| {
        let ring = rustls::crypto::ring::default_provider().signature_verification_algorithms;
        let mut all = ring.all.to_vec();
        all.extend_from_slice(P521_SHA512);
        all
    });

type Mapping = (
    SignatureScheme,
    &'static [&'static dyn SignatureVerificationAlgorithm],
);

static VERIFY_MAPPING: LazyLock<Vec<Mapping>> = LazyLock::new(|| {
    let ring = rustls::crypto::ring::default_provider().signature_verification_algorithms;
    let mut mapping = ring.mapping.to_vec();
    // After ring's ECDSA schemes, as aws-lc-rs's provider orders them.
    let at = mapping
        .iter()
        .position(|(s, _)| *s == SignatureScheme::ECDSA_NISTP256_SHA256)
        .map_or(mapping.len(), |i| i + 1);
    mapping.insert(at, (SignatureScheme::ECDSA_NISTP521_SHA512, P521_SHA512));
    mapping
});

/// ECDSA over P-521 with SHA-512, signature in ASN.1 DER (what TLS and X.509 carry).
#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        // `public_key` is the SubjectPublicKeyInfo's BIT STRING: a SEC1 point.
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &sig).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_provider_offers_p521_and_keeps_ring_schemes() {
        let p = plugin_provider();
        let schemes = p.signature_verification_algorithms.supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        for s in provider()
            .signature_verification_algorithms
            .supported_schemes()
        {
            assert!(schemes.contains(&s), "{s:?}");
        }
    }

    /// A P-521 signature made elsewhere (aws-lc, as Go's crypto/ecdsa would) verifies; a
    /// changed message or another key does not.
    #[test]
    fn p521_signatures_verify() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P521_SHA512_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P521_SHA512_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let other_pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P521_SHA512_ASN1_SIGNING, &rng).unwrap();
        let other = EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_ASN1_SIGNING, other_pkcs8.as_ref())
            .unwrap();
        let sig = key.sign(&rng, b"tls 1.3 certificate verify").unwrap();
        let alg = EcdsaP521Sha512;
        let public = key.public_key().as_ref();
        assert!(
            alg.verify_signature(public, b"tls 1.3 certificate verify", sig.as_ref())
                .is_ok()
        );
        assert!(
            alg.verify_signature(public, b"tls 1.3 certificate verifY", sig.as_ref())
                .is_err()
        );
        assert!(
            alg.verify_signature(
                other.public_key().as_ref(),
                b"tls 1.3 certificate verify",
                sig.as_ref()
            )
            .is_err()
        );
        assert!(alg.verify_signature(public, b"x", b"\x30\x00").is_err());
    }

    #[test]
    fn install_default_is_ring_and_idempotent() {
        install_default();
        install_default();
        assert!(CryptoProvider::get_default().is_some());
    }

    /// Every HTTPS client shares one configuration: ALPN h2 then http/1.1 (as reqwest's own),
    /// and the system's roots are checked: a self-signed server certificate is refused.
    #[tokio::test]
    async fn https_clients_share_one_configuration_that_checks_the_system_roots() {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let config = tls_client_config().expect("system roots load");
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // The handshake fails on the client's side; nothing to serve.
                let _ = acceptor.accept(tcp).await;
            }
        });
        for _ in 0..2 {
            let client = https_client_builder().no_proxy().build().unwrap();
            let err = client
                .get(format!("https://localhost:{port}/"))
                .send()
                .await
                .expect_err("a self-signed certificate is not trusted");
            let chain = crate::arm::error::chain(&err);
            assert!(
                chain.contains("invalid peer certificate: UnknownIssuer"),
                "{chain}"
            );
        }
    }
}
