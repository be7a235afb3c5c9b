//! Retry policy: jittered exponential backoff, `Retry-After`, and ARM's rate-limit headers.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How the client retries transient failures (429, 408, 500, 502, 503, 504, connection errors
/// and timeouts of one attempt). Every wait stays inside the operation's deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_backoff: Duration,
    /// Upper bound of the exponential backoff (not of `Retry-After`, which is honoured as sent).
    pub max_backoff: Duration,
    /// Random spread added to backoffs, as a fraction of the backoff (0.0–1.0). Not applied
    /// to `Retry-After`, which is a floor the server sets.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 8 attempts, 1 s doubling to 30 s, 20% jitter: about 2 minutes of backoff in total,
    /// well inside Terraform's default resource timeouts.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff after attempt `attempt` (1-based) failed: `base · 2^(attempt-1)`, capped,
    /// plus up to `jitter` of it at random.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let raw = self.base_backoff.saturating_mul(1u32 << exp);
        let capped = raw.min(self.max_backoff);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 || capped.is_zero() {
            return capped;
        }
        let extra = capped.mul_f64(jitter * rand::random::<f64>());
        capped + extra
    }

    /// The wait before re-sending a request ARM throttled (429) for the `throttled`-th time in
    /// a row. `Retry-After` is the floor ARM sets (arm-api.md §13.3). When many requests of one
    /// subscription wait for the same bucket they are throttled again and again; found by the
    /// 200-subscription load run, where 20 reads per subscription came back together each
    /// second against a bucket refilled at one a second and one ran out of attempts. So a
    /// throttled request waits longer each time (the backoff, from the third 429 on) and at a
    /// random spread above the floor, so the queue drains instead of stampeding. Throttling
    /// does not use up `max_attempts`: ARM did not process the request, and the operation's
    /// deadline bounds the waiting.
    pub fn throttle_wait(&self, retry_after: Option<Duration>, throttled: u32) -> Duration {
        let floor = retry_after.unwrap_or(self.base_backoff);
        let grown = if throttled >= 3 {
            self.backoff(throttled - 2)
        } else {
            Duration::ZERO
        };
        let wait = floor.max(grown);
        let spread = floor.mul_f64(self.jitter.clamp(0.0, 1.0) * rand::random::<f64>());
        wait + spread
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3). ARM sends seconds on 429 and on
/// async 201/202 (arm-api.md §13.1); `retry-after-ms` / `x-ms-retry-after-ms` (Azure SDK
/// convention) win when present.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_unclamped(headers).map(|d| d.min(MAX_RETRY_AFTER))
}

/// The longest wait a `Retry-After` can ask for. Longer values (a broken proxy, or found by
/// fuzzing: `Retry-After: 1111…1`, 37 digits, once panicked converting the float and would
/// overflow `Instant + wait`) are read as this, and the operation deadline then gives up.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

fn retry_after_unclamped(headers: &HeaderMap) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_millis(ms));
        }
    }
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs >= 0.0
        && secs.is_finite()
    {
        return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The lowest `x-ms-ratelimit-remaining-*` count in the answer (subscription/tenant reads,
/// writes, deletes, resource requests; arm-api.md §13.1), for logs.
pub fn ratelimit_remaining(headers: &HeaderMap) -> Option<(String, u64)> {
    headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-ms-ratelimit-remaining-"))
        .filter_map(|(k, v)| {
            let n = v.to_str().ok()?.trim().parse::<u64>().ok()?;
            Some((
                k.as_str()
                    .trim_start_matches("x-ms-ratelimit-remaining-")
                    .to_owned(),
                n,
            ))
        })
        .min_by_key(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(2), Duration::from_secs(2));
        assert_eq!(p.backoff(3), Duration::from_secs(4));
        assert_eq!(p.backoff(10), Duration::from_secs(30));
        assert_eq!(p.backoff(100), Duration::from_secs(30));
        let j = RetryPolicy::default();
        for _ in 0..100 {
            let b = j.backoff(2);
            assert!(b >= Duration::from_secs(2) && b <= Duration::from_millis(2400));
        }
    }

    #[test]
    fn throttled_requests_wait_retry_after_spread_then_longer() {
        let exact = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let s = Duration::from_secs;
        // The floor ARM sets, twice; then the backoff grows past it.
        assert_eq!(exact.throttle_wait(Some(s(1)), 1), s(1));
        assert_eq!(exact.throttle_wait(Some(s(1)), 2), s(1));
        assert_eq!(exact.throttle_wait(Some(s(1)), 3), s(1));
        assert_eq!(exact.throttle_wait(Some(s(1)), 4), s(2));
        assert_eq!(exact.throttle_wait(Some(s(1)), 6), s(8));
        assert_eq!(exact.throttle_wait(Some(s(1)), 50), s(30));
        // A long Retry-After is never cut short; no Retry-After waits the base backoff.
        assert_eq!(exact.throttle_wait(Some(s(60)), 5), s(60));
        assert_eq!(exact.throttle_wait(None, 1), s(1));
        // With jitter the waits spread above the floor, up to 20 % of it.
        let spread = RetryPolicy::default();
        let waits: Vec<Duration> = (0..200)
            .map(|_| spread.throttle_wait(Some(s(10)), 1))
            .collect();
        assert!(
            waits.iter().all(|w| *w >= s(10) && *w <= s(12)),
            "{waits:?}"
        );
        assert!(
            waits.iter().any(|w| *w > Duration::from_millis(10_500)),
            "spread, not all at the floor"
        );
    }

    #[test]
    fn absurd_retry_after_values_are_capped_not_panics() {
        for v in [
            "1111111111111111111111111111111111111",
            "18446744073709551615",
            "1e300",
        ] {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, v.parse().unwrap());
            assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER), "{v}");
            let _ = std::time::Instant::now() + retry_after(&h).unwrap();
        }
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", "18446744073709551615".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let future = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(future)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(115) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn ratelimit_lowest() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            HeaderValue::from_static("249"),
        );
        h.insert(
            "x-ms-ratelimit-remaining-subscription-writes",
            HeaderValue::from_static("3"),
        );
        assert_eq!(
            ratelimit_remaining(&h),
            Some(("subscription-writes".into(), 3))
        );
    }
}
