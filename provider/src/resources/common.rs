//! Pieces every resource module uses: subscription defaults, GUID checks, ARM error wording.

use crate::arm::ArmError;
use crate::framework::{AttrPath, Ctx, Diagnostic, Diagnostics};

/// True for a GUID in its 8-4-4-4-12 hexadecimal form.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks an optional `subscription_id` attribute.
pub fn validate_subscription_id(value: Option<&str>, diags: &mut Diagnostics) {
    if let Some(s) = value
        && !is_guid(s)
    {
        diags.error_at(
            AttrPath::root("subscription_id"),
            "Invalid subscription ID",
            format!(
                "{s:?} is not a subscription ID. Expected a GUID such as \
                 \"00000000-0000-0000-0000-000000000000\"."
            ),
        );
    }
}

/// The subscription an operation works in: the resource's own, else the provider's.
pub fn subscription(ctx: &Ctx, configured: Option<&str>) -> Result<String, Diagnostic> {
    if let Some(s) = configured {
        return Ok(s.to_string());
    }
    ctx.provider()?
        .default_subscription()
        .map(str::to_string)
        .ok_or_else(|| {
            Diagnostic::error(
                "No subscription",
                "Set subscription_id on the resource, or subscription_id in the provider block \
             (or ARM_SUBSCRIPTION_ID).",
            )
            .at(AttrPath::root("subscription_id"))
        })
}

/// An ARM failure as a diagnostic: `{operation} {resource}: {error}` (azurerm's wording:
/// gerund, typed ID, cause).
pub fn arm_error(operation: &str, resource: impl std::fmt::Display, err: &ArmError) -> Diagnostic {
    Diagnostic::error(
        format!("Error {operation} {resource}"),
        format!("{operation} {resource}: {err}"),
    )
}

/// What one look at a remote object found, for [`wait_until`].
pub enum Waited<T> {
    /// The awaited state is there.
    Done(T),
    /// Not yet; what was seen instead (logged, and named in the timeout error).
    Pending(String),
}

/// How long and how often [`wait_until`] looks.
#[derive(Clone, Copy, Debug)]
pub struct WaitPolicy {
    /// Gives up after this long.
    pub timeout: std::time::Duration,
    /// The first pause; each later one doubles, up to `max_interval`.
    pub first_interval: std::time::Duration,
    pub max_interval: std::time::Duration,
}

impl WaitPolicy {
    /// Eventual consistency of a write ARM accepted (DESIGN.md §4): first look again after 2 s
    /// (100 ms against a loopback emulator, as the ARM client polls there), at most every 30 s,
    /// for up to `timeout`.
    pub fn eventual(loopback: bool, timeout: std::time::Duration) -> Self {
        WaitPolicy {
            timeout,
            first_interval: std::time::Duration::from_millis(if loopback { 100 } else { 2000 }),
            max_interval: std::time::Duration::from_secs(30),
        }
    }
}

/// Looks with `check` until it reports [`Waited::Done`]: bounded by the policy's timeout,
/// backing off between looks, every wait logged at INFO, stopped by the provider's cancel token.
/// `what` names the awaited state in logs and errors ("Workspace Setting (…) to report
/// workspace …").
pub async fn wait_until<T, F, Fut>(
    ctx: &Ctx,
    what: &str,
    policy: WaitPolicy,
    mut check: F,
) -> Result<T, Diagnostic>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Waited<T>, Diagnostic>>,
{
    let started = tokio::time::Instant::now();
    let deadline = started + policy.timeout;
    let mut interval = policy.first_interval;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let seen = match check().await? {
            Waited::Done(v) => {
                if attempt > 1 {
                    tracing::info!(
                        waiting_for = what,
                        attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "done waiting"
                    );
                }
                return Ok(v);
            }
            Waited::Pending(seen) => seen,
        };
        if tokio::time::Instant::now() + interval > deadline {
            return Err(Diagnostic::error(
                "Timed out waiting for Azure",
                format!(
                    "waiting for {what}: still not there after {:?} ({attempt} looks); last seen: \
                     {seen}. Azure accepted the write; run apply again to check once more.",
                    started.elapsed()
                ),
            ));
        }
        tracing::info!(
            waiting_for = what,
            attempt,
            seen = %seen,
            wait_ms = interval.as_millis() as u64,
            "waiting for Azure to report the written state"
        );
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => {
                return Err(Diagnostic::error(
                    "Cancelled",
                    format!("stopped while waiting for {what}"),
                ));
            }
            _ = tokio::time::sleep(interval) => {}
        }
        interval = (interval * 2).min(policy.max_interval);
    }
}
