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
