//! `defender_compliance_scan`: an action that triggers an Azure Policy compliance evaluation
//! of a subscription or resource group and waits for it to finish.
//!
//! `POST {scope}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation`
//! (api-version 2019-10-01) answers 202 with a `Location`; a GET of it answers 202 while the
//! scan runs and 200 `{"status":"Succeeded"}` once done. UNVERIFIED: arm-api.md has no
//! policyStates section and the rest-api-examples no example; this follows Azure Policy's
//! documentation of the on-demand evaluation scan and arm-api.md §13.4's `Location` pattern
//! (the emulator serves it the same way, emulator/src/types/policy_states.rs). The scan is
//! polled here rather than inside the ARM client so each look is a progress message;
//! `Retry-After` is honoured (30 s when absent against Azure, as scans take minutes).

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::arm_error;
use crate::arm::ids::Scope;
use crate::arm::{ArmClient, ArmResponse, Method};
use crate::framework::{Action, AttrPath, Config, Ctx, Diagnostic, Diagnostics, Progress};

/// The api-version Azure Policy documents for triggerEvaluation.
pub const API_VERSION: &str = "2019-10-01";
/// Longest wait for one scan (Azure documents scans of large subscriptions taking up to an hour).
const SCAN_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

/// Triggers an Azure Policy compliance evaluation scan of a subscription or a resource group
/// and waits for it to finish, reporting progress, so compliance results (and a following
/// remediation in `ExistingNonCompliant` mode) reflect the resources as they are now. Run it
/// with `terraform apply -invoke=action.defender_compliance_scan.NAME`, or from an
/// `action_trigger` after a policy assignment is created or changed.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_compliance_scan")]
pub struct ComplianceScanModel {
    /// What to evaluate: a subscription (`/subscriptions/{id}`) or a resource group
    /// (`/subscriptions/{id}/resourceGroups/{name}`). Defaults to the provider's subscription.
    pub scope: Option<String>,
}

pub struct ComplianceScan;

fn check_scope(s: &str) -> Result<Scope, String> {
    match Scope::parse(s) {
        Ok(scope @ (Scope::Subscription { .. } | Scope::ResourceGroup { .. })) => Ok(scope),
        Ok(_) => Err(format!(
            "{s:?} cannot be scanned on demand: Azure Policy evaluates a subscription \
             (/subscriptions/{{id}}) or a resource group (/subscriptions/{{id}}/resourceGroups/{{name}})."
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn scope_text(scope: &Scope) -> String {
    super::policy_common::scope_string(scope)
}

/// The Location URL as a path for the ARM client, refusing hosts other than ARM's (the token
/// goes with the request).
fn location_path(arm: &ArmClient, location: &str) -> Result<String, Diagnostic> {
    let base = &arm.cloud().resource_manager;
    let url = url::Url::parse(location)
        .or_else(|_| base.join(location))
        .map_err(|e| {
            Diagnostic::error(
                "Unexpected response",
                format!("the scan's Location {location:?} is not a URL: {e}"),
            )
        })?;
    if url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err(Diagnostic::error(
            "Unexpected response",
            format!("refusing to poll {url}: it is not on the resource manager's host {base}"),
        ));
    }
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

fn retry_after(r: &ArmResponse, loopback: bool) -> Duration {
    let given = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    match (given, loopback) {
        (Some(d), true) => d.min(Duration::from_secs(1)),
        (Some(d), false) => d,
        (None, true) => Duration::from_millis(100),
        (None, false) => Duration::from_secs(30),
    }
}

impl Action for ComplianceScan {
    type Model = ComplianceScanModel;
    const TYPE_NAME: &'static str = "defender_compliance_scan";

    fn validate(&self, config: &Config<'_, ComplianceScanModel>, diags: &mut Diagnostics) {
        if let Some(s) = &config.model.scope
            && let Err(e) = check_scope(s)
        {
            diags.error_at(AttrPath::root("scope"), "Invalid scope", e);
        }
    }

    async fn invoke(
        &self,
        ctx: &Ctx,
        config: ComplianceScanModel,
        progress: Progress,
    ) -> Result<(), Diagnostics> {
        let provider = ctx.provider()?;
        let scope = match &config.scope {
            Some(s) => check_scope(s)
                .map_err(|e| Diagnostic::error("Invalid scope", e).at(AttrPath::root("scope")))?,
            None => {
                let sub = super::common::subscription(ctx, None)
                    .map_err(|d| d.at(AttrPath::root("scope")))?;
                Scope::Subscription {
                    subscription_id: sub,
                }
            }
        };
        let what = format!(
            "Policy Compliance Evaluation (Scope {:?})",
            scope_text(&scope)
        );
        let arm = provider.arm().await?;
        let path = format!(
            "{}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation",
            scope_text(&scope)
        );
        let started_at = tokio::time::Instant::now();
        let first = arm
            .request(Method::POST, &path)
            .api_version(API_VERSION)
            .no_lro()
            .operation(format!("triggering {what}"))
            .send()
            .await
            .map_err(|e| arm_error("triggering", &what, &e))?;
        let request_id = first.request_id.clone().unwrap_or_else(|| "none".into());
        progress.report(format!(
            "compliance evaluation of {} started (request id {request_id})",
            scope_text(&scope)
        ));
        let loopback = arm.cloud().is_loopback();
        let mut last = first;
        loop {
            if last.status != 202 {
                let status = last
                    .body
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("Succeeded")
                    .to_owned();
                if !status.eq_ignore_ascii_case("Succeeded") {
                    return Err(Diagnostic::error(
                        "Compliance evaluation failed",
                        format!(
                            "evaluating {what}: the scan ended {status} (request id {request_id})."
                        ),
                    )
                    .into());
                }
                progress.report(format!(
                    "compliance evaluation of {} finished after {}s",
                    scope_text(&scope),
                    started_at.elapsed().as_secs()
                ));
                return Ok(());
            }
            let Some(location) = last
                .headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
            else {
                return Err(Diagnostic::error(
                    "Unexpected response",
                    format!("triggering {what}: 202 without a Location header (request id {request_id})."),
                )
                .into());
            };
            let wait = retry_after(&last, loopback);
            if started_at.elapsed() + wait > SCAN_TIMEOUT {
                return Err(Diagnostic::error(
                    "Compliance evaluation did not finish",
                    format!(
                        "evaluating {what}: still running after {:?} (request id {request_id}); \
                         the scan keeps running in Azure.",
                        started_at.elapsed()
                    ),
                )
                .into());
            }
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => {
                    return Err(Diagnostic::error(
                        "Cancelled",
                        format!("stopped while waiting for {what} (it keeps running in Azure)"),
                    ).into());
                }
                _ = tokio::time::sleep(wait) => {}
            }
            let poll = location_path(arm, &location)?;
            last = arm
                .request(Method::GET, &poll)
                .no_lro()
                .operation(format!("waiting for {what}"))
                .send()
                .await
                .map_err(|e| arm_error("waiting for", &what, &e))?;
            if last.status == 202 {
                progress.report(format!(
                    "compliance evaluation of {} running ({}s)",
                    scope_text(&scope),
                    started_at.elapsed().as_secs()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_subscriptions_and_resource_groups_are_scanned() {
        let sub = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23";
        assert!(check_scope(sub).is_ok());
        assert!(check_scope(&format!("{sub}/resourceGroups/rg")).is_ok());
        let e = check_scope("/providers/Microsoft.Management/managementGroups/mg").unwrap_err();
        assert!(e.contains("cannot be scanned on demand"), "{e}");
        assert!(check_scope("nope").is_err());
    }
}
