//! `defender_plan`: a Defender plan, Microsoft.Security/pricings api-version 2024-01-01
//! (arm-api.md section 2), at subscription level or on one machine (resource-level pricing).
//!
//! Plans are singletons: every plan exists in every subscription (Free until turned on), so
//! create adopts and destroy sets the plan back to Free. A resource-level pricing is an
//! override on one VM, scale set or Arc machine; destroy deletes it and the machine inherits
//! its subscription's plan again.
//!
//! Quirks handled here, and where they were learned:
//! - ARM serialises pricing writes per subscription and answers a concurrent one with 409
//!   "Another update operation is in progress" (DESIGN.md section 4; azurerm locks on the
//!   subscription for the same reason): writes take the provider's `pricings/{sub}` lock and
//!   that 409 is retried.
//! - `additionalExtensionProperties` of a disabled extension make the service answer 500
//!   (azurerm's pricing resource quotes the message): properties are sent for enabled
//!   extensions only.
//! - A PUT that turns a Free plan Standard enables the plan's default extensions and does not
//!   apply the extensions it carries (azurerm sends a second PUT for them): when the answer's
//!   extensions differ from the request's, the request is sent once more.
//! - `isEnabled` and `enforce` are the strings "True"/"False" in any case (azure-policy sends
//!   "true"); tiers and sub-plans compare case-insensitively (arm-api.md 2.2).
//! - The service adds extension properties nobody configured (`ExclusionTags`) and answers
//!   some as JSON numbers (`capGBPerMonthPerStorageAccount`: 10 in
//!   GetPricingByNameStorageAccounts_example.json) or re-serialised JSON: only configured
//!   properties are read back, compared by meaning.
//! - A PUT can succeed with some extensions failed (`operationStatus.code: Failed`,
//!   PutPricingByNamePartialSuccess_example.json): the error names each failed extension and
//!   state records it as disabled, so the next apply tries again.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::common::{arm_error, plan_subscription, subscription, validate_subscription_id};
use super::plan_catalog::{
    self, RESOURCE_LEVEL_PLAN, RESOURCE_LEVEL_SUB_PLAN, RESOURCE_SCOPE_TYPES,
};
use crate::arm::ids::{IdError, PricingId, ResourceId, Scope};
use crate::arm::{ArmError, ArmResponse, Method};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Microsoft.Security/pricings api-version (arm-api.md section 0).
pub const API_VERSION: &str = "2024-01-01";

// ---------------------------------------------------------------------------------------------
// Typed ID

/// The ID of a pricing: a subscription's plan, or a resource-level pricing on one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanId {
    /// `/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}`.
    Subscription(PricingId),
    /// `{resource}/providers/Microsoft.Security/pricings/{name}`.
    Resource {
        /// The machine's ID, keywords in canonical case.
        scope: ResourceId,
        subscription_id: String,
        name: String,
    },
}

const PLAN_ID_KIND: &str = "a Pricing";
const PLAN_ID_FORMAT: &str = "/subscriptions/{subscriptionId}/providers/Microsoft.Security/pricings/{name} or {resourceId}/providers/Microsoft.Security/pricings/{name}";

impl PlanId {
    /// Parses either form; segment names and the namespace are case-insensitive.
    pub fn parse(input: &str) -> Result<PlanId, IdError> {
        let err = |reason: String| IdError {
            kind: PLAN_ID_KIND,
            input: input.to_owned(),
            reason,
            expected: Some(PLAN_ID_FORMAT),
        };
        let id = ResourceId::parse(input).map_err(|e| err(e.reason))?;
        let segs = id.segments();
        let n = segs.len();
        if n < 3 {
            return Err(err("it is too short".into()));
        }
        let (providers, pricings) = (&segs[n - 2], &segs[n - 1]);
        if !providers.key.eq_ignore_ascii_case("providers")
            || !providers.value.eq_ignore_ascii_case("Microsoft.Security")
            || !pricings.key.eq_ignore_ascii_case("pricings")
        {
            return Err(err(
                "it does not end in /providers/Microsoft.Security/pricings/{name}".into(),
            ));
        }
        let name = pricings.value.clone();
        let scope_text = ResourceId::from_segments(segs[..n - 2].to_vec()).to_string();
        match Scope::parse(&scope_text).map_err(|e| err(e.reason))? {
            Scope::Subscription { subscription_id } => {
                Ok(PlanId::Subscription(PricingId::new(subscription_id, name)))
            }
            Scope::Resource {
                subscription_id,
                id,
            } => Ok(PlanId::Resource {
                scope: id,
                subscription_id,
                name,
            }),
            _ => Err(err(
                "a pricing belongs to a subscription or to a resource".into()
            )),
        }
    }

    pub fn subscription(name: &str, subscription_id: &str) -> PlanId {
        PlanId::Subscription(PricingId::new(subscription_id, name))
    }

    pub fn name(&self) -> &str {
        match self {
            PlanId::Subscription(p) => &p.name,
            PlanId::Resource { name, .. } => name,
        }
    }

    pub fn subscription_id(&self) -> &str {
        match self {
            PlanId::Subscription(p) => &p.subscription_id,
            PlanId::Resource {
                subscription_id, ..
            } => subscription_id,
        }
    }

    pub fn scope(&self) -> Option<&ResourceId> {
        match self {
            PlanId::Subscription(_) => None,
            PlanId::Resource { scope, .. } => Some(scope),
        }
    }

    /// azurerm's way of naming it in errors: `Pricing (Subscription "…" / Name "…")` or
    /// `Pricing (Resource "…" / Name "…")`.
    pub fn describe(&self) -> String {
        match self {
            PlanId::Subscription(p) => p.describe(),
            PlanId::Resource { scope, name, .. } => {
                format!("Pricing (Resource {:?} / Name {name:?})", scope.to_string())
            }
        }
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanId::Subscription(p) => write!(f, "{p}"),
            PlanId::Resource { scope, name, .. } => {
                write!(f, "{scope}/providers/Microsoft.Security/pricings/{name}")
            }
        }
    }
}

/// A `scope` attribute: a VM, scale set or Arc machine ID.
fn parse_machine_scope(input: &str) -> Result<(ResourceId, String), String> {
    let allowed = plan_catalog::quoted_list(RESOURCE_SCOPE_TYPES.iter().copied());
    match Scope::parse(input) {
        Ok(Scope::Resource {
            subscription_id,
            id,
        }) => {
            let ty = id.resource_type().unwrap_or_default();
            let is_machine = RESOURCE_SCOPE_TYPES
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&ty))
                && id.segments().len() == 4
                && id.resource_group().is_some();
            if is_machine {
                Ok((id, subscription_id))
            } else {
                Err(format!(
                    "{input:?} is a {ty} ID. Resource-level pricing is supported on {allowed}."
                ))
            }
        }
        Ok(_) => Err(format!(
            "{input:?} is not a resource ID. Resource-level pricing is supported on {allowed}; \
             for a subscription's plan leave scope unset (and set subscription_id if needed)."
        )),
        Err(e) => Err(format!("{e}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Model

/// Manages a Microsoft Defender for Cloud plan (a pricing): turns a plan such as Defender for
/// Servers (`VirtualMachines`) or Defender CSPM (`CloudPosture`) on (`Standard`) or off
/// (`Free`) for a subscription, with its sub-plan and extensions; or, with `scope`, sets
/// Defender for Servers on one virtual machine, scale set or Arc machine.
///
/// Plans always exist in Azure. Creating this resource adopts the plan; destroying it sets
/// the plan back to `Free` (and `enforce` off). A resource-level pricing (`scope`) is deleted
/// on destroy, and the machine inherits its subscription's plan again.
///
/// Only the extensions written in `extensions` are managed; the others are left as Azure has
/// them, so a new extension added by Azure causes no change.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_plan")]
pub struct PlanModel {
    /// The ARM ID of the pricing:
    /// `/subscriptions/{subscription_id}/providers/Microsoft.Security/pricings/{name}`, or
    /// `{scope}/providers/Microsoft.Security/pricings/{name}` for a resource-level pricing.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The plan (the pricing's name): `VirtualMachines` (Defender for Servers),
    /// `StorageAccounts`, `Containers`, `CloudPosture` (Defender CSPM), `KeyVaults`, `Arm`,
    /// `Api`, `AI`, `AppServices`, `SqlServers`, `SqlServerVirtualMachines`,
    /// `OpenSourceRelationalDatabases` or `CosmosDbs`. The retired `KubernetesService`,
    /// `ContainerRegistry` (both replaced by `Containers`) and `Dns` (replaced by
    /// `VirtualMachines`) are accepted with a warning.
    #[schemars(extend("requires_replace" = true, "case_insensitive" = true))]
    pub name: String,
    /// `Standard` (the plan is on) or `Free` (off).
    pub tier: String,
    /// The sub-plan, for plans that have them: `P1`/`P2` (VirtualMachines),
    /// `DefenderForStorageV2`/`PerStorageAccount` (StorageAccounts),
    /// `PerTransaction`/`PerKeyVault` (KeyVaults), `PerSubscription`/`PerApiCall` (Arm),
    /// `P1`…`P5` (Api). Only with `tier = "Standard"`; when unset, Azure chooses (and this
    /// attribute shows what it chose). A resource-level pricing takes `P1` only.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub subplan: Option<String>,
    /// Whether the plan's configuration is forced on the subscription's resources, overriding
    /// resource-level pricings (`enforce`). Subscription level only.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub enforce: Option<bool>,
    /// The plan's extensions to manage, by name, e.g.
    /// `{ AgentlessVmScanning = { enabled = true, properties = { ExclusionTags = "[]" } } }`.
    /// Extensions not listed are left as Azure has them. Enabling one needs
    /// `tier = "Standard"`. Allowed names per plan: VirtualMachines: `MdeDesignatedSubscription`,
    /// `AgentlessVmScanning` (P2), `FileIntegrityMonitoring` (P2); StorageAccounts:
    /// `OnUploadMalwareScanning`, `SensitiveDataDiscovery`; Containers:
    /// `ContainerRegistriesVulnerabilityAssessments`, `AgentlessDiscoveryForKubernetes`,
    /// `AgentlessVmScanning`, `ContainerSensor`, `ContainerIntegrityContribution`;
    /// CloudPosture: `AgentlessVmScanning`, `AgentlessDiscoveryForKubernetes`,
    /// `SensitiveDataDiscovery`, `ContainerRegistriesVulnerabilityAssessments`,
    /// `EntraPermissionsManagement`; AI: `AIPromptEvidence`, `AIPromptSharingWithPurview`.
    pub extensions: Option<BTreeMap<String, PlanExtension>>,
    /// The subscription whose plan this is. Defaults to the provider's subscription (or, with
    /// `scope`, the machine's). Conflicts with `scope`.
    #[schemars(extend(
        "optional" = true,
        "computed" = true,
        "requires_replace" = true,
        "case_insensitive" = true
    ))]
    pub subscription_id: Option<String>,
    /// For a resource-level pricing: the ID of the virtual machine
    /// (`Microsoft.Compute/virtualMachines`), scale set
    /// (`Microsoft.Compute/virtualMachineScaleSets`) or Arc machine
    /// (`Microsoft.HybridCompute/machines`). Only `name = "VirtualMachines"`, with
    /// `tier = "Free"` (exclude the machine) or `tier = "Standard"` and sub-plan `P1`.
    #[schemars(extend("requires_replace" = true, "case_insensitive" = true))]
    pub scope: Option<String>,
    /// When the plan was last set to Standard (`enablementTime`).
    #[schemars(extend("computed" = true))]
    pub enablement_time: Option<String>,
    /// What is left of the plan's free trial, as an ISO 8601 duration such as `P29DT23H`
    /// (`freeTrialRemainingTime`).
    #[schemars(extend("computed" = true))]
    pub free_trial_remaining: Option<String>,
    /// `FullyCovered`, `PartiallyCovered` or `NotCovered`: whether every resource of the
    /// subscription gets the plan (`resourcesCoverageStatus`). Subscription level only.
    #[schemars(extend("computed" = true))]
    pub resources_coverage_status: Option<String>,
    /// Whether Azure has retired the plan.
    #[schemars(extend("computed" = true))]
    pub deprecated: Option<bool>,
    /// The plans that replace a retired one.
    #[schemars(extend("computed" = true))]
    pub replaced_by: Option<Vec<String>>,
}

/// One managed extension of a plan.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PlanExtension {
    /// Whether the extension is on (`isEnabled`).
    pub enabled: bool,
    /// Extension properties (`additionalExtensionProperties`), e.g. `ExclusionTags` (a JSON
    /// array as a string) for `AgentlessVmScanning` or `CapGBPerMonthPerStorageAccount` for
    /// `OnUploadMalwareScanning`. Sent only while the extension is enabled (Azure refuses them
    /// on a disabled one). Properties Azure adds on its own are not tracked.
    pub properties: Option<BTreeMap<String, String>>,
}

pub struct DefenderPlan;

// ---------------------------------------------------------------------------------------------
// Comparing as the service does

/// `"True"`/`"true"`/JSON `true` → true.
fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}

fn true_false(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// An extension property value as a string (the service answers some as JSON numbers).
fn property_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON document in a string; the service has been seen answering single-quoted JSON
/// (PutResourcePricingByNameVirtualMachines_example.json's 201 body).
fn json_document(s: &str) -> Option<Value> {
    let t = s.trim();
    if !(t.starts_with('[') || t.starts_with('{')) {
        return None;
    }
    serde_json::from_str(t)
        .ok()
        .or_else(|| serde_json::from_str(&t.replace('\'', "\"")).ok())
}

/// Whether a configured property value and the service's answer mean the same.
pub fn same_property(configured: &str, answered: &Value) -> bool {
    let text = property_text(answered);
    if configured == text {
        return true;
    }
    let bools = ["true", "false"];
    if bools.iter().any(|b| configured.eq_ignore_ascii_case(b))
        && configured.eq_ignore_ascii_case(&text)
    {
        return true;
    }
    if let (Ok(a), Ok(b)) = (configured.trim().parse::<f64>(), text.trim().parse::<f64>()) {
        return a == b;
    }
    match (json_document(configured), json_document(&text)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn prop<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get("properties")?.get(name)
}

fn prop_str<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    prop(body, name)?.as_str()
}

/// The answer's extension named `name` (case-insensitive).
fn answered_extension<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    prop(body, "extensions")?.as_array()?.iter().find(|e| {
        e.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn failed(ext: &Value) -> bool {
    ext.pointer("/operationStatus/code")
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case("Failed"))
}

/// `reference` when it means the same as `answered` (case-insensitively), else `answered`.
fn keep_case(reference: Option<&str>, answered: &str) -> String {
    match reference {
        Some(r) if r.eq_ignore_ascii_case(answered) => r.to_owned(),
        _ => answered.to_owned(),
    }
}

/// The model the service's body describes, in the terms of `reference` (the configuration or
/// prior state): its spelling where the service means the same, and only the extensions and
/// extension properties it manages.
fn from_body(body: &Value, reference: &PlanModel, id: &PlanId) -> PlanModel {
    let tier = prop_str(body, "pricingTier").unwrap_or("Free");
    // A service that leaves a field out (2023-01-01 has no `enforce`) has not changed it.
    let subplan = match prop_str(body, "subPlan") {
        Some(s) => Some(keep_case(reference.subplan.as_deref(), s)),
        None if is_standard(tier) => reference.subplan.clone(),
        None => None,
    };
    let enforce = match id {
        PlanId::Subscription(_) => prop(body, "enforce")
            .map(|v| is_true(Some(v)))
            .or(reference.enforce),
        PlanId::Resource { .. } => None,
    };
    let extensions = reference.extensions.as_ref().map(|managed| {
        managed
            .iter()
            .map(|(name, want)| {
                let got = answered_extension(body, name);
                let enabled = got.is_some_and(|e| is_true(e.get("isEnabled")) && !failed(e));
                let properties = if !enabled && !want.enabled {
                    // Not sent while disabled, and the service need not report them.
                    want.properties.clone()
                } else {
                    want.properties.as_ref().map(|props| {
                        let answered = got
                            .and_then(|e| e.get("additionalExtensionProperties"))
                            .and_then(Value::as_object);
                        props
                            .iter()
                            .filter_map(|(k, v)| {
                                let a = answered?
                                    .iter()
                                    .find(|(ak, _)| ak.eq_ignore_ascii_case(k))?
                                    .1;
                                let text = if same_property(v, a) {
                                    v.clone()
                                } else {
                                    property_text(a)
                                };
                                Some((k.clone(), text))
                            })
                            .collect()
                    })
                };
                (
                    name.clone(),
                    PlanExtension {
                        enabled,
                        properties,
                    },
                )
            })
            .collect()
    });
    PlanModel {
        id: Some(id.to_string()),
        name: keep_case(Some(&reference.name), id.name()),
        tier: keep_case(Some(&reference.tier), tier),
        subplan,
        enforce,
        extensions,
        subscription_id: Some(id.subscription_id().to_owned()),
        scope: id
            .scope()
            .map(|s| keep_case(reference.scope.as_deref(), &s.to_string())),
        enablement_time: prop_str(body, "enablementTime").map(str::to_owned),
        free_trial_remaining: prop_str(body, "freeTrialRemainingTime").map(str::to_owned),
        resources_coverage_status: prop_str(body, "resourcesCoverageStatus").map(str::to_owned),
        deprecated: Some(
            prop(body, "deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        replaced_by: Some(
            prop(body, "replacedBy")
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

/// Every extension the service reports, as they would be written (import).
fn all_extensions(body: &Value) -> Option<BTreeMap<String, PlanExtension>> {
    let items = prop(body, "extensions")?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|e| {
                let name = e.get("name")?.as_str()?.to_owned();
                let properties = e
                    .get("additionalExtensionProperties")
                    .and_then(Value::as_object)
                    .filter(|m| !m.is_empty())
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), property_text(v)))
                            .collect()
                    });
                Some((
                    name,
                    PlanExtension {
                        enabled: is_true(e.get("isEnabled")) && !failed(e),
                        properties,
                    },
                ))
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Requests

fn is_standard(tier: &str) -> bool {
    tier.eq_ignore_ascii_case("Standard")
}

/// The PUT body for a model: the service's spellings, extensions only for Standard, and
/// properties only for enabled extensions.
fn put_body(model: &PlanModel, id: &PlanId) -> Value {
    let plan = plan_catalog::find(&model.name);
    let standard = is_standard(&model.tier);
    let mut p = Map::new();
    p.insert(
        "pricingTier".into(),
        (if standard { "Standard" } else { "Free" }).into(),
    );
    if standard && let Some(s) = &model.subplan {
        let canonical = plan.and_then(|p| p.sub_plan(s)).unwrap_or(s);
        p.insert("subPlan".into(), canonical.into());
    }
    if matches!(id, PlanId::Subscription(_))
        && let Some(e) = model.enforce
    {
        p.insert("enforce".into(), true_false(e).into());
    }
    if standard && let Some(exts) = model.extensions.as_ref().filter(|e| !e.is_empty()) {
        let items = exts
            .iter()
            .map(|(name, e)| {
                let canonical = plan
                    .and_then(|p| p.extension(name))
                    .map_or(name.as_str(), |x| x.name);
                let mut m = Map::new();
                m.insert("name".into(), canonical.into());
                m.insert("isEnabled".into(), true_false(e.enabled).into());
                if e.enabled
                    && let Some(props) = e.properties.as_ref().filter(|p| !p.is_empty())
                {
                    let props: Map<String, Value> = props
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    m.insert("additionalExtensionProperties".into(), Value::Object(props));
                }
                Value::Object(m)
            })
            .collect();
        p.insert("extensions".into(), Value::Array(items));
    }
    json!({ "properties": p })
}

/// The 409 ARM answers while another pricing write of the subscription is in flight.
pub fn is_update_in_progress(e: &ArmError) -> bool {
    e.is_conflict()
        && e.message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("in progress"))
}

/// Managed extensions the answer does not show as asked (`isEnabled`, or the properties of
/// an enabled one).
fn extensions_not_applied(model: &PlanModel, answer: &Value) -> Vec<String> {
    if !is_standard(&model.tier) {
        return Vec::new();
    }
    model
        .extensions
        .iter()
        .flatten()
        .filter(|(name, want)| {
            let got = answered_extension(answer, name);
            if got.is_some_and(|e| is_true(e.get("isEnabled"))) != want.enabled {
                return true;
            }
            let answered = got
                .and_then(|e| e.get("additionalExtensionProperties"))
                .and_then(Value::as_object);
            want.enabled
                && want.properties.iter().flatten().any(|(k, v)| {
                    !answered
                        .and_then(|m| m.iter().find(|(ak, _)| ak.eq_ignore_ascii_case(k)))
                        .is_some_and(|(_, a)| same_property(v, a))
                })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

impl DefenderPlan {
    async fn write(
        &self,
        ctx: &Ctx,
        id: &PlanId,
        model: &PlanModel,
        operation: &str,
    ) -> Result<ArmResponse, Diagnostic> {
        let provider = ctx.provider()?;
        let arm = provider.arm().await?;
        let _serialised = provider
            .serialize(&format!("pricings/{}", id.subscription_id()))
            .await;
        let body = put_body(model, id);
        let send = || {
            arm.request(Method::PUT, &id.to_string())
                .api_version(API_VERSION)
                .json(&body)
                .retry_on(is_update_in_progress)
                .operation(format!("{operation} {}", id.describe()))
                .send()
        };
        let answer = send()
            .await
            .map_err(|e| arm_error(operation, id.describe(), &e))?;
        let pending = extensions_not_applied(model, &answer.body);
        if pending.is_empty() {
            return Ok(answer);
        }
        tracing::info!(
            pricing = %id,
            extensions = ?pending,
            "the service did not apply these extensions (it turns a plan's defaults on when the \
             plan becomes Standard); sending them again"
        );
        send()
            .await
            .map_err(|e| arm_error(operation, id.describe(), &e))
    }

    async fn get(&self, ctx: &Ctx, id: &PlanId) -> Result<Option<Value>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    /// Writes the model; the state is the service's answer. Failed extensions are errors on
    /// their attribute, with the answer kept in state.
    async fn apply(
        &self,
        ctx: &Ctx,
        model: PlanModel,
        operation: &str,
    ) -> OpResult<PlanModel, PlanModel> {
        let id = plan_id(ctx, &model)?;
        let answer = self.write(ctx, &id, &model, operation).await?;
        let state = from_body(&answer.body, &model, &id);
        let mut diags = Diagnostics::new();
        for name in model.extensions.iter().flatten().map(|(n, _)| n) {
            if let Some(ext) = answered_extension(&answer.body, name)
                && failed(ext)
            {
                let message = ext
                    .pointer("/operationStatus/message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message");
                diags.error_at(
                    AttrPath::root("extensions").key(name.clone()),
                    format!("Extension {name} was not enabled"),
                    format!(
                        "{operation} {}: Azure applied the plan but could not enable extension \
                         {name:?}: {message}. The extension is recorded as disabled, so the next \
                         apply tries again; check that the Defender for Cloud service principals \
                         have the roles the extension needs.",
                        id.describe()
                    ),
                );
            }
        }
        if diags.has_errors() {
            return Err(Failed::with_partial(diags, state));
        }
        Ok(state)
    }
}

/// The ID a model addresses (its subscription defaulting to the provider's).
fn plan_id(ctx: &Ctx, model: &PlanModel) -> Result<PlanId, Diagnostic> {
    let name = plan_catalog::find(&model.name).map_or(model.name.as_str(), |p| p.name);
    if let Some(scope) = &model.scope {
        let (scope, subscription_id) = parse_machine_scope(scope)
            .map_err(|e| Diagnostic::error("Invalid scope", e).at(AttrPath::root("scope")))?;
        return Ok(PlanId::Resource {
            scope,
            subscription_id,
            name: name.to_owned(),
        });
    }
    let sub = subscription(ctx, model.subscription_id.as_deref())?;
    Ok(PlanId::subscription(name, &sub))
}

/// Whether what would be written differs from the prior state.
fn changes(prior: &PlanModel, planned: &PlanModel) -> bool {
    let same_text = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    };
    !prior.tier.eq_ignore_ascii_case(&planned.tier)
        || !same_text(&prior.subplan, &planned.subplan)
        || prior.enforce != planned.enforce
        || prior.extensions != planned.extensions
}

// ---------------------------------------------------------------------------------------------
// The resource

impl Resource for DefenderPlan {
    type Model = PlanModel;
    const TYPE_NAME: &'static str = "defender_plan";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        let m = &config.model;
        validate_subscription_id(m.subscription_id.as_deref(), diags);
        if m.scope.is_some() && m.subscription_id.is_some() {
            diags.error_at(
                AttrPath::root("subscription_id"),
                "Conflicting attributes",
                "subscription_id cannot be set together with scope: a resource-level pricing \
                 belongs to the subscription of its machine.",
            );
        }
        let resource_level = m.scope.is_some();
        if let Some(scope) = &m.scope
            && let Err(e) = parse_machine_scope(scope)
        {
            diags.error_at(AttrPath::root("scope"), "Invalid scope", e);
        }
        let tier_known = !config.is_unknown("tier");
        let standard = is_standard(&m.tier);
        if tier_known && !standard && !m.tier.eq_ignore_ascii_case("Free") {
            diags.error_at(
                AttrPath::root("tier"),
                "Invalid tier",
                format!(
                    "{:?} is not a tier. Allowed values: \"Free\" and \"Standard\".",
                    m.tier
                ),
            );
        }
        if config.is_unknown("name") {
            return;
        }
        let Some(plan) = plan_catalog::find(&m.name) else {
            diags.error_at(
                AttrPath::root("name"),
                "Unknown plan",
                format!(
                    "{:?} is not a Defender plan. Known plans: {}.",
                    m.name,
                    plan_catalog::plan_names()
                ),
            );
            return;
        };
        if plan.is_retired() {
            diags.warning_at(
                AttrPath::root("name"),
                "Retired plan",
                format!(
                    "{} ({}) is retired; Azure replaced it with {}. Manage {} instead.",
                    plan.name,
                    plan.title,
                    plan_catalog::quoted_list(plan.replaced_by.iter().copied()),
                    plan_catalog::quoted_list(plan.replaced_by.iter().copied()),
                ),
            );
        }
        if resource_level {
            if !plan.name.eq_ignore_ascii_case(RESOURCE_LEVEL_PLAN) {
                diags.error_at(
                    AttrPath::root("name"),
                    "Plan not available per resource",
                    format!(
                        "{} cannot be set on a resource. Resource-level pricing exists only for \
                         \"{RESOURCE_LEVEL_PLAN}\" (Defender for Servers).",
                        plan.name
                    ),
                );
            }
            if m.enforce.is_some() {
                diags.error_at(
                    AttrPath::root("enforce"),
                    "enforce is subscription-level",
                    "enforce applies to a subscription's plan; leave it unset with scope.",
                );
            }
            if m.extensions.is_some() {
                diags.error_at(
                    AttrPath::root("extensions"),
                    "Extensions are subscription-level",
                    "A resource-level pricing takes only tier and subplan; its extensions follow \
                     the subscription's plan. Leave extensions unset with scope.",
                );
            }
        }
        if let Some(sub) = &m.subplan {
            let path = AttrPath::root("subplan");
            if tier_known && !standard {
                diags.error_at(
                    path,
                    "Sub-plan needs Standard",
                    format!(
                        "subplan applies only to tier = \"Standard\"; remove it for tier = {:?}.",
                        m.tier
                    ),
                );
            } else if resource_level && !sub.eq_ignore_ascii_case(RESOURCE_LEVEL_SUB_PLAN) {
                diags.error_at(
                    path,
                    "Sub-plan not available per resource",
                    format!(
                        "{sub:?} cannot be set on a resource: resource-level pricing takes only \
                         \"{RESOURCE_LEVEL_SUB_PLAN}\"."
                    ),
                );
            } else if plan.sub_plans.is_empty() {
                diags.error_at(
                    path,
                    "Plan has no sub-plans",
                    format!("{} has no sub-plans; remove subplan.", plan.name),
                );
            } else if plan.sub_plan(sub).is_none() {
                diags.error_at(
                    path,
                    "Sub-plan not allowed for the plan",
                    format!(
                        "{sub:?} is not a sub-plan of {}. Allowed values: {}.",
                        plan.name,
                        plan.sub_plan_names()
                    ),
                );
            }
        }
        for (name, ext) in m.extensions.iter().flatten() {
            let path = AttrPath::root("extensions").key(name.clone());
            let Some(known) = plan.extension(name) else {
                let allowed = if plan.extensions.is_empty() {
                    format!("{} has no extensions.", plan.name)
                } else {
                    format!("Allowed for {}: {}.", plan.name, plan.extension_names())
                };
                diags.error_at(
                    path,
                    "Unknown extension",
                    format!("{name:?} is not an extension of {}. {allowed}", plan.name),
                );
                continue;
            };
            if ext.enabled && tier_known && !standard {
                diags.error_at(
                    path,
                    "Extension needs Standard",
                    format!(
                        "{} cannot be enabled while {} is Free: extensions come with tier = \
                         \"Standard\". Set tier = \"Standard\" or enabled = false.",
                        known.name, plan.name
                    ),
                );
            } else if ext.enabled
                && known.p2_only
                && m.subplan
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("P1"))
            {
                diags.error_at(
                    path,
                    "Extension needs sub-plan P2",
                    format!(
                        "{} is part of {} Plan 2: set subplan = \"P2\" or enabled = false.",
                        known.name, plan.title
                    ),
                );
            } else if !ext.enabled && ext.properties.as_ref().is_some_and(|p| !p.is_empty()) {
                diags.warning_at(
                    path.attr("properties"),
                    "Properties of a disabled extension are not sent",
                    format!(
                        "Azure refuses properties for a disabled extension, so those of {} are \
                         sent only once enabled = true.",
                        known.name
                    ),
                );
            }
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        let scope = plan
            .planned
            .scope
            .as_deref()
            .and_then(|s| parse_machine_scope(s).ok());
        if let Some((_, sub)) = &scope {
            plan.planned.subscription_id = Some(sub.clone());
        } else {
            let unknown = plan.config_unknown("subscription_id") || plan.config_unknown("scope");
            plan_subscription(ctx, unknown, &mut plan.planned.subscription_id);
        }
        if !plan.config_unknown("name")
            && let Some(p) = plan_catalog::find(&plan.planned.name)
        {
            plan.planned.id = match (&scope, &plan.planned.subscription_id) {
                (Some((scope, sub)), _) => Some(
                    PlanId::Resource {
                        scope: scope.clone(),
                        subscription_id: sub.clone(),
                        name: p.name.to_owned(),
                    }
                    .to_string(),
                ),
                (None, Some(sub)) if plan.planned.scope.is_none() => {
                    Some(PlanId::subscription(p.name, sub).to_string())
                }
                _ => plan.planned.id.clone(),
            };
        }
        if plan.config.subplan.is_none()
            && !plan.config_unknown("subplan")
            && !plan.config_unknown("tier")
        {
            let standard = is_standard(&plan.planned.tier);
            let tier_changed = plan
                .prior
                .as_ref()
                .is_none_or(|p| !p.tier.eq_ignore_ascii_case(&plan.planned.tier));
            if !standard {
                // Free has no sub-plan; a service that still reports one is left alone.
                if tier_changed {
                    plan.planned.subplan = None;
                }
            } else if plan.planned.scope.is_some() {
                plan.planned.subplan = Some(RESOURCE_LEVEL_SUB_PLAN.to_owned());
            } else if tier_changed {
                // Azure picks the plan's default sub-plan.
                plan.set_unknown("subplan");
            }
        }
        if plan.planned.scope.is_some() && plan.config.enforce.is_none() {
            plan.planned.enforce = None;
        }
        if let Some(prior) = &plan.prior
            && (changes(prior, &plan.planned) || plan.config_unknown("extensions"))
        {
            // The service recomputes these on every write.
            for attr in [
                "enablement_time",
                "free_trial_remaining",
                "resources_coverage_status",
            ] {
                plan.set_unknown(attr);
            }
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        self.apply(ctx, planned, "creating").await
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let id = plan_id(ctx, &state)?;
        let Some(body) = self.get(ctx, &id).await? else {
            // A subscription plan always exists: a 404 means the subscription is gone.
            return Ok(None);
        };
        if matches!(id, PlanId::Resource { .. }) && is_true(prop(&body, "inherited")) {
            // The machine has no pricing of its own any more: it inherits its subscription's.
            return Ok(None);
        }
        Ok(Some(from_body(&body, &state, &id)))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        match self.apply(ctx, planned, "updating").await {
            Ok(m) => Ok(m),
            Err(f) if f.partial.is_none() => Err(Failed::with_partial(f.diags, prior)),
            Err(f) => Err(f),
        }
    }

    /// Destroy sets a subscription's plan back to Free (and `enforce` off), the service
    /// default; a resource-level pricing is deleted, so the machine inherits again.
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let id = plan_id(ctx, &state)?;
        let provider = ctx.provider()?;
        let arm = provider.arm().await?;
        let _serialised = provider
            .serialize(&format!("pricings/{}", id.subscription_id()))
            .await;
        let result = match &id {
            PlanId::Subscription(_) => arm
                .request(Method::PUT, &id.to_string())
                .api_version(API_VERSION)
                .json(&json!({ "properties": { "pricingTier": "Free", "enforce": "False" } }))
                .retry_on(is_update_in_progress)
                .operation(format!("resetting {} to Free", id.describe()))
                .send()
                .await
                .map(|_| ()),
            PlanId::Resource { .. } => arm
                .request(Method::DELETE, &id.to_string())
                .api_version(API_VERSION)
                .retry_on(is_update_in_progress)
                .operation(format!("deleting {}", id.describe()))
                .send_delete()
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if matches!(id, PlanId::Subscription(_)) => Err(Failed::with_partial(
                Diagnostic::error(
                    format!("Cannot set plan {} back to Free", id.name()),
                    format!(
                        "deleting {}: {e}\n\nDestroying a defender_plan sets the plan to Free, \
                         because plans always exist in Azure; Azure refused, so the plan is \
                         unchanged and stays in state. Fix the cause and destroy again, or \
                         remove the plan from state with `terraform state rm` to stop managing \
                         it as it is.",
                        id.describe()
                    ),
                ),
                state,
            )),
            Err(e) => Err(Failed::with_partial(
                arm_error("deleting", id.describe(), &e),
                state,
            )),
        }
    }
}

impl Import for DefenderPlan {
    /// Imports by the pricing's ARM ID, at subscription or resource level. Every extension
    /// Azure reports is imported; remove from the configuration's view those you do not want
    /// to manage (the first plan then shows them leaving the state, with no change in Azure).
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = PlanId::parse(id)
            .map_err(|e| Diagnostic::error("Invalid import ID", format!("{e}")))?;
        let Some(plan) = plan_catalog::find(parsed.name()) else {
            return Err(Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{:?} is not a Defender plan. Known plans: {}.",
                    parsed.name(),
                    plan_catalog::plan_names()
                ),
            )
            .into());
        };
        let parsed = match parsed {
            PlanId::Subscription(p) => PlanId::subscription(plan.name, &p.subscription_id),
            PlanId::Resource {
                scope,
                subscription_id,
                ..
            } => PlanId::Resource {
                scope,
                subscription_id,
                name: plan.name.to_owned(),
            },
        };
        let body = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        if matches!(parsed, PlanId::Resource { .. }) && is_true(prop(&body, "inherited")) {
            return Err(Diagnostic::error(
                "Cannot import",
                format!(
                    "{} does not exist: the resource has no pricing of its own (it inherits \
                     its subscription's plan).",
                    parsed.describe()
                ),
            )
            .into());
        }
        let reference = PlanModel {
            id: None,
            name: plan.name.to_owned(),
            tier: prop_str(&body, "pricingTier").unwrap_or("Free").to_owned(),
            subplan: None,
            enforce: None,
            extensions: match parsed {
                PlanId::Subscription(_) => all_extensions(&body),
                PlanId::Resource { .. } => None,
            },
            subscription_id: None,
            scope: parsed.scope().map(ToString::to_string),
            enablement_time: None,
            free_trial_remaining: None,
            resources_coverage_status: None,
            deprecated: None,
            replaced_by: None,
        };
        Ok(from_body(&body, &reference, &parsed))
    }
}

/// `moved { from = azurerm_security_center_subscription_pricing.x  to = defender_plan.x }`:
/// azurerm stores `id`, `tier`, `resource_type`, `subplan` ("" when unset) and `extension`
/// blocks (`name`, `additional_extension_properties`), which list the enabled extensions.
/// Its schema version 0 had `.../pricings/default` IDs for VirtualMachines.
impl MoveState for DefenderPlan {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_security_center_subscription_pricing" {
            return None;
        }
        Some((|| {
            let s = &source.state;
            let text = |k: &str| source.text(k);
            let raw_id = text("id").unwrap_or_default();
            let raw_id = if source.schema_version == 0 {
                raw_id.replace("/default", "/VirtualMachines")
            } else {
                raw_id.to_owned()
            };
            let id = PricingId::parse(&raw_id).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {raw_id:?}: {e}"),
                )
            })?;
            let name = text("resource_type").unwrap_or(&id.name).to_owned();
            let extensions = s
                .get("extension")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|e| {
                            let name = e.get("name")?.as_str()?.to_owned();
                            let properties = e
                                .get("additional_extension_properties")
                                .and_then(Value::as_object)
                                .filter(|m| !m.is_empty())
                                .map(|m| {
                                    m.iter()
                                        .map(|(k, v)| (k.clone(), property_text(v)))
                                        .collect()
                                });
                            Some((
                                name,
                                PlanExtension {
                                    enabled: true,
                                    properties,
                                },
                            ))
                        })
                        .collect()
                });
            let id = PlanId::subscription(&name, &id.subscription_id);
            Ok(PlanModel {
                id: Some(id.to_string()),
                name,
                tier: text("tier").unwrap_or("Free").to_owned(),
                subplan: text("subplan").map(str::to_owned),
                enforce: None,
                extensions,
                subscription_id: Some(id.subscription_id().to_owned()),
                scope: None,
                enablement_time: None,
                free_trial_remaining: None,
                resources_coverage_status: None,
                deprecated: None,
                replaced_by: None,
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and list (`terraform query`)

/// The identity of a `defender_plan`: `import { to = defender_plan.x, identity = { name =
/// "VirtualMachines" } }`, or with `scope` for a resource-level pricing.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_plan_identity")]
pub struct PlanIdentity {
    /// The subscription (lower case). Defaults to the provider's subscription on import (or,
    /// with `scope`, the machine's).
    pub subscription_id: Option<String>,
    /// The plan, e.g. `VirtualMachines` (any case on import).
    pub name: String,
    /// For a resource-level pricing: the machine's ARM ID. Null for a subscription's plan.
    pub scope: Option<String>,
}

impl crate::framework::Identity for DefenderPlan {
    type Identity = PlanIdentity;

    fn identity(&self, state: &Self::Model) -> Option<PlanIdentity> {
        let name = plan_catalog::find(&state.name)?.name.to_owned();
        let (subscription_id, scope) = match &state.scope {
            Some(s) => {
                let (id, sub) = parse_machine_scope(s).ok()?;
                (sub, Some(id.to_string()))
            }
            None => (state.subscription_id.clone()?, None),
        };
        Some(PlanIdentity {
            subscription_id: Some(super::discovery::canonical_subscription(&subscription_id)),
            name,
            scope,
        })
    }

    fn import_id(&self, ctx: &Ctx, identity: &PlanIdentity) -> Result<String, Diagnostics> {
        let name = plan_catalog::find(&identity.name).map_or(identity.name.as_str(), |p| p.name);
        if let Some(scope) = &identity.scope {
            let (id, _) = parse_machine_scope(scope)
                .map_err(|e| Diagnostic::error("Invalid identity", format!("scope: {e}")))?;
            return Ok(format!("{id}/providers/Microsoft.Security/pricings/{name}"));
        }
        let sub =
            super::discovery::identity_subscription(ctx, identity.subscription_id.as_deref())?;
        Ok(PlanId::subscription(name, &sub).to_string())
    }
}

/// Which plans a `list "defender_plan"` block finds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_plan_list")]
pub struct PlanListConfig {
    /// The subscriptions to look in, by ID. Defaults to the provider's subscription.
    pub subscription_ids: Option<Vec<String>>,
    /// Only plans of this tier: `Standard` (the plans that are on) or `Free`. All plans when
    /// unset.
    pub tier: Option<String>,
}

impl crate::framework::ListResource for DefenderPlan {
    type ListConfig = PlanListConfig;
    const LIST_DESCRIPTION: &'static str = "Lists the Defender plans (pricings) of \
        subscriptions, retired plans left out, each as `terraform import` reads it: tier, \
        sub-plan, `enforce` and every extension Azure reports. With `tier = \"Standard\"` only \
        the plans that are on. `terraform query -generate-config-out=FILE` writes a \
        `defender_plan` with an `import` block (by identity) for each; the generated \
        configuration plans empty.";

    fn validate_list(&self, config: &Config<'_, PlanListConfig>, diags: &mut Diagnostics) {
        super::discovery::validate_subscription_ids(
            config.model.subscription_ids.as_deref(),
            diags,
        );
        if let Some(t) = &config.model.tier
            && !(t.eq_ignore_ascii_case("Standard") || t.eq_ignore_ascii_case("Free"))
        {
            diags.error_at(
                AttrPath::root("tier"),
                "Invalid tier",
                format!("{t:?} is not a tier. Allowed values: \"Free\" and \"Standard\"."),
            );
        }
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: PlanListConfig,
        sink: crate::framework::ListSink<PlanModel>,
    ) -> Result<(), Diagnostics> {
        let arm = ctx.provider()?.arm().await?;
        for sub in super::discovery::list_subscriptions(ctx, config.subscription_ids.as_deref())? {
            let path = format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings");
            let items = arm.list(&path, API_VERSION, &[]).await.map_err(|e| {
                arm_error("listing", format!("Pricings (Subscription {sub:?})"), &e)
            })?;
            for item in &items {
                let Some(plan) = item
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(plan_catalog::find)
                    .filter(|p| !p.is_retired())
                else {
                    continue;
                };
                let tier = prop_str(item, "pricingTier").unwrap_or("Free");
                if config
                    .tier
                    .as_deref()
                    .is_some_and(|t| !t.eq_ignore_ascii_case(tier))
                {
                    continue;
                }
                // Exactly what import builds, so the generated configuration plans empty.
                let id = PlanId::subscription(plan.name, &sub).to_string();
                let state = Import::import(self, ctx, &id).await?;
                let shown = format!(
                    "{} ({}): {}{}",
                    plan.name,
                    sub,
                    state.tier,
                    state
                        .subplan
                        .as_deref()
                        .map(|s| format!(" {s}"))
                        .unwrap_or_default()
                );
                if !sink.send(shown, state).await {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    fn vm_scope() -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/DEMO/providers/Microsoft.Compute/virtualMachines/VM-1"
        )
    }

    #[test]
    fn subscription_plan_id() {
        let text =
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/VirtualMachines");
        let id = PlanId::parse(&text).unwrap();
        assert_eq!(id, PlanId::subscription("VirtualMachines", SUB));
        assert_eq!(id.to_string(), text);
        assert_eq!(id.name(), "VirtualMachines");
        assert_eq!(id.subscription_id(), SUB);
        assert!(id.scope().is_none());
        assert_eq!(
            id.describe(),
            format!("Pricing (Subscription \"{SUB}\" / Name \"VirtualMachines\")")
        );
        let shouty =
            format!("/SUBSCRIPTIONS/{SUB}/PROVIDERS/microsoft.security/PRICINGS/VirtualMachines");
        assert_eq!(PlanId::parse(&shouty).unwrap(), id);
    }

    #[test]
    fn resource_plan_id() {
        let text = format!(
            "{}/providers/Microsoft.Security/pricings/virtualMachines",
            vm_scope()
        );
        let id = PlanId::parse(&text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(id.subscription_id(), SUB);
        assert_eq!(id.scope().unwrap().to_string(), vm_scope());
        assert!(
            id.describe()
                .starts_with("Pricing (Resource \"/subscriptions/")
        );
        let lower = format!(
            "/subscriptions/{SUB}/resourcegroups/DEMO/PROVIDERS/Microsoft.Compute/virtualMachines/VM-1/providers/Microsoft.Security/pricings/virtualMachines"
        );
        assert_eq!(PlanId::parse(&lower).unwrap().to_string(), text);
    }

    #[test]
    fn bad_plan_ids() {
        for bad in [
            String::new(),
            format!("/subscriptions/{SUB}"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP"),
            format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Security/pricings/VirtualMachines"),
            "/subscriptions/nope/providers/Microsoft.Security/pricings/VirtualMachines".to_owned(),
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Security/pricings/VirtualMachines".to_owned(),
        ] {
            assert!(PlanId::parse(&bad).is_err(), "{bad:?}");
        }
        let e = PlanId::parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("expected /subscriptions/{subscriptionId}/providers/Microsoft.Security/pricings/{name}"), "{e}");
    }

    #[test]
    fn plan_id_round_trips() {
        for text in [
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/CloudPosture"),
            format!(
                "{}/providers/Microsoft.Security/pricings/VirtualMachines",
                vm_scope()
            ),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/arc1/providers/Microsoft.Security/pricings/VirtualMachines"
            ),
        ] {
            let id = PlanId::parse(&text).unwrap();
            assert_eq!(PlanId::parse(&id.to_string()).unwrap(), id);
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn machine_scopes() {
        assert!(parse_machine_scope(&vm_scope()).is_ok());
        let vmss = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/microsoft.compute/VIRTUALMACHINESCALESETS/ss"
        );
        assert!(parse_machine_scope(&vmss).is_ok());
        let aks = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/k"
        );
        let e = parse_machine_scope(&aks).unwrap_err();
        assert!(
            e.contains("Microsoft.ContainerService/managedClusters"),
            "{e}"
        );
        assert!(e.contains("\"Microsoft.HybridCompute/machines\""), "{e}");
        let e = parse_machine_scope(&format!("/subscriptions/{SUB}")).unwrap_err();
        assert!(e.contains("not a resource ID"), "{e}");
        let nested = format!("{}/extensions/x", vm_scope());
        assert!(parse_machine_scope(&nested).is_err());
    }

    #[test]
    fn properties_compare_by_meaning() {
        assert!(same_property("10", &json!(10)));
        assert!(same_property("10000", &json!("10000")));
        assert!(same_property("True", &json!("true")));
        assert!(same_property("[ ]", &json!("[]")));
        assert!(same_property(
            r#"[{"Key":"a","Value":"b"}]"#,
            &json!("[{'Key':'a','Value':'b'}]")
        ));
        assert!(same_property(
            r#"[ {"Key": "a", "Value": "b"} ]"#,
            &json!(r#"[{"Key":"a","Value":"b"}]"#)
        ));
        assert!(!same_property("5000", &json!(10)));
        assert!(!same_property("[]", &json!(r#"[{"Key":"a","Value":"b"}]"#)));
        assert!(!same_property("Abc", &json!("abc")));
    }

    fn model(ext: Option<BTreeMap<String, PlanExtension>>) -> PlanModel {
        PlanModel {
            id: None,
            name: "virtualmachines".into(),
            tier: "standard".into(),
            subplan: Some("p2".into()),
            enforce: None,
            extensions: ext,
            subscription_id: None,
            scope: None,
            enablement_time: None,
            free_trial_remaining: None,
            resources_coverage_status: None,
            deprecated: None,
            replaced_by: None,
        }
    }

    /// (name, enabled, properties)
    type ExtSpec<'a> = (&'a str, bool, &'a [(&'a str, &'a str)]);

    fn exts(items: &[ExtSpec<'_>]) -> BTreeMap<String, PlanExtension> {
        items
            .iter()
            .map(|(n, e, p)| {
                (
                    n.to_string(),
                    PlanExtension {
                        enabled: *e,
                        properties: (!p.is_empty()).then(|| {
                            p.iter()
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect()
                        }),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn read_back_keeps_configured_spelling_and_ignores_unmanaged() {
        let id = PlanId::subscription("VirtualMachines", SUB);
        let reference = model(Some(exts(&[
            ("AgentlessVmScanning", true, &[("ExclusionTags", "[ ]")]),
            ("MdeDesignatedSubscription", false, &[]),
        ])));
        let body = json!({"properties": {
        "pricingTier": "Standard", "subPlan": "P2", "enforce": "False",
        "freeTrialRemainingTime": "PT0S", "enablementTime": "2023-03-01T12:42:42.1921106Z",
        "resourcesCoverageStatus": "FullyCovered",
        "extensions": [
            {"name": "agentlessVmScanning", "isEnabled": "true",
             "additionalExtensionProperties": {"exclusionTags": "[]", "Added": "by Azure"}},
            {"name": "MdeDesignatedSubscription", "isEnabled": "False"},
            {"name": "FileIntegrityMonitoring", "isEnabled": "True"}
        ]}});
        let m = from_body(&body, &reference, &id);
        assert_eq!(m.tier, "standard");
        assert_eq!(m.subplan.as_deref(), Some("p2"));
        assert_eq!(m.name, "virtualmachines");
        assert_eq!(m.enforce, Some(false));
        assert_eq!(m.extensions, reference.extensions);
        assert_eq!(m.deprecated, Some(false));
        assert_eq!(m.replaced_by, Some(vec![]));
        assert_eq!(m.id.as_deref(), Some(id.to_string().as_str()));
    }

    #[test]
    fn read_back_shows_drift_and_failures() {
        let id = PlanId::subscription("StorageAccounts", SUB);
        let reference = PlanModel {
            name: "StorageAccounts".into(),
            subplan: None,
            ..model(Some(exts(&[
                (
                    "OnUploadMalwareScanning",
                    true,
                    &[("CapGBPerMonthPerStorageAccount", "5000")],
                ),
                ("SensitiveDataDiscovery", true, &[]),
            ])))
        };
        let body = json!({"properties": {
        "pricingTier": "Standard", "subPlan": "DefenderForStorageV2",
        "extensions": [
            {"name": "OnUploadMalwareScanning", "isEnabled": "True",
             "additionalExtensionProperties": {"capGBPerMonthPerStorageAccount": 10}},
            {"name": "SensitiveDataDiscovery", "isEnabled": "True",
             "operationStatus": {"code": "Failed", "message": "no roles"}}
        ]}});
        let m = from_body(&body, &reference, &id);
        let e = m.extensions.unwrap();
        assert_eq!(
            e["OnUploadMalwareScanning"].properties.as_ref().unwrap()["CapGBPerMonthPerStorageAccount"],
            "10"
        );
        assert!(!e["SensitiveDataDiscovery"].enabled);
        assert_eq!(m.subplan.as_deref(), Some("DefenderForStorageV2"));
    }

    #[test]
    fn put_body_sends_properties_only_for_enabled_extensions() {
        let id = PlanId::subscription("VirtualMachines", SUB);
        let m = PlanModel {
            enforce: Some(true),
            ..model(Some(exts(&[
                ("agentlessvmscanning", true, &[("ExclusionTags", "[]")]),
                ("MdeDesignatedSubscription", false, &[("X", "y")]),
            ])))
        };
        assert_eq!(
            put_body(&m, &id),
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P2", "enforce": "True",
            "extensions": [
                {"name": "MdeDesignatedSubscription", "isEnabled": "False"},
                {"name": "AgentlessVmScanning", "isEnabled": "True",
                 "additionalExtensionProperties": {"ExclusionTags": "[]"}}
            ]}})
        );
        let free = PlanModel {
            tier: "Free".into(),
            ..m.clone()
        };
        assert_eq!(
            put_body(&free, &id),
            json!({"properties": {"pricingTier": "Free", "enforce": "True"}})
        );
        let resource = PlanId::parse(&format!(
            "{}/providers/Microsoft.Security/pricings/VirtualMachines",
            vm_scope()
        ))
        .unwrap();
        let r = PlanModel {
            subplan: Some("P1".into()),
            extensions: None,
            ..m
        };
        assert_eq!(
            put_body(&r, &resource),
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}})
        );
    }

    #[test]
    fn in_progress_conflicts_are_recognised() {
        let conflict = |message: &str| ArmError::Status {
            status: 409,
            code: "Conflict".into(),
            message: message.into(),
            target: None,
            request_id: None,
            correlation_id: None,
            details: vec![],
            retry_after: None,
            method: "PUT".into(),
            url: "u".into(),
        };
        assert!(is_update_in_progress(&conflict(
            "Another update operation is in progress"
        )));
        assert!(!is_update_in_progress(&conflict(
            "Something else conflicts"
        )));
    }

    #[test]
    fn moves_from_azurerm() {
        let source = MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_security_center_subscription_pricing".into(),
            schema_version: 1,
            state: json!({
                "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/CloudPosture"),
                "tier": "Standard", "resource_type": "CloudPosture", "subplan": "",
                "extension": [
                    {"name": "AgentlessVmScanning", "additional_extension_properties": {"ExclusionTags": "[]"}},
                    {"name": "SensitiveDataDiscovery", "additional_extension_properties": null}
                ],
                "timeouts": null
            }),
        };
        let m = DefenderPlan.move_state(&source).unwrap().unwrap();
        assert_eq!(m.name, "CloudPosture");
        assert_eq!(m.subplan, None);
        assert_eq!(m.subscription_id.as_deref(), Some(SUB));
        let e = m.extensions.unwrap();
        assert!(e["AgentlessVmScanning"].enabled);
        assert_eq!(e["SensitiveDataDiscovery"].properties, None);
        let v0 = MoveSource {
            schema_version: 0,
            state: json!({"id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/default"), "tier": "Free"}),
            ..source.clone()
        };
        let m = DefenderPlan.move_state(&v0).unwrap().unwrap();
        assert_eq!(m.name, "VirtualMachines");
        let other = MoveSource {
            type_name: "azurerm_resource_group".into(),
            ..source
        };
        assert!(DefenderPlan.move_state(&other).is_none());
    }
}
