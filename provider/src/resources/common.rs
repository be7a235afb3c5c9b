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
    match configured {
        Some(s) => Ok(s.to_string()),
        None => provider_subscription(
            ctx,
            "subscription_id on the resource",
            Some(AttrPath::root("subscription_id")),
        ),
    }
}

/// The subscriptions an operation over several works in: the configured ones, else the
/// provider's. `hint` says where to configure them (for the error when there are none, which
/// is on `subscription_ids`).
pub fn subscriptions(
    ctx: &Ctx,
    configured: Option<&[String]>,
    hint: &str,
) -> Result<Vec<String>, Diagnostic> {
    match configured {
        Some(ids) => Ok(ids.to_vec()),
        None => Ok(vec![provider_subscription(
            ctx,
            hint,
            Some(AttrPath::root("subscription_ids")),
        )?]),
    }
}

/// The provider's subscription, for an operation that names none. Without one: "No
/// subscription", saying to set `hint` or the provider's `subscription_id`, on `at`.
pub fn provider_subscription(
    ctx: &Ctx,
    hint: &str,
    at: Option<AttrPath>,
) -> Result<String, Diagnostic> {
    ctx.provider()?
        .default_subscription()
        .map(str::to_string)
        .ok_or_else(|| Diagnostic {
            path: at,
            ..Diagnostic::error(
                "No subscription",
                format!(
                    "Set {hint}, or subscription_id in the provider block (or \
                     ARM_SUBSCRIPTION_ID)."
                ),
            )
        })
}

/// Plan-time default of a `subscription_id` left unset: the provider's subscription (none
/// while the provider is not configured yet, as plan may run before). One unknown in the
/// configuration (`config_unknown`) stays unknown.
pub fn plan_subscription(ctx: &Ctx, config_unknown: bool, planned: &mut Option<String>) {
    if planned.is_none() && !config_unknown {
        *planned = ctx
            .provider_opt()
            .and_then(|p| p.default_subscription())
            .map(str::to_string);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_of(configured: bool) -> Ctx {
        let data =
            configured.then(|| std::sync::Arc::new(crate::provider::ProviderData::offline()));
        Ctx::new(data, tokio_util::sync::CancellationToken::new())
    }

    /// Each default names where to set the subscription, on the attribute that takes it.
    #[test]
    fn no_subscription_says_where_to_set_one() {
        let ctx = ctx_of(true);
        let d = subscription(&ctx, None).unwrap_err();
        assert_eq!(d.summary, "No subscription");
        assert_eq!(
            d.detail,
            "Set subscription_id on the resource, or subscription_id in the provider block (or \
             ARM_SUBSCRIPTION_ID)."
        );
        assert_eq!(d.path, Some(AttrPath::root("subscription_id")));
        let d =
            subscriptions(&ctx, None, "subscription_ids in the list block's config").unwrap_err();
        assert_eq!(
            d.detail,
            "Set subscription_ids in the list block's config, or subscription_id in the provider \
             block (or ARM_SUBSCRIPTION_ID)."
        );
        assert_eq!(d.path, Some(AttrPath::root("subscription_ids")));
        assert_eq!(
            provider_subscription(&ctx, "x", None).unwrap_err().path,
            None
        );

        let sub = "20ff7fc3-e762-44dd-bd96-b71116dcdc23".to_owned();
        assert_eq!(subscription(&ctx, Some(&sub)).unwrap(), sub);
        assert_eq!(
            subscriptions(&ctx, Some(std::slice::from_ref(&sub)), "x").unwrap(),
            vec![sub]
        );
        let unconfigured = subscription(&ctx_of(false), None).unwrap_err();
        assert_eq!(unconfigured.summary, "Provider not configured");
        assert_eq!(unconfigured.path, None);
    }

    #[test]
    fn plan_subscription_fills_only_what_is_unset_and_known() {
        let ctx = ctx_of(false);
        let mut planned = Some("given".to_owned());
        plan_subscription(&ctx, false, &mut planned);
        assert_eq!(planned.as_deref(), Some("given"));
        let mut planned = None;
        plan_subscription(&ctx, true, &mut planned);
        assert_eq!(planned, None);
        // Unconfigured (plan may run before ConfigureProvider), or no provider subscription.
        plan_subscription(&ctx, false, &mut planned);
        assert_eq!(planned, None);
    }
}
