//! Errors of the ARM layer: one `thiserror` enum for ARM calls ([`ArmError`]) and one for
//! token acquisition ([`AuthError`]).
//!
//! Display texts follow azurerm's error style (DESIGN.md §6, azurerm
//! `contributing/topics/reference-errors.md`): lowercase, no "failed to", the cause last.
//! Resources wrap them with a gerund and a typed ID, e.g.
//! `updating Pricing (Subscription "…" / Name "VirtualMachines"): Conflict: Another update
//! operation is in progress (status 409, request id …)`.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One entry of `error.details[]` in an ARM error body (arm-api.md §13.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// PascalCase error code, e.g. `InvalidParameter`.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// The property or resource the detail is about, when ARM says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// An error from an ARM call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArmError {
    /// ARM answered with a non-success status (after any retries).
    #[error("{}", format_status(code, message, details, &[Some(format!("status {status}")), request_id.as_ref().map(|r| format!("request id {r}"))]))]
    Status {
        /// HTTP status code.
        status: u16,
        /// ARM error code (`error.code`), or one derived from the status when the body had none.
        code: String,
        /// ARM error message (`error.message`), or the reason phrase when the body had none.
        message: String,
        /// `error.target`, when present.
        target: Option<String>,
        /// `x-ms-request-id` of the failed response.
        request_id: Option<String>,
        /// `x-ms-correlation-request-id` of the failed response.
        correlation_id: Option<String>,
        /// `error.details[]`.
        details: Vec<ErrorDetail>,
        /// `Retry-After` of the failed response, when it had one.
        retry_after: Option<Duration>,
        /// HTTP method of the request.
        method: String,
        /// URL of the request.
        url: String,
    },

    /// A long-running operation reached `Failed` or `Canceled` (arm-api.md §13.4).
    #[error("{}", format_status(code, message, details, &[Some(format!("long-running operation {state}")), request_id.as_ref().map(|r| format!("request id {r}"))]))]
    OperationFailed {
        /// Terminal state: `Failed` or `Canceled`.
        state: String,
        /// `error.code` of the operation status (or the resource's), `OperationFailed` if absent.
        code: String,
        /// `error.message`.
        message: String,
        /// `error.details[]`.
        details: Vec<ErrorDetail>,
        /// Request ID of the initial request that started the operation.
        request_id: Option<String>,
        /// Correlation ID of the initial request.
        correlation_id: Option<String>,
        /// HTTP method of the initial request.
        method: String,
        /// URL of the initial request.
        url: String,
    },

    /// The request could not be sent or its answer not read (DNS, TCP, TLS, reset, ...).
    #[error("{method} {url}: {}", chain(source))]
    Transport {
        /// HTTP method.
        method: String,
        /// URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// No answer in time: one attempt's timeout, or the operation's deadline.
    #[error("{method} {url}: no answer within {}", human(*after))]
    Timeout {
        /// HTTP method.
        method: String,
        /// URL.
        url: String,
        /// How long we waited.
        after: Duration,
    },

    /// The provider is stopping (StopProvider cancelled the client's token).
    #[error("cancelled: the provider is stopping")]
    Cancelled,

    /// Getting an access token failed.
    #[error(transparent)]
    Auth(#[from] AuthError),

    /// ARM answered with something we cannot use (e.g. a 200 whose body is not JSON, a
    /// paging loop, a long-running operation URL on another host).
    #[error("{method} {url}: unexpected response{}: {message}", status.map(|s| format!(" (status {s}{})", request_id.as_deref().map(|r| format!(", request id {r}")).unwrap_or_default())).unwrap_or_default())]
    BadResponse {
        /// HTTP method.
        method: String,
        /// URL.
        url: String,
        /// Status of the offending response, when there was one.
        status: Option<u16>,
        /// Request ID of the offending response.
        request_id: Option<String>,
        /// What was wrong.
        message: String,
    },

    /// The caller asked for something the client cannot send (bad path, bad option).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ArmError {
    /// HTTP status, for [`ArmError::Status`] (and [`ArmError::BadResponse`] when known).
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Status { status, .. } => Some(*status),
            ArmError::BadResponse { status, .. } => *status,
            _ => None,
        }
    }

    /// The ARM error code (`error.code`), e.g. `ResourceNotFound`, `Conflict`.
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Status { code, .. } | ArmError::OperationFailed { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The ARM error message.
    pub fn message(&self) -> Option<&str> {
        match self {
            ArmError::Status { message, .. } | ArmError::OperationFailed { message, .. } => {
                Some(message)
            }
            _ => None,
        }
    }

    /// `x-ms-request-id` of the response that failed, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ArmError::Status { request_id, .. }
            | ArmError::OperationFailed { request_id, .. }
            | ArmError::BadResponse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// `x-ms-correlation-request-id` of the response that failed.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            ArmError::Status { correlation_id, .. }
            | ArmError::OperationFailed { correlation_id, .. } => correlation_id.as_deref(),
            _ => None,
        }
    }

    /// `error.details[]`.
    pub fn details(&self) -> &[ErrorDetail] {
        match self {
            ArmError::Status { details, .. } | ArmError::OperationFailed { details, .. } => details,
            _ => &[],
        }
    }

    /// 404, or one of ARM's not-found codes.
    pub fn is_not_found(&self) -> bool {
        match self {
            ArmError::Status { status, code, .. } => {
                *status == 404
                    || matches!(
                        code.as_str(),
                        "ResourceNotFound"
                            | "ResourceGroupNotFound"
                            | "SubscriptionNotFound"
                            | "NotFound"
                    )
            }
            _ => false,
        }
    }

    /// 409 Conflict (e.g. pricings' "Another update operation is in progress").
    pub fn is_conflict(&self) -> bool {
        matches!(self, ArmError::Status { status: 409, .. })
    }

    /// 429 Too Many Requests.
    pub fn is_throttled(&self) -> bool {
        matches!(self, ArmError::Status { status: 429, .. })
    }

    /// The call was cancelled because the provider is stopping.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ArmError::Cancelled)
            || matches!(self, ArmError::Auth(a) if matches!(a.kind, AuthErrorKind::Cancelled))
    }

    /// Worth retrying as is: throttling, 408/500/502/503/504, transport errors, timeouts of one
    /// attempt, and token endpoint hiccups. Never cancellation, never a 4xx the caller caused.
    pub fn is_retryable(&self) -> bool {
        match self {
            ArmError::Status { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            ArmError::Transport { source, .. } => !source.is_builder(),
            ArmError::Timeout { .. } => true,
            ArmError::Auth(a) => a.is_retryable(),
            ArmError::OperationFailed { .. }
            | ArmError::Cancelled
            | ArmError::BadResponse { .. }
            | ArmError::InvalidRequest(_) => false,
        }
    }

    /// `Retry-After` of the failed response, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ArmError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// `Code: message; details: A: x; B: y (status 409, request id …)`.
fn format_status(
    code: &str,
    message: &str,
    details: &[ErrorDetail],
    paren: &[Option<String>],
) -> String {
    let mut out = String::new();
    out.push_str(code);
    if !message.is_empty() {
        out.push_str(": ");
        out.push_str(message.trim());
    }
    let extra: Vec<String> = details
        .iter()
        .filter(|d| !d.message.is_empty() && !message.contains(d.message.trim()))
        .map(|d| {
            if d.code.is_empty() {
                d.message.trim().to_owned()
            } else {
                format!("{}: {}", d.code, d.message.trim())
            }
        })
        .collect();
    if !extra.is_empty() {
        out.push_str("; details: ");
        out.push_str(&extra.join("; "));
    }
    let paren: Vec<&str> = paren.iter().flatten().map(String::as_str).collect();
    if !paren.is_empty() {
        out.push_str(" (");
        out.push_str(&paren.join(", "));
        out.push(')');
    }
    out
}

/// An error and its causes on one line: `a: b: c` (reqwest hides the useful part in sources).
pub(crate) fn chain(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// `1m30s`, `2.5s`, `250ms`.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        let s = d.as_secs_f64();
        if (s - s.round()).abs() < 0.05 {
            format!("{}s", s.round() as u64)
        } else {
            format!("{s:.1}s")
        }
    } else {
        let secs = d.as_secs();
        if secs.is_multiple_of(60) {
            format!("{}m", secs / 60)
        } else {
            format!("{}m{}s", secs / 60, secs % 60)
        }
    }
}

/// An error acquiring an access token, naming the flow and the identity it was for:
/// `acquiring token with client secret for client "…" in tenant "…": invalid_client: AADSTS7000215: …`.
#[derive(Debug, thiserror::Error)]
#[error("acquiring token with {flow}{}: {kind}", who(client_id.as_deref(), tenant_id.as_deref()))]
pub struct AuthError {
    /// The flow, in words: `client secret`, `client certificate`, `OIDC token`, `GitHub Actions
    /// OIDC`, `Azure DevOps OIDC`, `managed identity`, `Azure CLI`.
    pub flow: &'static str,
    /// Client (application) ID, when the flow has one.
    pub client_id: Option<String>,
    /// Tenant, when the flow has one.
    pub tenant_id: Option<String>,
    /// What went wrong.
    #[source]
    pub kind: AuthErrorKind,
}

impl AuthError {
    pub(crate) fn new(
        flow: &'static str,
        client_id: Option<&str>,
        tenant_id: Option<&str>,
        kind: AuthErrorKind,
    ) -> Self {
        AuthError {
            flow,
            client_id: client_id.map(str::to_owned),
            tenant_id: tenant_id.map(str::to_owned),
            kind,
        }
    }

    /// Transient: transport errors, timeouts, 429 and 5xx from the token endpoint (and IMDS'
    /// 404/410 while it starts, per the IMDS docs).
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            AuthErrorKind::Transport(e) => !e.is_builder(),
            AuthErrorKind::Timeout(_) => true,
            AuthErrorKind::Entra { status, .. } | AuthErrorKind::Http { status, .. } => {
                matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
                    || (self.flow == "managed identity" && matches!(status, 404 | 410))
            }
            _ => false,
        }
    }

    /// The Entra error code (`invalid_client`, ...), when the endpoint sent one.
    pub fn entra_error(&self) -> Option<&str> {
        match &self.kind {
            AuthErrorKind::Entra { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn who(client: Option<&str>, tenant: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(c) = client {
        s.push_str(&format!(" for client {c:?}"));
    }
    if let Some(t) = tenant {
        s.push_str(&format!(" in tenant {t:?}"));
    }
    s
}

/// The cause of an [`AuthError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// Entra ID (or IMDS) answered with its error body
    /// `{"error","error_description","error_codes","trace_id","correlation_id"}` (arm-api.md §14.1).
    #[error("{error}: {}", if description.is_empty() { format!("status {status}") } else { description.clone() })]
    Entra {
        /// HTTP status.
        status: u16,
        /// `error`, e.g. `invalid_client`.
        error: String,
        /// `error_description` on one line, e.g. `AADSTS7000215: Invalid client secret provided. …`.
        description: String,
        /// `error_codes`, e.g. `[7000215]`.
        codes: Vec<i64>,
        /// `trace_id`.
        trace_id: Option<String>,
        /// `correlation_id`.
        correlation_id: Option<String>,
    },
    /// A non-success answer without an Entra error body.
    #[error("unexpected status {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Http {
        /// HTTP status.
        status: u16,
        /// The start of the body (never contains a token: error answers carry none).
        body: String,
    },
    /// The endpoint could not be reached.
    #[error("{}", chain(.0))]
    Transport(#[source] reqwest::Error),
    /// No answer in time.
    #[error("no answer within {}", human(*.0))]
    Timeout(Duration),
    /// The answer was not what the flow expects (no `access_token`, bad JSON, ...).
    #[error("unexpected response: {0}")]
    BadResponse(String),
    /// A file named by the configuration could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The client certificate could not be used.
    #[error("{0}")]
    Certificate(String),
    /// The Azure CLI failed or is not installed.
    #[error("{0}")]
    Cli(String),
    /// The configuration does not allow this flow.
    #[error("{0}")]
    Config(String),
    /// The provider is stopping.
    #[error("cancelled: the provider is stopping")]
    Cancelled,
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_err(code: &str, msg: &str, status: u16, rid: Option<&str>) -> ArmError {
        ArmError::Status {
            status,
            code: code.into(),
            message: msg.into(),
            target: None,
            request_id: rid.map(Into::into),
            correlation_id: None,
            details: vec![],
            retry_after: None,
            method: "PUT".into(),
            url: "https://management.azure.com/x".into(),
        }
    }

    #[test]
    fn status_display_is_azurerm_style() {
        let e = status_err(
            "Conflict",
            "Another update operation is in progress",
            409,
            Some("1234"),
        );
        assert_eq!(
            e.to_string(),
            "Conflict: Another update operation is in progress (status 409, request id 1234)"
        );
        assert!(e.is_conflict() && !e.is_not_found() && !e.is_retryable());
        assert_eq!(e.code(), Some("Conflict"));
        assert_eq!(e.request_id(), Some("1234"));
        let e = status_err("NotFound", "Not Found", 404, None);
        assert_eq!(e.to_string(), "NotFound: Not Found (status 404)");
        assert!(e.is_not_found());
    }

    #[test]
    fn details_are_appended_once() {
        let e = ArmError::Status {
            status: 400,
            code: "InvalidRequestContent".into(),
            message: "The request content was invalid.".into(),
            target: None,
            request_id: Some("r".into()),
            correlation_id: None,
            details: vec![ErrorDetail {
                code: "InvalidParameter".into(),
                message: "pricingTier must be Free or Standard".into(),
                target: None,
            }],
            retry_after: None,
            method: "PUT".into(),
            url: "u".into(),
        };
        assert_eq!(
            e.to_string(),
            "InvalidRequestContent: The request content was invalid.; details: InvalidParameter: pricingTier must be Free or Standard (status 400, request id r)"
        );
    }

    #[test]
    fn operation_failed_display() {
        let e = ArmError::OperationFailed {
            state: "Failed".into(),
            code: "InternalError".into(),
            message: "boom".into(),
            details: vec![],
            request_id: Some("abc".into()),
            correlation_id: None,
            method: "PUT".into(),
            url: "u".into(),
        };
        assert_eq!(
            e.to_string(),
            "InternalError: boom (long-running operation Failed, request id abc)"
        );
    }

    #[test]
    fn auth_error_display_names_flow_client_and_tenant() {
        let e = AuthError::new(
            "client secret",
            Some("c1"),
            Some("t1"),
            AuthErrorKind::Entra {
                status: 401,
                error: "invalid_client".into(),
                description: "AADSTS7000215: Invalid client secret provided.".into(),
                codes: vec![7000215],
                trace_id: None,
                correlation_id: None,
            },
        );
        assert_eq!(
            e.to_string(),
            "acquiring token with client secret for client \"c1\" in tenant \"t1\": invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(2)), "2s");
        assert_eq!(human(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human(Duration::from_secs(90)), "1m30s");
        assert_eq!(human(Duration::from_secs(1800)), "30m");
    }
}
