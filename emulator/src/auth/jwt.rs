//! Just enough JWT: split, base64url-decode header and claims, and encode tokens.
//! No key lookups over the network; signature checks live in `assertion`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A decoded (not verified) JWT.
#[derive(Clone, Debug)]
pub struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(claims)`, what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("a JWT has three dot-separated parts")]
    Parts,
    #[error("the {0} is not base64url")]
    Base64(&'static str),
    #[error("the {0} is not a JSON object")]
    Json(&'static str),
}

fn decode_b64(part: &str, what: &'static str) -> Result<Vec<u8>, JwtError> {
    // Some encoders pad; base64url without padding is the norm (RFC 7515).
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Base64(what))
}

fn decode_object(part: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = decode_b64(part, what)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Json(what)),
    }
}

/// Decodes a compact JWS without verifying it.
pub fn decode(token: &str) -> Result<Jwt, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Parts);
    };
    Ok(Jwt {
        header: decode_object(h, "header")?,
        claims: decode_object(c, "claims")?,
        signing_input: format!("{h}.{c}"),
        signature: decode_b64(s, "signature")?,
    })
}

/// Encodes header and claims with the given signature bytes.
pub fn encode(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let s = URL_SAFE_NO_PAD.encode(signature);
    format!("{h}.{c}.{s}")
}

impl Jwt {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        self.claims.get(name).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    }

    /// `aud` as a list (it may be a string or an array, RFC 7519 4.1.3).
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let t = encode(
            &json!({"alg": "RS256", "x5t": "abc"}),
            &json!({"aud": ["a", "b"], "exp": 5, "iss": "me"}),
            b"sig",
        );
        let jwt = decode(&t).unwrap();
        assert_eq!(jwt.header_str("x5t"), Some("abc"));
        assert_eq!(jwt.audiences(), vec!["a", "b"]);
        assert_eq!(jwt.claim_i64("exp"), Some(5));
        assert_eq!(jwt.signature, b"sig");
        assert!(t.starts_with(&jwt.signing_input));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(decode("a.b").unwrap_err(), JwtError::Parts);
        assert_eq!(
            decode("!!.e30.e30").unwrap_err(),
            JwtError::Base64("header")
        );
        assert_eq!(decode("WzFd.e30.").unwrap_err(), JwtError::Json("header"));
    }
}
