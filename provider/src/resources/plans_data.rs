//! `defender_plans`: every Defender plan of a subscription, as `az security pricing list`
//! shows them (Microsoft.Security/pricings LIST, api-version 2024-01-01, arm-api.md 2.1).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{arm_error, subscription, validate_subscription_id};
use super::plan::API_VERSION;
use super::plan_catalog;
use crate::framework::{AttrPath, Config, Ctx, DataSource, Diagnostics};

/// Lists the Microsoft Defender for Cloud plans of a subscription: tier, sub-plan, extensions
/// and the read-only details Azure reports (what `az security pricing list` shows).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_plans")]
pub struct PlansDataModel {
    /// The subscription to read. Defaults to the provider's subscription.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub subscription_id: Option<String>,
    /// Only these plans (ARM's `$filter=name in (...)`), e.g. `["VirtualMachines", "CloudPosture"]`.
    /// Default: every plan.
    pub names: Option<Vec<String>>,
    /// The plans, in the order Azure lists them.
    #[schemars(extend("computed" = true))]
    pub plans: Option<Vec<PlanSummary>>,
}

/// One plan as Azure reports it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PlanSummary {
    /// The pricing's ARM ID.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The plan, e.g. `VirtualMachines`.
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// `Standard` (on) or `Free` (off).
    #[schemars(extend("computed" = true))]
    pub tier: Option<String>,
    /// The sub-plan, e.g. `P2`; null when the plan has none.
    #[schemars(extend("computed" = true))]
    pub subplan: Option<String>,
    /// Whether the plan's configuration is enforced on the subscription's resources.
    #[schemars(extend("computed" = true))]
    pub enforce: Option<bool>,
    /// Every extension Azure reports for the plan, by name.
    #[schemars(extend("computed" = true))]
    pub extensions: Option<BTreeMap<String, ExtensionSummary>>,
    /// When the plan was last set to Standard.
    #[schemars(extend("computed" = true))]
    pub enablement_time: Option<String>,
    /// What is left of the free trial (ISO 8601 duration).
    #[schemars(extend("computed" = true))]
    pub free_trial_remaining: Option<String>,
    /// `FullyCovered`, `PartiallyCovered` or `NotCovered`.
    #[schemars(extend("computed" = true))]
    pub resources_coverage_status: Option<String>,
    /// Whether Azure has retired the plan.
    #[schemars(extend("computed" = true))]
    pub deprecated: Option<bool>,
    /// The plans that replace a retired one.
    #[schemars(extend("computed" = true))]
    pub replaced_by: Option<Vec<String>>,
}

/// One extension of a plan as Azure reports it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ExtensionSummary {
    /// Whether the extension is on.
    #[schemars(extend("computed" = true))]
    pub enabled: Option<bool>,
    /// The extension's properties, as strings (numbers Azure reports are written out).
    #[schemars(extend("computed" = true))]
    pub properties: Option<BTreeMap<String, String>>,
}

pub struct DefenderPlans;

fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One list item as a summary.
fn summary(item: &Value) -> PlanSummary {
    let p = item.get("properties").cloned().unwrap_or(Value::Null);
    let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
    // ListPricings_example.json has an item whose id lacks the leading '/'.
    let id = item.get("id").and_then(Value::as_str).map(|id| {
        if id.starts_with('/') {
            id.to_owned()
        } else {
            format!("/{id}")
        }
    });
    let extensions = p.get("extensions").and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(|e| {
                let name = e.get("name")?.as_str()?.to_owned();
                let properties = e
                    .get("additionalExtensionProperties")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect());
                Some((
                    name,
                    ExtensionSummary {
                        enabled: Some(is_true(e.get("isEnabled"))),
                        properties,
                    },
                ))
            })
            .collect()
    });
    PlanSummary {
        id,
        name: item.get("name").and_then(Value::as_str).map(str::to_owned),
        tier: s("pricingTier"),
        subplan: s("subPlan"),
        enforce: p.get("enforce").map(|v| is_true(Some(v))),
        extensions,
        enablement_time: s("enablementTime"),
        free_trial_remaining: s("freeTrialRemainingTime"),
        resources_coverage_status: s("resourcesCoverageStatus"),
        deprecated: Some(
            p.get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        replaced_by: Some(
            p.get("replacedBy")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

impl DataSource for DefenderPlans {
    type Model = PlansDataModel;
    const TYPE_NAME: &'static str = "defender_plans";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        validate_subscription_id(config.model.subscription_id.as_deref(), diags);
        for (i, name) in config.model.names.iter().flatten().enumerate() {
            if plan_catalog::find(name).is_none() {
                diags.error_at(
                    AttrPath::root("names").index(i as i64),
                    "Unknown plan",
                    format!(
                        "{name:?} is not a Defender plan. Known plans: {}.",
                        plan_catalog::plan_names()
                    ),
                );
            }
        }
    }

    async fn read(&self, ctx: &Ctx, config: Self::Model) -> Result<Self::Model, Diagnostics> {
        let sub = subscription(ctx, config.subscription_id.as_deref())?;
        let arm = ctx.provider()?.arm().await?;
        let path = format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings");
        let filter = config.names.as_ref().map(|names| {
            let canonical: Vec<&str> = names
                .iter()
                .map(|n| plan_catalog::find(n).map_or(n.as_str(), |p| p.name))
                .collect();
            format!("name in ({})", canonical.join(","))
        });
        let query: Vec<(&str, &str)> = filter.iter().map(|f| ("$filter", f.as_str())).collect();
        let items = arm
            .list(&path, API_VERSION, &query)
            .await
            .map_err(|e| arm_error("listing", format!("Pricings (Subscription {sub:?})"), &e))?;
        Ok(PlansDataModel {
            subscription_id: Some(sub),
            names: config.names,
            plans: Some(items.iter().map(summary).collect()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_items_become_summaries() {
        let item = json!({"name": "StorageAccounts", "id": "subscriptions/s/providers/Microsoft.Security/pricings/StorageAccounts",
            "properties": {"pricingTier": "Standard", "subPlan": "PerStorageAccount", "enforce": "False",
                "freeTrialRemainingTime": "PT0S", "resourcesCoverageStatus": "FullyCovered",
                "extensions": [{"name": "OnUploadMalwareScanning", "isEnabled": "True",
                    "additionalExtensionProperties": {"capGBPerMonthPerStorageAccount": 10}}]}});
        let s = summary(&item);
        assert_eq!(
            s.id.as_deref(),
            Some("/subscriptions/s/providers/Microsoft.Security/pricings/StorageAccounts")
        );
        assert_eq!(s.tier.as_deref(), Some("Standard"));
        assert_eq!(s.enforce, Some(false));
        let e = &s.extensions.unwrap()["OnUploadMalwareScanning"];
        assert_eq!(e.enabled, Some(true));
        assert_eq!(
            e.properties.as_ref().unwrap()["capGBPerMonthPerStorageAccount"],
            "10"
        );
        assert_eq!(s.deprecated, Some(false));
    }
}
