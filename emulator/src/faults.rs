//! Fault injection: rules matched in order against method, path and resource type.
//!
//! JSON shape (the body of `POST /_emulator/faults` and of `--fault`), flat, with exactly one
//! action field:
//!
//! ```json
//! {"method": "PUT", "path": "autoProvisioningSettings", "count": 1,
//!  "status": 429, "retry_after": 2}
//! {"path_regex": "/subscriptions/[^/]+/providers/Microsoft\\.Security/.*", "latency_ms": 300}
//! {"resource_type": "Microsoft.Security/autoProvisioningSettings", "method": "GET", "drop": true}
//! {"status": 409, "code": "Conflict", "message": "Another update operation is in progress."}
//! {"path": "autoProvisioningSettings/default", "not_found_after_create": 2}
//! {"path": "policyAssignments", "not_found_after_create_ms": 3000}
//! ```
//!
//! Matching: `method` (case-insensitive, `*` or absent = any), `path` (case-insensitive
//! substring of the request path), `path_regex` (against the request path), `resource_type`
//! (`Namespace/type`, case-insensitive, compared with the ARM type the path addresses). All
//! given matchers must match. `count` is how many times the rule fires; absent = unlimited.
//!
//! Evaluation order: every matching latency rule adds its delay; then the first matching
//! `status` or `drop` rule fires and answers. `not_found_after_create` rules fire when a PUT
//! they match creates a resource: the next `k` GETs of that resource answer 404
//! `ResourceNotFound` (ARM's eventual consistency, DESIGN.md section 4);
//! `not_found_after_create_ms` rules make every GET of it answer 404 for that long after the PUT
//! instead (a lag in time, whatever the reader's polling pace: used by the benchmarks).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// What a rule does when it fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this status and an ARM error (Entra's shape on the token endpoint).
    Status {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<u64>,
    },
    /// Add this much latency, then carry on.
    Latency { ms: u64 },
    /// Close the connection without answering.
    Drop,
    /// The first `gets` GETs of a resource after a PUT created it answer 404.
    NotFoundAfterCreate { gets: u32 },
    /// Every GET of a resource in the `ms` milliseconds after a PUT created it answers 404.
    NotFoundAfterCreateFor { ms: u64 },
}

/// One fault rule. Build with the constructors and chain the matchers:
/// `FaultRule::status(429).retry_after(2).method("PUT").path("pricings").times(1)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultRuleWire", into = "FaultRuleWire")]
pub struct FaultRule {
    /// Assigned when added if empty.
    pub id: String,
    pub method: Option<String>,
    pub path: Option<String>,
    pub path_regex: Option<String>,
    pub resource_type: Option<String>,
    /// How many times the rule fires; `None` = unlimited.
    pub count: Option<u32>,
    pub action: FaultAction,
}

impl FaultRule {
    fn with_action(action: FaultAction) -> Self {
        FaultRule {
            id: String::new(),
            method: None,
            path: None,
            path_regex: None,
            resource_type: None,
            count: None,
            action,
        }
    }

    /// Answer with `status` (code and message default by status).
    pub fn status(status: u16) -> Self {
        Self::with_action(FaultAction::Status {
            status,
            code: None,
            message: None,
            retry_after: None,
        })
    }

    /// Answer with `status` and this ARM error code and message.
    pub fn arm_error(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with_action(FaultAction::Status {
            status,
            code: Some(code.into()),
            message: Some(message.into()),
            retry_after: None,
        })
    }

    pub fn latency(ms: u64) -> Self {
        Self::with_action(FaultAction::Latency { ms })
    }

    pub fn drop_connection() -> Self {
        Self::with_action(FaultAction::Drop)
    }

    pub fn not_found_after_create(gets: u32) -> Self {
        Self::with_action(FaultAction::NotFoundAfterCreate { gets })
    }

    pub fn not_found_after_create_for(ms: u64) -> Self {
        Self::with_action(FaultAction::NotFoundAfterCreateFor { ms })
    }

    /// Adds `Retry-After: secs` to a status fault (no effect on other kinds).
    pub fn retry_after(mut self, secs: u64) -> Self {
        if let FaultAction::Status { retry_after, .. } = &mut self.action {
            *retry_after = Some(secs);
        }
        self
    }

    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    pub fn path(mut self, substring: impl Into<String>) -> Self {
        self.path = Some(substring.into());
        self
    }

    pub fn path_regex(mut self, regex: impl Into<String>) -> Self {
        self.path_regex = Some(regex.into());
        self
    }

    pub fn resource_type(mut self, resource_type: impl Into<String>) -> Self {
        self.resource_type = Some(resource_type.into());
        self
    }

    pub fn times(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }
}

/// Why a fault rule was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FaultError {
    #[error(
        "a fault rule needs exactly one of 'status', 'latency_ms', 'drop', 'not_found_after_create', 'not_found_after_create_ms' (found {0})"
    )]
    Action(usize),
    #[error("'{0}' is not a valid HTTP status for a fault (use 400-599)")]
    Status(u16),
    #[error("'path_regex' does not compile: {0}")]
    Regex(String),
    #[error("'code', 'message' and 'retry_after' only go with 'status'")]
    StrayStatusFields,
}

/// The flat JSON form of a rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRuleWire {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    drop: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_found_after_create: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_found_after_create_ms: Option<u64>,
}

impl TryFrom<FaultRuleWire> for FaultRule {
    type Error = FaultError;

    fn try_from(w: FaultRuleWire) -> Result<Self, FaultError> {
        let actions = usize::from(w.status.is_some())
            + usize::from(w.latency_ms.is_some())
            + usize::from(w.drop)
            + usize::from(w.not_found_after_create.is_some())
            + usize::from(w.not_found_after_create_ms.is_some());
        if actions != 1 {
            return Err(FaultError::Action(actions));
        }
        let action = if let Some(status) = w.status {
            if !(400..=599).contains(&status) {
                return Err(FaultError::Status(status));
            }
            FaultAction::Status {
                status,
                code: w.code,
                message: w.message,
                retry_after: w.retry_after,
            }
        } else {
            if w.code.is_some() || w.message.is_some() || w.retry_after.is_some() {
                return Err(FaultError::StrayStatusFields);
            }
            if let Some(ms) = w.latency_ms {
                FaultAction::Latency { ms }
            } else if let Some(gets) = w.not_found_after_create {
                FaultAction::NotFoundAfterCreate { gets }
            } else if let Some(ms) = w.not_found_after_create_ms {
                FaultAction::NotFoundAfterCreateFor { ms }
            } else {
                FaultAction::Drop
            }
        };
        if let Some(re) = &w.path_regex {
            Regex::new(re).map_err(|e| FaultError::Regex(e.to_string()))?;
        }
        Ok(FaultRule {
            id: w.id,
            method: w.method,
            path: w.path,
            path_regex: w.path_regex,
            resource_type: w.resource_type,
            count: w.count,
            action,
        })
    }
}

impl From<FaultRule> for FaultRuleWire {
    fn from(r: FaultRule) -> Self {
        let mut w = FaultRuleWire {
            id: r.id,
            method: r.method,
            path: r.path,
            path_regex: r.path_regex,
            resource_type: r.resource_type,
            count: r.count,
            ..Default::default()
        };
        match r.action {
            FaultAction::Status {
                status,
                code,
                message,
                retry_after,
            } => {
                w.status = Some(status);
                w.code = code;
                w.message = message;
                w.retry_after = retry_after;
            }
            FaultAction::Latency { ms } => w.latency_ms = Some(ms),
            FaultAction::Drop => w.drop = true,
            FaultAction::NotFoundAfterCreate { gets } => w.not_found_after_create = Some(gets),
            FaultAction::NotFoundAfterCreateFor { ms } => w.not_found_after_create_ms = Some(ms),
        }
        w
    }
}

/// What a request looks like to the matchers.
#[derive(Clone, Debug)]
pub struct FaultTarget<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// `Namespace/type` when the path addresses an ARM resource type.
    pub resource_type: Option<&'a str>,
}

/// A status or drop fault that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminal {
    Status {
        status: u16,
        code: Option<String>,
        message: Option<String>,
        retry_after: Option<u64>,
    },
    Drop,
}

/// The outcome of matching one request.
#[derive(Clone, Debug, Default)]
pub struct FaultDecision {
    pub latency_ms: u64,
    /// The rule ID and what it does.
    pub terminal: Option<(String, Terminal)>,
    /// IDs of every rule that fired (latency included), for the request log.
    pub fired: Vec<String>,
}

/// A rule as it sits in the set, with its counters, as `GET /_emulator/faults` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FaultStatus {
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Fires left; `null` = unlimited.
    pub remaining: Option<u32>,
    pub fired: u32,
}

struct Active {
    rule: FaultRule,
    regex: Option<Regex>,
    remaining: Option<u32>,
    fired: u32,
}

impl Active {
    fn matches(&self, t: &FaultTarget<'_>) -> bool {
        let r = &self.rule;
        if self.remaining == Some(0) {
            return false;
        }
        if let Some(m) = &r.method
            && m != "*"
            && !m.eq_ignore_ascii_case(t.method)
        {
            return false;
        }
        if let Some(p) = &r.path
            && !t
                .path
                .to_ascii_lowercase()
                .contains(&p.to_ascii_lowercase())
        {
            return false;
        }
        if let Some(re) = &self.regex
            && !re.is_match(t.path)
        {
            return false;
        }
        if let Some(rt) = &r.resource_type {
            match t.resource_type {
                Some(actual) if actual.eq_ignore_ascii_case(rt) => {}
                _ => return false,
            }
        }
        true
    }

    fn fire(&mut self) {
        self.fired += 1;
        if let Some(n) = &mut self.remaining {
            *n = n.saturating_sub(1);
        }
    }
}

/// The active rules plus the pending eventual-consistency 404s.
#[derive(Default)]
pub struct FaultSet {
    inner: Mutex<FaultSetInner>,
}

#[derive(Default)]
struct FaultSetInner {
    rules: Vec<Active>,
    next_id: u64,
    /// Lowercased resource ID → the 404s its GETs still owe.
    pending_not_found: HashMap<String, Pending>,
}

/// What a `not_found_after_create` rule left owing to one resource.
enum Pending {
    /// This many more GETs answer 404.
    Gets(u32),
    /// GETs answer 404 until then.
    Until(Instant),
}

impl FaultSet {
    /// Adds a rule at the end of the list; returns its ID.
    pub fn add(&self, mut rule: FaultRule) -> Result<String, FaultError> {
        let regex = match &rule.path_regex {
            Some(re) => Some(Regex::new(re).map_err(|e| FaultError::Regex(e.to_string()))?),
            None => None,
        };
        if let FaultAction::Status { status, .. } = rule.action
            && !(400..=599).contains(&status)
        {
            return Err(FaultError::Status(status));
        }
        let mut inner = self.inner.lock();
        inner.next_id += 1;
        if rule.id.is_empty() {
            rule.id = format!("fault-{}", inner.next_id);
        }
        let id = rule.id.clone();
        inner.rules.push(Active {
            remaining: rule.count,
            rule,
            regex,
            fired: 0,
        });
        Ok(id)
    }

    /// Removes every rule and every pending 404.
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.rules.clear();
        inner.pending_not_found.clear();
    }

    pub fn list(&self) -> Vec<FaultStatus> {
        self.inner
            .lock()
            .rules
            .iter()
            .map(|a| FaultStatus {
                rule: a.rule.clone(),
                remaining: a.remaining,
                fired: a.fired,
            })
            .collect()
    }

    /// Matches a request against the latency, status and drop rules, consuming their counts.
    pub fn evaluate(&self, target: &FaultTarget<'_>) -> FaultDecision {
        let mut decision = FaultDecision::default();
        let mut inner = self.inner.lock();
        for active in inner.rules.iter_mut() {
            if let FaultAction::Latency { ms } = active.rule.action
                && active.matches(target)
            {
                active.fire();
                decision.latency_ms += ms;
                decision.fired.push(active.rule.id.clone());
            }
        }
        for active in inner.rules.iter_mut() {
            let terminal = match &active.rule.action {
                FaultAction::Status {
                    status,
                    code,
                    message,
                    retry_after,
                } => Terminal::Status {
                    status: *status,
                    code: code.clone(),
                    message: message.clone(),
                    retry_after: *retry_after,
                },
                FaultAction::Drop => Terminal::Drop,
                _ => continue,
            };
            if active.matches(target) {
                active.fire();
                decision.fired.push(active.rule.id.clone());
                decision.terminal = Some((active.rule.id.clone(), terminal));
                break;
            }
        }
        decision
    }

    /// Called when a PUT created the resource `resource_key` (lowercased ID): the first
    /// matching `not_found_after_create` rule arms its 404s. Returns the rule ID if one fired.
    pub fn on_created(&self, target: &FaultTarget<'_>, resource_key: &str) -> Option<String> {
        let mut inner = self.inner.lock();
        let mut armed = None;
        for active in inner.rules.iter_mut() {
            let pending = match active.rule.action {
                FaultAction::NotFoundAfterCreate { gets } => Pending::Gets(gets),
                FaultAction::NotFoundAfterCreateFor { ms } => {
                    Pending::Until(Instant::now() + Duration::from_millis(ms))
                }
                _ => continue,
            };
            if active.matches(target) {
                active.fire();
                armed = Some((active.rule.id.clone(), pending));
                break;
            }
        }
        let (id, pending) = armed?;
        if !matches!(pending, Pending::Gets(0)) {
            inner
                .pending_not_found
                .insert(resource_key.to_owned(), pending);
        }
        Some(id)
    }

    /// True (and one fewer left, for a count) when a GET of `resource_key` must still answer 404.
    pub fn take_not_found(&self, resource_key: &str) -> bool {
        let mut inner = self.inner.lock();
        let (owed, done) = match inner.pending_not_found.get_mut(resource_key) {
            Some(Pending::Gets(n)) if *n > 0 => {
                *n -= 1;
                (true, *n == 0)
            }
            Some(Pending::Until(t)) => {
                let owed = Instant::now() < *t;
                (owed, !owed)
            }
            Some(_) => (false, true),
            None => (false, false),
        };
        if done {
            inner.pending_not_found.remove(resource_key);
        }
        owed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(method: &'a str, path: &'a str, rt: Option<&'a str>) -> FaultTarget<'a> {
        FaultTarget {
            method,
            path,
            resource_type: rt,
        }
    }

    #[test]
    fn wire_shape_round_trips_and_validates() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"method":"PUT","status":429,"retry_after":3,"count":2}"#)
                .unwrap();
        assert_eq!(rule.count, Some(2));
        assert_eq!(
            rule.action,
            FaultAction::Status {
                status: 429,
                code: None,
                message: None,
                retry_after: Some(3)
            }
        );
        let back = serde_json::to_value(&rule).unwrap();
        assert_eq!(back["status"], 429);
        assert!(back.get("drop").is_none());

        for bad in [
            r#"{"path":"x"}"#,
            r#"{"status":500,"drop":true}"#,
            r#"{"status":200}"#,
            r#"{"latency_ms":5,"code":"X"}"#,
            r#"{"path_regex":"(","drop":true}"#,
            r#"{"drop":true,"bogus":1}"#,
        ] {
            assert!(serde_json::from_str::<FaultRule>(bad).is_err(), "{bad}");
        }
        let nf: FaultRule = serde_json::from_str(r#"{"not_found_after_create":2}"#).unwrap();
        assert_eq!(nf.action, FaultAction::NotFoundAfterCreate { gets: 2 });
    }

    #[test]
    fn counts_order_and_matchers() {
        let set = FaultSet::default();
        set.add(FaultRule::latency(5).path("/a")).unwrap();
        set.add(FaultRule::status(500).method("get").path("/A").times(1))
            .unwrap();
        set.add(FaultRule::drop_connection().resource_type("Microsoft.Security/pricings"))
            .unwrap();

        let d = set.evaluate(&target("GET", "/x/a", None));
        assert_eq!(d.latency_ms, 5);
        assert!(matches!(
            d.terminal,
            Some((_, Terminal::Status { status: 500, .. }))
        ));
        // The status rule is spent.
        let d = set.evaluate(&target("GET", "/x/a", None));
        assert!(d.terminal.is_none());
        // PUT does not match the method matcher of a spent rule anyway; resource type does.
        let d = set.evaluate(&target("PUT", "/p", Some("microsoft.security/PRICINGS")));
        assert!(matches!(d.terminal, Some((_, Terminal::Drop))));
        let d = set.evaluate(&target("PUT", "/p", Some("Microsoft.Security/settings")));
        assert!(d.terminal.is_none());

        let listed = set.list();
        assert_eq!(listed[1].remaining, Some(0));
        assert_eq!(listed[1].fired, 1);
        set.clear();
        assert!(set.list().is_empty());
    }

    #[test]
    fn regex_matches_path() {
        let set = FaultSet::default();
        set.add(FaultRule::status(503).path_regex("^/subscriptions/[^/]+$"))
            .unwrap();
        assert!(
            set.evaluate(&target("GET", "/subscriptions/x", None))
                .terminal
                .is_some()
        );
        assert!(
            set.evaluate(&target("GET", "/subscriptions/x/y", None))
                .terminal
                .is_none()
        );
    }

    #[test]
    fn not_found_after_create_arms_per_resource() {
        let set = FaultSet::default();
        set.add(FaultRule::not_found_after_create(2).times(1))
            .unwrap();
        let t = target("PUT", "/r", None);
        assert!(set.on_created(&t, "/r").is_some());
        assert!(set.on_created(&t, "/s").is_none(), "count 1 is spent");
        assert!(set.take_not_found("/r"));
        assert!(set.take_not_found("/r"));
        assert!(!set.take_not_found("/r"));
        assert!(!set.take_not_found("/s"));
    }

    #[test]
    fn not_found_after_create_for_a_time() {
        let nf: FaultRule =
            serde_json::from_str(r#"{"path":"x","not_found_after_create_ms":150}"#).unwrap();
        assert_eq!(nf.action, FaultAction::NotFoundAfterCreateFor { ms: 150 });
        let back = serde_json::to_value(&nf).unwrap();
        assert_eq!(back["not_found_after_create_ms"], 150);
        assert!(
            serde_json::from_str::<FaultRule>(
                r#"{"not_found_after_create":1,"not_found_after_create_ms":1}"#
            )
            .is_err(),
            "one action only"
        );
        let set = FaultSet::default();
        set.add(nf).unwrap();
        let t = target("PUT", "/x", None);
        assert!(set.on_created(&t, "/x").is_some());
        // Any number of GETs inside the window answer 404, none after it.
        for _ in 0..5 {
            assert!(set.take_not_found("/x"));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(!set.take_not_found("/x"));
        assert!(!set.take_not_found("/x"));
    }
}
