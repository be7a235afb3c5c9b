//! The three error dialects the emulator speaks: ARM's `{"error":{"code","message"}}`
//! (arm-api.md 13.2), Entra's OAuth2 error body (arm-api.md 14.1) and IMDS's (14.2).
//!
//! Messages copy the wording seen from the real services where it is known (the markers
//! in arm-api.md say how sure that is); codes are PascalCase as ARM requires.

use std::time::SystemTime;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::util::entra_timestamp;

/// An error answered in ARM's shape.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ArmError {
    /// arm-api.md 13.2 [3p].
    #[error("The api-version query parameter (?api-version=) is required for all requests.")]
    MissingApiVersion,
    /// arm-api.md 13.2 [3p]: the supported list is comma-separated inside one pair of quotes.
    #[error("The api-version '{given}' is invalid. The supported versions are '{supported}'.")]
    InvalidApiVersion { given: String, supported: String },
    /// ARM's answer when no `Authorization` header is sent at all: code `AuthenticationFailed`.
    #[error("Authentication failed. The 'Authorization' header is missing.")]
    MissingAuthorization,
    #[error("Authentication failed. The 'Authorization' header is provided in an invalid format.")]
    MalformedAuthorization,
    /// A bearer token this emulator never issued.
    #[error("The access token is invalid.")]
    InvalidToken,
    /// ARM reports expired tokens with their own code, `ExpiredAuthenticationToken`.
    #[error(
        "The access token expiry UTC time '{expired_at}' is earlier than current UTC time '{now}'."
    )]
    ExpiredToken { expired_at: String, now: String },
    #[error(
        "The access token has been obtained for wrong audience or resource '{audience}'. It should exactly match with one of the allowed audiences '{allowed}'."
    )]
    InvalidAudience { audience: String, allowed: String },
    /// arm-api.md 13.2 [3p].
    #[error("The subscription '{0}' could not be found.")]
    SubscriptionNotFound(String),
    #[error("The provided subscription identifier '{0}' is malformed or invalid.")]
    InvalidSubscriptionId(String),
    /// arm-api.md 13.2 [3p]; subscription-level resources say resource group `'<null>'`.
    #[error(
        "The Resource '{type_and_name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )]
    ResourceNotFound {
        type_and_name: String,
        resource_group: String,
    },
    #[error(
        "The resource type '{resource_type}' could not be found in the namespace '{namespace}' for api version '{api_version}'."
    )]
    InvalidResourceType {
        resource_type: String,
        namespace: String,
        api_version: String,
    },
    #[error("The resource namespace '{0}' is invalid.")]
    InvalidResourceNamespace(String),
    #[error("The requested resource does not support http method '{method}'.")]
    MethodNotAllowed { method: String, allow: Vec<String> },
    #[error("The request content was invalid and could not be deserialized: '{0}'.")]
    InvalidRequestContent(String),
    #[error("The value '{0}' of the '$skipToken' query parameter is not valid.")]
    InvalidSkipToken(String),
    #[error("The requested path '{0}' is not served by the ARM emulator.")]
    PathNotFound(String),
    /// Anything a resource provider (or a fault rule) says in its own words.
    #[error("{message}")]
    Custom {
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<u64>,
    },
}

impl ArmError {
    /// A resource-provider error with the given status, code and message.
    pub fn custom(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ArmError::Custom {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with the given code, the usual answer of a resource provider's validation.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::custom(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ArmError::MissingApiVersion
            | ArmError::InvalidApiVersion { .. }
            | ArmError::InvalidSubscriptionId(_)
            | ArmError::InvalidRequestContent(_)
            | ArmError::InvalidSkipToken(_) => StatusCode::BAD_REQUEST,
            ArmError::MissingAuthorization
            | ArmError::MalformedAuthorization
            | ArmError::InvalidToken
            | ArmError::ExpiredToken { .. }
            | ArmError::InvalidAudience { .. } => StatusCode::UNAUTHORIZED,
            ArmError::SubscriptionNotFound(_)
            | ArmError::ResourceNotFound { .. }
            | ArmError::InvalidResourceType { .. }
            | ArmError::InvalidResourceNamespace(_)
            | ArmError::PathNotFound(_) => StatusCode::NOT_FOUND,
            ArmError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ArmError::Custom { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ArmError::MissingApiVersion => "MissingApiVersionParameter",
            ArmError::InvalidApiVersion { .. } => "InvalidApiVersionParameter",
            ArmError::MissingAuthorization | ArmError::MalformedAuthorization => {
                "AuthenticationFailed"
            }
            ArmError::InvalidToken => "InvalidAuthenticationToken",
            ArmError::ExpiredToken { .. } => "ExpiredAuthenticationToken",
            ArmError::InvalidAudience { .. } => "InvalidAuthenticationTokenAudience",
            ArmError::SubscriptionNotFound(_) => "SubscriptionNotFound",
            ArmError::InvalidSubscriptionId(_) => "InvalidSubscriptionId",
            ArmError::ResourceNotFound { .. } => "ResourceNotFound",
            ArmError::InvalidResourceType { .. } => "InvalidResourceType",
            ArmError::InvalidResourceNamespace(_) => "InvalidResourceNamespace",
            ArmError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ArmError::InvalidRequestContent(_) => "InvalidRequestContent",
            ArmError::InvalidSkipToken(_) => "InvalidSkipToken",
            ArmError::PathNotFound(_) => "NotFound",
            ArmError::Custom { code, .. } => code,
        }
    }

    /// The JSON body, `{"error":{"code","message"}}`.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            ArmError::MethodNotAllowed { allow, .. } => {
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    headers.insert(header::ALLOW, v);
                }
            }
            ArmError::Custom {
                retry_after: Some(secs),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        if status == StatusCode::UNAUTHORIZED {
            // ARM answers 401s with a challenge naming the authority; clients such as
            // azure-sdk's challenge policies read it.
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{}\"",
                self.code()
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        response
    }
}

/// An error answered in Entra's OAuth2 shape by the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntraError {
    #[error("The request body must contain the following parameter: '{0}'.")]
    MissingParameter(&'static str),
    #[error("The app requested an unsupported grant type '{0}'.")]
    UnsupportedGrantType(String),
    #[error(
        "The provided value for scope {0} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
    )]
    InvalidScope(String),
    #[error(
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    )]
    MissingCredential,
    #[error(
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{0}'."
    )]
    InvalidSecret(String),
    #[error(
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    )]
    UnknownClient { client_id: String, tenant: String },
    #[error(
        "Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
    )]
    UnknownTenant(String),
    #[error(
        "Invalid client_assertion_type '{0}'. Expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
    )]
    InvalidAssertionType(String),
    #[error("JWT token is invalid or malformed. {0}")]
    MalformedAssertion(String),
    #[error("Client assertion is not within its valid time range. {0}")]
    AssertionExpired(String),
    /// Seen as AADSTS700023 in public MSAL issues.
    #[error("Client assertion audience claim does not match Realm issuer. {0}")]
    AssertionAudience(String),
    #[error("Client assertion application identifier doesn't match 'client_id' parameter. {0}")]
    AssertionSubject(String),
    #[error("Client assertion failed signature validation. {0}")]
    AssertionSignature(String),
    #[error("The request body must contain only one of 'client_secret' and 'client_assertion'.")]
    TwoCredentials,
    #[error("Content type '{0}' is not supported; send application/x-www-form-urlencoded.")]
    UnsupportedContentType(String),
    /// A fault rule's status fault on the token endpoint.
    #[error("{message}")]
    Fault {
        status: StatusCode,
        message: String,
        retry_after: Option<u64>,
    },
}

impl EntraError {
    /// `(HTTP status, OAuth2 error, AADSTS code)`. Codes and statuses follow the real service
    /// where seen (7000215/7000218/700016/900144/70003/700023/700024/700027/50027/90002);
    /// `InvalidAssertionType`, `TwoCredentials` and `UnsupportedContentType` reuse 900144-family
    /// request errors, as the exact codes are not documented (UNVERIFIED).
    pub fn parts(&self) -> (StatusCode, &'static str, u32) {
        use EntraError::*;
        match self {
            MissingParameter(_) => (StatusCode::BAD_REQUEST, "invalid_request", 900144),
            UnsupportedGrantType(_) => (StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003),
            InvalidScope(_) => (StatusCode::BAD_REQUEST, "invalid_scope", 1002012),
            MissingCredential => (StatusCode::UNAUTHORIZED, "invalid_client", 7000218),
            InvalidSecret(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 7000215),
            UnknownClient { .. } => (StatusCode::BAD_REQUEST, "unauthorized_client", 700016),
            UnknownTenant(_) => (StatusCode::BAD_REQUEST, "invalid_request", 90002),
            InvalidAssertionType(_) => (StatusCode::BAD_REQUEST, "invalid_request", 900144),
            MalformedAssertion(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 50027),
            AssertionExpired(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 700024),
            AssertionAudience(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 700023),
            AssertionSubject(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 700021),
            AssertionSignature(_) => (StatusCode::UNAUTHORIZED, "invalid_client", 700027),
            TwoCredentials => (StatusCode::BAD_REQUEST, "invalid_request", 900144),
            UnsupportedContentType(_) => (StatusCode::BAD_REQUEST, "invalid_request", 900144),
            Fault { status, .. } => {
                let error = if *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::SERVICE_UNAVAILABLE
                {
                    "temporarily_unavailable"
                } else {
                    "server_error"
                };
                // AADSTS90033: "A transient error has occurred. Please try again."
                (*status, error, 90033)
            }
        }
    }

    /// The response, with `trace_id` = this request's `x-ms-request-id`.
    pub fn to_response(&self, trace_id: &str, correlation_id: &str) -> Response {
        let (status, error, aadsts) = self.parts();
        let now = SystemTime::now();
        let stamp = entra_timestamp(now);
        let description = format!(
            "AADSTS{aadsts}: {self}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {stamp}"
        );
        let body = json!({
            "error": error,
            "error_description": description,
            "error_codes": [aadsts],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let EntraError::Fault {
            retry_after: Some(secs),
            ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
        }
        response
    }
}

/// An error answered in IMDS's shape, `{"error","error_description"}` (arm-api.md 14.2).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImdsError {
    /// IMDS refuses requests without `Metadata: true` (SSRF mitigation, arm-api.md 14.2).
    #[error("Required metadata header not specified")]
    MissingMetadataHeader,
    #[error("Required audience parameter not specified")]
    MissingResource,
    #[error("Required api-version parameter not specified")]
    MissingApiVersion,
}

impl IntoResponse for ImdsError {
    fn into_response(self) -> Response {
        let body = json!({ "error": "invalid_request", "error_description": self.to_string() });
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_error_body_and_status() {
        let e = ArmError::InvalidApiVersion {
            given: "2018-12-01".into(),
            supported: "2017-08-01-preview".into(),
        };
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.body()["error"]["code"], "InvalidApiVersionParameter");
        assert_eq!(
            e.body()["error"]["message"],
            "The api-version '2018-12-01' is invalid. The supported versions are '2017-08-01-preview'."
        );
    }

    #[test]
    fn entra_codes() {
        assert_eq!(
            EntraError::InvalidSecret("x".into()).parts(),
            (StatusCode::UNAUTHORIZED, "invalid_client", 7000215)
        );
        assert_eq!(
            EntraError::MissingParameter("scope").to_string(),
            "The request body must contain the following parameter: 'scope'."
        );
    }
}
