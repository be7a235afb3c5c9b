//! What `defender_policy_assignment` and `defender_policy_remediation` share: their typed
//! IDs, the policy an assignment assigns (a catalog entry, or any definition read from ARM),
//! and remediation tasks (create, wait with progress, cancel).

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::arm::ids::{IdError, ResourceId, Scope};
use crate::arm::{ArmClient, ArmResponse};
use crate::catalog::render::{self, REMEDIATION_API_VERSION, RemediationInput, RemediationMode};
use crate::catalog::{CatalogEntry, DefinitionKind, ParamProblem, ParamType, RoleTarget};
use crate::framework::{AttrPath, Ctx, Diagnostic, Diagnostics};

use super::common::{WaitPolicy, arm_error};

// ---------------------------------------------------------------------------------------------
// Typed IDs

/// `{scope}/providers/Microsoft.Authorization/policyAssignments/{name}` (arm-api.md §7.1): the
/// scope is a management group, subscription, resource group or resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAssignmentId {
    pub scope: Scope,
    pub name: String,
}

/// `{scope}/providers/Microsoft.PolicyInsights/remediations/{name}` (arm-api.md §10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediationId {
    pub scope: Scope,
    pub name: String,
}

/// Splits `{scope}/providers/{namespace}/{type}/{name}` with the namespace and type compared
/// case-insensitively.
fn parse_extension(
    input: &str,
    kind: &'static str,
    namespace: &str,
    type_name: &str,
    expected: &'static str,
) -> Result<(Scope, String), IdError> {
    let err = |reason: String| IdError {
        kind,
        input: input.to_owned(),
        reason,
        expected: Some(expected),
    };
    let id = ResourceId::parse(input).map_err(|e| err(e.reason))?;
    let segs = id.segments();
    let n = segs.len();
    if n < 2
        || !segs[n - 2].key.eq_ignore_ascii_case("providers")
        || !segs[n - 2].value.eq_ignore_ascii_case(namespace)
        || !segs[n - 1].key.eq_ignore_ascii_case(type_name)
    {
        return Err(err(format!(
            "it does not end in /providers/{namespace}/{type_name}/{{name}}"
        )));
    }
    let scope_id = ResourceId::from_segments(segs[..n - 2].to_vec()).to_string();
    let scope = Scope::parse(&scope_id).map_err(|e| err(format!("its scope: {}", e.reason)))?;
    Ok((scope, segs[n - 1].value.clone()))
}

impl PolicyAssignmentId {
    const EXPECTED: &'static str =
        "{scope}/providers/Microsoft.Authorization/policyAssignments/{name}";

    pub fn new(scope: Scope, name: impl Into<String>) -> Self {
        PolicyAssignmentId {
            scope,
            name: name.into(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let (scope, name) = parse_extension(
            input,
            "a Policy Assignment",
            "Microsoft.Authorization",
            "policyAssignments",
            Self::EXPECTED,
        )?;
        Ok(PolicyAssignmentId { scope, name })
    }

    /// `Policy Assignment (Scope "…" / Name "…")` for messages.
    pub fn describe(&self) -> String {
        format!(
            "Policy Assignment (Scope {:?} / Name {:?})",
            scope_string(&self.scope),
            self.name
        )
    }
}

impl fmt::Display for PolicyAssignmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/providers/Microsoft.Authorization/policyAssignments/{}",
            scope_string(&self.scope),
            self.name
        )
    }
}

impl RemediationId {
    const EXPECTED: &'static str = "{scope}/providers/Microsoft.PolicyInsights/remediations/{name}";

    pub fn new(scope: Scope, name: impl Into<String>) -> Self {
        RemediationId {
            scope,
            name: name.into(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let (scope, name) = parse_extension(
            input,
            "a Policy Remediation",
            "Microsoft.PolicyInsights",
            "remediations",
            Self::EXPECTED,
        )?;
        Ok(RemediationId { scope, name })
    }

    /// `Policy Remediation (Scope "…" / Name "…")` for messages.
    pub fn describe(&self) -> String {
        format!(
            "Policy Remediation (Scope {:?} / Name {:?})",
            scope_string(&self.scope),
            self.name
        )
    }
}

impl fmt::Display for RemediationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/providers/Microsoft.PolicyInsights/remediations/{}",
            scope_string(&self.scope),
            self.name
        )
    }
}

/// A scope in its canonical form.
pub fn scope_string(scope: &Scope) -> String {
    match scope {
        Scope::ManagementGroup { name } => {
            format!("/providers/Microsoft.Management/managementGroups/{name}")
        }
        Scope::Subscription { subscription_id } => format!("/subscriptions/{subscription_id}"),
        Scope::ResourceGroup {
            subscription_id,
            resource_group,
        } => format!("/subscriptions/{subscription_id}/resourceGroups/{resource_group}"),
        Scope::Resource { id, .. } => id.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The policy an assignment assigns

/// A policy definition or initiative read from ARM (any definition outside the catalog).
#[derive(Debug, Clone, PartialEq)]
pub struct ArmPolicy {
    pub definition_id: String,
    pub kind: DefinitionKind,
    pub display_name: Option<String>,
    /// `properties.parameters` as ARM declares them.
    pub parameters: Map<String, Value>,
    /// The definition's `properties.policyRule.then`; for initiatives unused.
    pub then: Value,
    /// Initiative members: reference ID, the member definition, its parameter wiring.
    pub members: Vec<ArmMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArmMember {
    pub reference_id: String,
    pub definition: Box<ArmPolicy>,
    /// Member parameter → `{"value": …}` (literal or `[parameters('x')]`).
    pub wiring: Map<String, Value>,
}

/// What an assignment assigns.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyInfo {
    Catalog(&'static CatalogEntry),
    Arm(Box<ArmPolicy>),
}

fn wiring_target(v: &Value) -> Option<&str> {
    let s = v.get("value").unwrap_or(v).as_str()?;
    s.trim().strip_prefix("[parameters('")?.strip_suffix("')]")
}

fn role_guids(then: &Value) -> Vec<String> {
    then.pointer("/details/roleDefinitionIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(|r| r.rsplit('/').next())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn push_unique(into: &mut Vec<String>, from: impl IntoIterator<Item = String>) {
    for r in from {
        if !into.iter().any(|x| x.eq_ignore_ascii_case(&r)) {
            into.push(r);
        }
    }
}

fn is_deploying(effect: &str) -> bool {
    crate::catalog::is_deploying_effect(effect)
}

impl ArmPolicy {
    /// Parses a definition body; members of an initiative are read with `fetch_member`.
    pub fn from_definition(id: &str, body: &Value) -> Option<ArmPolicy> {
        let p = body.get("properties")?;
        let kind = if p.get("policyDefinitions").is_some() {
            DefinitionKind::Set
        } else {
            DefinitionKind::Definition
        };
        Some(ArmPolicy {
            definition_id: id.to_owned(),
            kind,
            display_name: p
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters: p
                .get("parameters")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            then: p
                .pointer("/policyRule/then")
                .cloned()
                .unwrap_or(Value::Null),
            members: Vec::new(),
        })
    }

    fn param(&self, name: &str) -> Option<&Value> {
        self.parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn default_of(&self, name: &str) -> Option<Value> {
        self.param(name)?.get("defaultValue").cloned()
    }

    fn roles(&self) -> Vec<String> {
        match self.kind {
            DefinitionKind::Definition => role_guids(&self.then),
            DefinitionKind::Set => {
                let mut out = Vec::new();
                for m in &self.members {
                    push_unique(&mut out, m.definition.roles());
                }
                out
            }
        }
    }

    /// The effect in force with these values (looked up case-insensitively), lowercased.
    fn effect(&self, values: &dyn Fn(&str) -> Option<Value>) -> Option<String> {
        let raw = self.then.get("effect")?.as_str()?;
        let name = raw
            .trim()
            .strip_prefix("[parameters('")
            .and_then(|r| r.strip_suffix("')]"));
        match name {
            Some(p) => values(p)
                .or_else(|| self.default_of(p))
                .and_then(|v| v.as_str().map(str::to_owned)),
            None => Some(raw.to_owned()),
        }
    }

    /// Whether any allowed (or fixed) effect deploys.
    fn can_deploy(&self) -> bool {
        match self.kind {
            DefinitionKind::Set => self.members.iter().any(|m| m.definition.can_deploy()),
            DefinitionKind::Definition => {
                let Some(raw) = self.then.get("effect").and_then(Value::as_str) else {
                    return false;
                };
                match raw
                    .trim()
                    .strip_prefix("[parameters('")
                    .and_then(|r| r.strip_suffix("')]"))
                {
                    None => is_deploying(raw),
                    Some(p) => {
                        let spec = self.param(p);
                        let allowed = spec
                            .and_then(|s| s.get("allowedValues"))
                            .and_then(Value::as_array);
                        match allowed {
                            Some(a) => a.iter().filter_map(Value::as_str).any(is_deploying),
                            // No allowed list: any effect can be given.
                            None => true,
                        }
                    }
                }
            }
        }
    }

    fn member_values(&self, m: &ArmMember, given: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, wired) in &m.wiring {
            let v = match wiring_target(wired) {
                Some(set_param) => get_ci(given, set_param).or_else(|| self.default_of(set_param)),
                None => wired.get("value").cloned(),
            };
            if let Some(v) = v {
                out.insert(name.clone(), v);
            }
        }
        out
    }
}

fn get_ci(map: &Map<String, Value>, name: &str) -> Option<Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_null())
}

fn is_within(id: &str, scope: &str) -> bool {
    let id = id.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    id == scope || id.starts_with(&format!("{scope}/"))
}

impl PolicyInfo {
    pub fn definition_id(&self) -> &str {
        match self {
            PolicyInfo::Catalog(e) => &e.definition_id,
            PolicyInfo::Arm(a) => &a.definition_id,
        }
    }

    pub fn kind(&self) -> DefinitionKind {
        match self {
            PolicyInfo::Catalog(e) => e.kind,
            PolicyInfo::Arm(a) => a.kind,
        }
    }

    pub fn catalog(&self) -> Option<&'static CatalogEntry> {
        match self {
            PolicyInfo::Catalog(e) => Some(e),
            PolicyInfo::Arm(_) => None,
        }
    }

    /// A short name for default assignment names: the catalog key, else the definition's name.
    pub fn short_name(&self) -> String {
        match self {
            PolicyInfo::Catalog(e) => e.key.to_owned(),
            PolicyInfo::Arm(a) => a
                .definition_id
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    pub fn display_name(&self) -> Option<String> {
        match self {
            PolicyInfo::Catalog(e) => Some(render::default_display_name(e.display_name)),
            PolicyInfo::Arm(a) => a.display_name.as_deref().map(render::default_display_name),
        }
    }

    /// True when the policy can deploy or modify resources: its assignment gets a managed
    /// identity by default and needs a location.
    pub fn can_deploy(&self) -> bool {
        match self {
            PolicyInfo::Catalog(e) => e.can_deploy(),
            PolicyInfo::Arm(a) => a.can_deploy(),
        }
    }

    /// Whether the policy declares a parameter (exact name for catalog entries, as their
    /// checks require; case-insensitive for ARM definitions, as ARM compares).
    pub fn has_parameter(&self, name: &str) -> bool {
        match self {
            PolicyInfo::Catalog(e) => e.parameter(name).is_some(),
            PolicyInfo::Arm(a) => a.param(name).is_some(),
        }
    }

    /// Initiative members' reference IDs (empty for a definition).
    pub fn reference_ids(&self) -> Vec<String> {
        match self {
            PolicyInfo::Catalog(e) => e
                .members
                .iter()
                .map(|m| m.reference_id.to_owned())
                .collect(),
            PolicyInfo::Arm(a) => a.members.iter().map(|m| m.reference_id.clone()).collect(),
        }
    }

    /// Parameter problems as ARM would find them (and more strictly for catalog entries).
    pub fn check_parameters(&self, given: &Map<String, Value>) -> Vec<ParamProblem> {
        match self {
            PolicyInfo::Catalog(e) => e.check_parameters(given),
            PolicyInfo::Arm(a) => check_arm_parameters(a, given),
        }
    }

    /// Role assignments the identity needs: every role at the scope, and at every resource a
    /// parameter with `assignPermissions` points to.
    pub fn role_targets(&self, scope: &str, given: &Map<String, Value>) -> Vec<RoleTarget> {
        match self {
            PolicyInfo::Catalog(e) => e.role_assignment_targets(scope, given),
            PolicyInfo::Arm(a) => {
                let mut out: Vec<RoleTarget> = Vec::new();
                let mut add = |role: &str, at: &str| {
                    if !out.iter().any(|t| {
                        t.role_definition_id.eq_ignore_ascii_case(role)
                            && t.scope.eq_ignore_ascii_case(at)
                    }) {
                        out.push(RoleTarget {
                            role_definition_id: role.to_ascii_lowercase(),
                            scope: at.to_owned(),
                        });
                    }
                };
                for r in a.roles() {
                    add(&r, scope);
                }
                let target = |name: &str| -> Option<String> {
                    let v = get_ci(given, name).or_else(|| a.default_of(name))?;
                    let s = v.as_str()?.trim_end_matches('/').to_owned();
                    (s.starts_with('/') && !is_within(&s, scope)).then_some(s)
                };
                match a.kind {
                    DefinitionKind::Definition => {
                        for (name, spec) in &a.parameters {
                            if assign_permissions(spec)
                                && let Some(t) = target(name)
                            {
                                for r in a.roles() {
                                    add(&r, &t);
                                }
                            }
                        }
                    }
                    DefinitionKind::Set => {
                        for m in &a.members {
                            for (mp, wired) in &m.wiring {
                                let Some(set_param) = wiring_target(wired) else {
                                    continue;
                                };
                                if m.definition.param(mp).is_some_and(assign_permissions)
                                    && let Some(t) = target(set_param)
                                {
                                    for r in m.definition.roles() {
                                        add(&r, &t);
                                    }
                                }
                            }
                        }
                    }
                }
                out
            }
        }
    }

    /// What to remediate with these parameters: `[None]` for a deploying definition, the
    /// deploying members' reference IDs for an initiative.
    pub fn remediation_targets(&self, given: &Map<String, Value>) -> Vec<Option<String>> {
        match self {
            PolicyInfo::Catalog(e) => e
                .remediation_targets(given)
                .into_iter()
                .map(|r| r.map(str::to_owned))
                .collect(),
            PolicyInfo::Arm(a) => match a.kind {
                DefinitionKind::Definition => {
                    let eff = a.effect(&|p| get_ci(given, p));
                    if eff.as_deref().is_some_and(is_deploying) {
                        vec![None]
                    } else {
                        vec![]
                    }
                }
                DefinitionKind::Set => a
                    .members
                    .iter()
                    .filter(|m| {
                        let values = a.member_values(m, given);
                        m.definition
                            .effect(&|p| get_ci(&values, p))
                            .as_deref()
                            .is_some_and(is_deploying)
                    })
                    .map(|m| Some(m.reference_id.clone()))
                    .collect(),
            },
        }
    }
}

fn assign_permissions(spec: &Value) -> bool {
    spec.pointer("/metadata/assignPermissions")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// ARM's checks of an assignment's parameters against a definition it declares them in.
fn check_arm_parameters(a: &ArmPolicy, given: &Map<String, Value>) -> Vec<ParamProblem> {
    let mut problems = Vec::new();
    let names: Vec<&str> = a.parameters.keys().map(String::as_str).collect();
    for (name, value) in given {
        let Some(spec) = a.param(name) else {
            problems.push(ParamProblem {
                name: name.clone(),
                message: if names.is_empty() {
                    format!(
                        "{} takes no parameters, so {name:?} is unknown.",
                        a.definition_id
                    )
                } else {
                    format!(
                        "{name:?} is not a parameter of {}. Its parameters: {}.",
                        a.definition_id,
                        names
                            .iter()
                            .map(|n| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            });
            continue;
        };
        if value.is_null() {
            continue;
        }
        let ty = spec
            .get("type")
            .and_then(Value::as_str)
            .and_then(ParamType::parse);
        if let Some(ty) = ty
            && !ty.accepts(value)
        {
            problems.push(ParamProblem {
                name: name.clone(),
                message: format!("{name:?} must be of type {ty}, got {value}."),
            });
            continue;
        }
        if let Some(allowed) = spec.get("allowedValues").and_then(Value::as_array) {
            let candidates: Vec<&Value> = match value {
                Value::Array(items) if ty == Some(ParamType::Array) => items.iter().collect(),
                v => vec![v],
            };
            if let Some(bad) = candidates.into_iter().find(|v| !allowed.contains(v)) {
                problems.push(ParamProblem {
                    name: name.clone(),
                    message: format!(
                        "{bad} is not an allowed value of {name:?}; allowed: {}.",
                        allowed
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }
    for (name, spec) in &a.parameters {
        if spec.get("defaultValue").is_none() && get_ci(given, name).is_none() {
            problems.push(ParamProblem {
                name: name.clone(),
                message: format!("{} requires parameter {name:?}.", a.definition_id),
            });
        }
    }
    problems
}

/// Reads a definition (and an initiative's members) from ARM.
pub async fn fetch_policy(arm: &ArmClient, definition_id: &str) -> Result<ArmPolicy, Diagnostic> {
    let what = format!("Policy Definition {definition_id:?}");
    let body = arm
        .get(definition_id, render::POLICY_ASSIGNMENT_API_VERSION)
        .await
        .map_err(|e| {
            if e.is_not_found() {
                Diagnostic::error(
                    "Policy definition not found",
                    format!("{definition_id:?} does not exist: {e}"),
                )
                .at(crate::framework::AttrPath::root("policy_definition_id"))
            } else {
                arm_error("reading", &what, &e)
            }
        })?
        .body;
    let mut policy = ArmPolicy::from_definition(definition_id, &body).ok_or_else(|| {
        Diagnostic::error(
            "Unexpected response",
            format!("reading {what}: the response has no properties"),
        )
    })?;
    if policy.kind == DefinitionKind::Set {
        let members = body
            .pointer("/properties/policyDefinitions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for m in members {
            let id = m
                .get("policyDefinitionId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let member_body = arm
                .get(&id, render::POLICY_ASSIGNMENT_API_VERSION)
                .await
                .map_err(|e| arm_error("reading", format!("Policy Definition {id:?}"), &e))?
                .body;
            let definition = ArmPolicy::from_definition(&id, &member_body).ok_or_else(|| {
                Diagnostic::error(
                    "Unexpected response",
                    format!("reading Policy Definition {id:?}: the response has no properties"),
                )
            })?;
            policy.members.push(ArmMember {
                reference_id: m
                    .get("policyDefinitionReferenceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                definition: Box::new(definition),
                wiring: m
                    .get("parameters")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    Ok(policy)
}

// ---------------------------------------------------------------------------------------------
// Remediation tasks

/// A remediation's `provisioningState` values that end it (arm-api.md §10; `Complete` is in
/// the docs' list).
pub fn is_terminal_state(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled", "Complete"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(state))
}

/// A remediation's end state that means it ran to completion: `Succeeded`, or `Complete`,
/// which the docs list beside it (arm-api.md §10). Failed deployments are counted apart.
pub fn is_completed_state(state: &str) -> bool {
    ["Succeeded", "Complete"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(state))
}

/// Where a remediation task stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    pub state: String,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl TaskStatus {
    pub fn of(body: &Value) -> TaskStatus {
        let p = &body["properties"];
        let n = |k: &str| p["deploymentStatus"][k].as_u64().unwrap_or(0);
        TaskStatus {
            state: p["provisioningState"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            total: n("totalDeployments"),
            succeeded: n("successfulDeployments"),
            failed: n("failedDeployments"),
        }
    }
}

/// How a write ARM accepted is awaited until reads show it (policy assignments answer 404 or
/// the old body for a while after a PUT, DESIGN.md §4): first look after 1 s (100 ms against a
/// loopback emulator), then every second at most, for up to `timeout`. A doubling backoff
/// (`WaitPolicy::eventual`) overshoots the end of the lag by up to the lag itself — 3.1 s for a
/// 2 s lag, 12.7 s for 10 s (BENCHMARKS.md §4); capped at 1 s the create ends within about a
/// second of the lag. One GET per second per waiting assignment is far inside ARM's read limits
/// (azurerm reads every 5 s until it has seen 20 answers in a row).
pub fn consistency_wait(loopback: bool, timeout: Duration) -> WaitPolicy {
    WaitPolicy {
        timeout,
        first_interval: Duration::from_millis(if loopback { 100 } else { 1000 }),
        max_interval: Duration::from_secs(1),
    }
}

/// How often a waiting remediation is polled: 15 s against Azure, 100 ms against a loopback
/// emulator (the ARM client's own rule for LROs).
fn poll_interval(arm: &ArmClient) -> Duration {
    if arm.cloud().is_loopback() {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(15)
    }
}

/// Longest wait for one remediation task.
pub const REMEDIATION_TIMEOUT: Duration = Duration::from_secs(3 * 60 * 60);

/// The settings of a remediation task as the assignment's `remediation` block,
/// `defender_policy_remediation` and `defender_remediate` all write them (the same names).
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskSettings<'a> {
    pub mode: Option<&'a str>,
    pub location_filters: Option<&'a [String]>,
    pub parallel_deployments: Option<i64>,
    pub resource_count: Option<i64>,
    pub failure_threshold: Option<f64>,
}

impl TaskSettings<'_> {
    /// Offline checks (ranges from the remediations docs, arm-api.md §10), each diagnostic on
    /// `at(attribute)`.
    pub fn check(&self, at: impl Fn(&str) -> AttrPath, diags: &mut Diagnostics) {
        if let Some(mode) = self.mode
            && RemediationMode::parse(mode).is_none_or(|m| m.as_str() != mode)
        {
            diags.error_at(
                at("mode"),
                "Invalid remediation mode",
                format!(
                    "{mode:?} is not a remediation mode. Allowed values: \"ExistingNonCompliant\", \"ReEvaluateCompliance\"."
                ),
            );
        }
        if let Some(n) = self.parallel_deployments
            && !(1..=30).contains(&n)
        {
            diags.error_at(
                at("parallel_deployments"),
                "Invalid parallel_deployments",
                format!("{n} is out of range: Azure remediates 1 to 30 resources at once."),
            );
        }
        if let Some(n) = self.resource_count
            && !(1..=50_000).contains(&n)
        {
            diags.error_at(
                at("resource_count"),
                "Invalid resource_count",
                format!("{n} is out of range: a remediation task takes 1 to 50000 resources."),
            );
        }
        if let Some(f) = self.failure_threshold
            && !(0.0..=1.0).contains(&f)
        {
            diags.error_at(
                at("failure_threshold"),
                "Invalid failure_threshold",
                format!("{f} is not a fraction: use 0.0 to 1.0 (0.1 stops the task at 10% failed deployments)."),
            );
        }
    }

    /// What the task's body is rendered from, for an assignment (and an initiative's member).
    pub fn input(
        &self,
        policy_assignment_id: String,
        policy_definition_reference_id: Option<String>,
    ) -> RemediationInput {
        RemediationInput {
            policy_assignment_id,
            policy_definition_reference_id,
            mode: self
                .mode
                .and_then(RemediationMode::parse)
                .unwrap_or_default(),
            location_filters: self.location_filters.unwrap_or_default().to_vec(),
            parallel_deployments: self.parallel_deployments,
            resource_count: self.resource_count,
            failure_threshold: self.failure_threshold,
        }
    }
}

/// PUTs a remediation task; the service runs it asynchronously, so the answer is not followed
/// (its `provisioningState` starts `Accepted`). The answer's body is the task's first status
/// for [`wait_for_remediation`]; its request id names the start of the task in errors.
pub async fn put_remediation(
    arm: &ArmClient,
    id: &RemediationId,
    body: &Value,
) -> Result<ArmResponse, Diagnostic> {
    arm.request(reqwest::Method::PUT, &id.to_string())
        .api_version(REMEDIATION_API_VERSION)
        .json(body)
        .no_lro()
        .operation(format!("creating {}", id.describe()))
        .send()
        .await
        .map_err(|e| arm_error("creating", id.describe(), &e))
}

/// Polls a task until it ends; an error names the failed deployments and `started_by`, the
/// request id of the PUT that started the task (the one Azure support can trace). `first` is
/// the PUT's answer when the caller has it (the task's first status: the first GET waits an
/// interval). Every change of state or counts is logged and given to `on_progress` (an action
/// reports it to Terraform, the resources only log).
pub async fn wait_for_remediation(
    ctx: &Ctx,
    arm: &ArmClient,
    id: &RemediationId,
    started_by: Option<&str>,
    first: Option<Value>,
    mut on_progress: impl FnMut(&TaskStatus) + Send,
) -> Result<TaskStatus, Diagnostic> {
    let task = match started_by {
        Some(request_id) => format!(
            "{} (task started by request id {request_id})",
            id.describe()
        ),
        None => id.describe(),
    };
    let started = tokio::time::Instant::now();
    let interval = poll_interval(arm);
    let mut last: Option<TaskStatus> = None;
    let mut answer = first;
    loop {
        let body = match answer.take() {
            Some(body) => body,
            None => {
                arm.get(&id.to_string(), REMEDIATION_API_VERSION)
                    .await
                    .map_err(|e| arm_error("reading", id.describe(), &e))?
                    .body
            }
        };
        let status = TaskStatus::of(&body);
        if last.as_ref() != Some(&status) {
            tracing::info!(
                remediation = %id,
                state = %status.state,
                succeeded = status.succeeded,
                failed = status.failed,
                total = status.total,
                "remediation progress: {} succeeded, {} failed of {} deployments ({})",
                status.succeeded,
                status.failed,
                status.total,
                status.state
            );
            on_progress(&status);
            last = Some(status.clone());
        }
        if is_terminal_state(&status.state) {
            if status.failed > 0 || !is_completed_state(&status.state) {
                return Err(remediation_failed(arm, id, &task, &status, &body).await);
            }
            return Ok(status);
        }
        if started.elapsed() + interval > REMEDIATION_TIMEOUT {
            return Err(Diagnostic::error(
                "Remediation did not finish",
                format!(
                    "waiting for {task}: still {} after {:?} ({} succeeded, {} failed of {} deployments). \
                     The task keeps running in Azure.",
                    status.state,
                    started.elapsed(),
                    status.succeeded,
                    status.failed,
                    status.total
                ),
            ));
        }
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => {
                return Err(Diagnostic::error(
                    "Cancelled",
                    format!(
                        "stopped while waiting for {task} (the task keeps running in Azure)"
                    ),
                ));
            }
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// The error of a task that ended badly: its counts, the service's `statusMessage` and its
/// failed deployments (`POST {task}/listDeployments`; a failure to list them is mentioned, not
/// raised).
async fn remediation_failed(
    arm: &ArmClient,
    id: &RemediationId,
    task: &str,
    status: &TaskStatus,
    body: &Value,
) -> Diagnostic {
    let failed: Vec<String> = match arm
        .request(reqwest::Method::POST, &format!("{id}/listDeployments"))
        .api_version(REMEDIATION_API_VERSION)
        .send_paged()
        .await
    {
        Ok(items) => items
            .iter()
            .filter(|d| {
                d["status"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
            })
            .map(|d| {
                let resource = d["remediatedResourceId"]
                    .as_str()
                    .unwrap_or("(unknown resource)");
                match (d["error"]["code"].as_str(), d["error"]["message"].as_str()) {
                    (Some(c), Some(m)) => format!("  - {resource}: {c}: {m}"),
                    (Some(c), None) => format!("  - {resource}: {c}"),
                    (None, Some(m)) => format!("  - {resource}: {m}"),
                    (None, None) => format!("  - {resource}"),
                }
            })
            .collect(),
        Err(e) => vec![format!("  (listing the deployments failed: {e})")],
    };
    let mut detail = format!(
        "{task} ended {}: {} of {} deployments failed, {} succeeded.",
        status.state, status.failed, status.total, status.succeeded
    );
    if let Some(m) = body["properties"]["statusMessage"].as_str() {
        detail.push_str(&format!(" Azure says: {m}"));
    }
    if !failed.is_empty() {
        detail.push_str("\nFailed deployments:\n");
        detail.push_str(&failed.join("\n"));
    }
    Diagnostic::error("Remediation failed", detail)
}

/// Cancels every running task of an assignment (destroy). Tasks are listed at the
/// assignment's scope, filtered by assignment.
pub async fn cancel_running_remediations(
    arm: &ArmClient,
    assignment: &PolicyAssignmentId,
) -> Result<Vec<String>, Diagnostic> {
    let scope = scope_string(&assignment.scope);
    let filter = format!("PolicyAssignmentId eq '{assignment}'");
    let items = arm
        .list(
            &format!("{scope}/providers/Microsoft.PolicyInsights/remediations"),
            REMEDIATION_API_VERSION,
            &[("$filter", filter.as_str())],
        )
        .await
        .map_err(|e| arm_error("listing remediations of", assignment.describe(), &e))?;
    let mut cancelled = Vec::new();
    for item in items {
        let state = item["properties"]["provisioningState"]
            .as_str()
            .unwrap_or_default();
        if is_terminal_state(state) || state.eq_ignore_ascii_case("Cancelling") {
            continue;
        }
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        cancel_remediation(arm, id).await?;
        cancelled.push(id.to_owned());
    }
    Ok(cancelled)
}

/// `POST {task}/cancel`; a task that ended meanwhile is fine.
pub async fn cancel_remediation(arm: &ArmClient, id: &str) -> Result<(), Diagnostic> {
    tracing::info!(remediation = %id, "cancelling a running remediation task");
    match arm
        .post(&format!("{id}/cancel"), REMEDIATION_API_VERSION, None)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(400) || e.is_not_found() => {
            tracing::info!(remediation = %id, error = %e, "the task had already ended");
            Ok(())
        }
        Err(e) => Err(arm_error(
            "cancelling",
            format!("Policy Remediation {id:?}"),
            &e,
        )),
    }
}

/// A value as the `{"value": …}` map ARM keeps assignment parameters in, back to plain values.
pub fn plain_parameters(arm: &Value) -> Map<String, Value> {
    arm.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or(Value::Null)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUB: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn assignment_ids_per_scope_round_trip() {
        for (input, scope) in [
            (
                "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/policyAssignments/a".to_owned(),
                Scope::ManagementGroup { name: "mg1".into() },
            ),
            (
                format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/a"),
                Scope::Subscription { subscription_id: SUB.into() },
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/policyAssignments/a"),
                Scope::ResourceGroup { subscription_id: SUB.into(), resource_group: "rg".into() },
            ),
        ] {
            let id = PolicyAssignmentId::parse(&input).unwrap();
            assert_eq!(id.scope, scope);
            assert_eq!(id.name, "a");
            assert_eq!(id.to_string(), input);
            assert_eq!(PolicyAssignmentId::parse(&id.to_string()).unwrap(), id);
        }
        let resource = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/policyAssignments/a"
        );
        let id = PolicyAssignmentId::parse(&resource).unwrap();
        assert!(matches!(id.scope, Scope::Resource { .. }));
        assert_eq!(id.to_string(), resource);
    }

    #[test]
    fn assignment_ids_are_case_insensitive_and_checked() {
        let id = PolicyAssignmentId::parse(&format!(
            "/SUBSCRIPTIONS/{SUB}/PROVIDERS/microsoft.authorization/POLICYASSIGNMENTS/Deps"
        ))
        .unwrap();
        assert_eq!(
            id.to_string(),
            format!(
                "/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/Deps"
            )
        );
        assert_eq!(
            id.describe(),
            format!("Policy Assignment (Scope \"/subscriptions/{SUB}\" / Name \"Deps\")")
        );
        for bad in [
            format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/a"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments"),
            "policyAssignments/a".to_owned(),
            "/bogus/x/providers/Microsoft.Authorization/policyAssignments/a".to_owned(),
        ] {
            assert!(PolicyAssignmentId::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn remediation_ids_round_trip() {
        let input =
            format!("/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/remediations/r1");
        let id = RemediationId::parse(&input).unwrap();
        assert_eq!(id.to_string(), input);
        let lower = RemediationId::parse(&input.to_lowercase()).unwrap();
        assert_eq!(lower.name, "r1");
        let mg = "/providers/Microsoft.Management/managementGroups/m/providers/Microsoft.PolicyInsights/remediations/r";
        assert_eq!(RemediationId::parse(mg).unwrap().to_string(), mg);
        assert!(
            RemediationId::parse(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/other/r"
            ))
            .is_err()
        );
    }

    fn arm_definition(effect: &str, params: Value, roles: &[&str]) -> ArmPolicy {
        let roles: Vec<String> = roles
            .iter()
            .map(|r| format!("/providers/Microsoft.Authorization/roleDefinitions/{r}"))
            .collect();
        ArmPolicy::from_definition(
            "/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/custom",
            &json!({"properties": {"displayName": "Custom", "parameters": params,
                "policyRule": {"if": {}, "then": {"effect": effect, "details": {"roleDefinitionIds": roles}}}}}),
        )
        .unwrap()
    }

    #[test]
    fn arm_definitions_check_parameters_and_plan_roles() {
        let def = arm_definition(
            "[parameters('effect')]",
            json!({
                "effect": {"type": "String", "allowedValues": ["DeployIfNotExists", "Disabled"], "defaultValue": "DeployIfNotExists"},
                "workspace": {"type": "String", "metadata": {"assignPermissions": true}}
            }),
            &["92aaf0da-9dab-42b6-94a3-d43ce8d16293"],
        );
        let info = PolicyInfo::Arm(Box::new(def));
        assert!(info.can_deploy());
        let given = |v: Value| v.as_object().cloned().unwrap();
        let problems = info.check_parameters(&given(json!({"efect": "x"})));
        let names: Vec<&str> = problems.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["efect", "workspace"], "{problems:?}");
        let problems = info.check_parameters(&given(json!({"effect": "Audit", "workspace": "/w"})));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .contains("\"DeployIfNotExists\", \"Disabled\"")
        );
        let ws = "/subscriptions/other/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/w";
        let targets = info.role_targets("/subscriptions/s", &given(json!({"workspace": ws})));
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[1].scope, ws);
        assert_eq!(info.remediation_targets(&given(json!({}))), vec![None]);
        assert!(
            info.remediation_targets(&given(json!({"effect": "Disabled"})))
                .is_empty()
        );
    }

    #[test]
    fn arm_initiatives_resolve_member_effects() {
        let member = arm_definition(
            "[parameters('effect')]",
            json!({"effect": {"type": "String", "defaultValue": "DeployIfNotExists"}}),
            &["b24988ac-6180-42a0-ab88-20f7382dd24c"],
        );
        let set = ArmPolicy {
            definition_id:
                "/subscriptions/s/providers/Microsoft.Authorization/policySetDefinitions/x".into(),
            kind: DefinitionKind::Set,
            display_name: None,
            parameters:
                json!({"memberEffect": {"type": "String", "defaultValue": "DeployIfNotExists"}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            then: Value::Null,
            members: vec![ArmMember {
                reference_id: "one".into(),
                definition: Box::new(member),
                wiring: json!({"effect": {"value": "[parameters('memberEffect')]"}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            }],
        };
        let info = PolicyInfo::Arm(Box::new(set));
        assert_eq!(info.reference_ids(), vec!["one"]);
        assert_eq!(
            info.remediation_targets(&Map::new()),
            vec![Some("one".to_owned())]
        );
        let off = json!({"memberEffect": "Disabled"})
            .as_object()
            .cloned()
            .unwrap();
        assert!(info.remediation_targets(&off).is_empty());
        assert_eq!(info.role_targets("/subscriptions/s", &Map::new()).len(), 1);
    }

    #[test]
    fn task_status_reads_the_example() {
        let body = json!({"properties": {"provisioningState": "Succeeded",
            "deploymentStatus": {"totalDeployments": 2, "successfulDeployments": 2, "failedDeployments": 0}}});
        assert_eq!(
            TaskStatus::of(&body),
            TaskStatus {
                state: "Succeeded".into(),
                total: 2,
                succeeded: 2,
                failed: 0
            }
        );
        assert!(is_terminal_state("canceled") && !is_terminal_state("Evaluating"));
        // `Complete` (in the docs' list) ended well: it was reported as a failure once.
        assert!(is_completed_state("Complete") && is_completed_state("succeeded"));
        assert!(!is_completed_state("Failed") && !is_completed_state("Canceled"));
    }
}
