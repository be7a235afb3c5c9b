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
