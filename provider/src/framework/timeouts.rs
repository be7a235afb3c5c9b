//! The `timeouts` block every resource has, as azurerm's resources do:
//!
//! ```hcl
//! timeouts {
//!   create = "3h"
//!   delete = "45m"
//! }
//! ```
//!
//! The block is the framework's, not the model's: the registry adds it to each resource's
//! schema, decodes the model without it, and carries the configured value from config to plan
//! to state unchanged. When an operation runs past its limit the registry cancels the
//! operation's token (the same path as Ctrl-C / StopProvider, so a resource that has already
//! created something returns it as partial state), waits a short grace period for that, and
//! reports the timeout on the `timeouts` attribute.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::schema::{AttrType, Attribute, Nesting};
use super::{AttrPath, Diagnostic, Diagnostics, Type, Value};

/// The block's name in configuration and state.
pub const ATTRIBUTE: &str = "timeouts";

/// How long a cancelled operation may take to hand back what it created before the
/// registry stops waiting for it.
pub const GRACE: Duration = Duration::from_secs(30);

/// The operations a timeout can be set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
    ];

    /// The attribute name inside the block.
    pub fn key(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The verb in messages ("creating", …).
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Create => "creating",
            Operation::Read => "reading",
            Operation::Update => "updating",
            Operation::Delete => "deleting",
        }
    }
}

/// A resource's limits when the configuration sets none: azurerm's usual 30 minutes for
/// writes and 5 minutes for reads, longer where the resource waits on Azure for longer (a
/// DINE assignment waits for its remediation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultTimeouts {
    pub create: Duration,
    pub read: Duration,
    pub update: Duration,
    pub delete: Duration,
}

impl DefaultTimeouts {
    pub const STANDARD: DefaultTimeouts = DefaultTimeouts {
        create: Duration::from_secs(30 * 60),
        read: Duration::from_secs(5 * 60),
        update: Duration::from_secs(30 * 60),
        delete: Duration::from_secs(30 * 60),
    };

    pub fn get(&self, op: Operation) -> Duration {
        match op {
            Operation::Create => self.create,
            Operation::Read => self.read,
            Operation::Update => self.update,
            Operation::Delete => self.delete,
        }
    }
}

/// The `timeouts` block's schema attribute, its descriptions naming the defaults.
pub fn attribute(defaults: &DefaultTimeouts) -> Attribute {
    let inner = Operation::ALL
        .iter()
        .map(|&op| Attribute {
            name: op.key().to_string(),
            ty: AttrType::Plain(Type::String),
            description: format!(
                "How long {} may take, as a duration such as `\"45m\"` or `\"2h30m\"` (units `s`, \
                 `m`, `h`). Defaults to {}.",
                op.verb(),
                human(defaults.get(op))
            ),
            required: false,
            optional: true,
            computed: false,
            sensitive: false,
            write_only: false,
            requires_replace: false,
            case_insensitive: false,
            deprecation: None,
            allowed: Vec::new(),
            block: false,
        })
        .collect();
    Attribute {
        name: ATTRIBUTE.to_string(),
        ty: AttrType::Nested(Nesting::Single, inner),
        description:
            "Limits on how long Terraform waits for each operation of this resource. When \
                      one runs out, the operation stops, what it already created stays in state, \
                      and the next apply carries on."
                .to_string(),
        required: false,
        optional: true,
        computed: false,
        sensitive: false,
        write_only: false,
        requires_replace: false,
        case_insensitive: false,
        deprecation: None,
        allowed: Vec::new(),
        block: false,
    }
    .as_block()
}

/// "30 minutes", "3 hours", "1h30m".
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s if s % 60 == 0 && s < 3600 => plural(s / 60, "minute"),
        s if s < 60 => plural(s, "second"),
        s => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Parses a duration as Go's `time.ParseDuration` does for the units that make sense here
/// (`ms`, `s`, `m`, `h`; decimals allowed: `"1.5h"`), which is what azurerm's timeouts accept.
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "{text:?} is not a duration: write a number and a unit, such as \"90s\", \"45m\", \
             \"2h\" or \"1h30m\""
        )
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        if num_len == 0 {
            return Err(invalid());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| invalid())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total += n * secs;
    }
    if total <= 0.0 {
        return Err(format!("{text:?} must be longer than zero"));
    }
    if total > 7.0 * 24.0 * 3600.0 {
        return Err(format!(
            "{text:?} is longer than the 7 days an operation may take"
        ));
    }
    Ok(Duration::from_secs_f64(total))
}

/// The configured value of one operation's timeout in a resource value (config, plan or
/// state): `Ok(None)` when unset or unknown.
pub fn configured(value: &Value, op: Operation) -> Result<Option<Duration>, String> {
    match value.attr(ATTRIBUTE).and_then(|b| b.attr(op.key())) {
        Some(Value::String(s)) => parse(s).map(Some),
        _ => Ok(None),
    }
}

/// Plan-time checks of the block: each set value parses.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    for op in Operation::ALL {
        if let Err(e) = configured(config, op) {
            diags.push(
                Diagnostic::error("Invalid timeout", e)
                    .at(AttrPath::root(ATTRIBUTE).attr(op.key())),
            );
        }
    }
}

/// The limit for `op`: the configured one, else the resource's default.
pub fn limit(value: &Value, op: Operation, defaults: &DefaultTimeouts) -> Duration {
    configured(value, op)
        .ok()
        .flatten()
        .unwrap_or_else(|| defaults.get(op))
}

/// What running an operation under a limit gave.
pub enum Limited<T> {
    /// Finished in time.
    Done(T),
    /// Ran out of time, was cancelled, and handed back this within the grace period.
    TimedOut(T),
    /// Ran out of time and did not return within the grace period either.
    Abandoned,
}

/// Runs `fut` for at most `limit`; then cancels `token` (which the operation's `Ctx` and,
/// through a task-local, every ARM request in it watch) and gives it [`GRACE`] to return what
/// it has.
pub async fn run<T>(
    limit: Duration,
    token: &CancellationToken,
    fut: impl Future<Output = T>,
) -> Limited<T> {
    let fut = crate::arm::client::with_operation_token(token.clone(), fut);
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => return Limited::Done(r),
        _ = tokio::time::sleep(limit) => {}
    }
    token.cancel();
    match tokio::time::timeout(GRACE, &mut fut).await {
        Ok(r) => Limited::TimedOut(r),
        Err(_) => Limited::Abandoned,
    }
}

/// The error for an operation that ran out of time.
pub fn timed_out(type_name: &str, op: Operation, limit: Duration, kept: bool) -> Diagnostic {
    let kept = if kept {
        " What it created before then is kept in state; the next apply carries on from there."
    } else {
        ""
    };
    Diagnostic::error(
        "Operation timed out",
        format!(
            "{} {type_name} did not finish within {} (`timeouts.{}`), so the provider stopped \
             it.{kept} Set a longer `timeouts {{ {} = \"…\" }}` if Azure needs more time.",
            capitalise(op.verb()),
            human(limit),
            op.key(),
            op.key(),
        ),
    )
    .at(AttrPath::root(ATTRIBUTE))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("45m").unwrap(), Duration::from_secs(2700));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        for bad in [
            "",
            "30",
            "m",
            "30 minutes",
            "1d",
            "-5m",
            "0s",
            "1h30",
            "200h",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn names_durations_for_people() {
        assert_eq!(human(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(human(Duration::from_secs(3600)), "1 hour");
        assert_eq!(human(Duration::from_secs(3 * 3600)), "3 hours");
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_secs(45)), "45 seconds");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_operation_is_cancelled_and_may_return_what_it_has() {
        let token = CancellationToken::new();
        let t = token.clone();
        let out = run(Duration::from_secs(60), &token, async move {
            t.cancelled().await;
            "partial"
        })
        .await;
        assert!(matches!(out, Limited::TimedOut("partial")));

        let token = CancellationToken::new();
        let out = run(Duration::from_secs(60), &token, async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        })
        .await;
        assert!(matches!(out, Limited::Abandoned));

        let token = CancellationToken::new();
        let out = run(Duration::from_secs(60), &token, async { 7 }).await;
        assert!(matches!(out, Limited::Done(7)));
        assert!(!token.is_cancelled());
    }
}
