//! Client assertions (arm-api.md 14.1): certificate-signed JWTs and federated (OIDC) tokens.
//!
//! Certificate assertions: `aud` must name this token endpoint, `iss` and `sub` must both be
//! the client ID, `exp` must be in the future and the header must name the certificate by
//! `x5t` (SHA-1 thumbprint) or `x5t#S256`. When the client is registered with certificates,
//! the thumbprint must be one of them and the RS256/PS256 signature must verify against its
//! public key; unregistered clients (no `--client` registrations at all) are accepted on the
//! structural checks alone.
//!
//! Federated assertions (workload identity federation, e.g. a GitHub Actions OIDC token):
//! recognised by `aud` = `api://AzureADTokenExchange`, the audience Entra requires for
//! federated credentials; `exp` must be in the future and `iss`/`sub` present.

use aws_lc_rs::{digest, signature};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::jwt::{self, Jwt};
use crate::config::ClientRegistration;
use crate::error::EntraError;
use crate::util::unix_now;

/// The audience of federated identity credentials.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// Clock skew tolerated on `nbf`, as Entra allows a few minutes.
const SKEW_SECS: i64 = 300;

/// What kind of assertion was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionKind {
    Certificate,
    Federated,
}

/// Checks a client assertion for `client_id`. `token_endpoint_matches` decides whether an
/// `aud` value names this token endpoint; `registration` is the client's registration when
/// registrations are configured (`None`: accept any client on structure alone).
pub fn check(
    assertion: &str,
    client_id: &str,
    registration: Option<&ClientRegistration>,
    token_endpoint_matches: impl Fn(&str) -> bool,
) -> Result<AssertionKind, EntraError> {
    let jwt = jwt::decode(assertion).map_err(|e| EntraError::MalformedAssertion(e.to_string()))?;
    check_times(&jwt)?;
    let audiences = jwt.audiences();
    if audiences.iter().any(|a| a == FEDERATED_AUDIENCE) {
        if jwt.claim_str("iss").is_none_or(str::is_empty)
            || jwt.claim_str("sub").is_none_or(str::is_empty)
        {
            return Err(EntraError::MalformedAssertion(
                "A federated token needs 'iss' and 'sub' claims.".to_owned(),
            ));
        }
        return Ok(AssertionKind::Federated);
    }
    if !audiences.iter().any(|a| token_endpoint_matches(a)) {
        return Err(EntraError::AssertionAudience(format!(
            "The audience {audiences:?} does not name this token endpoint."
        )));
    }
    if jwt.claim_str("iss") != Some(client_id) || jwt.claim_str("sub") != Some(client_id) {
        return Err(EntraError::AssertionSubject(
            "'iss' and 'sub' must both be the client ID.".to_owned(),
        ));
    }
    let x5t = jwt.header_str("x5t");
    let x5t256 = jwt.header_str("x5t#S256");
    if x5t.is_none() && x5t256.is_none() {
        return Err(EntraError::AssertionSignature(
            "The assertion header names no certificate ('x5t' or 'x5t#S256').".to_owned(),
        ));
    }
    if let Some(reg) = registration {
        verify_signature(&jwt, reg, x5t, x5t256)?;
    }
    Ok(AssertionKind::Certificate)
}

fn check_times(jwt: &Jwt) -> Result<(), EntraError> {
    let now = unix_now() as i64;
    let exp = jwt
        .claim_i64("exp")
        .ok_or_else(|| EntraError::MalformedAssertion("The 'exp' claim is missing.".to_owned()))?;
    if exp <= now {
        return Err(EntraError::AssertionExpired(format!(
            "Current time: {now}, expiry time of assertion {exp}."
        )));
    }
    if let Some(nbf) = jwt.claim_i64("nbf")
        && nbf > now + SKEW_SECS
    {
        return Err(EntraError::AssertionExpired(format!(
            "Current time: {now}, assertion valid from {nbf}."
        )));
    }
    Ok(())
}

/// Every reading of a thumbprint: base64url, base64 and hex (a hex string is often valid
/// base64 too, so all readings are tried).
fn thumbprint_candidates(s: &str) -> Vec<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::new();
    if let Ok(b) = URL_SAFE_NO_PAD.decode(s) {
        out.push(b);
    }
    if let Ok(b) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(s) {
        out.push(b);
    }
    if s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hex: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect();
        out.extend(hex);
    }
    out
}

fn verify_signature(
    jwt: &Jwt,
    reg: &ClientRegistration,
    x5t: Option<&str>,
    x5t256: Option<&str>,
) -> Result<(), EntraError> {
    let sha1 = x5t.map(thumbprint_candidates).unwrap_or_default();
    let sha256 = x5t256.map(thumbprint_candidates).unwrap_or_default();
    let cert = reg
        .certificates
        .iter()
        .find(|der| {
            let d1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der);
            let d256 = digest::digest(&digest::SHA256, der);
            sha1.iter().any(|t| t.as_slice() == d1.as_ref())
                || sha256.iter().any(|t| t.as_slice() == d256.as_ref())
        })
        .ok_or_else(|| {
            EntraError::AssertionSignature(format!(
                "The key was not found: no certificate with this thumbprint is registered for app '{}'.",
                reg.client_id
            ))
        })?;
    let algorithm: &dyn signature::VerificationAlgorithm = match jwt.header_str("alg") {
        Some("RS256") => &signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &signature::RSA_PSS_2048_8192_SHA256,
        other => {
            return Err(EntraError::AssertionSignature(format!(
                "Unsupported signing algorithm {other:?}; use RS256 or PS256."
            )));
        }
    };
    let public_key = rsa_public_key(cert).ok_or_else(|| {
        EntraError::AssertionSignature("The registered certificate cannot be read.".to_owned())
    })?;
    signature::UnparsedPublicKey::new(algorithm, public_key)
        .verify(jwt.signing_input.as_bytes(), &jwt.signature)
        .map_err(|_| EntraError::AssertionSignature("The signature does not verify.".to_owned()))
}

/// The PKCS#1 `RSAPublicKey` inside a certificate's SubjectPublicKeyInfo.
fn rsa_public_key(cert_der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}

/// Reads every `CERTIFICATE` block of a PEM text as DER.
pub fn certificates_from_pem(pem: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            break;
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = STANDARD.decode(b64) {
            out.push(der);
        }
        rest = &body[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assertion(header: serde_json::Value, claims: serde_json::Value) -> String {
        jwt::encode(&header, &claims, b"sig")
    }

    fn endpoint(aud: &str) -> bool {
        aud == "http://127.0.0.1:1/t/oauth2/v2.0/token"
    }

    #[test]
    fn structural_checks() {
        let exp = unix_now() + 600;
        let good = assertion(
            json!({"alg": "RS256", "x5t": "abc"}),
            json!({"aud": "http://127.0.0.1:1/t/oauth2/v2.0/token", "iss": "app", "sub": "app", "exp": exp}),
        );
        assert_eq!(
            check(&good, "app", None, endpoint),
            Ok(AssertionKind::Certificate)
        );
        assert!(matches!(
            check(&good, "other", None, endpoint),
            Err(EntraError::AssertionSubject(_))
        ));
        let no_x5t = assertion(
            json!({"alg": "RS256"}),
            json!({"aud": "http://127.0.0.1:1/t/oauth2/v2.0/token", "iss": "app", "sub": "app", "exp": exp}),
        );
        assert!(matches!(
            check(&no_x5t, "app", None, endpoint),
            Err(EntraError::AssertionSignature(_))
        ));
        let wrong_aud = assertion(
            json!({"alg": "RS256", "x5t": "abc"}),
            json!({"aud": "https://elsewhere", "iss": "app", "sub": "app", "exp": exp}),
        );
        assert!(matches!(
            check(&wrong_aud, "app", None, endpoint),
            Err(EntraError::AssertionAudience(_))
        ));
        let expired = assertion(
            json!({"alg": "RS256", "x5t": "abc"}),
            json!({"aud": "http://127.0.0.1:1/t/oauth2/v2.0/token", "iss": "app", "sub": "app", "exp": 1}),
        );
        assert!(matches!(
            check(&expired, "app", None, endpoint),
            Err(EntraError::AssertionExpired(_))
        ));
        assert!(matches!(
            check("garbage", "app", None, endpoint),
            Err(EntraError::MalformedAssertion(_))
        ));
    }

    #[test]
    fn federated_tokens() {
        let exp = unix_now() + 600;
        let fed = assertion(
            json!({"alg": "RS256"}),
            json!({"aud": FEDERATED_AUDIENCE, "iss": "https://token.actions.githubusercontent.com", "sub": "repo:x", "exp": exp}),
        );
        assert_eq!(
            check(&fed, "app", None, endpoint),
            Ok(AssertionKind::Federated)
        );
        let no_sub = assertion(
            json!({"alg": "RS256"}),
            json!({"aud": [FEDERATED_AUDIENCE], "iss": "i", "exp": exp}),
        );
        assert!(check(&no_sub, "app", None, endpoint).is_err());
    }

    #[test]
    fn thumbprints_in_three_spellings() {
        let bytes = vec![0xde, 0xad, 0xbe, 0xef];
        assert!(thumbprint_candidates("3q2-7w").contains(&bytes));
        assert!(thumbprint_candidates("3q2+7w==").contains(&bytes));
        assert!(thumbprint_candidates("DEADBEEF").contains(&bytes));
    }

    #[test]
    fn pem_blocks() {
        let pem = "x\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificates_from_pem(pem),
            vec![vec![1, 2, 3], vec![4, 5, 6]]
        );
    }
}
