//! The catalog: every built-in policy definition and initiative Defender for Cloud auto
//! provisioning uses, by a short key (`kubernetes-policy-addon`, `mde`, `ama-windows`, …).
//!
//! The data is the project's own (`provider/catalog/*.json`, written from
//! shared/reference/policy-catalog.md and the built-in JSON under shared/reference/data), embedded
//! in the binary and parsed once on first use. `tests::matches_reference_data` compares every
//! entry with the upstream JSON (IDs, parameter names, types, allowed values, defaults,
//! `assignPermissions`, roles, members) so the data cannot drift silently.
//!
//! Parameters are checked against it at plan time ([`CatalogEntry::check_parameters`]); the
//! ARM request bodies are rendered from `templates/` by [`render`].

pub mod cli;
pub mod render;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The catalog files, in catalog order (the order of [`entries`]).
const FILES: &[(&str, &str)] = &[
    (
        "kubernetes.json",
        include_str!("../../catalog/kubernetes.json"),
    ),
    ("endpoint.json", include_str!("../../catalog/endpoint.json")),
    (
        "monitoring_agent.json",
        include_str!("../../catalog/monitoring_agent.json"),
    ),
    (
        "dependency_agent.json",
        include_str!("../../catalog/dependency_agent.json"),
    ),
    ("sql.json", include_str!("../../catalog/sql.json")),
    (
        "vulnerability.json",
        include_str!("../../catalog/vulnerability.json"),
    ),
    (
        "guest_configuration.json",
        include_str!("../../catalog/guest_configuration.json"),
    ),
    ("legacy.json", include_str!("../../catalog/legacy.json")),
];

/// `/providers/Microsoft.Authorization/policyDefinitions/` — built-ins live at the tenant root.
pub const DEFINITION_PREFIX: &str = "/providers/Microsoft.Authorization/policyDefinitions/";
/// `/providers/Microsoft.Authorization/policySetDefinitions/`.
pub const SET_DEFINITION_PREFIX: &str = "/providers/Microsoft.Authorization/policySetDefinitions/";

/// A policy definition or an initiative (policy set definition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionKind {
    Definition,
    Set,
}

impl DefinitionKind {
    /// `Definition` or `Set`, as the data source reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionKind::Definition => "Definition",
            DefinitionKind::Set => "Set",
        }
    }
}

/// A policy parameter's type, as policy definitions declare it (case varies upstream:
/// `String` and `string` both occur).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    String,
    Array,
    Object,
    Boolean,
    Integer,
    Float,
    DateTime,
}

impl ParamType {
    /// Parses a type name case-insensitively.
    pub fn parse(s: &str) -> Option<ParamType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "string" => ParamType::String,
            "array" => ParamType::Array,
            "object" => ParamType::Object,
            "boolean" => ParamType::Boolean,
            "integer" => ParamType::Integer,
            "float" => ParamType::Float,
            "datetime" => ParamType::DateTime,
            _ => return None,
        })
    }

    /// The canonical name (`String`, `Array`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "String",
            ParamType::Array => "Array",
            ParamType::Object => "Object",
            ParamType::Boolean => "Boolean",
            ParamType::Integer => "Integer",
            ParamType::Float => "Float",
            ParamType::DateTime => "DateTime",
        }
    }

    /// True when a JSON value has this type. Integers accept whole floats (Terraform numbers
    /// may arrive as `5.0`); floats accept any number.
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            ParamType::String | ParamType::DateTime => v.is_string(),
            ParamType::Array => v.is_array(),
            ParamType::Object => v.is_object(),
            ParamType::Boolean => v.is_boolean(),
            ParamType::Integer => {
                v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            ParamType::Float => v.is_number(),
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One parameter of a definition or initiative.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    /// Allowed values; empty when any value of the type is allowed. For arrays, each element
    /// must be one of them.
    pub allowed: Vec<Value>,
    /// The default; `None` means the parameter is required.
    pub default: Option<Value>,
    /// The value is a resource ID the assignment's identity needs roles on (policy metadata
    /// `assignPermissions`; for initiatives also when a member's parameter with it is wired to
    /// this one).
    pub assign_permissions: bool,
    /// Policy metadata `strongType` (e.g. `omsWorkspace`), when given.
    pub strong_type: Option<&'static str>,
    pub description: &'static str,
}

impl ParamSpec {
    /// True when the parameter has no default and must be given.
    pub fn required(&self) -> bool {
        self.default.is_none()
    }
}

/// How a definition's effect is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Hard-coded in the policy rule (`DeployIfNotExists`, `Modify`, …).
    Fixed(&'static str),
    /// A parameter: `[parameters('effect')]`.
    Parameter {
        name: &'static str,
        default: Option<&'static str>,
        allowed: Vec<&'static str>,
    },
    /// An initiative: each member has its own.
    PerMember,
}

/// A member of an initiative.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// `policyDefinitionReferenceId`, what remediations and non-compliance messages name.
    pub reference_id: &'static str,
    /// Full ID: `/providers/Microsoft.Authorization/policyDefinitions/{guid}`.
    pub definition_id: String,
    /// The member's catalog key.
    pub key: &'static str,
    /// The member definition's `roleDefinitionIds` (GUIDs).
    pub role_definition_ids: Vec<String>,
    /// `definitionVersion` the initiative pins, when it does (e.g. `1.*.*`).
    pub definition_version: Option<&'static str>,
    /// The member's parameter values: literals, or `[parameters('x')]` referring to the
    /// initiative's parameter `x`.
    pub parameters: Map<String, Value>,
}

/// One catalog entry.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogEntry {
    pub key: &'static str,
    /// `/providers/Microsoft.Authorization/policy(Set)Definitions/{guid}`.
    pub definition_id: String,
    pub kind: DefinitionKind,
    pub display_name: &'static str,
    /// The definition's `version` (what `definitionVersion` patterns match).
    pub version: &'static str,
    pub parameters: Vec<ParamSpec>,
    /// Role definition GUIDs the assignment's identity needs; for initiatives the union of the
    /// members' in member order.
    pub role_definition_ids: Vec<String>,
    pub members: Vec<Member>,
    /// What it deploys, in a sentence.
    pub deploys: &'static str,
    pub effect: Effect,
    /// Deprecated upstream or refused by the service; kept so existing assignments can be
    /// managed and moved away from.
    pub retired: bool,
    /// The key to use instead of a retired entry.
    pub replaced_by: Option<&'static str>,
}

/// A problem with a parameter value, for a plan-time diagnostic on `parameters.<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamProblem {
    pub name: String,
    pub message: String,
}

/// Effects that deploy or change resources and so need a managed identity and remediation.
pub fn is_deploying_effect(effect: &str) -> bool {
    effect.eq_ignore_ascii_case("DeployIfNotExists") || effect.eq_ignore_ascii_case("Modify")
}

// ---------------------------------------------------------------------------------------------
// Lookup

struct Catalog {
    entries: Vec<CatalogEntry>,
    by_key: HashMap<&'static str, usize>,
    by_id: HashMap<String, usize>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let entries = build().unwrap_or_else(|e| panic!("the policy catalog is invalid: {e}"));
    let by_key = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key, i))
        .collect();
    let by_id = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.definition_id.to_ascii_lowercase(), i))
        .collect();
    Catalog {
        entries,
        by_key,
        by_id,
    }
});

/// Every entry, in catalog order.
pub fn entries() -> &'static [CatalogEntry] {
    &CATALOG.entries
}

/// The entry with this key (exact, keys are lowercase).
pub fn lookup(key: &str) -> Option<&'static CatalogEntry> {
    CATALOG.by_key.get(key).map(|&i| &CATALOG.entries[i])
}

/// The entry with this full definition or set ID, compared case-insensitively as ARM does.
pub fn by_definition_id(id: &str) -> Option<&'static CatalogEntry> {
    CATALOG
        .by_id
        .get(&id.trim_end_matches('/').to_ascii_lowercase())
        .map(|&i| &CATALOG.entries[i])
}

/// Keys closest to an unknown one, best first (for "did you mean").
pub fn suggest_keys(unknown: &str) -> Vec<&'static str> {
    suggest(unknown, entries().iter().map(|e| e.key))
}

/// A "did you mean" list: candidates similar enough to `input`, best first, at most three.
fn suggest<'a>(input: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = input.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

// ---------------------------------------------------------------------------------------------
// Parameters

fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("a boolean ({v})"),
        Value::Number(_) => format!("a number ({v})"),
        Value::String(_) => format!("a string ({v})"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn list_values(vals: &[Value]) -> String {
    vals.iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allowed value that differs from `v` only in case, if any.
fn case_variant<'a>(allowed: &'a [Value], v: &Value) -> Option<&'a Value> {
    let s = v.as_str()?;
    allowed
        .iter()
        .find(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(s)))
}

impl CatalogEntry {
    /// The definition's GUID (last segment of its ID).
    pub fn guid(&self) -> &str {
        self.definition_id.rsplit('/').next().unwrap_or_default()
    }

    /// The parameter with this exact name.
    pub fn parameter(&self, name: &str) -> Option<&ParamSpec> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Checks parameter values as ARM would at assignment time, and more strictly: unknown
    /// names (with a did-you-mean), wrong types, values outside the allowed values, and
    /// required parameters missing. Names and allowed string values must match exactly
    /// (a case difference is reported with the right spelling, so the plan never shows a
    /// difference ARM would not). `null` values count as not given.
    pub fn check_parameters(&self, params: &Map<String, Value>) -> Vec<ParamProblem> {
        let mut problems = Vec::new();
        for (name, value) in params {
            let Some(spec) = self.parameter(name) else {
                problems.push(ParamProblem {
                    name: name.clone(),
                    message: self.unknown_parameter_message(name),
                });
                continue;
            };
            if value.is_null() {
                continue;
            }
            if let Some(message) = check_value(spec, value) {
                problems.push(ParamProblem {
                    name: name.clone(),
                    message,
                });
            }
        }
        for spec in &self.parameters {
            if spec.required() && params.get(spec.name).is_none_or(Value::is_null) {
                problems.push(ParamProblem {
                    name: spec.name.to_string(),
                    message: format!(
                        "{} requires parameter {:?} ({}): {}",
                        self.key, spec.name, spec.ty, spec.description
                    ),
                });
            }
        }
        problems
    }

    fn unknown_parameter_message(&self, name: &str) -> String {
        let names: Vec<&str> = self.parameters.iter().map(|p| p.name).collect();
        if names.is_empty() {
            return format!("{} takes no parameters, so {name:?} is unknown.", self.key);
        }
        let mut msg = format!("{name:?} is not a parameter of {}.", self.key);
        if let Some(exact) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
            msg.push_str(&format!(
                " Did you mean {exact:?}? Parameter names must match in case."
            ));
        } else {
            let close = suggest(name, names.iter().copied());
            if !close.is_empty() {
                let quoted: Vec<String> = close.iter().map(|c| format!("{c:?}")).collect();
                msg.push_str(&format!(" Did you mean {}?", quoted.join(" or ")));
            }
        }
        let quoted: Vec<String> = names.iter().map(|c| format!("{c:?}")).collect();
        msg.push_str(&format!(" Its parameters: {}.", quoted.join(", ")));
        msg
    }

    /// The given parameters with defaults filled in for the others (nulls dropped).
    pub fn effective_parameters(&self, params: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for spec in &self.parameters {
            match params.get(spec.name) {
                Some(v) if !v.is_null() => {
                    out.insert(spec.name.to_string(), v.clone());
                }
                _ => {
                    if let Some(d) = &spec.default {
                        out.insert(spec.name.to_string(), d.clone());
                    }
                }
            }
        }
        out
    }

    /// True when the policy can deploy or modify resources (DeployIfNotExists or Modify is
    /// fixed or allowed), so its assignment needs a managed identity and a location.
    pub fn can_deploy(&self) -> bool {
        match &self.effect {
            Effect::Fixed(e) => is_deploying_effect(e),
            Effect::Parameter { allowed, .. } => allowed.iter().any(|e| is_deploying_effect(e)),
            Effect::PerMember => self
                .members
                .iter()
                .any(|m| lookup(m.key).is_some_and(CatalogEntry::can_deploy)),
        }
    }

    /// The effect in force for a definition given parameter values (`None` for initiatives,
    /// or when the effect parameter has neither a value nor a default).
    pub fn effect_value(&self, params: &Map<String, Value>) -> Option<String> {
        match &self.effect {
            Effect::Fixed(e) => Some((*e).to_string()),
            Effect::Parameter { name, default, .. } => params
                .get(*name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| default.map(str::to_string)),
            Effect::PerMember => None,
        }
    }

    /// The member's effect in force, given the initiative's parameter values: its `effect`
    /// parameter wired to a literal or to an initiative parameter, else the member's default.
    pub fn member_effect(&self, member: &Member, params: &Map<String, Value>) -> Option<String> {
        let def = lookup(member.key)?;
        let set_params = self.effective_parameters(params);
        let mut member_params = Map::new();
        for (name, wired) in &member.parameters {
            if let Some(v) = resolve_wiring(wired, &set_params) {
                member_params.insert(name.clone(), v);
            }
        }
        def.effect_value(&member_params)
    }

    /// What to remediate: `[None]` for a definition whose effect deploys, the reference IDs of
    /// the deploying members for an initiative; empty when nothing would deploy (e.g. the
    /// effect is set to `Disabled`).
    pub fn remediation_targets(&self, params: &Map<String, Value>) -> Vec<Option<&'static str>> {
        match self.kind {
            DefinitionKind::Definition => {
                let eff = self.effect_value(&self.effective_parameters(params));
                if eff.as_deref().is_some_and(is_deploying_effect) {
                    vec![None]
                } else {
                    vec![]
                }
            }
            DefinitionKind::Set => self
                .members
                .iter()
                .filter(|m| {
                    self.member_effect(m, params)
                        .as_deref()
                        .is_some_and(is_deploying_effect)
                })
                .map(|m| Some(m.reference_id))
                .collect(),
        }
    }

    /// The roles a parameter's resource needs: for a definition all of its roles; for an
    /// initiative those of the members whose parameters with `assignPermissions` take it.
    pub fn roles_for_parameter(&self, name: &str) -> Vec<String> {
        match self.kind {
            DefinitionKind::Definition => self.role_definition_ids.clone(),
            DefinitionKind::Set => {
                let mut roles = Vec::new();
                for m in &self.members {
                    let Some(def) = lookup(m.key) else { continue };
                    let wired = m.parameters.iter().any(|(mp, v)| {
                        wiring_target(v) == Some(name)
                            && def.parameter(mp).is_some_and(|p| p.assign_permissions)
                    });
                    if wired {
                        push_unique(&mut roles, &m.role_definition_ids);
                    }
                }
                roles
            }
        }
    }

    /// Every role assignment the assignment's identity needs: each role at the assignment
    /// scope, and at each resource a parameter with `assignPermissions` points to (its value or
    /// default, when it is a resource ID outside the assignment scope). Deduplicated, in a
    /// stable order.
    pub fn role_assignment_targets(
        &self,
        scope: &str,
        params: &Map<String, Value>,
    ) -> Vec<RoleTarget> {
        let mut out: Vec<RoleTarget> = Vec::new();
        let mut add = |role: &str, at: &str| {
            if !out.iter().any(|t| {
                t.role_definition_id.eq_ignore_ascii_case(role) && t.scope.eq_ignore_ascii_case(at)
            }) {
                out.push(RoleTarget {
                    role_definition_id: role.to_ascii_lowercase(),
                    scope: at.to_string(),
                });
            }
        };
        for role in &self.role_definition_ids {
            add(role, scope);
        }
        let effective = self.effective_parameters(params);
        for spec in self.parameters.iter().filter(|p| p.assign_permissions) {
            let Some(target) = effective.get(spec.name).and_then(Value::as_str) else {
                continue;
            };
            let target = target.trim_end_matches('/');
            if !target.starts_with('/') || is_within(target, scope) {
                continue;
            }
            for role in self.roles_for_parameter(spec.name) {
                add(&role, target);
            }
        }
        out
    }
}

/// A role to assign at a scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleTarget {
    /// Role definition GUID (lowercase).
    pub role_definition_id: String,
    /// Where to assign it.
    pub scope: String,
}

/// True when `id` is `scope` or below it (ARM IDs compare case-insensitively).
fn is_within(id: &str, scope: &str) -> bool {
    let id = id.to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    id == scope || id.starts_with(&format!("{scope}/"))
}

fn push_unique(into: &mut Vec<String>, from: &[String]) {
    for r in from {
        if !into.iter().any(|x| x.eq_ignore_ascii_case(r)) {
            into.push(r.clone());
        }
    }
}

/// `x` when `v` is exactly `[parameters('x')]`.
fn wiring_target(v: &Value) -> Option<&str> {
    v.as_str()?
        .strip_prefix("[parameters('")?
        .strip_suffix("')]")
}

/// A member parameter's value: the initiative parameter it is wired to, or the literal.
fn resolve_wiring(v: &Value, set_params: &Map<String, Value>) -> Option<Value> {
    match wiring_target(v) {
        Some(name) => set_params.get(name).cloned(),
        None => Some(v.clone()),
    }
}

/// Checks one value against its spec; the message when it does not fit.
fn check_value(spec: &ParamSpec, value: &Value) -> Option<String> {
    if !spec.ty.accepts(value) {
        return Some(format!(
            "{:?} must be {} {}, got {}.",
            spec.name,
            if spec.ty == ParamType::Array || spec.ty == ParamType::Object {
                "an"
            } else {
                "a"
            },
            spec.ty,
            describe_value(value)
        ));
    }
    if spec.allowed.is_empty() {
        return None;
    }
    let candidates: Vec<&Value> = match (spec.ty, value) {
        (ParamType::Array, Value::Array(items)) => items.iter().collect(),
        _ => vec![value],
    };
    for v in candidates {
        if spec.allowed.iter().any(|a| values_equal(a, v)) {
            continue;
        }
        let mut msg = format!(
            "{v} is not an allowed value of {:?}; allowed: {}.",
            spec.name,
            list_values(&spec.allowed)
        );
        if let Some(right) = case_variant(&spec.allowed, v) {
            msg.push_str(&format!(
                " Did you mean {right}? Values must match in case."
            ));
        }
        return Some(msg);
    }
    None
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// Building the catalog from its data files

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    key: String,
    definition: String,
    kind: String,
    display_name: String,
    version: String,
    #[serde(default)]
    effect: Option<RawEffect>,
    #[serde(default)]
    parameters: Vec<RawParam>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    members: Vec<RawMember>,
    deploys: String,
    #[serde(default)]
    retired: bool,
    #[serde(default)]
    replaced_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEffect {
    #[serde(default)]
    parameter: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    default: Option<Value>,
    #[serde(default)]
    allowed: Vec<Value>,
    #[serde(default)]
    assign_permissions: bool,
    #[serde(default)]
    strong_type: Option<String>,
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    reference_id: String,
    definition: String,
    #[serde(default)]
    definition_version: Option<String>,
    #[serde(default)]
    parameters: Map<String, Value>,
}

/// Strings of the catalog live as long as the process: it is built once.
fn leak(s: String) -> &'static str {
    s.leak()
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Parses and checks the data files: unique keys and IDs, GUID-shaped IDs, valid types and
/// defaults, every member and successor in the catalog, sets' roles from their members.
fn build() -> Result<Vec<CatalogEntry>, String> {
    let mut raw: Vec<RawEntry> = Vec::new();
    for (file, text) in FILES {
        let f: RawFile = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        raw.extend(f.entries);
    }
    let guid_to_key: HashMap<String, String> = raw
        .iter()
        .map(|e| (e.definition.to_ascii_lowercase(), e.key.clone()))
        .collect();
    if guid_to_key.len() != raw.len() {
        return Err("a definition GUID appears twice".into());
    }
    let mut entries: Vec<CatalogEntry> = Vec::with_capacity(raw.len());
    for r in raw {
        let key = r.key.clone();
        let err = |m: String| format!("{key}: {m}");
        if !is_key(&r.key) {
            return Err(err("keys are lowercase letters, digits and dashes".into()));
        }
        if entries.iter().any(|e| e.key == r.key) {
            return Err(err("duplicate key".into()));
        }
        if !crate::resources::common::is_guid(&r.definition) {
            return Err(err(format!("{:?} is not a GUID", r.definition)));
        }
        let kind = match r.kind.as_str() {
            "definition" => DefinitionKind::Definition,
            "set" => DefinitionKind::Set,
            k => return Err(err(format!("kind {k:?} is neither definition nor set"))),
        };
        let mut parameters = Vec::with_capacity(r.parameters.len());
        for p in r.parameters {
            let ty = ParamType::parse(&p.ty)
                .ok_or_else(|| err(format!("parameter {}: unknown type {:?}", p.name, p.ty)))?;
            let spec = ParamSpec {
                name: leak(p.name),
                ty,
                allowed: p.allowed,
                default: p.default,
                assign_permissions: p.assign_permissions,
                strong_type: p.strong_type.map(leak),
                description: leak(p.description),
            };
            if let Some(d) = &spec.default
                && let Some(m) = check_value(&spec, d)
            {
                return Err(err(format!("the default does not fit: {m}")));
            }
            parameters.push(spec);
        }
        let effect = match (kind, r.effect) {
            (DefinitionKind::Set, None) => Effect::PerMember,
            (
                DefinitionKind::Definition,
                Some(RawEffect {
                    fixed: Some(f),
                    parameter: None,
                }),
            ) => Effect::Fixed(leak(f)),
            (
                DefinitionKind::Definition,
                Some(RawEffect {
                    parameter: Some(p),
                    fixed: None,
                }),
            ) => {
                let spec = parameters
                    .iter()
                    .find(|s| s.name == p)
                    .ok_or_else(|| err(format!("effect parameter {p:?} is not a parameter")))?;
                Effect::Parameter {
                    name: spec.name,
                    default: spec.default.as_ref().and_then(Value::as_str).map(|s| {
                        // The default is one of few effect names; keep a static copy.
                        leak(s.to_string())
                    }),
                    allowed: spec
                        .allowed
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| leak(s.to_string()))
                        .collect(),
                }
            }
            _ => {
                return Err(err(
                    "a definition has exactly one of effect.fixed / effect.parameter; a set has \
                     no effect"
                        .into(),
                ));
            }
        };
        let mut members = Vec::with_capacity(r.members.len());
        for m in r.members {
            let mkey = guid_to_key
                .get(&m.definition.to_ascii_lowercase())
                .ok_or_else(|| {
                    err(format!(
                        "member {} ({}) is not in the catalog",
                        m.reference_id, m.definition
                    ))
                })?;
            members.push(Member {
                reference_id: leak(m.reference_id),
                definition_id: format!("{DEFINITION_PREFIX}{}", m.definition),
                key: leak(mkey.clone()),
                role_definition_ids: Vec::new(),
                definition_version: m.definition_version.map(leak),
                parameters: m.parameters,
            });
        }
        if kind == DefinitionKind::Set && members.is_empty() {
            return Err(err("a set without members".into()));
        }
        if kind == DefinitionKind::Definition && !members.is_empty() {
            return Err(err("a definition with members".into()));
        }
        if kind == DefinitionKind::Set && !r.roles.is_empty() {
            return Err(err("a set's roles come from its members; list none".into()));
        }
        for role in &r.roles {
            if !crate::resources::common::is_guid(role) {
                return Err(err(format!("role {role:?} is not a GUID")));
            }
        }
        let prefix = match kind {
            DefinitionKind::Definition => DEFINITION_PREFIX,
            DefinitionKind::Set => SET_DEFINITION_PREFIX,
        };
        entries.push(CatalogEntry {
            key: leak(r.key),
            definition_id: format!("{prefix}{}", r.definition),
            kind,
            display_name: leak(r.display_name),
            version: leak(r.version),
            parameters,
            role_definition_ids: r.roles.iter().map(|g| g.to_ascii_lowercase()).collect(),
            members,
            deploys: leak(r.deploys),
            effect,
            retired: r.retired,
            replaced_by: r.replaced_by.map(leak),
        });
    }
    // Members' roles, sets' roles (union) and assignPermissions carried up from members.
    let snapshot = entries.clone();
    let find = |k: &str| snapshot.iter().find(|e| e.key == k);
    for e in entries.iter_mut().filter(|e| e.kind == DefinitionKind::Set) {
        let mut roles = Vec::new();
        for m in &mut e.members {
            let def = find(m.key).ok_or_else(|| format!("{}: member {}", e.key, m.key))?;
            if def.kind != DefinitionKind::Definition {
                return Err(format!("{}: member {} is a set", e.key, m.key));
            }
            m.role_definition_ids = def.role_definition_ids.clone();
            push_unique(&mut roles, &m.role_definition_ids);
            for (mp, v) in &m.parameters {
                if def.parameter(mp).is_none() {
                    return Err(format!(
                        "{}: member {} has no parameter {mp:?}",
                        e.key, m.reference_id
                    ));
                }
                if let Some(target) = wiring_target(v) {
                    let spec = e
                        .parameters
                        .iter_mut()
                        .find(|p| p.name == target)
                        .ok_or_else(|| {
                            format!(
                                "{}: member {} uses unknown parameter {target:?}",
                                e.key, m.reference_id
                            )
                        })?;
                    if def.parameter(mp).is_some_and(|p| p.assign_permissions) {
                        spec.assign_permissions = true;
                    }
                }
            }
        }
        e.role_definition_ids = roles;
    }
    for e in &entries {
        if let Some(r) = e.replaced_by
            && !entries.iter().any(|x| x.key == r && !x.retired)
        {
            return Err(format!(
                "{}: replaced_by {r:?} is not a current catalog entry",
                e.key
            ));
        }
        if e.replaced_by.is_some() && !e.retired {
            return Err(format!("{}: replaced_by on an entry not retired", e.key));
        }
    }
    Ok(entries)
}
