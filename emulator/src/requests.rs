//! The request log: what was asked and answered, never a token or a secret.

use std::collections::VecDeque;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// Query parameters whose values never reach the log.
const SECRET_QUERY_PARAMS: &[&str] = &[
    "client_secret",
    "client_assertion",
    "access_token",
    "refresh_token",
    "code",
    "password",
    "token",
    "sig",
];

/// One request as `GET /_emulator/requests` shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// Position since start (never reset by clearing).
    pub seq: u64,
    /// RFC 3339, when the request arrived.
    pub time: String,
    pub method: String,
    pub path: String,
    /// The query string with secret-bearing parameters' values replaced by `REDACTED`.
    pub query: Option<String>,
    pub api_version: Option<String>,
    /// `Namespace/type` when the path addresses an ARM resource type.
    pub resource_type: Option<String>,
    pub status: u16,
    pub request_id: String,
    pub correlation_id: String,
    /// Whether an `Authorization` header was sent (its value is never kept).
    pub auth_present: bool,
    pub duration_ms: u64,
    /// IDs of fault rules that fired for this request.
    pub faults: Vec<String>,
    /// True when the connection was dropped without an answer (status is then 0).
    pub dropped: bool,
}

/// A bounded, in-memory log.
pub struct RequestLog {
    limit: usize,
    inner: Mutex<(u64, VecDeque<RequestLogEntry>)>,
}

impl RequestLog {
    pub fn new(limit: usize) -> Self {
        RequestLog {
            limit: limit.max(1),
            inner: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Appends an entry, giving it its sequence number.
    pub fn push(&self, mut entry: RequestLogEntry) {
        let mut inner = self.inner.lock();
        inner.0 += 1;
        entry.seq = inner.0;
        if inner.1.len() >= self.limit {
            inner.1.pop_front();
        }
        inner.1.push_back(entry);
    }

    pub fn entries(&self) -> Vec<RequestLogEntry> {
        self.inner.lock().1.iter().cloned().collect()
    }

    pub fn clear(&self) {
        self.inner.lock().1.clear();
    }
}

/// The query string for the log, secrets redacted.
pub fn redact_query(query: Option<&str>) -> Option<String> {
    let q = query.filter(|q| !q.is_empty())?;
    let redacted: Vec<String> = q
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = crate::util::percent_decode(name);
            if SECRET_QUERY_PARAMS
                .iter()
                .any(|s| decoded.eq_ignore_ascii_case(s))
            {
                format!("{name}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    Some(redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_queries_are_redacted() {
        assert_eq!(
            redact_query(Some("api-version=1&client_secret=abc&Token=x")).as_deref(),
            Some("api-version=1&client_secret=REDACTED&Token=REDACTED")
        );
        assert_eq!(redact_query(Some("")), None);
        assert_eq!(redact_query(None), None);
    }

    #[test]
    fn log_is_bounded_and_numbered() {
        let log = RequestLog::new(2);
        for path in ["/a", "/b", "/c"] {
            log.push(RequestLogEntry {
                seq: 0,
                time: String::new(),
                method: "GET".into(),
                path: path.into(),
                query: None,
                api_version: None,
                resource_type: None,
                status: 200,
                request_id: String::new(),
                correlation_id: String::new(),
                auth_present: false,
                duration_ms: 0,
                faults: vec![],
                dropped: false,
            });
        }
        let e = log.entries();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].seq, e[0].path.as_str()), (2, "/b"));
        log.clear();
        assert!(log.entries().is_empty());
    }
}
