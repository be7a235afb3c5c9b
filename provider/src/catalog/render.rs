//! ARM request bodies for policy assignments, their identity's role assignments and
//! remediation tasks, rendered from the handlebars templates in `templates/`.
//!
//! Every value reaches a template through the `json` helper, which serialises it with
//! serde_json: user input is never spliced into JSON text. The rendered text is parsed back, so
//! a template mistake is an error here, not a malformed request. Rendering is deterministic
//! (role assignment names are UUID v5 of what they grant), so snapshots need no filters.

use std::sync::LazyLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{CatalogEntry, DefinitionKind, ParamProblem, lookup};
use crate::arm::ids::Scope;
use crate::resources::common::is_guid;

/// api-version of Microsoft.Authorization/policyAssignments the bodies follow (arm-api.md §7).
pub const POLICY_ASSIGNMENT_API_VERSION: &str = "2025-03-01";
/// api-version of Microsoft.Authorization/roleAssignments (arm-api.md §9).
pub const ROLE_ASSIGNMENT_API_VERSION: &str = "2022-04-01";
/// api-version of Microsoft.PolicyInsights/remediations (arm-api.md §10).
pub const REMEDIATION_API_VERSION: &str = "2021-10-01";

const POLICY_ASSIGNMENT_TEMPLATE: &str =
    include_str!("../../../templates/policy_assignment.json.hbs");
const ROLE_ASSIGNMENT_TEMPLATE: &str = include_str!("../../../templates/role_assignment.json.hbs");
const REMEDIATION_TEMPLATE: &str = include_str!("../../../templates/remediation.json.hbs");

/// Namespace of the UUID v5 names this provider gives role assignments and remediations
/// (a random UUID chosen once; changing it would rename every role assignment).
const NAME_NAMESPACE: Uuid = Uuid::from_u128(0x6c0f_3b8e_5d1a_4e57_9a43_2f7d_d1c8_b0e5);

/// Why a body could not be rendered. Plan-time validation should have caught these; they are
/// the last line before a request ARM would refuse.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("invalid scope {scope:?}: {reason}")]
    Scope { scope: String, reason: String },
    #[error("invalid policy assignment name {name:?}: {reason}")]
    Name { name: String, reason: String },
    #[error("{0}")]
    Identity(String),
    #[error("{0}")]
    Location(String),
    #[error("invalid {field}: {reason}")]
    Value { field: &'static str, reason: String },
    #[error("invalid parameters:\n{}", problems.iter().map(|p| format!("  - {}: {}", p.name, p.message)).collect::<Vec<_>>().join("\n"))]
    Parameters { problems: Vec<ParamProblem> },
    #[error("unknown catalog key {key:?}{}", suggestion(key))]
    UnknownKey { key: String },
    #[error("rendering {template}: {message}")]
    Template {
        template: &'static str,
        message: String,
    },
}

fn suggestion(key: &str) -> String {
    let close = super::suggest_keys(key);
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(" or "))
    }
}

/// The policy an assignment assigns.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyRef {
    /// A catalog entry: parameters are checked against it.
    Entry(&'static CatalogEntry),
    /// Any definition or set ID (built-in or custom); parameters are passed as given.
    DefinitionId(String),
}

impl PolicyRef {
    /// A catalog key, or else a definition ID (catalog entries are found by ID too).
    pub fn parse(key_or_id: &str) -> Result<PolicyRef, RenderError> {
        if key_or_id.starts_with('/') {
            return Ok(match super::by_definition_id(key_or_id) {
                Some(e) => PolicyRef::Entry(e),
                None => PolicyRef::DefinitionId(key_or_id.to_string()),
            });
        }
        lookup(key_or_id)
            .map(PolicyRef::Entry)
            .ok_or_else(|| RenderError::UnknownKey {
                key: key_or_id.to_string(),
            })
    }

    pub fn definition_id(&self) -> &str {
        match self {
            PolicyRef::Entry(e) => &e.definition_id,
            PolicyRef::DefinitionId(id) => id,
        }
    }

    pub fn entry(&self) -> Option<&'static CatalogEntry> {
        match self {
            PolicyRef::Entry(e) => Some(e),
            PolicyRef::DefinitionId(_) => None,
        }
    }
}

/// The assignment's managed identity.
#[derive(Clone, Debug, PartialEq)]
pub enum Identity {
    /// No identity: the policy cannot deploy (audit only).
    None,
    SystemAssigned,
    /// A user-assigned identity, by resource ID.
    UserAssigned(String),
}

/// A non-compliance message, optionally for one member of an initiative.
#[derive(Clone, Debug, PartialEq)]
pub struct NonComplianceMessage {
    pub message: String,
    pub policy_definition_reference_id: Option<String>,
}

/// Everything a policy assignment body is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignmentInput {
    pub policy: PolicyRef,
    /// Management group, subscription, resource group or resource ID.
    pub scope: String,
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// Parameter values (nulls are left out).
    pub parameters: Map<String, Value>,
    /// `Default`, `DoNotEnforce` or `Enroll`; `None` leaves ARM's default (`Default`).
    pub enforcement_mode: Option<String>,
    pub not_scopes: Vec<String>,
    pub non_compliance_messages: Vec<NonComplianceMessage>,
    /// e.g. `1.*.*`.
    pub definition_version: Option<String>,
    pub identity: Identity,
    /// Required with an identity.
    pub location: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

impl AssignmentInput {
    /// An input with defaults: the entry's display name, a system-assigned identity when the
    /// policy deploys, no parameters.
    pub fn new(policy: PolicyRef, scope: impl Into<String>, name: impl Into<String>) -> Self {
        let identity = match &policy {
            PolicyRef::Entry(e) if !e.can_deploy() => Identity::None,
            _ => Identity::SystemAssigned,
        };
        AssignmentInput {
            display_name: policy.entry().map(|e| default_display_name(e.display_name)),
            policy,
            scope: scope.into(),
            name: name.into(),
            description: None,
            parameters: Map::new(),
            enforcement_mode: None,
            not_scopes: Vec::new(),
            non_compliance_messages: Vec::new(),
            definition_version: None,
            identity,
            location: None,
            metadata: None,
        }
    }

    /// The assignment's ARM ID.
    pub fn assignment_id(&self) -> String {
        policy_assignment_id(&self.scope, &self.name)
    }
}

/// Longest assignment display name (arm-api.md §7.2, from the docs).
pub const MAX_DISPLAY_NAME: usize = 128;

/// An assignment's default display name: the definition's, shortened to fit. Some built-in
/// display names are longer than assignments accept (594c1276's is 129 characters).
pub fn default_display_name(definition_display_name: &str) -> String {
    if definition_display_name.chars().count() <= MAX_DISPLAY_NAME {
        return definition_display_name.to_string();
    }
    let mut s: String = definition_display_name
        .chars()
        .take(MAX_DISPLAY_NAME - 1)
        .collect();
    s.push('…');
    s
}

/// How a remediation finds resources (arm-api.md §10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RemediationMode {
    /// Remediate what the last compliance scan found non-compliant (ARM's default).
    #[default]
    ExistingNonCompliant,
    /// Re-evaluate compliance first.
    ReEvaluateCompliance,
}

impl RemediationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationMode::ExistingNonCompliant => "ExistingNonCompliant",
            RemediationMode::ReEvaluateCompliance => "ReEvaluateCompliance",
        }
    }

    /// Parses a mode case-insensitively.
    pub fn parse(s: &str) -> Option<RemediationMode> {
        [
            RemediationMode::ExistingNonCompliant,
            RemediationMode::ReEvaluateCompliance,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// Everything a remediation body is made of.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemediationInput {
    pub policy_assignment_id: String,
    /// Required when the assignment is an initiative: the member to remediate.
    pub policy_definition_reference_id: Option<String>,
    pub mode: RemediationMode,
    pub location_filters: Vec<String>,
    /// 1–30 (docs); ARM's default 10.
    pub parallel_deployments: Option<i64>,
    /// 1–50000 (docs); ARM's default 500.
    pub resource_count: Option<i64>,
    /// Fraction 0.0–1.0 of failed deployments that stops the task (spec; the docs' prose says
    /// percent, the spec example uses 0.1).
    pub failure_threshold: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Templates

fn json_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let v = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    let text = serde_json::to_string(v.value())
        .map_err(|e| RenderErrorReason::Other(format!("json helper: {e}")))?;
    out.write(&text)?;
    Ok(())
}

static TEMPLATES: LazyLock<Handlebars<'static>> = LazyLock::new(|| {
    let mut hb = Handlebars::new();
    // Output is JSON: HTML escaping would corrupt it, and every value is serialised by the
    // json helper anyway.
    hb.register_escape_fn(handlebars::no_escape);
    // A misspelt variable in a template is an error, not an empty string.
    hb.set_strict_mode(true);
    hb.register_helper("json", Box::new(json_helper));
    for (name, text) in [
        ("policy_assignment", POLICY_ASSIGNMENT_TEMPLATE),
        ("role_assignment", ROLE_ASSIGNMENT_TEMPLATE),
        ("remediation", REMEDIATION_TEMPLATE),
    ] {
        hb.register_template_string(name, text)
            .unwrap_or_else(|e| panic!("templates/{name}.json.hbs: {e}"));
    }
    hb
});

fn render(template: &'static str, ctx: &Value) -> Result<Value, RenderError> {
    let text = TEMPLATES
        .render(template, ctx)
        .map_err(|e| RenderError::Template {
            template,
            message: e.to_string(),
        })?;
    serde_json::from_str(&text).map_err(|e| RenderError::Template {
        template,
        message: format!("the output is not JSON ({e}):\n{text}"),
    })
}

// ---------------------------------------------------------------------------------------------
// IDs and names

/// `{scope}/providers/Microsoft.Authorization/policyAssignments/{name}`.
pub fn policy_assignment_id(scope: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/policyAssignments/{name}",
        scope.trim_end_matches('/')
    )
}

/// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
pub fn role_assignment_id(scope: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
        scope.trim_end_matches('/')
    )
}

/// `{scope}/providers/Microsoft.PolicyInsights/remediations/{name}`.
pub fn remediation_id(scope: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.PolicyInsights/remediations/{name}",
        scope.trim_end_matches('/')
    )
}

/// The role definition's ID as ARM reports it at this scope: subscription-qualified under a
/// subscription, tenant-level at a management group (arm-api.md §9, policy-catalog.md §1).
pub fn role_definition_id(role_definition_guid: &str, scope: &str) -> String {
    let guid = role_definition_guid.to_ascii_lowercase();
    match Scope::parse(scope)
        .ok()
        .as_ref()
        .and_then(Scope::subscription_id)
    {
        Some(sub) => {
            format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        None => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

/// A role assignment's name: a UUID v5 of the assignment, the role and the scope (compared
/// lowercase, as ARM compares IDs), so a plan names the same role assignment every time and two
/// assignments never share one.
pub fn role_assignment_name(
    assignment_id: &str,
    role_definition_guid: &str,
    scope: &str,
) -> String {
    let seed = format!(
        "role-assignment|{}|{}|{}",
        assignment_id.trim_end_matches('/').to_ascii_lowercase(),
        role_definition_guid.to_ascii_lowercase(),
        scope.trim_end_matches('/').to_ascii_lowercase()
    );
    Uuid::new_v5(&NAME_NAMESPACE, seed.as_bytes()).to_string()
}

/// A remediation's name: a UUID v5 of the assignment, the member (initiatives) and a
/// generation string the caller changes when it wants a new task (e.g. a hash of the
/// definition and parameters: a started remediation cannot be changed, arm-api.md §10).
pub fn remediation_name(
    assignment_id: &str,
    reference_id: Option<&str>,
    generation: &str,
) -> String {
    let seed = format!(
        "remediation|{}|{}|{generation}",
        assignment_id.trim_end_matches('/').to_ascii_lowercase(),
        reference_id.unwrap_or_default().to_ascii_lowercase(),
    );
    Uuid::new_v5(&NAME_NAMESPACE, seed.as_bytes()).to_string()
}

/// A generation for [`remediation_name`]: changes when the policy, its version or the
/// effective parameter values change (when the issue asks for a new remediation task), and
/// only then.
pub fn remediation_generation(input: &AssignmentInput) -> String {
    let params = match input.policy.entry() {
        Some(e) => e.effective_parameters(&input.parameters),
        None => input.parameters.clone(),
    };
    // Sorted keys: the same parameters give the same generation whatever their order.
    let sorted: std::collections::BTreeMap<&String, &Value> =
        params.iter().filter(|(_, v)| !v.is_null()).collect();
    let seed = format!(
        "generation|{}|{}|{}",
        input.policy.definition_id().to_ascii_lowercase(),
        input.definition_version.as_deref().unwrap_or_default(),
        serde_json::to_string(&sorted).unwrap_or_default()
    );
    Uuid::new_v5(&NAME_NAMESPACE, seed.as_bytes())
        .simple()
        .to_string()[..12]
        .to_string()
}

/// Longest assignment name at a management group (arm-api.md §7.3).
pub const MAX_NAME_MANAGEMENT_GROUP: usize = 24;
/// Longest assignment name elsewhere.
pub const MAX_NAME: usize = 64;
const NAME_FORBIDDEN: &[char] = &['<', '>', '*', '%', '&', ':', '\\', '?', '.', '+', '/'];

/// The default assignment name for a catalog key (or any policy name) at a scope: the key
/// itself when it fits, otherwise its start and a short hash of the whole key, so two keys never
/// share a name. At most 24 characters at a management group, 64 elsewhere.
pub fn default_assignment_name(key: &str, scope: &str) -> String {
    let max = match Scope::parse(scope) {
        Ok(Scope::ManagementGroup { .. }) => MAX_NAME_MANAGEMENT_GROUP,
        _ => MAX_NAME,
    };
    let clean: String = key
        .chars()
        .map(|c| {
            if c.is_control() || c == ' ' || NAME_FORBIDDEN.contains(&c) {
                '-'
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim_matches('-');
    if !clean.is_empty() && clean.chars().count() <= max {
        return clean.to_string();
    }
    let hash = Uuid::new_v5(&NAME_NAMESPACE, format!("name|{key}").as_bytes()).simple();
    let hash = &hash.to_string()[..6];
    let head: String = clean.chars().take(max - hash.len() - 1).collect();
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        hash.to_string()
    } else {
        format!("{head}-{hash}")
    }
}

/// Checks a policy assignment name for a scope (arm-api.md §7.3): 1–64 characters, 1–24 at a
/// management group, none of `<>*%&:\?.+/` or control characters, not ending in a space.
pub fn validate_assignment_name(name: &str, scope: &Scope) -> Result<(), String> {
    let (max, at) = match scope {
        Scope::ManagementGroup { .. } => (MAX_NAME_MANAGEMENT_GROUP, "at management group scope"),
        _ => (MAX_NAME, "at this scope"),
    };
    let len = name.chars().count();
    if len == 0 {
        return Err("the name is empty".into());
    }
    if len > max {
        return Err(format!(
            "the name is {len} characters long; policy assignment names {at} are at most {max} \
             characters (ARM: InvalidPolicyAssignmentName)"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || NAME_FORBIDDEN.contains(c))
    {
        return Err(format!(
            "the name contains {c:?}; names cannot contain any of < > * % & : \\ ? . + / or \
             control characters"
        ));
    }
    if name.ends_with(' ') {
        return Err("the name ends with a space".into());
    }
    Ok(())
}

fn parse_scope(scope: &str) -> Result<Scope, RenderError> {
    Scope::parse(scope).map_err(|e| RenderError::Scope {
        scope: scope.to_string(),
        reason: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// The PUT body of a policy assignment (arm-api.md §7.2).
pub fn policy_assignment_body(input: &AssignmentInput) -> Result<Value, RenderError> {
    let scope = parse_scope(&input.scope)?;
    validate_assignment_name(&input.name, &scope).map_err(|reason| RenderError::Name {
        name: input.name.clone(),
        reason,
    })?;
    if let Some(entry) = input.policy.entry() {
        let problems = entry.check_parameters(&input.parameters);
        if !problems.is_empty() {
            return Err(RenderError::Parameters { problems });
        }
    } else if !input.policy.definition_id().starts_with('/') {
        return Err(RenderError::Value {
            field: "policy_definition_id",
            reason: format!(
                "{:?} is not a definition ID; expected …/providers/Microsoft.Authorization/\
                 policyDefinitions/{{name}} or …/policySetDefinitions/{{name}}",
                input.policy.definition_id()
            ),
        });
    }
    if let Some(d) = &input.display_name
        && d.chars().count() > MAX_DISPLAY_NAME
    {
        return Err(RenderError::Value {
            field: "display_name",
            reason: format!("at most {MAX_DISPLAY_NAME} characters"),
        });
    }
    if let Some(d) = &input.description
        && d.chars().count() > 512
    {
        return Err(RenderError::Value {
            field: "description",
            reason: "at most 512 characters".into(),
        });
    }
    if let Some(m) = &input.enforcement_mode
        && !["Default", "DoNotEnforce", "Enroll"].contains(&m.as_str())
    {
        return Err(RenderError::Value {
            field: "enforcement_mode",
            reason: format!("{m:?}; allowed: Default, DoNotEnforce, Enroll"),
        });
    }
    let identity = match &input.identity {
        Identity::None => Value::Null,
        Identity::SystemAssigned => json!({ "type": "SystemAssigned" }),
        Identity::UserAssigned(id) => {
            if !id
                .to_ascii_lowercase()
                .contains("/providers/microsoft.managedidentity/userassignedidentities/")
            {
                return Err(RenderError::Identity(format!(
                    "a UserAssigned identity needs the identity's resource ID \
                     (/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/\
                     userAssignedIdentities/…), got {id:?}"
                )));
            }
            let mut ids = Map::new();
            ids.insert(id.clone(), json!({}));
            json!({ "type": "UserAssigned", "userAssignedIdentities": ids })
        }
    };
    let location = match (&input.identity, input.location.as_deref()) {
        (Identity::None, l) => l,
        (_, None | Some("")) => {
            return Err(RenderError::Location(
                "a policy assignment with a managed identity needs a location (ARM keeps the \
                 identity there)"
                    .into(),
            ));
        }
        (_, l) => l,
    };
    if location.is_some_and(|l| l.eq_ignore_ascii_case("global")) {
        return Err(RenderError::Location(
            "a policy assignment's location cannot be \"global\"".into(),
        ));
    }
    let parameters: Map<String, Value> = input
        .parameters
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), json!({ "value": v })))
        .collect();
    let messages: Vec<Value> = input
        .non_compliance_messages
        .iter()
        .map(|m| {
            let mut o = Map::new();
            o.insert("message".into(), Value::String(m.message.clone()));
            if let Some(r) = &m.policy_definition_reference_id {
                o.insert(
                    "policyDefinitionReferenceId".into(),
                    Value::String(r.clone()),
                );
            }
            Value::Object(o)
        })
        .collect();
    let ctx = json!({
        "location": location,
        "identity": identity,
        "display_name": input.display_name,
        "description": input.description,
        "policy_definition_id": input.policy.definition_id(),
        "definition_version": input.definition_version,
        "parameters": parameters,
        "enforcement_mode": input.enforcement_mode,
        "not_scopes": input.not_scopes,
        "non_compliance_messages": messages,
        "metadata": input.metadata,
    });
    render("policy_assignment", &ctx)
}

/// The PUT body of a role assignment for a policy assignment's identity (arm-api.md §9).
/// `principalType: ServicePrincipal` skips ARM's directory lookup, which avoids the
/// `PrincipalNotFound` race while a new identity replicates.
pub fn role_assignment_body(
    role_definition_guid: &str,
    scope: &str,
    principal_id: &str,
) -> Result<Value, RenderError> {
    parse_scope(scope)?;
    if !is_guid(role_definition_guid) {
        return Err(RenderError::Value {
            field: "role_definition_id",
            reason: format!("{role_definition_guid:?} is not a role definition GUID"),
        });
    }
    if principal_id.is_empty() {
        return Err(RenderError::Value {
            field: "principal_id",
            reason: "empty".into(),
        });
    }
    let ctx = json!({
        "role_definition_id": role_definition_id(role_definition_guid, scope),
        "principal_id": principal_id,
    });
    render("role_assignment", &ctx)
}

/// The PUT body of a remediation task (arm-api.md §10).
pub fn remediation_body(input: &RemediationInput) -> Result<Value, RenderError> {
    if !input
        .policy_assignment_id
        .to_ascii_lowercase()
        .contains("/providers/microsoft.authorization/policyassignments/")
    {
        return Err(RenderError::Value {
            field: "policy_assignment_id",
            reason: format!(
                "{:?} is not a policy assignment ID",
                input.policy_assignment_id
            ),
        });
    }
    if let Some(n) = input.parallel_deployments
        && !(1..=30).contains(&n)
    {
        return Err(RenderError::Value {
            field: "parallel_deployments",
            reason: format!("{n}; allowed 1 to 30"),
        });
    }
    if let Some(n) = input.resource_count
        && !(1..=50_000).contains(&n)
    {
        return Err(RenderError::Value {
            field: "resource_count",
            reason: format!("{n}; allowed 1 to 50000"),
        });
    }
    if let Some(f) = input.failure_threshold
        && !(0.0..=1.0).contains(&f)
    {
        return Err(RenderError::Value {
            field: "failure_threshold",
            reason: format!("{f}; a fraction from 0.0 to 1.0"),
        });
    }
    let ctx = json!({
        "policy_assignment_id": input.policy_assignment_id,
        "policy_definition_reference_id": input.policy_definition_reference_id,
        "mode": input.mode.as_str(),
        // Objects, not bare numbers: handlebars' `if` is false for 0 and 0.0.
        "filters": (!input.location_filters.is_empty()).then(|| json!({ "locations": input.location_filters })),
        "parallel_deployments": input.parallel_deployments.map(|n| json!({ "value": n })),
        "resource_count": input.resource_count.map(|n| json!({ "value": n })),
        "failure_threshold": input.failure_threshold.map(|f| json!({ "percentage": f })),
    });
    render("remediation", &ctx)
}

// ---------------------------------------------------------------------------------------------
// Everything the provider sends for one assignment

/// One request the provider would send.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub api_version: &'static str,
    pub body: Value,
}

/// What the provider sends for an assignment, in order: the assignment, each role assignment
/// for its identity (`principal_id` is only known after the assignment exists; pass a
/// placeholder to preview), and a remediation per deploying member when asked.
pub fn assignment_requests(
    input: &AssignmentInput,
    principal_id: &str,
    remediation: Option<&RemediationInput>,
    remediation_generation: &str,
) -> Result<Vec<Request>, RenderError> {
    let assignment_id = input.assignment_id();
    let mut out = vec![Request {
        method: "PUT",
        path: assignment_id.clone(),
        api_version: POLICY_ASSIGNMENT_API_VERSION,
        body: policy_assignment_body(input)?,
    }];
    let Some(entry) = input.policy.entry() else {
        return Ok(out);
    };
    if input.identity != Identity::None {
        for t in entry.role_assignment_targets(&input.scope, &input.parameters) {
            let name = role_assignment_name(&assignment_id, &t.role_definition_id, &t.scope);
            out.push(Request {
                method: "PUT",
                path: role_assignment_id(&t.scope, &name),
                api_version: ROLE_ASSIGNMENT_API_VERSION,
                body: role_assignment_body(&t.role_definition_id, &t.scope, principal_id)?,
            });
        }
    }
    // Without an identity a remediation has nothing to deploy with.
    if let Some(r) = remediation.filter(|_| input.identity != Identity::None) {
        for reference in entry.remediation_targets(&input.parameters) {
            let name = remediation_name(&assignment_id, reference, remediation_generation);
            let body = remediation_body(&RemediationInput {
                policy_assignment_id: assignment_id.clone(),
                policy_definition_reference_id: match entry.kind {
                    DefinitionKind::Set => reference.map(str::to_string),
                    DefinitionKind::Definition => None,
                },
                ..r.clone()
            })?;
            out.push(Request {
                method: "PUT",
                path: remediation_id(&input.scope, &name),
                api_version: REMEDIATION_API_VERSION,
                body,
            });
        }
    }
    Ok(out)
}
