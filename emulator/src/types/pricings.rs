//! `Microsoft.Security/pricings`: the Defender plans, api-version 2024-01-01 (and 2023-01-01 at
//! subscription level). Contract: arm-api.md section 2; answers shaped as the examples in
//! `Microsoft.Security/2024-01-01/`.
//!
//! Subscription level (`/subscriptions/{sub}/providers/Microsoft.Security/pricings/{plan}`):
//! - every plan always exists: a never-written plan reads `Free`, with its extensions listed
//!   disabled and the read-only fields the examples show (`freeTrialRemainingTime`, `enforce`,
//!   `resourcesCoverageStatus`, `deprecated`/`replacedBy` for retired plans);
//! - PUT is synchronous and answers 200 with the resource plus, per extension it enabled,
//!   `operationStatus` (PutPricingByName_example.json); an extension whose enablement fails
//!   answers `isEnabled: "True"` with `operationStatus.code: Failed` and stays disabled
//!   (PutPricingByNamePartialSuccess_example.json);
//! - no DELETE: the spec allows it at resource scope only (arm-api.md 2.1).
//!
//! Resource level (`{vm, vmss or arc machine id}/providers/Microsoft.Security/pricings/{plan}`,
//! 2024-01-01 only): PUT only `VirtualMachines` with `Free`, or `Standard` + `P1` (arm-api.md
//! 2.1); GET of a resource without its own pricing answers the subscription's, `inherited:
//! "True"`; other plans read `Free`, `inherited: "False"` (ListResourcePricings_example.json);
//! DELETE answers 200, or 204 when the resource had no pricing of its own
//! (DeleteResourcePricing_example.json).
//!
//! Quirks modelled:
//! - ARM serialises pricing writes per subscription: a write while another is in flight (for
//!   `pricing_write_ms`) answers 409 `Conflict` "Another update operation is in progress"
//!   (DESIGN.md section 4; azurerm locks on the subscription for the same reason).
//! - `additionalExtensionProperties` on a disabled extension answers 500, "AdditionalProperties
//!   of Extension '…' can't be updated while the extension is disabled" (quoted in azurerm's
//!   security_center_subscription_pricing_resource.go).
//! - A PUT that moves a plan from Free to Standard enables the plan's default extensions and
//!   ignores the extensions it carries: azurerm's update code sends a second PUT for them
//!   because "the service will enable extensions in the first update" [3p].
//! - `isEnabled`, `pricingTier`, `subPlan` and `enforce` are accepted in any case and stored in
//!   the spec's casing; `isEnabled` and `enforce` are strings, not JSON booleans.
//! - `capGBPerMonthPerStorageAccount` is stored and answered as a JSON number and in that
//!   casing, as the StorageAccounts examples show it, whatever the request sent
//!   (azure-policy sends `CapGBPerMonthPerStorageAccount`, arm-api.md 2.3); JSON-string
//!   properties (`ExclusionTags`) come back re-serialised compactly.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Map, Value, json};

use super::{HandlerFuture, PutContext, PutOutcome, Request, ResourceRef, TypeSpec, Verb};
use crate::arm::path::{self, ScopeKind};
use crate::error::ArmError;
use crate::state::EmulatorState;
use crate::util::{query_get, rfc3339};

pub const API_2024: &str = "2024-01-01";
pub const API_2023: &str = "2023-01-01";

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Security",
    type_name: "pricings",
    full_type: "Microsoft.Security/pricings",
    scopes: &[ScopeKind::Subscription, ScopeKind::Resource],
    api_versions: &[API_2024, API_2023],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: PLAN_NAMES,
    default_body,
    put,
};

// ---------------------------------------------------------------------------------------------
// The catalog (arm-api.md 2.3)

/// Every plan, in the order of ListPricings_example.json, then the ones it does not show.
pub const PLAN_NAMES: &[&str] = &[
    "VirtualMachines",
    "SqlServers",
    "AppServices",
    "StorageAccounts",
    "SqlServerVirtualMachines",
    "KubernetesService",
    "ContainerRegistry",
    "KeyVaults",
    "Dns",
    "Arm",
    "OpenSourceRelationalDatabases",
    "Containers",
    "CloudPosture",
    "Api",
    "CosmosDbs",
    "AI",
];

/// How a known extension property is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    /// A JSON document in a string (`ExclusionTags`).
    JsonText,
    /// A JSON number (`capGBPerMonthPerStorageAccount`).
    Number,
}

#[derive(Debug)]
struct Property {
    name: &'static str,
    kind: Kind,
    /// What the service sets when it enables the extension without the property.
    default: Option<&'static str>,
}

#[derive(Debug)]
pub struct Extension {
    pub name: &'static str,
    /// Enabled when the plan moves to Standard.
    on_by_default: bool,
    /// Only with sub-plan P2 (Defender for Servers).
    p2_only: bool,
    properties: &'static [Property],
}

#[derive(Debug)]
pub struct Plan {
    pub name: &'static str,
    pub sub_plans: &'static [&'static str],
    /// The sub-plan a Standard PUT without one gets (UNVERIFIED: the service's defaults).
    default_sub_plan: Option<&'static str>,
    pub extensions: &'static [Extension],
    /// Non-empty for retired plans.
    pub replaced_by: &'static [&'static str],
}

const fn ext(name: &'static str, on_by_default: bool) -> Extension {
    Extension {
        name,
        on_by_default,
        p2_only: false,
        properties: &[],
    }
}

const fn plain(name: &'static str) -> Plan {
    Plan {
        name,
        sub_plans: &[],
        default_sub_plan: None,
        extensions: &[],
        replaced_by: &[],
    }
}

const AGENTLESS_VM_SCANNING: Extension = Extension {
    name: "AgentlessVmScanning",
    on_by_default: true,
    p2_only: false,
    properties: &[Property {
        name: "ExclusionTags",
        kind: Kind::JsonText,
        default: Some("[]"),
    }],
};

pub static PLANS: &[Plan] = &[
    Plan {
        name: "VirtualMachines",
        sub_plans: &["P1", "P2"],
        default_sub_plan: Some("P2"),
        extensions: &[
            // The examples show MdeDesignatedSubscription "False" after a Standard PUT.
            ext("MdeDesignatedSubscription", false),
            Extension {
                p2_only: true,
                ..AGENTLESS_VM_SCANNING
            },
            Extension {
                name: "FileIntegrityMonitoring",
                on_by_default: false,
                p2_only: true,
                properties: &[
                    Property {
                        name: "DefinedWorkspaceId",
                        kind: Kind::Text,
                        default: None,
                    },
                    Property {
                        name: "Rules",
                        kind: Kind::JsonText,
                        default: None,
                    },
                ],
            },
        ],
        replaced_by: &[],
    },
    plain("SqlServers"),
    plain("AppServices"),
    Plan {
        name: "StorageAccounts",
        sub_plans: &["DefenderForStorageV2", "PerStorageAccount"],
        default_sub_plan: Some("DefenderForStorageV2"),
        extensions: &[
            Extension {
                name: "OnUploadMalwareScanning",
                on_by_default: true,
                p2_only: false,
                properties: &[Property {
                    name: "capGBPerMonthPerStorageAccount",
                    kind: Kind::Number,
                    // azure-policy 17bc14a7's default (arm-api.md 2.3).
                    default: Some("10000"),
                }],
            },
            ext("SensitiveDataDiscovery", true),
        ],
        replaced_by: &[],
    },
    plain("SqlServerVirtualMachines"),
    Plan {
        replaced_by: &["Containers"],
        ..plain("KubernetesService")
    },
    Plan {
        replaced_by: &["Containers"],
        ..plain("ContainerRegistry")
    },
    Plan {
        name: "KeyVaults",
        sub_plans: &["PerTransaction", "PerKeyVault"],
        default_sub_plan: Some("PerKeyVault"),
        extensions: &[],
        replaced_by: &[],
    },
    Plan {
        replaced_by: &["VirtualMachines"],
        ..plain("Dns")
    },
    Plan {
        name: "Arm",
        sub_plans: &["PerSubscription", "PerApiCall"],
        default_sub_plan: Some("PerSubscription"),
        extensions: &[],
        replaced_by: &[],
    },
    plain("OpenSourceRelationalDatabases"),
    Plan {
        extensions: &[
            ext("ContainerRegistriesVulnerabilityAssessments", true),
            ext("AgentlessDiscoveryForKubernetes", true),
            AGENTLESS_VM_SCANNING,
            Extension {
                name: "ContainerSensor",
                on_by_default: true,
                p2_only: false,
                properties: &[Property {
                    name: "SecurityGatingEnabled",
                    kind: Kind::Text,
                    default: None,
                }],
            },
            ext("ContainerIntegrityContribution", true),
        ],
        ..plain("Containers")
    },
    Plan {
        extensions: &[
            AGENTLESS_VM_SCANNING,
            ext("AgentlessDiscoveryForKubernetes", true),
            ext("SensitiveDataDiscovery", true),
            ext("ContainerRegistriesVulnerabilityAssessments", true),
            ext("EntraPermissionsManagement", true),
        ],
        ..plain("CloudPosture")
    },
    Plan {
        // P1-P5 are UNVERIFIED (arm-api.md 2.3); the list example shows P1.
        sub_plans: &["P1", "P2", "P3", "P4", "P5"],
        default_sub_plan: Some("P1"),
        ..plain("Api")
    },
    plain("CosmosDbs"),
    Plan {
        extensions: &[
            ext("AIPromptEvidence", true),
            ext("AIPromptSharingWithPurview", true),
        ],
        ..plain("AI")
    },
];

/// The plan named `name`, compared case-insensitively.
pub fn plan(name: &str) -> Option<&'static Plan> {
    PLANS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

impl Plan {
    fn extension(&self, name: &str) -> Option<&'static Extension> {
        self.extensions
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    fn sub_plan(&self, name: &str) -> Option<&'static str> {
        self.sub_plans
            .iter()
            .copied()
            .find(|s| s.eq_ignore_ascii_case(name))
    }

    fn extension_names(&self) -> String {
        self.extensions
            .iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The resource types a resource-level pricing can sit on (arm-api.md 2.1: "VirtualMachines,
/// VMSS and ARC Machines").
const RESOURCE_SCOPES: &[&str] = &[
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Compute/virtualMachineScaleSets",
    "Microsoft.HybridCompute/machines",
];

// ---------------------------------------------------------------------------------------------
// Bodies

/// A never-written plan: Free, its extensions listed disabled.
fn default_body(resource: &ResourceRef) -> Value {
    let Some(plan) = plan(&resource.name) else {
        return super::envelope(resource, json!({ "pricingTier": "Free" }));
    };
    if resource.subscription.is_some() && resource.scope_id.contains("/providers/") {
        // A resource without its own pricing. What it inherits depends on the subscription's
        // plan, which the handler reads; this is only the control endpoint's view.
        return super::envelope(resource, resource_level_free(resource, true));
    }
    let mut p = Map::new();
    p.insert("pricingTier".into(), "Free".into());
    p.insert("freeTrialRemainingTime".into(), "PT0S".into());
    p.insert("enforce".into(), "False".into());
    p.insert("resourcesCoverageStatus".into(), "NotCovered".into());
    retired(plan, &mut p);
    if !plan.extensions.is_empty() {
        let exts = plan
            .extensions
            .iter()
            .map(|e| json!({ "name": e.name, "isEnabled": "False" }))
            .collect();
        p.insert("extensions".into(), Value::Array(exts));
    }
    super::envelope(resource, Value::Object(p))
}

fn resource_level_free(resource: &ResourceRef, inherited: bool) -> Value {
    let from = if inherited {
        Value::String(format!(
            "/subscriptions/{}",
            resource.subscription.as_deref().unwrap_or_default()
        ))
    } else {
        Value::Null
    };
    json!({
        "pricingTier": "Free",
        "inherited": if inherited { "True" } else { "False" },
        "inheritedFrom": from,
    })
}

fn retired(plan: &Plan, p: &mut Map<String, Value>) {
    if !plan.replaced_by.is_empty() {
        p.insert("deprecated".into(), Value::Bool(true));
        p.insert("replacedBy".into(), json!(plan.replaced_by));
    }
}

/// 2023-01-01 has no `enforce`, `inherited`, `inheritedFrom` or `resourcesCoverageStatus`
/// (arm-api.md 2.2).
fn for_api_version(mut body: Value, api_version: &str) -> Value {
    if api_version.eq_ignore_ascii_case(API_2023)
        && let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut)
    {
        for k in [
            "enforce",
            "inherited",
            "inheritedFrom",
            "resourcesCoverageStatus",
        ] {
            p.remove(k);
        }
    }
    body
}

fn prop<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get("properties")?.get(name)
}

fn prop_str<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    prop(body, name)?.as_str()
}

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

// ---------------------------------------------------------------------------------------------
// PUT validation (pure)

fn invalid(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("InvalidInputJson", message)
}

/// One requested extension, validated.
#[derive(Debug)]
struct ExtensionRequest {
    ext: &'static Extension,
    enabled: bool,
    properties: Map<String, Value>,
}

/// A validated PUT.
#[derive(Debug)]
struct PricingRequest {
    standard: bool,
    sub_plan: Option<&'static str>,
    enforce: Option<bool>,
    extensions: Vec<ExtensionRequest>,
}

fn validate(plan: &Plan, body: &Value, api_version: &str) -> Result<PricingRequest, ArmError> {
    let props = match body.get("properties") {
        Some(Value::Object(p)) => p,
        _ => return Err(invalid("The 'properties' property is required.")),
    };
    let standard = match props.get("pricingTier") {
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Standard") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Free") => false,
        None | Some(Value::Null) => {
            return Err(invalid(
                "The 'properties.pricingTier' property is required. Allowed values: 'Free', 'Standard'.",
            ));
        }
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.pricingTier' is not valid. Allowed values: 'Free', 'Standard'."
            )));
        }
    };
    let sub_plan = match props.get("subPlan") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match plan.sub_plan(s) {
            Some(c) => Some(c),
            None if plan.sub_plans.is_empty() => {
                return Err(invalid(format!(
                    "Plan '{}' has no sub-plans; 'subPlan' '{s}' is not valid.",
                    plan.name
                )));
            }
            None => {
                return Err(invalid(format!(
                    "Sub-plan '{s}' is not valid for plan '{}'. Allowed values: {}.",
                    plan.name,
                    quoted(plan.sub_plans)
                )));
            }
        },
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.subPlan' is not a string."
            )));
        }
    };
    // 2023-01-01 has no `enforce`; its model drops it.
    let enforce = match props.get("enforce") {
        _ if api_version.eq_ignore_ascii_case(API_2023) => None,
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("True") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("False") => Some(false),
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.enforce' is not valid. Allowed values: 'True', 'False'."
            )));
        }
    };
    let effective_sub_plan = sub_plan.or(plan.default_sub_plan);
    let mut extensions = Vec::new();
    let requested = match props.get("extensions") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => return Err(invalid("'properties.extensions' must be an array.")),
    };
    for item in requested {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            return Err(invalid("Every extension needs a 'name'."));
        };
        let Some(ext) = plan.extension(name) else {
            return Err(invalid(if plan.extensions.is_empty() {
                format!(
                    "Extension '{name}' is not valid: plan '{}' has no extensions.",
                    plan.name
                )
            } else {
                format!(
                    "Extension '{name}' is not valid for plan '{}'. Allowed values: {}.",
                    plan.name,
                    plan.extension_names()
                )
            }));
        };
        let enabled = match item.get("isEnabled") {
            Some(Value::String(s)) if s.eq_ignore_ascii_case("True") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("False") => false,
            _ => {
                return Err(invalid(format!(
                    "Extension '{}': 'isEnabled' is required. Allowed values: 'True', 'False'.",
                    ext.name
                )));
            }
        };
        let given = match item.get("additionalExtensionProperties") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                return Err(invalid(format!(
                    "Extension '{}': 'additionalExtensionProperties' must be an object.",
                    ext.name
                )));
            }
        };
        if given.is_some() && !enabled {
            // The real service's answer, as azurerm quotes it.
            return Err(ArmError::custom(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                format!(
                    "AdditionalProperties of Extension '{}' can't be updated while the extension is disabled (IsEnabled = False)",
                    ext.name
                ),
            ));
        }
        if enabled && !standard {
            return Err(invalid(format!(
                "Extension '{}' cannot be enabled when the pricing tier is 'Free'.",
                ext.name
            )));
        }
        if enabled && ext.p2_only && effective_sub_plan == Some("P1") {
            return Err(invalid(format!(
                "Extension '{}' is available only with sub-plan 'P2' of plan '{}'.",
                ext.name, plan.name
            )));
        }
        let mut properties = Map::new();
        for (k, v) in given.into_iter().flatten() {
            let (key, value) = normalise_property(ext, k, v)?;
            properties.insert(key, value);
        }
        extensions.push(ExtensionRequest {
            ext,
            enabled,
            properties,
        });
    }
    Ok(PricingRequest {
        standard,
        sub_plan,
        enforce,
        extensions,
    })
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A property as the service stores it: known names in its casing and type.
fn normalise_property(
    ext: &Extension,
    key: &str,
    value: &Value,
) -> Result<(String, Value), ArmError> {
    let Some(known) = ext
        .properties
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(key))
    else {
        return Ok((key.to_owned(), value.clone()));
    };
    let value = match (known.kind, value) {
        (Kind::Number, Value::Number(_)) => value.clone(),
        (Kind::Number, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => {
                return Err(invalid(format!(
                    "Extension '{}': '{}' must be a number, not '{s}'.",
                    ext.name, known.name
                )));
            }
        },
        (Kind::JsonText, Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(doc) => Value::String(doc.to_string()),
            Err(_) => value.clone(),
        },
        (_, Value::String(_)) => value.clone(),
        (_, other) => Value::String(match other {
            Value::Bool(b) => true_false(*b).to_owned(),
            v => v.to_string(),
        }),
    };
    Ok((known.name.to_owned(), value))
}

fn default_property(p: &Property) -> Option<Value> {
    let d = p.default?;
    Some(match p.kind {
        Kind::Number => d
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| d.into()),
        _ => Value::String(d.to_owned()),
    })
}

// ---------------------------------------------------------------------------------------------
// PUT: the new body (pure)

/// What a PUT stores and what it answers (the answer adds `operationStatus`).
#[derive(Debug)]
struct Applied {
    stored: Value,
    answer: Value,
}

const ENABLED_MESSAGE: &str = "Successfully enabled extension";

/// A subscription-level PUT applied to the plan's current body.
fn apply_subscription(
    plan: &Plan,
    resource: &ResourceRef,
    request: &PricingRequest,
    existing: &Value,
    now: &str,
    failing: &[String],
) -> Applied {
    let was_standard =
        prop_str(existing, "pricingTier").is_some_and(|t| t.eq_ignore_ascii_case("Standard"));
    let mut p = Map::new();
    p.insert(
        "pricingTier".into(),
        (if request.standard { "Standard" } else { "Free" }).into(),
    );
    if request.standard {
        let kept = prop_str(existing, "subPlan").and_then(|s| plan.sub_plan(s));
        if let Some(s) = request.sub_plan.or(kept).or(plan.default_sub_plan) {
            p.insert("subPlan".into(), s.into());
        }
    }
    let existing_trial = prop_str(existing, "freeTrialRemainingTime").unwrap_or("PT0S");
    let first_enablement = request.standard && prop(existing, "enablementTime").is_none();
    // A plan's 30-day trial starts the first time it is set to Standard.
    let trial = if first_enablement {
        "P30D"
    } else {
        existing_trial
    };
    p.insert("freeTrialRemainingTime".into(), trial.into());
    if request.standard && !was_standard {
        p.insert("enablementTime".into(), now.into());
    } else if let Some(t) = prop(existing, "enablementTime") {
        p.insert("enablementTime".into(), t.clone());
    }
    let enforce = request
        .enforce
        .unwrap_or_else(|| is_true(prop(existing, "enforce")));
    p.insert("enforce".into(), true_false(enforce).into());
    p.insert(
        "resourcesCoverageStatus".into(),
        (if request.standard {
            "FullyCovered"
        } else {
            "NotCovered"
        })
        .into(),
    );
    retired(plan, &mut p);
    let (stored_exts, answer_exts) =
        apply_extensions(plan, request, existing, was_standard, failing);
    let mut answer = p.clone();
    if !stored_exts.is_empty() {
        p.insert("extensions".into(), Value::Array(stored_exts));
        answer.insert("extensions".into(), Value::Array(answer_exts));
    }
    Applied {
        stored: super::envelope(resource, Value::Object(p)),
        answer: super::envelope(resource, Value::Object(answer)),
    }
}

/// The extension lists to store and to answer.
fn apply_extensions(
    plan: &Plan,
    request: &PricingRequest,
    existing: &Value,
    was_standard: bool,
    failing: &[String],
) -> (Vec<Value>, Vec<Value>) {
    // Start from what the plan has: its known extensions in catalog order (seeded bodies may
    // miss some), then any others the stored body carries.
    let current: Vec<Value> = prop(existing, "extensions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let find = |name: &str| {
        current.iter().find(|e| {
            e.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    let mut exts: Vec<(Map<String, Value>, Option<bool>)> = Vec::new();
    for e in plan.extensions {
        let mut m = Map::new();
        m.insert("name".into(), e.name.into());
        let old = find(e.name);
        let on = is_true(old.and_then(|o| o.get("isEnabled")));
        m.insert("isEnabled".into(), true_false(on).into());
        if let Some(props) = old.and_then(|o| o.get("additionalExtensionProperties")) {
            m.insert("additionalExtensionProperties".into(), props.clone());
        }
        exts.push((m, None));
    }
    for old in &current {
        let name = old.get("name").and_then(Value::as_str).unwrap_or_default();
        if plan.extension(name).is_none()
            && let Some(m) = old.as_object()
        {
            exts.push((m.clone(), None));
        }
    }

    let failed = |name: &str| failing.iter().any(|f| f.eq_ignore_ascii_case(name));
    let enable = |m: &mut Map<String, Value>, status: &mut Option<bool>, ext: &Extension| {
        let ok = !failed(ext.name);
        m.insert("isEnabled".into(), true_false(ok).into());
        *status = Some(ok);
        if ok {
            let props = m
                .entry("additionalExtensionProperties")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(props) = props.as_object_mut() {
                for p in ext.properties {
                    if !props.keys().any(|k| k.eq_ignore_ascii_case(p.name))
                        && let Some(d) = default_property(p)
                    {
                        props.insert(p.name.to_owned(), d);
                    }
                }
            }
            if m.get("additionalExtensionProperties")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                m.remove("additionalExtensionProperties");
            }
        }
    };

    if !request.standard {
        for (m, _) in &mut exts {
            m.insert("isEnabled".into(), "False".into());
        }
    } else if !was_standard {
        // Free -> Standard: the service turns on the plan's defaults and the request's
        // extensions do not take effect (see the module comment).
        for (i, e) in plan.extensions.iter().enumerate() {
            let (m, status) = &mut exts[i];
            if e.on_by_default {
                enable(m, status, e);
            } else {
                m.insert("isEnabled".into(), "False".into());
            }
        }
    } else {
        for r in &request.extensions {
            let Some(i) = plan.extensions.iter().position(|e| std::ptr::eq(e, r.ext)) else {
                continue;
            };
            let (m, status) = &mut exts[i];
            if r.enabled {
                let props = m
                    .entry("additionalExtensionProperties")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(props) = props.as_object_mut() {
                    for (k, v) in &r.properties {
                        props.retain(|old, _| !old.eq_ignore_ascii_case(k));
                        props.insert(k.clone(), v.clone());
                    }
                }
                enable(m, status, r.ext);
            } else {
                m.insert("isEnabled".into(), "False".into());
                *status = None;
            }
        }
    }

    let stored: Vec<Value> = exts.iter().map(|(m, _)| Value::Object(m.clone())).collect();
    let answer = exts
        .into_iter()
        .map(|(mut m, status)| {
            match status {
                Some(true) => {
                    m.insert(
                        "operationStatus".into(),
                        json!({ "code": "Succeeded", "message": ENABLED_MESSAGE }),
                    );
                }
                Some(false) => {
                    // The answer says what was asked, with the failure (partial-success example).
                    m.insert("isEnabled".into(), "True".into());
                    let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
                    m.insert(
                        "operationStatus".into(),
                        json!({
                            "code": "Failed",
                            "message": format!(
                                "Failed assigning roles to the Defender for Cloud application for extension '{name}'"
                            ),
                        }),
                    );
                }
                None => {}
            }
            Value::Object(m)
        })
        .collect();
    (stored, answer)
}

/// The TypeSpec's PUT hook: a subscription-level PUT without the handler's serialisation
/// (the handler is what serves requests; this keeps the generic contract).
fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let plan = known_plan(&ctx.resource.name)?;
    let request = validate(plan, &ctx.body, ctx.api_version)?;
    let existing = ctx
        .existing
        .cloned()
        .unwrap_or_else(|| default_body(ctx.resource));
    let applied = apply_subscription(
        plan,
        ctx.resource,
        &request,
        &existing,
        &rfc3339(SystemTime::now()),
        &ctx.runtime.pricing_failing_extensions,
    );
    Ok(PutOutcome {
        body: applied.stored,
        status: StatusCode::OK,
    })
}

fn known_plan(name: &str) -> Result<&'static Plan, ArmError> {
    plan(name).ok_or_else(|| {
        invalid(format!(
            "Pricing '{name}' is not supported. Supported pricings: {}.",
            PLAN_NAMES.join(", ")
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Serialised writes

/// Subscriptions with a pricing write in flight, per emulator (keyed by its base URL, unique
/// among running emulators).
static IN_FLIGHT: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// Holds a subscription's in-flight marker until dropped (also when the client goes away).
struct WriteGuard(String);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        IN_FLIGHT.lock().remove(&self.0);
    }
}

fn begin_write(state: &EmulatorState, subscription: &str) -> Result<WriteGuard, ArmError> {
    let key = format!("{}|{}", state.base_url, subscription.to_ascii_lowercase());
    if !IN_FLIGHT.lock().insert(key.clone()) {
        return Err(ArmError::custom(
            StatusCode::CONFLICT,
            "Conflict",
            "Another update operation is in progress",
        ));
    }
    Ok(WriteGuard(key))
}

/// Takes the subscription's marker and holds it for the configured write duration.
async fn write(state: &EmulatorState, subscription: &str) -> Result<WriteGuard, ArmError> {
    let guard = begin_write(state, subscription)?;
    let ms = state.runtime().pricing_write_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(guard)
}

// ---------------------------------------------------------------------------------------------
// The handler

pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        match req.scope {
            ScopeKind::Subscription => subscription_level(req).await,
            _ => resource_level(req).await,
        }
    })
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn not_found(resource: &ResourceRef) -> ArmError {
    ArmError::ResourceNotFound {
        type_and_name: format!("{}/{}", SPEC.full_type, resource.name),
        resource_group: resource
            .resource_group
            .clone()
            .unwrap_or_else(|| "<null>".to_owned()),
    }
}

fn subscription_id(req: &Request<'_>) -> String {
    req.resource
        .as_ref()
        .and_then(|r| r.subscription.clone())
        .unwrap_or_else(|| {
            req.scope_id
                .trim_start_matches("/subscriptions/")
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
}

/// The current body of a subscription plan (stored, seeded or default).
fn subscription_body(state: &EmulatorState, subscription: &str, plan: &Plan) -> Value {
    let id = format!(
        "/subscriptions/{subscription}/providers/Microsoft.Security/pricings/{}",
        plan.name
    );
    crate::arm::effective_resource(state, &id).unwrap_or_else(|| {
        default_body(&ResourceRef {
            id,
            name: plan.name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: format!("/subscriptions/{subscription}"),
            subscription: Some(subscription.to_owned()),
            resource_group: None,
        })
    })
}

async fn subscription_level(req: Request<'_>) -> Result<Response, ArmError> {
    let state = req.state;
    let sub = subscription_id(&req);
    match (req.verb, &req.resource) {
        (Verb::List, _) => {
            let wanted = match query_get(req.query, "$filter") {
                Some(f) => Some(parse_name_filter(f)?),
                None => None,
            };
            let items = PLANS
                .iter()
                .filter(|p| {
                    wanted
                        .as_ref()
                        .is_none_or(|w| w.iter().any(|n| n.eq_ignore_ascii_case(p.name)))
                })
                .map(|p| for_api_version(subscription_body(state, &sub, p), req.api_version))
                .collect();
            list_answer(&req, items)
        }
        (Verb::Get, Some(resource)) => {
            let plan = plan(&resource.name).ok_or_else(|| not_found(resource))?;
            Ok(answer(
                StatusCode::OK,
                for_api_version(subscription_body(state, &sub, plan), req.api_version),
            ))
        }
        (Verb::Put, Some(resource)) => {
            let plan = known_plan(&resource.name)?;
            let body = req.body.as_ref().unwrap_or(&Value::Null);
            let request = validate(plan, body, req.api_version)?;
            let _guard = write(state, &sub).await?;
            let existing = subscription_body(state, &sub, plan);
            let runtime = state.runtime();
            let applied = apply_subscription(
                plan,
                resource,
                &request,
                &existing,
                &rfc3339(SystemTime::now()),
                &runtime.pricing_failing_extensions,
            );
            state.store.put(&resource.id, applied.stored);
            state.store.save_or_log();
            Ok(answer(
                StatusCode::OK,
                for_api_version(applied.answer, req.api_version),
            ))
        }
        // The spec's DELETE is for resource scope only (arm-api.md 2.1); what the service
        // answers at subscription scope is UNVERIFIED.
        (Verb::Delete, _) => Err(ArmError::bad_request(
            "BadRequest",
            "Pricings can be deleted only at resource scope (VirtualMachines, VMSS and ARC Machines). To turn a plan off for a subscription, set its pricingTier to 'Free'.",
        )),
        _ => Err(ArmError::bad_request("BadRequest", "Unsupported request.")),
    }
}

fn list_answer(req: &Request<'_>, items: Vec<Value>) -> Result<Response, ArmError> {
    let page = crate::arm::paging::page(
        items,
        req.query,
        req.state.runtime().page_size,
        req.state.base_url(),
        req.path,
    )?;
    Ok(answer(StatusCode::OK, page))
}

/// `name in (VirtualMachines,KeyVaults)` (ListPricingsWithPlanFilter_example.json), the only
/// filter the spec describes; names may be quoted.
fn parse_name_filter(filter: &str) -> Result<Vec<String>, ArmError> {
    let bad = || {
        ArmError::bad_request(
            "InvalidFilter",
            format!("The $filter '{filter}' is not supported. Use: name in (plan1,plan2,...)."),
        )
    };
    let t = filter.trim();
    let (field, rest) = t.split_once(char::is_whitespace).ok_or_else(bad)?;
    let (op, rest) = rest.trim_start().split_once(['(', ' ']).ok_or_else(bad)?;
    if !field.eq_ignore_ascii_case("name") || !op.trim().eq_ignore_ascii_case("in") {
        return Err(bad());
    }
    let list = rest
        .trim()
        .trim_start_matches('(')
        .strip_suffix(')')
        .ok_or_else(bad)?;
    let names: Vec<String> = list
        .split(',')
        .map(|n| n.trim().trim_matches(['\'', '"']).to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(bad());
    }
    Ok(names)
}

/// `Namespace/type` of the resource a resource-level pricing sits on, if it is one of
/// [`RESOURCE_SCOPES`].
fn resource_scope_type(scope_id: &str) -> Option<&'static str> {
    let provider = path::parse(scope_id)?.provider?;
    if provider.is_collection() || provider.types.len() != 1 {
        return None;
    }
    let full = provider.full_type();
    RESOURCE_SCOPES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(&full))
}

async fn resource_level(req: Request<'_>) -> Result<Response, ArmError> {
    let state = req.state;
    if !req.api_version.eq_ignore_ascii_case(API_2024) {
        return Err(ArmError::InvalidApiVersion {
            given: req.api_version.to_owned(),
            supported: API_2024.to_owned(),
        });
    }
    if req.scope != ScopeKind::Resource || resource_scope_type(&req.scope_id).is_none() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "Pricing on resource level is supported only for VirtualMachines, VMSS and ARC Machines ({}); '{}' is not one.",
                RESOURCE_SCOPES.join(", "),
                req.scope_id
            ),
        ));
    }
    let sub = subscription_id(&req);
    let collection = req.collection_id.clone();
    let view = |plan: &'static Plan| -> Value {
        let resource = ResourceRef {
            id: format!("{collection}/{}", plan.name),
            name: plan.name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: req.scope_id.clone(),
            subscription: Some(sub.clone()),
            resource_group: req.resource.as_ref().and_then(|r| r.resource_group.clone()),
        };
        resource_view(state, &sub, plan, &resource)
    };
    match (req.verb, &req.resource) {
        (Verb::List, _) => {
            let items = PLANS.iter().map(view).collect();
            list_answer(&req, items)
        }
        (Verb::Get, Some(resource)) => {
            let plan = plan(&resource.name).ok_or_else(|| not_found(resource))?;
            Ok(answer(
                StatusCode::OK,
                resource_view(state, &sub, plan, resource),
            ))
        }
        (Verb::Put, Some(resource)) => {
            let plan = known_plan(&resource.name)?;
            if plan.name != "VirtualMachines" {
                return Err(resource_level_only());
            }
            let body = req.body.as_ref().unwrap_or(&Value::Null);
            let request = validate(plan, body, req.api_version)?;
            if request.standard && request.sub_plan != Some("P1") {
                return Err(resource_level_only());
            }
            let _guard = write(state, &sub).await?;
            let existing = state.store.get(&resource.id).map(|s| s.body);
            let inherited = subscription_body(state, &sub, plan);
            let mut p = Map::new();
            p.insert(
                "pricingTier".into(),
                (if request.standard { "Standard" } else { "Free" }).into(),
            );
            if request.standard {
                p.insert("subPlan".into(), "P1".into());
            }
            p.insert(
                "freeTrialRemainingTime".into(),
                prop(&inherited, "freeTrialRemainingTime")
                    .cloned()
                    .unwrap_or_else(|| "PT0S".into()),
            );
            let was_standard = existing.as_ref().is_some_and(|e| {
                prop_str(e, "pricingTier").is_some_and(|t| t.eq_ignore_ascii_case("Standard"))
            });
            if request.standard && !was_standard {
                p.insert("enablementTime".into(), rfc3339(SystemTime::now()).into());
            } else if let Some(t) = existing.as_ref().and_then(|e| prop(e, "enablementTime")) {
                p.insert("enablementTime".into(), t.clone());
            }
            p.insert("inherited".into(), "False".into());
            p.insert("inheritedFrom".into(), Value::Null);
            if request.standard && !request.extensions.is_empty() {
                let exts = request
                    .extensions
                    .iter()
                    .map(|r| {
                        let mut m = Map::new();
                        m.insert("name".into(), r.ext.name.into());
                        m.insert("isEnabled".into(), true_false(r.enabled).into());
                        if !r.properties.is_empty() {
                            m.insert(
                                "additionalExtensionProperties".into(),
                                Value::Object(r.properties.clone()),
                            );
                        }
                        Value::Object(m)
                    })
                    .collect();
                p.insert("extensions".into(), Value::Array(exts));
            }
            let body = super::envelope(resource, Value::Object(p));
            let created = state.store.put(&resource.id, body.clone());
            state.store.save_or_log();
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(answer(status, body))
        }
        (Verb::Delete, Some(resource)) => {
            let _guard = write(state, &sub).await?;
            match state.store.delete(&resource.id) {
                Some(_) => {
                    state.store.save_or_log();
                    Ok(StatusCode::OK.into_response())
                }
                None => Ok(StatusCode::NO_CONTENT.into_response()),
            }
        }
        _ => Err(ArmError::bad_request("BadRequest", "Unsupported request.")),
    }
}

fn resource_level_only() -> ArmError {
    // The spec's words (arm-api.md 2.1).
    ArmError::bad_request(
        "BadRequest",
        "Pricing on resource level is only supported for plan='VirtualMachines' with subPlan='P1', or pricingTier='Free'.",
    )
}

/// What GET answers for a plan on a resource: its own pricing, or the subscription's
/// (`inherited: "True"`) for VirtualMachines, or Free for plans that have no resource level.
fn resource_view(state: &EmulatorState, sub: &str, plan: &Plan, resource: &ResourceRef) -> Value {
    if let Some(stored) = state.store.get(&resource.id) {
        return stored.body;
    }
    if plan.name != "VirtualMachines" {
        return super::envelope(resource, resource_level_free(resource, false));
    }
    let parent = subscription_body(state, sub, plan);
    let mut p = Map::new();
    for k in [
        "pricingTier",
        "subPlan",
        "freeTrialRemainingTime",
        "enablementTime",
    ] {
        if let Some(v) = prop(&parent, k) {
            p.insert(k.into(), v.clone());
        }
    }
    p.insert("inherited".into(), "True".into());
    p.insert(
        "inheritedFrom".into(),
        format!("/subscriptions/{sub}").into(),
    );
    if let Some(e) = prop(&parent, "extensions") {
        p.insert("extensions".into(), e.clone());
    }
    super::envelope(resource, Value::Object(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    fn resource(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/{name}"),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: format!("/subscriptions/{SUB}"),
            subscription: Some(SUB.to_owned()),
            resource_group: None,
        }
    }

    fn run(name: &str, existing: Option<Value>, body: Value) -> Result<Applied, ArmError> {
        run_failing(name, existing, body, &[])
    }

    fn run_failing(
        name: &str,
        existing: Option<Value>,
        body: Value,
        failing: &[&str],
    ) -> Result<Applied, ArmError> {
        let plan = plan(name).unwrap();
        let r = resource(plan.name);
        let request = validate(plan, &body, API_2024)?;
        let existing = existing.unwrap_or_else(|| default_body(&r));
        let failing: Vec<String> = failing.iter().map(|s| s.to_string()).collect();
        Ok(apply_subscription(
            plan,
            &r,
            &request,
            &existing,
            "2026-07-01T00:00:00Z",
            &failing,
        ))
    }

    fn ext<'a>(body: &'a Value, name: &str) -> &'a Value {
        body["properties"]["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {body}"))
    }

    #[test]
    fn defaults_are_free_with_extensions_listed_disabled() {
        let body = default_body(&resource("VirtualMachines"));
        assert_eq!(
            body["properties"],
            json!({
                "pricingTier": "Free", "freeTrialRemainingTime": "PT0S", "enforce": "False",
                "resourcesCoverageStatus": "NotCovered",
                "extensions": [
                    {"name": "MdeDesignatedSubscription", "isEnabled": "False"},
                    {"name": "AgentlessVmScanning", "isEnabled": "False"},
                    {"name": "FileIntegrityMonitoring", "isEnabled": "False"}
                ]
            })
        );
        let dns = default_body(&resource("Dns"));
        assert_eq!(dns["properties"]["deprecated"], true);
        assert_eq!(dns["properties"]["replacedBy"], json!(["VirtualMachines"]));
        assert!(dns["properties"].get("extensions").is_none());
    }

    #[test]
    fn free_to_standard_enables_defaults_and_ignores_requested_extensions() {
        let out = run(
            "virtualmachines",
            None,
            json!({"properties": {"pricingTier": "standard", "extensions": [
                {"name": "AgentlessVmScanning", "isEnabled": "false"}]}}),
        )
        .unwrap();
        let p = &out.answer["properties"];
        assert_eq!(p["pricingTier"], "Standard");
        assert_eq!(p["subPlan"], "P2");
        assert_eq!(p["enablementTime"], "2026-07-01T00:00:00Z");
        assert_eq!(p["freeTrialRemainingTime"], "P30D");
        assert_eq!(p["resourcesCoverageStatus"], "FullyCovered");
        let scan = ext(&out.answer, "AgentlessVmScanning");
        assert_eq!(scan["isEnabled"], "True");
        assert_eq!(
            scan["additionalExtensionProperties"],
            json!({"ExclusionTags": "[]"})
        );
        assert_eq!(scan["operationStatus"]["code"], "Succeeded");
        assert_eq!(
            ext(&out.answer, "MdeDesignatedSubscription")["isEnabled"],
            "False"
        );
        assert!(
            ext(&out.stored, "AgentlessVmScanning")
                .get("operationStatus")
                .is_none()
        );
    }

    #[test]
    fn standard_put_applies_only_the_extensions_it_names() {
        let first = run(
            "VirtualMachines",
            None,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .unwrap();
        let out = run(
            "VirtualMachines",
            Some(first.stored),
            json!({"properties": {"pricingTier": "Standard", "subPlan": "p2", "enforce": "true",
                "extensions": [
                    {"name": "agentlessvmscanning", "isEnabled": "True",
                     "additionalExtensionProperties": {"exclusiontags": "[ {\"Key\": \"a\", \"Value\": \"b\"} ]"}},
                    {"name": "MdeDesignatedSubscription", "isEnabled": "True"}]}}),
        )
        .unwrap();
        let p = &out.stored["properties"];
        assert_eq!(p["subPlan"], "P2");
        assert_eq!(p["enforce"], "True");
        // Unchanged: the enablement time of the first Standard PUT, the trial.
        assert_eq!(p["enablementTime"], "2026-07-01T00:00:00Z");
        let scan = ext(&out.stored, "AgentlessVmScanning");
        assert_eq!(
            scan["additionalExtensionProperties"],
            json!({"ExclusionTags": "[{\"Key\":\"a\",\"Value\":\"b\"}]"})
        );
        assert_eq!(
            ext(&out.stored, "MdeDesignatedSubscription")["isEnabled"],
            "True"
        );
        // Not named: left as it was.
        assert_eq!(
            ext(&out.stored, "FileIntegrityMonitoring")["isEnabled"],
            "False"
        );
        assert!(
            ext(&out.answer, "FileIntegrityMonitoring")
                .get("operationStatus")
                .is_none()
        );
    }

    #[test]
    fn storage_cap_is_a_number_in_the_services_casing() {
        let first = run(
            "StorageAccounts",
            None,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .unwrap();
        assert_eq!(
            ext(&first.stored, "OnUploadMalwareScanning")["additionalExtensionProperties"],
            json!({"capGBPerMonthPerStorageAccount": 10000})
        );
        let out = run(
            "StorageAccounts",
            Some(first.stored),
            json!({"properties": {"pricingTier": "Standard", "subPlan": "DefenderForStorageV2",
                "extensions": [{"name": "OnUploadMalwareScanning", "isEnabled": "True",
                    "additionalExtensionProperties": {"CapGBPerMonthPerStorageAccount": "5000"}}]}}),
        )
        .unwrap();
        assert_eq!(
            ext(&out.stored, "OnUploadMalwareScanning")["additionalExtensionProperties"],
            json!({"capGBPerMonthPerStorageAccount": 5000})
        );
    }

    #[test]
    fn failing_extensions_report_failed_and_stay_disabled() {
        let first = run(
            "CloudPosture",
            None,
            json!({"properties": {"pricingTier": "Standard"}}),
        )
        .unwrap();
        let off = run(
            "CloudPosture",
            Some(first.stored),
            json!({"properties": {"pricingTier": "Standard", "extensions": [
                {"name": "SensitiveDataDiscovery", "isEnabled": "False"}]}}),
        )
        .unwrap();
        let out = run_failing(
            "CloudPosture",
            Some(off.stored),
            json!({"properties": {"pricingTier": "Standard", "extensions": [
                {"name": "SensitiveDataDiscovery", "isEnabled": "True"}]}}),
            &["sensitivedatadiscovery"],
        )
        .unwrap();
        let answered = ext(&out.answer, "SensitiveDataDiscovery");
        assert_eq!(answered["isEnabled"], "True");
        assert_eq!(answered["operationStatus"]["code"], "Failed");
        assert!(
            answered["operationStatus"]["message"]
                .as_str()
                .unwrap()
                .contains("SensitiveDataDiscovery")
        );
        assert_eq!(
            ext(&out.stored, "SensitiveDataDiscovery")["isEnabled"],
            "False"
        );
    }

    #[test]
    fn going_free_disables_extensions_and_drops_the_sub_plan() {
        let first = run(
            "VirtualMachines",
            None,
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}}),
        )
        .unwrap();
        let out = run(
            "VirtualMachines",
            Some(first.stored),
            json!({"properties": {"pricingTier": "Free"}}),
        )
        .unwrap();
        let p = &out.stored["properties"];
        assert_eq!(p["pricingTier"], "Free");
        assert!(p.get("subPlan").is_none());
        assert_eq!(p["resourcesCoverageStatus"], "NotCovered");
        assert_eq!(p["enablementTime"], "2026-07-01T00:00:00Z");
        assert!(
            p["extensions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["isEnabled"] == "False")
        );
    }

    #[test]
    fn validation_errors() {
        let err = |name: &str, body: Value| run(name, None, body).err().unwrap();
        let e = err("VirtualMachines", json!({"properties": {}}));
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::BAD_REQUEST, "InvalidInputJson")
        );
        assert!(e.to_string().contains("pricingTier"));
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P3"}}),
        );
        assert!(e.to_string().contains("'P1', 'P2'"), "{e}");
        let e = err(
            "AppServices",
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1"}}),
        );
        assert!(e.to_string().contains("has no sub-plans"), "{e}");
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "extensions": [
                {"name": "Foo", "isEnabled": "True"}]}}),
        );
        assert!(
            e.to_string().contains(
                "MdeDesignatedSubscription, AgentlessVmScanning, FileIntegrityMonitoring"
            ),
            "{e}"
        );
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "extensions": [
                {"name": "AgentlessVmScanning", "isEnabled": "False",
                 "additionalExtensionProperties": {"ExclusionTags": "[]"}}]}}),
        );
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            e.to_string()
                .contains("can't be updated while the extension is disabled")
        );
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Free", "extensions": [
                {"name": "AgentlessVmScanning", "isEnabled": "True"}]}}),
        );
        assert!(e.to_string().contains("'Free'"), "{e}");
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "subPlan": "P1", "extensions": [
                {"name": "AgentlessVmScanning", "isEnabled": "True"}]}}),
        );
        assert!(e.to_string().contains("only with sub-plan 'P2'"), "{e}");
        let e = err(
            "VirtualMachines",
            json!({"properties": {"pricingTier": "Standard", "enforce": true}}),
        );
        assert!(e.to_string().contains("enforce"), "{e}");
        assert!(known_plan("Nope").is_err());
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_name_filter("name in (VirtualMachines,KeyVaults)").unwrap(),
            vec!["VirtualMachines", "KeyVaults"]
        );
        assert_eq!(
            parse_name_filter("NAME IN ('Arm', 'Dns')").unwrap(),
            vec!["Arm", "Dns"]
        );
        assert!(parse_name_filter("name eq 'Arm'").is_err());
        assert!(parse_name_filter("name in ()").is_err());
    }

    #[test]
    fn api_2023_drops_the_newer_fields() {
        let body = for_api_version(default_body(&resource("Arm")), API_2023);
        assert!(body["properties"].get("enforce").is_none());
        assert!(body["properties"].get("resourcesCoverageStatus").is_none());
        assert_eq!(body["properties"]["pricingTier"], "Free");
    }

    #[test]
    fn resource_scopes() {
        let vm = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        );
        assert_eq!(
            resource_scope_type(&vm),
            Some("Microsoft.Compute/virtualMachines")
        );
        let arc = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/microsoft.hybridcompute/MACHINES/m"
        );
        assert_eq!(
            resource_scope_type(&arc),
            Some("Microsoft.HybridCompute/machines")
        );
        let aks = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/k"
        );
        assert_eq!(resource_scope_type(&aks), None);
    }
}
