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
}
