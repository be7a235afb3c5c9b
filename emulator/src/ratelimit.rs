//! ARM's per-subscription throttling (opt-in): token buckets per subscription and operation
//! class, 429 `TooManyRequests` with `Retry-After` when a bucket is empty, and the
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` headers on every answer.
//!
//! arm-api.md §13.3: since 2024 ARM throttles per region with a token bucket per subscription +
//! principal + operation type — reads: 250 tokens refilled at 25/s; writes: 200 at 10/s;
//! deletes: 200 at 10/s. A request sent before the `Retry-After` it was given elapses is not
//! processed. §13.1: reads carry `x-ms-ratelimit-remaining-subscription-reads`, writes
//! `-writes`; a deletes header is UNVERIFIED (this module sends `-deletes` for DELETE).
//!
//! The emulator keys buckets on subscription and class only (tests use one principal). It
//! also records what a test needs to judge a client: requests answered per class, 429s given,
//! the most requests one bucket let through in any one-second window, and *early retries* — the
//! same method and path sent again before the `Retry-After` its 429 named had elapsed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// One bucket's size and refill rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Tokens when full (the burst a fresh subscription may send at once).
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_sec: f64,
}

/// The limits per subscription and operation class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    /// GET and HEAD.
    pub reads: Bucket,
    /// PUT, PATCH, POST.
    pub writes: Bucket,
    /// DELETE.
    pub deletes: Bucket,
}

impl RateLimits {
    /// ARM's published per-principal limits (arm-api.md §13.3).
    pub fn arm() -> Self {
        RateLimits {
            reads: Bucket {
                capacity: 250,
                refill_per_sec: 25.0,
            },
            writes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
            deletes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
        }
    }

    /// The same shape, every bucket `capacity` tokens refilled at `refill_per_sec` — small
    /// numbers make a short test meet the limits ARM's real numbers need hours to reach.
    pub fn uniform(capacity: u32, refill_per_sec: f64) -> Self {
        let b = Bucket {
            capacity,
            refill_per_sec,
        };
        RateLimits {
            reads: b,
            writes: b,
            deletes: b,
        }
    }

    fn bucket(&self, class: Class) -> Bucket {
        match class {
            Class::Reads => self.reads,
            Class::Writes => self.writes,
            Class::Deletes => self.deletes,
        }
    }
}

/// Operation class of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Reads,
    Writes,
    Deletes,
}

impl Class {
    pub fn of(method: &str) -> Class {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Class::Reads
        } else if method.eq_ignore_ascii_case("DELETE") {
            Class::Deletes
        } else {
            Class::Writes
        }
    }

    /// `reads`, `writes`, `deletes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Reads => "reads",
            Class::Writes => "writes",
            Class::Deletes => "deletes",
        }
    }

    /// The response header carrying the bucket's remaining tokens.
    pub fn header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// The limiter's verdict on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go on; this many tokens are left in the bucket.
    Allowed { class: Class, remaining: u32 },
    /// Answer 429 with `Retry-After: retry_after` seconds.
    Throttled { class: Class, retry_after: u64 },
}

/// Counters, as `GET /_emulator/ratelimit` would show them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateLimitStats {
    /// Requests let through, by class.
    pub allowed: HashMap<String, u64>,
    /// 429s answered, by class.
    pub throttled: HashMap<String, u64>,
    /// Requests sent again (same method and path) before their 429's `Retry-After` elapsed.
    pub early_retries: u64,
    /// The most requests one bucket let through within any one second, by class.
    pub max_allowed_per_second: HashMap<String, u64>,
    /// Subscriptions seen.
    pub subscriptions: u64,
}

struct State {
    tokens: f64,
    last: Instant,
    /// When each request let through happened, for the sliding one-second maximum (trimmed
    /// to the last second).
    recent: std::collections::VecDeque<Instant>,
}

#[derive(Default)]
struct Inner {
    buckets: HashMap<(String, Class), State>,
    /// `METHOD path` (lowercased) → not before.
    not_before: HashMap<String, Instant>,
    stats: RateLimitStats,
}

/// The limiter (one per emulator, when `Config::rate_limits` is set).
pub struct RateLimiter {
    limits: RateLimits,
    inner: Mutex<Inner>,
}

/// The subscription an ARM path belongs to (`/subscriptions/{id}/...`, lowercased), if any.
pub fn subscription_of(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches('/').split('/');
    let first = parts.next()?;
    if !first.eq_ignore_ascii_case("subscriptions") {
        return None;
    }
    parts
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Takes a token for `method path` from its subscription's bucket. `None` for paths outside
    /// a subscription (tenant-level calls are not limited here).
    pub fn check(&self, method: &str, path: &str) -> Option<Verdict> {
        self.check_at(method, path, Instant::now())
    }

    fn check_at(&self, method: &str, path: &str, now: Instant) -> Option<Verdict> {
        let sub = subscription_of(path)?;
        let class = Class::of(method);
        let bucket = self.limits.bucket(class);
        let key = format!(
            "{} {}",
            method.to_ascii_uppercase(),
            path.to_ascii_lowercase()
        );
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        if let Some(t) = inner.not_before.get(&key)
            && now < *t
        {
            inner.stats.early_retries += 1;
        }
        let is_new = !inner.buckets.keys().any(|(s, _)| *s == sub);
        if is_new {
            inner.stats.subscriptions += 1;
        }
        let state = inner.buckets.entry((sub, class)).or_insert_with(|| State {
            tokens: f64::from(bucket.capacity),
            last: now,
            recent: Default::default(),
        });
        let elapsed = now.saturating_duration_since(state.last).as_secs_f64();
        state.tokens =
            (state.tokens + elapsed * bucket.refill_per_sec).min(f64::from(bucket.capacity));
        state.last = now;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            while state
                .recent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
            {
                state.recent.pop_front();
            }
            state.recent.push_back(now);
            let in_window = state.recent.len() as u64;
            let max = inner
                .stats
                .max_allowed_per_second
                .entry(class.as_str().to_owned())
                .or_default();
            *max = (*max).max(in_window);
            *inner
                .stats
                .allowed
                .entry(class.as_str().to_owned())
                .or_default() += 1;
            inner.not_before.remove(&key);
            return Some(Verdict::Allowed {
                class,
                remaining: state.tokens.floor() as u32,
            });
        }
        // Seconds until one token is back, rounded up (Retry-After is whole seconds).
        let missing = 1.0 - state.tokens;
        let secs = if bucket.refill_per_sec > 0.0 {
            (missing / bucket.refill_per_sec).ceil().max(1.0) as u64
        } else {
            60
        };
        inner
            .not_before
            .insert(key, now + Duration::from_secs(secs));
        *inner
            .stats
            .throttled
            .entry(class.as_str().to_owned())
            .or_default() += 1;
        Some(Verdict::Throttled {
            class,
            retry_after: secs,
        })
    }

    pub fn stats(&self) -> RateLimitStats {
        self.inner.lock().stats.clone()
    }

    /// Forgets buckets, pending Retry-Afters and counters.
    pub fn reset(&self) {
        *self.inner.lock() = Inner::default();
    }
}

/// The answer for a request the limiter judged: 429 without running `handler` when throttled
/// (ARM's message; the code is UNVERIFIED, arm-api.md 13.2), else the handler's answer; both
/// with the class's `x-ms-ratelimit-remaining-subscription-*` header.
pub async fn respond(
    verdict: Verdict,
    handler: impl std::future::Future<Output = axum::response::Response>,
) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let (class, remaining, mut response) = match verdict {
        Verdict::Throttled { class, retry_after } => {
            let r = crate::error::ArmError::Custom {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "TooManyRequests".to_owned(),
                message: format!(
                    "Number of '{}' requests for subscription exceeded the limit. Please try again after '{retry_after}' seconds.",
                    match class {
                        Class::Reads => "read",
                        Class::Writes => "write",
                        Class::Deletes => "delete",
                    }
                ),
                retry_after: Some(retry_after),
            }
            .into_response();
            (class, 0, r)
        }
        Verdict::Allowed { class, remaining } => (class, remaining, handler.await),
    };
    let headers = response.headers_mut();
    // One count per answer: the router's default (writes, for a DELETE) gives way to the
    // bucket's own.
    for other in [Class::Reads, Class::Writes, Class::Deletes] {
        if other != class {
            headers.remove(other.header());
        }
    }
    headers.insert(class.header(), HeaderValue::from(remaining));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/subscriptions/ABC/providers/Microsoft.Security/pricings/VirtualMachines";

    #[test]
    fn bucket_empties_throttles_and_refills() {
        let l = RateLimiter::new(RateLimits::uniform(2, 1.0));
        let t0 = Instant::now();
        assert!(matches!(
            l.check_at("PUT", P, t0),
            Some(Verdict::Allowed {
                class: Class::Writes,
                remaining: 1
            })
        ));
        assert!(matches!(
            l.check_at("PUT", P, t0),
            Some(Verdict::Allowed { remaining: 0, .. })
        ));
        assert_eq!(
            l.check_at("PUT", P, t0),
            Some(Verdict::Throttled {
                class: Class::Writes,
                retry_after: 1
            })
        );
        // Reads have their own bucket.
        assert!(matches!(
            l.check_at("GET", P, t0),
            Some(Verdict::Allowed {
                class: Class::Reads,
                ..
            })
        ));
        // Too early: throttled again and counted.
        assert!(matches!(
            l.check_at("PUT", P, t0 + Duration::from_millis(500)),
            Some(Verdict::Throttled { .. })
        ));
        assert_eq!(l.stats().early_retries, 1);
        // After the refill.
        assert!(matches!(
            l.check_at("PUT", P, t0 + Duration::from_millis(1600)),
            Some(Verdict::Allowed { .. })
        ));
        let s = l.stats();
        assert_eq!(s.allowed["writes"], 3);
        assert_eq!(s.throttled["writes"], 2);
        assert_eq!(s.max_allowed_per_second["writes"], 2);
        assert_eq!(s.subscriptions, 1);
        // Other subscriptions and tenant paths.
        assert!(matches!(
            l.check_at("PUT", "/subscriptions/other/x", t0),
            Some(Verdict::Allowed { .. })
        ));
        assert_eq!(
            l.check_at("GET", "/providers/Microsoft.Management/x", t0),
            None
        );
        assert_eq!(
            Class::of("DELETE").header(),
            "x-ms-ratelimit-remaining-subscription-deletes"
        );
    }
}
