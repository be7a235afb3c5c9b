//! Client certificates and the signed JWT client assertion built from them.
//!
//! Entra ID's certificate credential (learn.microsoft.com `certificate-credentials`): an RS256
//! JWT with header `x5t` = base64url(SHA-1 of the DER certificate) (we add `x5t#S256` too),
//! claims `aud` = the token endpoint, `iss` = `sub` = client ID, a fresh `jti`, `nbf`/`iat` = now
//! and `exp` ≤ 10 minutes later. The key must be RSA.
//!
//! Inputs, as azurerm takes them: a PKCS#12/PFX bundle (file or base64 content) with an optional
//! password. PEM files holding a certificate and a private key (PKCS#8 or PKCS#1 RSA) are
//! accepted too.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{digest, rand::SystemRandom, rsa::KeyPair, signature};

/// How long an assertion is valid.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A loaded certificate and its RSA key, ready to sign assertions.
pub struct SigningCertificate {
    key: KeyPair,
    x5t: String,
    x5t_s256: String,
}

impl fmt::Debug for SigningCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCertificate")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl SigningCertificate {
    /// Loads PKCS#12 (DER) or PEM content. `password` applies to PKCS#12 (empty if none).
    pub fn load(data: &[u8], password: &str) -> Result<SigningCertificate, String> {
        let trimmed = data.trim_ascii_start();
        if trimmed.starts_with(b"-----BEGIN") {
            Self::from_pem(trimmed)
        } else {
            Self::from_pkcs12(data, password)
        }
    }

    /// Loads a PKCS#12/PFX bundle: the first private key and the certificate that shares its
    /// `localKeyId` (else the first certificate).
    pub fn from_pkcs12(data: &[u8], password: &str) -> Result<SigningCertificate, String> {
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(data, password)
            .map_err(|e| format!("reading the PKCS#12 bundle (is the password right?): {e}"))?;
        let key = archive
            .keys
            .first()
            .ok_or_else(|| "the PKCS#12 bundle holds no private key".to_owned())?;
        let cert = key
            .local_key_id
            .as_ref()
            .and_then(|id| {
                archive
                    .certs
                    .iter()
                    .find(|c| c.local_key_id.as_deref() == Some(id.0.as_slice()))
            })
            .or_else(|| archive.certs.first())
            .ok_or_else(|| "the PKCS#12 bundle holds no certificate".to_owned())?;
        Self::from_der(cert.cert.as_der(), key.key.as_der())
    }

    /// Loads PEM: the first `CERTIFICATE` and the first private key.
    pub fn from_pem(data: &[u8]) -> Result<SigningCertificate, String> {
        let mut cert = None;
        let mut key: Option<Vec<u8>> = None;
        for item in rustls_pemfile::read_all(&mut &*data) {
            match item.map_err(|e| format!("reading PEM: {e}"))? {
                rustls_pemfile::Item::X509Certificate(c) if cert.is_none() => {
                    cert = Some(c.to_vec())
                }
                rustls_pemfile::Item::Pkcs8Key(k) if key.is_none() => {
                    key = Some(k.secret_pkcs8_der().to_vec())
                }
                rustls_pemfile::Item::Pkcs1Key(k) if key.is_none() => {
                    key = Some(k.secret_pkcs1_der().to_vec())
                }
                rustls_pemfile::Item::Sec1Key(_) => {
                    return Err(
                        "the PEM key is an EC key; Entra ID client assertions need an RSA key"
                            .into(),
                    );
                }
                _ => {}
            }
        }
        let cert = cert.ok_or("the PEM holds no CERTIFICATE block")?;
        let key = key.ok_or("the PEM holds no private key block")?;
        Self::from_der(&cert, &key)
    }

    fn from_der(cert_der: &[u8], key_der: &[u8]) -> Result<SigningCertificate, String> {
        let key = KeyPair::from_pkcs8(key_der)
            .or_else(|_| KeyPair::from_der(key_der))
            .map_err(|e| {
                format!("the private key is not a usable RSA key (Entra ID client assertions need RSA, 2048 bits or more): {e}")
            })?;
        let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
        let sha256 = digest::digest(&digest::SHA256, cert_der);
        Ok(SigningCertificate {
            key,
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
        })
    }

    /// base64url SHA-1 thumbprint of the certificate (the JWT `x5t`).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A signed client assertion for `client_id` at `token_endpoint`.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_owned())?
            .as_secs();
        let header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let claims = serde_json::json!({
            "aud": token_endpoint,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| "signing the client assertion with the certificate's key".to_owned())?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}
