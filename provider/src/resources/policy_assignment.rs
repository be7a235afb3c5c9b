//! `defender_policy_assignment`: Microsoft.Authorization/policyAssignments (arm-api.md §7) with
//! everything the portal does behind an auto-provisioning toggle: the managed identity, the
//! role assignments its policy needs (roleAssignments, §9) and remediation tasks (§10).
//!
//! - The policy is a catalog key (`policy`, checked offline at plan time) or any definition ID
//!   (`policy_definition_id`, read from ARM at plan time to check parameters and find roles).
//! - Role assignments: every role of the definition's `roleDefinitionIds` (all members' for an
//!   initiative) at the assignment scope, and at each resource a parameter with
//!   `assignPermissions` names. Names are UUID v5 of assignment + role + scope, so plans are
//!   stable and assignments never share one. ARM does not create them with the assignment
//!   (§7 notes). They are sent with `principalType: ServicePrincipal`, which skips the
//!   directory lookup that fails while a new identity replicates; `PrincipalNotFound` is still
//!   retried within the ARM client's bounds (about two minutes, every retry logged). A role
//!   assignment that already exists under another name (409 `RoleAssignmentExists`, e.g. made
//!   by hand or by azurerm before a `moved {}`) is adopted.
//! - PUT answers 201 for create and update; policy assignments are eventually consistent, so
//!   after a write the assignment is read until it shows what was written (bounded, logged),
//!   as azurerm's `waitForPolicyAssignmentToStabilize` does, not after a fixed sleep.
//! - Remediation: on create, when the definition or its parameters change, and when the
//!   `remediation` attribute is added, one task per deploying member (per definition). With
//!   `wait` the tasks are polled to the end and a failure names the failed deployments.
//! - Destroy cancels running tasks, removes the role assignments (ARM leaves them behind when
//!   the identity goes), then the assignment.
//! - Partial failure keeps what exists in state (`Failed::with_partial`).

use crate::framework::timeouts::DefaultTimeouts;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Waited, arm_error, wait_until};
use super::policy_common::{
    PolicyAssignmentId, PolicyInfo, RemediationId, TaskSettings, cancel_running_remediations,
    consistency_wait, fetch_policy, plain_parameters, put_remediation, scope_string,
    wait_for_remediation,
};
use super::policy_definition_data::unknown_key_detail;
use crate::arm::ArmClient;
use crate::arm::ids::Scope;
use crate::catalog::render::{
    self, AssignmentInput, Identity, NonComplianceMessage, POLICY_ASSIGNMENT_API_VERSION,
    PolicyRef, ROLE_ASSIGNMENT_API_VERSION, RenderError,
};
use crate::catalog::{self, DefinitionKind, ParamProblem, RoleTarget};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource, Value as CtyValue,
};

/// Assigns a built-in policy or initiative — by default a DeployIfNotExists policy that Defender
/// for Cloud auto provisioning uses — to a management group, subscription or resource group,
/// with everything the portal does behind its extension toggles: the managed identity, the role
/// assignments the policy's deployments need, and remediation tasks for the resources that
/// already exist.
///
/// Choose the policy by its catalog key (`policy = "kubernetes-policy-addon"`, `"mde"`,
/// `"dependency-agent-windows"`, …; see the `defender_policy_definition` data source) or by
/// any definition or initiative ID (`policy_definition_id`). Parameters are checked at plan
/// time against the catalog (or the definition read from Azure): unknown names, wrong types
/// and values outside the allowed values fail the plan before anything is sent.
///
/// The identity gets every role in the definition's `roleDefinitionIds` (for an initiative, of
/// every member) at the assignment scope, and at each resource a parameter with
/// `assignPermissions` points to (e.g. a Log Analytics workspace). The role assignments have
/// deterministic names, are listed in `role_assignments`, and are removed on destroy before the
/// assignment itself.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_assignment")]
pub struct PolicyAssignmentModel {
    /// The assignment's ARM ID: `{scope}/providers/Microsoft.Authorization/policyAssignments/{name}`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The catalog key of the policy or initiative to assign, e.g. `kubernetes-policy-addon`,
    /// `dependency-agent-linux` or `mde`. Set this or `policy_definition_id`. When
    /// `policy_definition_id` is set instead, this reports the matching key (null for a
    /// definition outside the catalog).
    #[schemars(extend("optional" = true, "computed" = true))]
    pub policy: Option<String>,
    /// The ID of any policy definition or initiative
    /// (`…/providers/Microsoft.Authorization/policyDefinitions/{name}` or
    /// `…/policySetDefinitions/{name}`); its parameters are checked against the definition read
    /// from Azure at plan time. Set this or `policy`; with `policy` it is the key's definition.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub policy_definition_id: Option<String>,
    /// Where the policy applies: a management group
    /// (`/providers/Microsoft.Management/managementGroups/{name}`), a subscription
    /// (`/subscriptions/{id}`) or a resource group. Changing it creates a new assignment.
    #[schemars(extend("requires_replace" = true))]
    pub scope: String,
    /// The assignment's name: at most 64 characters, 24 at a management group, none of
    /// `<>*%&:\?.+/`. Defaults to the catalog key (or the definition's name), shortened with a
    /// hash when too long. Changing it creates a new assignment.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub name: Option<String>,
    /// The display name (at most 128 characters). Defaults to the definition's.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub display_name: Option<String>,
    /// A description (at most 512 characters).
    pub description: Option<String>,
    /// Parameter values by name, as HCL values of any type (strings, numbers, bools, lists,
    /// objects), e.g. `{ effect = "DeployIfNotExists", listOfImageIdToInclude = [] }`.
    /// Parameters not given take the definition's defaults.
    pub parameters: Option<AnyValue>,
    /// `Default` (the policy is enforced), `DoNotEnforce` (evaluated only; remediation tasks
    /// still run) or `Enroll`. Defaults to `Default`.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub enforcement_mode: Option<String>,
    /// Scopes below `scope` the policy does not apply to.
    pub not_scopes: Option<Vec<String>>,
    /// Messages shown for non-compliant resources, for the whole assignment or one member of an
    /// initiative.
    pub non_compliance_messages: Option<Vec<NonComplianceMessageModel>>,
    /// The definition version to use, e.g. `1.*.*`; the latest when unset.
    pub definition_version: Option<String>,
    /// The managed identity the policy deploys with. Defaults to `SystemAssigned` for
    /// policies that can deploy or modify resources (DeployIfNotExists, Modify) and to none
    /// for audit policies.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub identity: Option<IdentityModel>,
    /// The Azure region of the assignment's managed identity, e.g. `westeurope`. Required with
    /// an identity; it cannot change, so changing it creates a new assignment.
    #[schemars(extend("requires_replace" = true))]
    pub location: Option<String>,
    /// Remediate existing non-compliant resources: a remediation task (one per deploying member
    /// of an initiative) is created with the assignment, and again when the definition or its
    /// parameters change or this attribute is added.
    pub remediation: Option<RemediationModel>,
    /// The object (principal) ID of the assignment's managed identity.
    #[schemars(extend("computed" = true))]
    pub principal_id: Option<String>,
    /// The role assignments made for the identity: role definition ID → role assignment ID.
    /// Keys are `/subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid}`
    /// (tenant form at a management group) for roles at the assignment scope, and
    /// `{resource id}/providers/Microsoft.Authorization/roleDefinitions/{guid}` for roles on a
    /// resource a parameter points to.
    #[schemars(extend("computed" = true))]
    pub role_assignments: Option<BTreeMap<String, String>>,
}

/// Any JSON value: a dynamic attribute (an HCL value of any type). Its schema is `true`, which
/// the framework maps to cty's dynamic pseudo-type, while the field keeps its description.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnyValue(pub serde_json::Value);

impl JsonSchema for AnyValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::Schema::default()
    }
}

/// A non-compliance message.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct NonComplianceMessageModel {
    /// The message.
    pub message: String,
    /// The member of the initiative the message is for (its `policyDefinitionReferenceId`);
    /// the whole assignment when unset.
    pub policy_definition_reference_id: Option<String>,
}

/// A managed identity.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct IdentityModel {
    /// `SystemAssigned`, `UserAssigned` or `None`.
    pub r#type: String,
    /// With `UserAssigned`: the user-assigned identity's resource ID (exactly one).
    pub identity_ids: Option<Vec<String>>,
}

/// How to remediate.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct RemediationModel {
    /// `ExistingNonCompliant` (remediate what the last compliance scan found; the default) or
    /// `ReEvaluateCompliance` (scan first).
    pub mode: Option<String>,
    /// Only remediate resources in these regions.
    pub location_filters: Option<Vec<String>>,
    /// How many resources are remediated at once, 1 to 30 (Azure's default 10).
    pub parallel_deployments: Option<i64>,
    /// How many non-compliant resources are remediated, 1 to 50000 (Azure's default 500).
    pub resource_count: Option<i64>,
    /// The fraction of failed deployments (0.0 to 1.0) at which the task stops.
    pub failure_threshold: Option<f64>,
    /// Wait for the tasks to finish, logging progress, and fail naming the failed
    /// deployments. Defaults to false: the tasks run on in Azure.
    pub wait: Option<bool>,
}

pub struct PolicyAssignment;

const IDENTITY_TYPES: &[&str] = &["SystemAssigned", "UserAssigned", "None"];
const ENFORCEMENT_MODES: &[&str] = &["Default", "DoNotEnforce", "Enroll"];
/// How long the eventual consistency after a write is absorbed.
const CONSISTENCY_TIMEOUT: Duration = Duration::from_secs(5 * 60);

// ---------------------------------------------------------------------------------------------
// Helpers

fn allowed_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameters as a JSON map (an object; nulls dropped).
fn params_of(m: &PolicyAssignmentModel) -> Map<String, Value> {
    m.parameters
        .as_ref()
        .and_then(|p| p.0.as_object())
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Names of parameters whose configured values are not known yet, and whether the whole
/// value is unknown.
fn unknown_parameters(raw: Option<&CtyValue>) -> (bool, BTreeSet<String>) {
    let mut v = match raw {
        None => return (false, BTreeSet::new()),
        Some(v) => v,
    };
    while let CtyValue::Dynamic(_, inner) = v {
        v = inner;
    }
    match v {
        CtyValue::Unknown(_) => (true, BTreeSet::new()),
        CtyValue::Object(m) | CtyValue::Map(m) => (
            false,
            m.iter()
                .filter(|(_, v)| !v.is_wholly_known())
                .map(|(k, _)| k.clone())
                .collect(),
        ),
        _ => (false, BTreeSet::new()),
    }
}

fn identity_of(m: &PolicyAssignmentModel) -> Identity {
    match &m.identity {
        None => Identity::None,
        Some(i) if i.r#type == "SystemAssigned" => Identity::SystemAssigned,
        Some(i) if i.r#type == "UserAssigned" => Identity::UserAssigned(
            i.identity_ids
                .as_ref()
                .and_then(|ids| ids.first())
                .cloned()
                .unwrap_or_default(),
        ),
        Some(_) => Identity::None,
    }
}

fn policy_ref(info: &PolicyInfo) -> PolicyRef {
    match info {
        PolicyInfo::Catalog(e) => PolicyRef::Entry(e),
        PolicyInfo::Arm(a) => PolicyRef::DefinitionId(a.definition_id.clone()),
    }
}

/// The render input for a model.
fn assignment_input(m: &PolicyAssignmentModel, info: &PolicyInfo) -> AssignmentInput {
    AssignmentInput {
        policy: policy_ref(info),
        scope: m.scope.clone(),
        name: m.name.clone().unwrap_or_default(),
        display_name: m.display_name.clone(),
        description: m.description.clone(),
        parameters: params_of(m),
        enforcement_mode: m.enforcement_mode.clone(),
        not_scopes: m.not_scopes.clone().unwrap_or_default(),
        non_compliance_messages: m
            .non_compliance_messages
            .iter()
            .flatten()
            .map(|n| NonComplianceMessage {
                message: n.message.clone(),
                policy_definition_reference_id: n.policy_definition_reference_id.clone(),
            })
            .collect(),
        definition_version: m.definition_version.clone(),
        identity: identity_of(m),
        location: m.location.clone(),
        metadata: None,
    }
}

fn render_error(e: RenderError) -> Diagnostic {
    let path = match &e {
        RenderError::Name { .. } => Some(AttrPath::root("name")),
        RenderError::Scope { .. } => Some(AttrPath::root("scope")),
        RenderError::Identity(_) => Some(AttrPath::root("identity")),
        RenderError::Location(_) => Some(AttrPath::root("location")),
        RenderError::Parameters { .. } => Some(AttrPath::root("parameters")),
        RenderError::Value { field, .. } => Some(AttrPath::root(*field)),
        _ => None,
    };
    let d = Diagnostic::error("Invalid policy assignment", e.to_string());
    match path {
        Some(p) => d.at(p),
        None => d,
    }
}

/// The `role_assignments` key of a role target.
fn role_key(target: &RoleTarget, assignment_scope: &str) -> String {
    if target.scope.eq_ignore_ascii_case(assignment_scope) {
        render::role_definition_id(&target.role_definition_id, assignment_scope)
    } else {
        format!(
            "{}/providers/Microsoft.Authorization/roleDefinitions/{}",
            target.scope.trim_end_matches('/'),
            target.role_definition_id
        )
    }
}

/// The role assignments an assignment should have, by key, with their deterministic IDs.
fn desired_roles(
    info: &PolicyInfo,
    m: &PolicyAssignmentModel,
    assignment_id: &str,
) -> BTreeMap<String, (RoleTarget, String)> {
    if identity_of(m) == Identity::None {
        return BTreeMap::new();
    }
    info.role_targets(&m.scope, &params_of(m))
        .into_iter()
        .map(|t| {
            let name = render::role_assignment_name(assignment_id, &t.role_definition_id, &t.scope);
            let id = render::role_assignment_id(&t.scope, &name);
            (role_key(&t, &m.scope), (t, id))
        })
        .collect()
}

/// The seed of this apply's remediation task names: the definition, its version and the
/// effective parameters (catalog `remediation_generation`), and the moment. A started task
/// cannot be changed or restarted (arm-api.md §10), so every run gets a task of its own, also
/// when parameters return to earlier values.
fn remediation_generation(m: &PolicyAssignmentModel, info: &PolicyInfo) -> String {
    let base = render::remediation_generation(&assignment_input(m, info));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{base}-{now}")
}

fn location_key(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn same_id(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// The principal of an assignment body's identity.
fn principal_of(body: &Value) -> Option<String> {
    let identity = body.get("identity")?;
    if let Some(p) = identity.get("principalId").and_then(Value::as_str) {
        return Some(p.to_owned());
    }
    identity
        .get("userAssignedIdentities")?
        .as_object()?
        .values()
        .find_map(|v| v.get("principalId").and_then(Value::as_str))
        .map(str::to_owned)
}

fn is_code(e: &crate::arm::ArmError, code: &str) -> bool {
    e.code().is_some_and(|c| c.eq_ignore_ascii_case(code))
}

// ---------------------------------------------------------------------------------------------
// Validation (offline)

fn check_remediation(r: &RemediationModel, diags: &mut Diagnostics) {
    task_settings(r).check(|k| AttrPath::root("remediation").attr(k), diags);
}

fn task_settings(r: &RemediationModel) -> TaskSettings<'_> {
    TaskSettings {
        mode: r.mode.as_deref(),
        location_filters: r.location_filters.as_deref(),
        parallel_deployments: r.parallel_deployments,
        resource_count: r.resource_count,
        failure_threshold: r.failure_threshold,
    }
}

/// Parameter problems as diagnostics on `parameters.<name>`, leaving out values not known yet.
fn check_parameters(
    info: &PolicyInfo,
    m: &PolicyAssignmentModel,
    raw: Option<&CtyValue>,
    diags: &mut Diagnostics,
) {
    let (whole_unknown, unknown) = unknown_parameters(raw);
    if whole_unknown {
        return;
    }
    if let Some(p) = &m.parameters
        && !p.0.is_object()
    {
        diags.error_at(
            AttrPath::root("parameters"),
            "Invalid parameters",
            "parameters must be an object of parameter names to values, e.g. { effect = \"DeployIfNotExists\" }.",
        );
        return;
    }
    let mut given = params_of(m);
    for k in &unknown {
        given.insert(k.clone(), Value::Null);
    }
    let problems: Vec<ParamProblem> = info
        .check_parameters(&given)
        .into_iter()
        .filter(|p| !(unknown.contains(&p.name) && info.has_parameter(&p.name)))
        .collect();
    let what = match info {
        PolicyInfo::Catalog(e) => format!("policy {:?}", e.key),
        PolicyInfo::Arm(a) => format!("definition {:?}", a.definition_id),
    };
    for p in problems {
        diags.error_at(
            AttrPath::root("parameters").attr(p.name.clone()),
            "Invalid policy parameter",
            format!("{} (parameters of {what})", p.message),
        );
    }
}

/// Checks that need the policy: identity defaults, location, parameters, member references.
fn check_against_policy(
    info: &PolicyInfo,
    m: &PolicyAssignmentModel,
    raw: &CtyValue,
    location_unknown: bool,
    diags: &mut Diagnostics,
) {
    check_parameters(info, m, raw.attr("parameters"), diags);
    let identity = match &m.identity {
        Some(i) => i.r#type != "None",
        None => info.can_deploy(),
    };
    if identity && m.location.is_none() && !location_unknown {
        let why = if m.identity.is_some() {
            "identity is set".to_owned()
        } else {
            format!(
                "{} can deploy or modify resources, so it gets a SystemAssigned identity",
                info.catalog()
                    .map(|e| format!("policy {:?}", e.key))
                    .unwrap_or_else(|| format!("definition {:?}", info.definition_id()))
            )
        };
        diags.error_at(
            AttrPath::root("location"),
            "Missing location",
            format!(
                "location is required because {why}: Azure keeps the managed identity in a region. \
                 Set location = \"westeurope\" (or another region), or identity = {{ type = \"None\" }} \
                 for an audit-only assignment."
            ),
        );
    }
    let explicit_none = m.identity.as_ref().is_some_and(|i| i.r#type == "None");
    let (params_unknown, unknown) = unknown_parameters(raw.attr("parameters"));
    if explicit_none && !params_unknown && unknown.is_empty() {
        let deploying = info.remediation_targets(&params_of(m));
        if !deploying.is_empty() {
            diags.error_at(
                AttrPath::root("identity").attr("type"),
                "Identity required",
                format!(
                    "{} deploys or modifies resources with these parameters (DeployIfNotExists or \
                     Modify), and Azure refuses such an assignment without a managed identity \
                     (ResourceIdentityRequired). Use \"SystemAssigned\" or \"UserAssigned\", or \
                     set the effect parameter to an audit or disabled effect.",
                    info.catalog()
                        .map(|e| format!("policy {:?}", e.key))
                        .unwrap_or_else(|| format!("definition {:?}", info.definition_id()))
                ),
            );
        }
    }
    if m.remediation.is_some() {
        if !info.can_deploy() {
            diags.error_at(
                AttrPath::root("remediation"),
                "Nothing to remediate",
                format!(
                    "{} neither deploys nor modifies resources (no DeployIfNotExists or Modify effect), so it has no remediation tasks. Remove remediation.",
                    info.definition_id()
                ),
            );
        } else if !identity {
            diags.error_at(
                AttrPath::root("remediation"),
                "Remediation needs an identity",
                "remediation tasks deploy with the assignment's managed identity; remove identity = { type = \"None\" } or remove remediation.",
            );
        }
    }
    let refs = info.reference_ids();
    for (i, msg) in m.non_compliance_messages.iter().flatten().enumerate() {
        if let Some(r) = &msg.policy_definition_reference_id
            && !refs.iter().any(|x| x == r)
        {
            let allowed = if refs.is_empty() {
                format!(
                    "{} is not an initiative, so messages cannot name a member",
                    info.definition_id()
                )
            } else {
                format!(
                    "its members: {}",
                    refs.iter()
                        .map(|r| format!("{r:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            diags.error_at(
                AttrPath::root("non_compliance_messages")
                    .index(i as i64)
                    .attr("policy_definition_reference_id"),
                "Unknown initiative member",
                format!("{r:?} is not a member of the assigned policy; {allowed}."),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ARM

impl PolicyAssignment {
    /// The policy of a model: the catalog entry, or the definition read from ARM.
    async fn info(&self, ctx: &Ctx, m: &PolicyAssignmentModel) -> Result<PolicyInfo, Diagnostic> {
        if let Some(e) = m.policy.as_deref().and_then(catalog::lookup) {
            return Ok(PolicyInfo::Catalog(e));
        }
        let id = m.policy_definition_id.as_deref().ok_or_else(|| {
            Diagnostic::error("Missing policy", "set policy or policy_definition_id")
                .at(AttrPath::root("policy"))
        })?;
        if let Some(e) = catalog::by_definition_id(id) {
            return Ok(PolicyInfo::Catalog(e));
        }
        let arm = ctx.provider()?.arm().await?;
        Ok(PolicyInfo::Arm(Box::new(fetch_policy(arm, id).await?)))
    }

    async fn get(
        &self,
        arm: &ArmClient,
        id: &PolicyAssignmentId,
    ) -> Result<Option<Value>, Diagnostic> {
        match arm
            .get(&id.to_string(), POLICY_ASSIGNMENT_API_VERSION)
            .await
        {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.is_not_found() && !is_code(&e, "SubscriptionNotFound") => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    /// Reads the assignment until it shows what was just written: policy assignments are
    /// eventually consistent (404 or the old body right after a PUT).
    async fn wait_consistent(
        &self,
        ctx: &Ctx,
        arm: &ArmClient,
        id: &PolicyAssignmentId,
        written: &Value,
    ) -> Result<Value, Diagnostic> {
        let definition = written
            .pointer("/properties/policyDefinitionId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let want_identity = written.get("identity").is_some();
        let policy = consistency_wait(arm.cloud().is_loopback(), CONSISTENCY_TIMEOUT);
        let what = format!("{} to be readable", id.describe());
        wait_until(ctx, &what, policy, || async {
            Ok(match self.get(arm, id).await? {
                None => Waited::Pending("not found yet (404)".to_owned()),
                Some(body) => {
                    let def = body
                        .pointer("/properties/policyDefinitionId")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !same_id(def, &definition) {
                        Waited::Pending(format!("still assigns {def:?}"))
                    } else if want_identity && principal_of(&body).is_none() {
                        Waited::Pending("no identity principal yet".to_owned())
                    } else {
                        Waited::Done(body)
                    }
                }
            })
        })
        .await
    }

    /// Creates the role assignments of `desired` that `have` lacks (for `principal`), deletes
    /// those of `have` no longer desired. Returns the resulting map; on error, the map of what
    /// exists with the error.
    async fn sync_roles(
        &self,
        arm: &ArmClient,
        assignment: &PolicyAssignmentId,
        principal: &str,
        desired: &BTreeMap<String, (RoleTarget, String)>,
        have: &BTreeMap<String, String>,
    ) -> (BTreeMap<String, String>, Option<Diagnostic>) {
        let mut now: BTreeMap<String, String> = have.clone();
        for (key, id) in have {
            if desired.contains_key(key) {
                continue;
            }
            if let Err(d) = delete_role(arm, id).await {
                return (now, Some(d));
            }
            now.remove(key);
        }
        for (key, (target, id)) in desired {
            if now.contains_key(key) {
                continue;
            }
            match put_role(arm, assignment, target, id, principal).await {
                Ok(actual) => {
                    now.insert(key.clone(), actual);
                }
                Err(d) => return (now, Some(d)),
            }
        }
        (now, None)
    }

    /// Creates this generation's remediation tasks, and waits for them when asked.
    async fn remediate(
        &self,
        ctx: &Ctx,
        arm: &ArmClient,
        id: &PolicyAssignmentId,
        info: &PolicyInfo,
        m: &PolicyAssignmentModel,
    ) -> Result<(), Diagnostic> {
        let Some(r) = &m.remediation else {
            return Ok(());
        };
        if identity_of(m) == Identity::None {
            return Ok(());
        }
        let targets = info.remediation_targets(&params_of(m));
        if targets.is_empty() {
            tracing::info!(assignment = %id, "no deploying effect with these parameters: no remediation task");
            return Ok(());
        }
        let generation = remediation_generation(m, info);
        let mut tasks = Vec::new();
        for reference in targets {
            let name = render::remediation_name(&id.to_string(), reference.as_deref(), &generation);
            let input = task_settings(r).input(
                id.to_string(),
                match info.kind() {
                    DefinitionKind::Set => reference.clone(),
                    DefinitionKind::Definition => None,
                },
            );
            let body = render::remediation_body(&input).map_err(render_error)?;
            let task = RemediationId::new(id.scope.clone(), name);
            let started = put_remediation(arm, &task, &body).await?;
            tracing::info!(assignment = %id, remediation = %task, member = ?reference, "remediation task created");
            tasks.push((task, started.request_id));
        }
        if r.wait == Some(true) {
            let mut failures = Vec::new();
            for (task, started_by) in &tasks {
                if let Err(d) =
                    wait_for_remediation(ctx, arm, task, started_by.as_deref(), None, |_| {}).await
                {
                    failures.push(d);
                }
            }
            if !failures.is_empty() {
                let detail = failures
                    .iter()
                    .map(|d| d.detail.clone())
                    .collect::<Vec<_>>()
                    .join("\n\n");
                return Err(Diagnostic::error(
                    "Remediation failed",
                    format!("remediating {}:\n{detail}", id.describe()),
                )
                .at(AttrPath::root("remediation")));
            }
        }
        Ok(())
    }

    /// The model as ARM reports it, keeping what the state said where ARM's answer is
    /// equivalent (case, region spelling, parameter JSON).
    fn model_from_arm(
        &self,
        body: &Value,
        id: &PolicyAssignmentId,
        state: Option<&PolicyAssignmentModel>,
    ) -> PolicyAssignmentModel {
        let p = &body["properties"];
        let s = |k: &str| p[k].as_str().map(str::to_owned);
        let definition_id = s("policyDefinitionId").unwrap_or_default();
        let keep = |ours: Option<&String>, theirs: Option<String>| match (ours, theirs) {
            (Some(o), Some(t)) if o.eq_ignore_ascii_case(&t) => Some(o.clone()),
            (_, t) => t,
        };
        let policy = match state
            .and_then(|st| st.policy.as_deref())
            .and_then(catalog::lookup)
        {
            Some(e) if same_id(&e.definition_id, &definition_id) => Some(e.key.to_owned()),
            _ => catalog::by_definition_id(&definition_id).map(|e| e.key.to_owned()),
        };
        let arm_params = plain_parameters(&p["parameters"]);
        let parameters = match state.and_then(|st| st.parameters.clone()) {
            Some(ours)
                if ours.0.as_object().is_some_and(|o| {
                    let o: Map<String, Value> = o
                        .iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    o == arm_params
                }) =>
            {
                Some(ours)
            }
            _ if arm_params.is_empty() => state.and_then(|st| st.parameters.clone()).filter(|v| {
                v.0.as_object()
                    .is_some_and(|o| o.values().all(Value::is_null))
            }),
            _ => Some(AnyValue(Value::Object(arm_params))),
        };
        let not_scopes: Vec<String> = p["notScopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let not_scopes = match state.and_then(|st| st.not_scopes.clone()) {
            Some(ours)
                if ours.len() == not_scopes.len()
                    && ours.iter().zip(&not_scopes).all(|(a, b)| same_id(a, b)) =>
            {
                Some(ours)
            }
            _ if not_scopes.is_empty() => state
                .and_then(|st| st.not_scopes.clone())
                .filter(Vec::is_empty),
            _ => Some(not_scopes),
        };
        let messages: Vec<NonComplianceMessageModel> = p["nonComplianceMessages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|m| NonComplianceMessageModel {
                        message: m["message"].as_str().unwrap_or_default().to_owned(),
                        policy_definition_reference_id: m["policyDefinitionReferenceId"]
                            .as_str()
                            .map(str::to_owned),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let non_compliance_messages = if messages.is_empty() {
            state
                .and_then(|st| st.non_compliance_messages.clone())
                .filter(Vec::is_empty)
        } else {
            Some(messages)
        };
        let identity = match body.get("identity") {
            Some(i) => match i["type"].as_str() {
                Some(t) if t.eq_ignore_ascii_case("SystemAssigned") => Some(IdentityModel {
                    r#type: "SystemAssigned".into(),
                    identity_ids: state
                        .and_then(|st| st.identity.as_ref())
                        .and_then(|i| i.identity_ids.clone())
                        .filter(Vec::is_empty),
                }),
                Some(t) if t.eq_ignore_ascii_case("UserAssigned") => {
                    let ids: Vec<String> = i["userAssignedIdentities"]
                        .as_object()
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default();
                    let ours = state
                        .and_then(|st| st.identity.as_ref())
                        .and_then(|i| i.identity_ids.clone());
                    let ids = match ours {
                        Some(o)
                            if o.len() == ids.len()
                                && o.iter().zip(&ids).all(|(a, b)| same_id(a, b)) =>
                        {
                            o
                        }
                        _ => ids,
                    };
                    Some(IdentityModel {
                        r#type: "UserAssigned".into(),
                        identity_ids: Some(ids),
                    })
                }
                _ => state
                    .and_then(|st| st.identity.clone())
                    .filter(|i| i.r#type == "None"),
            },
            None => state
                .and_then(|st| st.identity.clone())
                .filter(|i| i.r#type == "None"),
        };
        let location = match (
            state.and_then(|st| st.location.clone()),
            body["location"].as_str(),
        ) {
            (Some(ours), Some(t)) if location_key(&ours) == location_key(t) => Some(ours),
            (_, t) => t.map(str::to_owned),
        };
        let st = |f: fn(&PolicyAssignmentModel) -> Option<&String>| state.and_then(f);
        PolicyAssignmentModel {
            id: Some(id.to_string()),
            policy,
            policy_definition_id: keep(
                st(|m| m.policy_definition_id.as_ref()),
                Some(definition_id),
            ),
            scope: state
                .map(|m| m.scope.clone())
                .filter(|sc| same_id(sc, &scope_string(&id.scope)))
                .unwrap_or_else(|| scope_string(&id.scope)),
            name: Some(id.name.clone()),
            display_name: s("displayName"),
            description: s("description"),
            parameters,
            enforcement_mode: keep(
                st(|m| m.enforcement_mode.as_ref()),
                Some(s("enforcementMode").unwrap_or_else(|| "Default".to_owned())),
            ),
            not_scopes,
            non_compliance_messages,
            definition_version: keep(
                st(|m| m.definition_version.as_ref()),
                s("definitionVersion"),
            ),
            identity,
            location,
            remediation: state.and_then(|m| m.remediation.clone()),
            principal_id: principal_of(body),
            role_assignments: state.and_then(|m| m.role_assignments.clone()),
        }
    }

    /// Role assignments of `map` that still exist.
    async fn existing_roles(
        &self,
        arm: &ArmClient,
        map: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, Diagnostic> {
        let mut out = BTreeMap::new();
        for (key, id) in map {
            match arm.get(id, ROLE_ASSIGNMENT_API_VERSION).await {
                Ok(_) => {
                    out.insert(key.clone(), id.clone());
                }
                Err(e) if e.is_not_found() => {
                    tracing::info!(role_assignment = %id, "role assignment gone: it will be created again");
                }
                Err(e) => return Err(arm_error("reading", format!("Role Assignment {id:?}"), &e)),
            }
        }
        Ok(out)
    }

    async fn delete_all(
        &self,
        ctx: &Ctx,
        state: PolicyAssignmentModel,
    ) -> OpResult<(), PolicyAssignmentModel> {
        let arm = ctx.provider()?.arm().await?;
        let id_text = state.id.clone().unwrap_or_default();
        let id = PolicyAssignmentId::parse(&id_text)
            .map_err(|e| Diagnostic::error("Invalid state", format!("the state's id: {e}")))?;
        match cancel_running_remediations(arm, &id).await {
            Ok(c) if !c.is_empty() => {
                tracing::info!(assignment = %id, cancelled = ?c, "cancelled running remediation tasks")
            }
            Ok(_) => {}
            Err(d) => return Err(Failed::with_partial(d, state)),
        }
        let mut remaining = state.clone();
        for (key, role) in state.role_assignments.iter().flatten() {
            if let Err(d) = delete_role(arm, role).await {
                return Err(Failed::with_partial(d, remaining));
            }
            if let Some(m) = remaining.role_assignments.as_mut() {
                m.remove(key);
            }
        }
        if let Err(e) = arm
            .delete(&id.to_string(), POLICY_ASSIGNMENT_API_VERSION)
            .await
        {
            return Err(Failed::with_partial(
                arm_error("deleting", id.describe(), &e),
                remaining,
            ));
        }
        Ok(())
    }
}

/// PUTs one role assignment; adopts an equal one under another name (409
/// `RoleAssignmentExists`). Returns the ID that exists.
async fn put_role(
    arm: &ArmClient,
    assignment: &PolicyAssignmentId,
    target: &RoleTarget,
    id: &str,
    principal: &str,
) -> Result<String, Diagnostic> {
    let body = render::role_assignment_body(&target.role_definition_id, &target.scope, principal)
        .map_err(render_error)?;
    let what = format!(
        "Role Assignment (Scope {:?} / Role {:?}) for {}",
        target.scope,
        target.role_definition_id,
        assignment.describe()
    );
    // A new identity's service principal takes a while to replicate; with principalType
    // ServicePrincipal ARM skips that lookup, but PrincipalNotFound is still retried within the
    // client's bounds (arm-api.md §9).
    let result = arm
        .request(reqwest::Method::PUT, id)
        .api_version(ROLE_ASSIGNMENT_API_VERSION)
        .json(&body)
        .retry_on(|e| is_code(e, "PrincipalNotFound"))
        .operation(format!("creating {what}"))
        .send()
        .await;
    match result {
        Ok(_) => Ok(id.to_owned()),
        Err(e) if is_code(&e, "RoleAssignmentExists") => adopt_role(arm, target, principal)
            .await
            .and_then(|found| found.ok_or_else(|| arm_error("creating", &what, &e))),
        Err(e) => Err(arm_error("creating", &what, &e)),
    }
}

/// The ID of an existing role assignment of `target` for `principal` at exactly its scope.
async fn adopt_role(
    arm: &ArmClient,
    target: &RoleTarget,
    principal: &str,
) -> Result<Option<String>, Diagnostic> {
    let filter = format!("principalId eq '{principal}'");
    let items = arm
        .list(
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments",
                target.scope.trim_end_matches('/')
            ),
            ROLE_ASSIGNMENT_API_VERSION,
            &[("$filter", filter.as_str())],
        )
        .await
        .map_err(|e| arm_error("listing role assignments at", &target.scope, &e))?;
    let found = items.iter().find(|r| {
        let p = &r["properties"];
        p["scope"]
            .as_str()
            .is_some_and(|s| same_id(s, &target.scope))
            && p["roleDefinitionId"]
                .as_str()
                .and_then(|d| d.rsplit('/').next())
                .is_some_and(|g| g.eq_ignore_ascii_case(&target.role_definition_id))
    });
    Ok(found.and_then(|r| r["id"].as_str()).map(|id| {
        tracing::info!(role_assignment = %id, "adopting an existing equal role assignment");
        id.to_owned()
    }))
}

async fn delete_role(arm: &ArmClient, id: &str) -> Result<(), Diagnostic> {
    arm.delete(id, ROLE_ASSIGNMENT_API_VERSION)
        .await
        .map(|_| ())
        .map_err(|e| arm_error("deleting", format!("Role Assignment {id:?}"), &e))
}

// ---------------------------------------------------------------------------------------------
// The resource

/// Whether an existing assignment is the one an interrupted apply of this configuration
/// created: ARM recorded this principal as its creator and it assigns the same definition.
fn left_by_interrupted_apply(existing: &Value, desired: &Value, caller: Option<&str>) -> bool {
    let created_by = existing
        .pointer("/properties/metadata/createdBy")
        .and_then(Value::as_str);
    let definition = |v: &Value| {
        v.pointer("/properties/policyDefinitionId")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    matches!((created_by, caller), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
        && definition(existing).is_some()
        && definition(existing) == definition(desired)
}

impl Resource for PolicyAssignment {
    type Model = PolicyAssignmentModel;
    const TYPE_NAME: &'static str = "defender_policy_assignment";
    /// Creating (and updating) waits for the identity's roles to replicate and, with
    /// `remediate`, for the remediation tasks, which run for up to
    /// [`super::policy_common::REMEDIATION_TIMEOUT`] on large estates.
    const DEFAULT_TIMEOUTS: DefaultTimeouts = DefaultTimeouts {
        create: Duration::from_secs(4 * 60 * 60),
        update: Duration::from_secs(4 * 60 * 60),
        ..DefaultTimeouts::STANDARD
    };

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        let m = &config.model;
        let policy_unknown = config.is_unknown("policy");
        let definition_unknown = config.is_unknown("policy_definition_id");
        match (&m.policy, &m.policy_definition_id) {
            (Some(_), Some(_)) => diags.error_at(
                AttrPath::root("policy_definition_id"),
                "Conflicting attributes",
                "Set policy (a catalog key) or policy_definition_id (any definition ID), not both.",
            ),
            (None, None) if !policy_unknown && !definition_unknown => diags.error_at(
                AttrPath::root("policy"),
                "Missing policy",
                "Set policy to a catalog key (e.g. \"kubernetes-policy-addon\", \"mde\") or \
                 policy_definition_id to a policy definition or initiative ID.",
            ),
            _ => {}
        }
        let entry = match &m.policy {
            Some(key) => match catalog::lookup(key) {
                Some(e) => Some(e),
                None => {
                    diags.error_at(
                        AttrPath::root("policy"),
                        "Unknown policy",
                        unknown_key_detail(key),
                    );
                    None
                }
            },
            None => None,
        };
        if let Some(e) = entry
            && e.retired
        {
            diags.warning_at(
                AttrPath::root("policy"),
                "Retired policy",
                format!(
                    "{} is deprecated or refused by Azure.{}",
                    e.key,
                    e.replaced_by
                        .map(|r| format!(" Use policy = {r:?} instead."))
                        .unwrap_or_default()
                ),
            );
        }
        if let Some(id) = &m.policy_definition_id {
            let lower = id.to_ascii_lowercase();
            if !(lower.contains("/providers/microsoft.authorization/policydefinitions/")
                || lower.contains("/providers/microsoft.authorization/policysetdefinitions/"))
            {
                diags.error_at(
                    AttrPath::root("policy_definition_id"),
                    "Invalid policy definition ID",
                    format!(
                        "{id:?} is not a policy definition or initiative ID. Expected \
                         …/providers/Microsoft.Authorization/policyDefinitions/{{name}} or \
                         …/providers/Microsoft.Authorization/policySetDefinitions/{{name}}."
                    ),
                );
            }
        }
        let scope = if config.is_unknown("scope") {
            None
        } else {
            match Scope::parse(&m.scope) {
                Ok(Scope::Resource { .. }) => {
                    diags.error_at(
                        AttrPath::root("scope"),
                        "Invalid scope",
                        format!(
                            "{:?} is a resource. Assign policies to a management group \
                             (/providers/Microsoft.Management/managementGroups/{{name}}), a subscription \
                             (/subscriptions/{{id}}) or a resource group.",
                            m.scope
                        ),
                    );
                    None
                }
                Ok(s) => Some(s),
                Err(e) => {
                    diags.error_at(AttrPath::root("scope"), "Invalid scope", e.to_string());
                    None
                }
            }
        };
        if let (Some(name), Some(scope)) = (&m.name, &scope)
            && let Err(why) = render::validate_assignment_name(name, scope)
        {
            diags.error_at(
                AttrPath::root("name"),
                "Invalid policy assignment name",
                format!("{name:?}: {why}."),
            );
        }
        if let Some(d) = &m.display_name
            && d.chars().count() > render::MAX_DISPLAY_NAME
        {
            diags.error_at(
                AttrPath::root("display_name"),
                "Display name too long",
                format!(
                    "{} characters; at most {}.",
                    d.chars().count(),
                    render::MAX_DISPLAY_NAME
                ),
            );
        }
        if let Some(d) = &m.description
            && d.chars().count() > 512
        {
            diags.error_at(
                AttrPath::root("description"),
                "Description too long",
                format!("{} characters; at most 512.", d.chars().count()),
            );
        }
        if let Some(mode) = &m.enforcement_mode
            && !ENFORCEMENT_MODES.contains(&mode.as_str())
        {
            diags.error_at(
                AttrPath::root("enforcement_mode"),
                "Invalid enforcement mode",
                format!(
                    "{mode:?} is not an enforcement mode. Allowed values: {}.",
                    allowed_list(ENFORCEMENT_MODES)
                ),
            );
        }
        if let Some(identity) = &m.identity {
            let at = |k: &str| AttrPath::root("identity").attr(k);
            let ids = identity.identity_ids.as_deref().unwrap_or_default();
            if !IDENTITY_TYPES.contains(&identity.r#type.as_str()) {
                diags.error_at(
                    at("type"),
                    "Invalid identity type",
                    format!(
                        "{:?} is not an identity type. Allowed values: {}.",
                        identity.r#type,
                        allowed_list(IDENTITY_TYPES)
                    ),
                );
            } else if identity.r#type == "UserAssigned" {
                if ids.len() != 1
                    && !config.raw.attr("identity").is_some_and(|i| {
                        i.attr("identity_ids").is_some_and(|v| !v.is_wholly_known())
                    })
                {
                    diags.error_at(
                        at("identity_ids"),
                        "Missing user-assigned identity",
                        format!(
                            "identity type \"UserAssigned\" needs exactly one user-assigned identity ID in identity_ids \
                             (/subscriptions/{{id}}/resourceGroups/{{group}}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}}); {} given.",
                            ids.len()
                        ),
                    );
                }
                for (i, id) in ids.iter().enumerate() {
                    if !id
                        .to_ascii_lowercase()
                        .contains("/providers/microsoft.managedidentity/userassignedidentities/")
                    {
                        diags.error_at(
                            at("identity_ids").index(i as i64),
                            "Invalid user-assigned identity ID",
                            format!(
                                "{id:?} is not a user-assigned identity ID (…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}})."
                            ),
                        );
                    }
                }
            } else if !ids.is_empty() {
                diags.error_at(
                    at("identity_ids"),
                    "Unexpected identity IDs",
                    format!(
                        "identity_ids only goes with type \"UserAssigned\"; type is {:?}.",
                        identity.r#type
                    ),
                );
            }
        }
        if let Some(l) = &m.location
            && location_key(l) == "global"
        {
            diags.error_at(
                AttrPath::root("location"),
                "Invalid location",
                "A policy assignment's identity needs a region; \"global\" is not one.",
            );
        }
        if let Some(r) = &m.remediation {
            check_remediation(r, diags);
        }
        if let Some(e) = entry {
            check_against_policy(
                &PolicyInfo::Catalog(e),
                m,
                config.raw,
                config.is_unknown("location"),
                diags,
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, diags: &mut Diagnostics) {
        let cfg = plan.config.clone();
        // The policy: the catalog entry (offline), else the definition read from ARM.
        let info = if let Some(e) = cfg.policy.as_deref().and_then(catalog::lookup) {
            Some(PolicyInfo::Catalog(e))
        } else if let Some(id) = &cfg.policy_definition_id {
            match catalog::by_definition_id(id) {
                Some(e) => {
                    check_against_policy(
                        &PolicyInfo::Catalog(e),
                        &cfg,
                        plan.raw_config,
                        plan.config_unknown("location"),
                        diags,
                    );
                    Some(PolicyInfo::Catalog(e))
                }
                None => match ctx.provider_opt() {
                    Some(p) => {
                        let fetched = match p.arm().await {
                            Ok(arm) => fetch_policy(arm, id).await,
                            Err(d) => Err(d),
                        };
                        match fetched {
                            Ok(a) => {
                                let info = PolicyInfo::Arm(Box::new(a));
                                check_against_policy(
                                    &info,
                                    &cfg,
                                    plan.raw_config,
                                    plan.config_unknown("location"),
                                    diags,
                                );
                                Some(info)
                            }
                            Err(d) => {
                                diags.push(d);
                                return;
                            }
                        }
                    }
                    None => None,
                },
            }
        } else {
            None
        };
        if diags.has_errors() {
            return;
        }
        // Import and `moved {}` take the assignment as Azure has it; `remediation` is not
        // stored in Azure, so it first appears in state on the next apply. That is no reason to
        // start a task (`update`), and the plan says so.
        if ctx.adopted()
            && cfg.remediation.is_some()
            && plan.prior.as_ref().is_some_and(|p| p.remediation.is_none())
        {
            diags.warning_at(
                AttrPath::root("remediation"),
                "No remediation task for an adopted assignment",
                "This assignment was imported or moved in: applying records `remediation` in \
                 state without starting a remediation task. A task starts when the definition, \
                 its version or its parameters change; to remediate now, invoke the \
                 `defender_remediate` action (`terraform apply -invoke=action.defender_remediate.<name>`).",
            );
        }
        let Some(info) = info else {
            for attr in [
                "policy",
                "policy_definition_id",
                "name",
                "display_name",
                "identity",
                "role_assignments",
                "id",
            ] {
                plan.set_unknown(attr);
            }
            return;
        };
        let planned = &mut plan.planned;
        if cfg.policy.is_none()
            && plan
                .raw_config
                .attr("policy")
                .is_none_or(|v| v.is_wholly_known())
        {
            planned.policy = info.catalog().map(|e| e.key.to_owned());
        }
        if cfg.policy_definition_id.is_none() {
            planned.policy_definition_id = Some(info.definition_id().to_owned());
        }
        let scope_known = plan
            .raw_config
            .attr("scope")
            .is_none_or(|v| v.is_wholly_known());
        if cfg.name.is_none() {
            if scope_known {
                planned.name = Some(render::default_assignment_name(
                    &info.short_name(),
                    &cfg.scope,
                ));
            } else {
                plan.set_unknown("name");
            }
        }
        if cfg.display_name.is_none() {
            plan.planned.display_name = info.display_name();
        }
        if cfg.enforcement_mode.is_none() {
            plan.planned.enforcement_mode = Some("Default".to_owned());
        }
        if cfg.identity.is_none() {
            plan.planned.identity = info.can_deploy().then(|| IdentityModel {
                r#type: "SystemAssigned".to_owned(),
                identity_ids: None,
            });
        }
        let identity_changed = plan
            .prior
            .as_ref()
            .is_some_and(|p| p.identity != plan.planned.identity);
        if identity_of(&plan.planned) == Identity::None {
            plan.planned.principal_id = None;
        } else if identity_changed {
            plan.set_unknown("principal_id");
        }
        let name_known = plan.planned.name.is_some();
        if scope_known && name_known {
            let id = render::policy_assignment_id(
                &cfg.scope,
                plan.planned.name.as_deref().unwrap_or_default(),
            );
            plan.planned.id = Some(id.clone());
            let (params_unknown, unknown) = unknown_parameters(plan.raw_config.attr("parameters"));
            if params_unknown || !unknown.is_empty() {
                plan.set_unknown("role_assignments");
            } else {
                let desired = desired_roles(&info, &plan.planned, &id);
                let prior = plan.prior.as_ref().and_then(|p| p.role_assignments.clone());
                let same_keys = prior
                    .as_ref()
                    .is_some_and(|p| p.keys().eq(desired.keys()) && !identity_changed);
                if desired.is_empty() {
                    plan.planned.role_assignments = identity_of(&plan.planned)
                        .ne(&Identity::None)
                        .then(BTreeMap::new);
                } else if same_keys {
                    plan.planned.role_assignments = prior;
                } else {
                    // New role assignments get their IDs on apply (an equal one may be adopted).
                    plan.set_unknown("role_assignments");
                }
            }
        } else {
            plan.set_unknown("id");
            plan.set_unknown("role_assignments");
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let info = self.info(ctx, &planned).await?;
        let input = assignment_input(&planned, &info);
        let id_text = input.assignment_id();
        let id = PolicyAssignmentId::parse(&id_text).map_err(|e| {
            Diagnostic::error("Invalid policy assignment", e.to_string())
                .at(AttrPath::root("scope"))
        })?;
        let body = render::policy_assignment_body(&input).map_err(render_error)?;
        if let Some(existing) = self.get(arm, &id).await? {
            // An apply that was killed after its PUT leaves the assignment in Azure but not
            // in state. The re-run adopts it only when it is evidently that one: made by this
            // same principal (ARM's `metadata.createdBy`) for the same definition. Anything
            // else is someone else's and must be imported on purpose.
            let caller = arm.caller_object_id().await;
            if !left_by_interrupted_apply(&existing, &body, caller.as_deref()) {
                return Err(Diagnostic::error(
                    "Policy assignment already exists",
                    format!(
                        "{} already exists. To manage it with Terraform, import it: terraform import <address> {id}",
                        id.describe()
                    ),
                )
                .into());
            }
            tracing::warn!(
                assignment = %id,
                "adopting a policy assignment this principal created for the same definition \
                 (an earlier apply was interrupted before it reached state)"
            );
        }
        arm.put(&id.to_string(), POLICY_ASSIGNMENT_API_VERSION, &body)
            .await
            .map_err(|e| arm_error("creating", id.describe(), &e))?;
        let mut state = PolicyAssignmentModel {
            id: Some(id.to_string()),
            role_assignments: Some(BTreeMap::new()),
            principal_id: None,
            ..planned.clone()
        };
        if identity_of(&planned) == Identity::None {
            state.role_assignments = None;
        }
        let got = match self.wait_consistent(ctx, arm, &id, &body).await {
            Ok(b) => b,
            Err(d) => return Err(Failed::with_partial(d, state)),
        };
        state.principal_id = principal_of(&got);
        if let Some(principal) = state.principal_id.clone() {
            let desired = desired_roles(&info, &state, &id.to_string());
            let (roles, err) = self
                .sync_roles(arm, &id, &principal, &desired, &BTreeMap::new())
                .await;
            state.role_assignments = Some(roles);
            if let Some(d) = err {
                return Err(Failed::with_partial(d, state));
            }
        }
        if let Err(d) = self.remediate(ctx, arm, &id, &info, &state).await {
            return Err(Failed::with_partial(d, state));
        }
        Ok(state)
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let id = PolicyAssignmentId::parse(state.id.as_deref().unwrap_or_default())
            .map_err(|e| Diagnostic::error("Invalid state", format!("the state's id: {e}")))?;
        let Some(body) = self.get(arm, &id).await? else {
            return Ok(None);
        };
        let mut model = self.model_from_arm(&body, &id, Some(&state));
        if let Some(map) = &state.role_assignments {
            let principal_same = model.principal_id == state.principal_id;
            model.role_assignments = Some(if principal_same {
                self.existing_roles(arm, map).await?
            } else {
                // A new identity: the old principal's role assignments grant nothing.
                BTreeMap::new()
            });
        }
        Ok(Some(model))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let info = self.info(ctx, &planned).await?;
        let input = assignment_input(&planned, &info);
        let id = PolicyAssignmentId::parse(prior.id.as_deref().unwrap_or_default())
            .map_err(|e| Diagnostic::error("Invalid state", format!("the state's id: {e}")))?;
        let body = render::policy_assignment_body(&input).map_err(render_error)?;
        let prior_body = self
            .info(ctx, &prior)
            .await
            .ok()
            .and_then(|pi| render::policy_assignment_body(&assignment_input(&prior, &pi)).ok());
        let mut state = PolicyAssignmentModel {
            id: Some(id.to_string()),
            principal_id: prior.principal_id.clone(),
            role_assignments: prior.role_assignments.clone(),
            ..planned.clone()
        };
        if prior_body.as_ref() != Some(&body) || prior.principal_id.is_none() {
            if let Err(e) = arm
                .put(&id.to_string(), POLICY_ASSIGNMENT_API_VERSION, &body)
                .await
            {
                return Err(Failed::with_partial(
                    arm_error("updating", id.describe(), &e),
                    prior,
                ));
            }
            match self.wait_consistent(ctx, arm, &id, &body).await {
                Ok(got) => state.principal_id = principal_of(&got),
                Err(d) => return Err(Failed::with_partial(d, prior)),
            }
        }
        let mut have = prior.role_assignments.clone().unwrap_or_default();
        if state.principal_id != prior.principal_id {
            // Another principal: the old role assignments go first (their names would clash).
            for (key, role) in prior.role_assignments.iter().flatten() {
                if let Err(d) = delete_role(arm, role).await {
                    return Err(Failed::with_partial(d, state));
                }
                have.remove(key);
                state.role_assignments = Some(have.clone());
            }
        }
        match state.principal_id.clone() {
            Some(principal) if identity_of(&state) != Identity::None => {
                let desired = desired_roles(&info, &state, &id.to_string());
                let (roles, err) = self.sync_roles(arm, &id, &principal, &desired, &have).await;
                state.role_assignments = Some(roles);
                if let Some(d) = err {
                    return Err(Failed::with_partial(d, state));
                }
            }
            _ => {
                for role in have.values() {
                    if let Err(d) = delete_role(arm, role).await {
                        return Err(Failed::with_partial(d, state));
                    }
                }
                state.role_assignments = None;
            }
        }
        let prior_generation = self
            .info(ctx, &prior)
            .await
            .ok()
            .map(|pi| render::remediation_generation(&assignment_input(&prior, &pi)));
        let generation_changed =
            prior_generation.as_deref() != Some(render::remediation_generation(&input).as_str());
        // Not for an assignment import or `moved {}` just brought in (see `plan`).
        let remediation_added =
            prior.remediation.is_none() && planned.remediation.is_some() && !ctx.adopted();
        if (generation_changed || remediation_added)
            && let Err(d) = self.remediate(ctx, arm, &id, &info, &state).await
        {
            return Err(Failed::with_partial(d, state));
        }
        Ok(state)
    }

    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        self.delete_all(ctx, state).await
    }
}

impl Import for PolicyAssignment {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = PolicyAssignmentId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!(
                    "{e}. Expected a policy assignment ID such as \
                     /subscriptions/{{id}}/providers/Microsoft.Authorization/policyAssignments/{{name}}"
                ),
            )
        })?;
        if matches!(parsed.scope, Scope::Resource { .. }) {
            return Err(Diagnostic::error(
                "Cannot import",
                format!("{}: assignments at a resource are not managed by this resource; use a management group, subscription or resource group scope.", parsed.describe()),
            )
            .into());
        }
        let arm = ctx.provider()?.arm().await?;
        let body = self.get(arm, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        let mut model = self.model_from_arm(&body, &parsed, None);
        if let Some(principal) = &model.principal_id {
            // The role assignments this provider would have made, where they exist.
            let info = self.info(ctx, &model).await?;
            let desired = desired_roles(&info, &model, &parsed.to_string());
            let mut found = BTreeMap::new();
            for (key, (target, role_id)) in &desired {
                match arm.get(role_id, ROLE_ASSIGNMENT_API_VERSION).await {
                    Ok(_) => {
                        found.insert(key.clone(), role_id.clone());
                    }
                    Err(e) if e.is_not_found() => {
                        if let Some(other) = adopt_role(arm, target, principal).await? {
                            found.insert(key.clone(), other);
                        }
                    }
                    Err(e) => {
                        return Err(arm_error(
                            "reading",
                            format!("Role Assignment {role_id:?}"),
                            &e,
                        )
                        .into());
                    }
                }
            }
            model.role_assignments = Some(found);
        }
        Ok(model)
    }
}

/// The azurerm policy assignment types and the attribute holding their scope.
const AZURERM_TYPES: &[(&str, &str)] = &[
    ("azurerm_subscription_policy_assignment", "subscription_id"),
    (
        "azurerm_management_group_policy_assignment",
        "management_group_id",
    ),
    (
        "azurerm_resource_group_policy_assignment",
        "resource_group_id",
    ),
];

/// `moved { from = azurerm_subscription_policy_assignment.x  to = defender_policy_assignment.x }`
/// (and the management group and resource group variants). azurerm stores `id`, `name`, the
/// scope, `policy_definition_id`, `parameters` (a JSON string of `{name: {value}}`), `enforce`
/// (bool), `identity` (a block list), `non_compliance_message` (`content`), `not_scopes`,
/// `location`, `display_name` and `description` ("" when unset). Role assignments were separate
/// azurerm resources: the next apply makes this resource's (adopting equal ones).
impl MoveState for PolicyAssignment {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        let (_, scope_attr) = AZURERM_TYPES.iter().find(|(t, _)| *t == source.type_name)?;
        Some((|| {
            let s = &source.state;
            let text = |k: &str| source.text(k).map(str::to_owned);
            let id_text = text("id").unwrap_or_default();
            let id = PolicyAssignmentId::parse(&id_text).map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {id_text:?}: {e}"),
                )
            })?;
            let scope = text(scope_attr).unwrap_or_else(|| scope_string(&id.scope));
            let definition_id = text("policy_definition_id").unwrap_or_default();
            let parameters = match text("parameters") {
                None => None,
                Some(json_text) => {
                    let v: Value = serde_json::from_str(&json_text).map_err(|e| {
                        Diagnostic::error(
                            "Cannot move state",
                            format!("the azurerm state's parameters are not JSON: {e}"),
                        )
                    })?;
                    Some(AnyValue(Value::Object(plain_parameters(&v))))
                        .filter(|p| p.0.as_object().is_some_and(|o| !o.is_empty()))
                }
            };
            let identity_block = s
                .get("identity")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .cloned();
            let identity = identity_block.as_ref().and_then(|i| {
                let t = i.get("type").and_then(Value::as_str)?;
                let ids: Vec<String> = i
                    .get("identity_ids")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                Some(IdentityModel {
                    r#type: t.to_owned(),
                    identity_ids: (t == "UserAssigned").then_some(ids),
                })
            });
            let principal_id = identity_block
                .as_ref()
                .and_then(|i| i.get("principal_id").and_then(Value::as_str))
                .filter(|p| !p.is_empty())
                .map(str::to_owned);
            let messages: Vec<NonComplianceMessageModel> = s
                .get("non_compliance_message")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|m| NonComplianceMessageModel {
                            message: m
                                .get("content")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            policy_definition_reference_id: m
                                .get("policy_definition_reference_id")
                                .and_then(Value::as_str)
                                .filter(|r| !r.is_empty())
                                .map(str::to_owned),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let not_scopes: Vec<String> = s
                .get("not_scopes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            // This resource does not manage overrides or resource selectors: taking over an
            // assignment that has them would drop them at its next update.
            for (attr, what) in [
                ("overrides", "overrides"),
                ("resource_selectors", "resource selectors"),
            ] {
                if s.get(attr)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
                {
                    return Err(Diagnostic::error(
                        "Cannot move state",
                        format!(
                            "{} has {what}, which defender_policy_assignment does not manage; its \
                             next update would remove them. Keep it in azurerm.",
                            id.describe()
                        ),
                    )
                    .into());
                }
            }
            let enforce = s.get("enforce").and_then(Value::as_bool).unwrap_or(true);
            Ok(PolicyAssignmentModel {
                id: Some(id.to_string()),
                policy: catalog::by_definition_id(&definition_id).map(|e| e.key.to_owned()),
                policy_definition_id: Some(definition_id),
                scope,
                name: Some(id.name.clone()),
                display_name: text("display_name"),
                description: text("description"),
                parameters,
                enforcement_mode: Some(if enforce { "Default" } else { "DoNotEnforce" }.to_owned()),
                not_scopes: (!not_scopes.is_empty()).then_some(not_scopes),
                non_compliance_messages: (!messages.is_empty()).then_some(messages),
                definition_version: None,
                identity,
                location: text("location"),
                remediation: None,
                principal_id,
                role_assignments: None,
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and list (`terraform query`)

/// The identity of a `defender_policy_assignment`: `import { to = defender_policy_assignment.x,
/// identity = { scope = "/subscriptions/…", name = "mde" } }`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_assignment_identity")]
pub struct PolicyAssignmentIdentity {
    /// Where the assignment is: `/providers/Microsoft.Management/managementGroups/{name}`,
    /// `/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`.
    pub scope: String,
    /// The assignment's name.
    pub name: String,
}

impl crate::framework::Identity for PolicyAssignment {
    type Identity = PolicyAssignmentIdentity;

    fn identity(&self, state: &Self::Model) -> Option<PolicyAssignmentIdentity> {
        let id = match &state.id {
            Some(id) => PolicyAssignmentId::parse(id).ok()?,
            None => PolicyAssignmentId::new(Scope::parse(&state.scope).ok()?, state.name.clone()?),
        };
        Some(PolicyAssignmentIdentity {
            scope: scope_string(&id.scope),
            name: id.name,
        })
    }

    fn import_id(
        &self,
        _ctx: &Ctx,
        identity: &PolicyAssignmentIdentity,
    ) -> Result<String, Diagnostics> {
        let scope = super::discovery::identity_scope(&identity.scope)?;
        Ok(PolicyAssignmentId::new(scope, identity.name.clone()).to_string())
    }
}

/// Which assignments a `list "defender_policy_assignment"` block finds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_assignment_list")]
pub struct PolicyAssignmentListConfig {
    /// Where to look: a management group
    /// (`/providers/Microsoft.Management/managementGroups/{name}`), a subscription
    /// (`/subscriptions/{id}`) or a resource group. Only assignments made exactly there are
    /// listed (not those inherited from above). Defaults to the provider's subscription.
    pub scope: Option<String>,
    /// Only assignments of these catalog policies, e.g. `["mde", "kubernetes-policy-addon"]`.
    /// All assignments when unset.
    pub policies: Option<Vec<String>>,
}

impl crate::framework::ListResource for PolicyAssignment {
    type ListConfig = PolicyAssignmentListConfig;
    const LIST_DESCRIPTION: &'static str = "Lists the policy assignments made at a management \
        group, subscription or resource group (not those inherited from above), optionally \
        only those of some catalog policies, each as `terraform import` reads it. An assignment \
        of a catalog policy is listed by its key (`policy`), not its definition ID. \
        `terraform query -generate-config-out=FILE` writes a `defender_policy_assignment` with \
        an `import` block (by identity) for each; the generated configuration plans empty.";

    fn validate_list(
        &self,
        config: &Config<'_, PolicyAssignmentListConfig>,
        diags: &mut Diagnostics,
    ) {
        if let Some(s) = &config.model.scope {
            match Scope::parse(s) {
                Ok(Scope::Resource { .. }) => diags.error_at(
                    AttrPath::root("scope"),
                    "Invalid scope",
                    format!(
                        "{s:?} is a resource. List assignments at a management group, a \
                         subscription or a resource group."
                    ),
                ),
                Ok(_) => {}
                Err(e) => diags.error_at(AttrPath::root("scope"), "Invalid scope", e.to_string()),
            }
        }
        for (i, key) in config.model.policies.iter().flatten().enumerate() {
            if catalog::lookup(key).is_none() {
                diags.error_at(
                    AttrPath::root("policies").index(i as i64),
                    "Unknown policy",
                    format!("{key:?} is not a catalog key. {}", unknown_key_detail(key)),
                );
            }
        }
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: PolicyAssignmentListConfig,
        sink: crate::framework::ListSink<PolicyAssignmentModel>,
    ) -> Result<(), Diagnostics> {
        let provider = ctx.provider()?;
        let scope = match &config.scope {
            Some(s) => s.clone(),
            None => format!(
                "/subscriptions/{}",
                super::discovery::list_subscriptions(ctx, None)?[0]
            ),
        };
        let arm = provider.arm().await?;
        let path = format!(
            "{}/providers/Microsoft.Authorization/policyAssignments",
            scope.trim_end_matches('/')
        );
        let items = arm
            .list(
                &path,
                POLICY_ASSIGNMENT_API_VERSION,
                &[("$filter", "atExactScope()")],
            )
            .await
            .map_err(|e| {
                arm_error(
                    "listing",
                    format!("Policy Assignments (Scope {scope:?})"),
                    &e,
                )
            })?;
        let wanted: Option<Vec<&'static str>> = config.policies.as_ref().map(|keys| {
            keys.iter()
                .filter_map(|k| catalog::lookup(k).map(|e| e.key))
                .collect()
        });
        for body in &items {
            let Some(parsed) = body
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| PolicyAssignmentId::parse(id).ok())
            else {
                continue;
            };
            // What import builds from the same answer (role assignments, computed, aside),
            // in the configuration's terms: `policy` and `policy_definition_id` conflict in a
            // configuration, and the key implies the definition, so a catalog policy is listed
            // by its key only (the generated configuration then validates and plans empty).
            let mut state = self.model_from_arm(body, &parsed, None);
            if state.policy.is_some() {
                state.policy_definition_id = None;
            }
            if let Some(w) = &wanted
                && !state.policy.as_deref().is_some_and(|p| w.contains(&p))
            {
                continue;
            }
            let shown = format!(
                "{} ({}){}",
                parsed.name,
                scope_string(&parsed.scope),
                state
                    .policy
                    .as_deref()
                    .map(|p| format!(": {p}"))
                    .unwrap_or_default()
            );
            if !sink.send(shown, state).await {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_assignment_this_principal_made_for_the_same_definition_is_adopted() {
        let def = "/providers/Microsoft.Authorization/policyDefinitions/4da21710-ce6f-4e06-8cdb-5cc4c93ffbee";
        let existing = serde_json::json!({"properties": {
            "policyDefinitionId": def.to_uppercase(),
            "metadata": {"createdBy": "6F1E0D4C-0000-4000-8000-000000000001"}
        }});
        let desired = serde_json::json!({"properties": {"policyDefinitionId": def}});
        let me = Some("6f1e0d4c-0000-4000-8000-000000000001");
        assert!(left_by_interrupted_apply(&existing, &desired, me));
        assert!(!left_by_interrupted_apply(
            &existing,
            &desired,
            Some("someone-else")
        ));
        assert!(!left_by_interrupted_apply(&existing, &desired, None));
        let other = serde_json::json!({"properties": {"policyDefinitionId": "/providers/x/policyDefinitions/other"}});
        assert!(!left_by_interrupted_apply(&existing, &other, me));
        let unsigned = serde_json::json!({"properties": {"policyDefinitionId": def}});
        assert!(!left_by_interrupted_apply(&unsigned, &desired, me));
    }

    const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

    fn model(policy: &str) -> PolicyAssignmentModel {
        PolicyAssignmentModel {
            id: None,
            policy: Some(policy.into()),
            policy_definition_id: None,
            scope: SUB.into(),
            name: None,
            display_name: None,
            description: None,
            parameters: None,
            enforcement_mode: None,
            not_scopes: None,
            non_compliance_messages: None,
            definition_version: None,
            identity: Some(IdentityModel {
                r#type: "SystemAssigned".into(),
                identity_ids: None,
            }),
            location: Some("westeurope".into()),
            remediation: None,
            principal_id: None,
            role_assignments: None,
        }
    }

    #[test]
    fn schema_has_a_dynamic_parameters_attribute_and_replacement_marks() {
        let s = crate::framework::Schema::of::<PolicyAssignmentModel>().unwrap();
        let p = s.attribute("parameters").unwrap();
        assert_eq!(p.value_type(), crate::framework::Type::Dynamic);
        assert!(p.optional && p.description.starts_with("Parameter values by name"));
        for a in ["scope", "name", "location"] {
            assert!(s.attribute(a).unwrap().requires_replace, "{a}");
        }
        let policy = s.attribute("policy").unwrap();
        assert!(policy.optional && policy.computed);
        let roles = s.attribute("role_assignments").unwrap();
        assert!(roles.computed && !roles.optional);
    }

    #[test]
    fn roles_at_the_scope_are_keyed_by_role_definition_id() {
        let info = PolicyInfo::Catalog(catalog::lookup("dependency-agent-windows").unwrap());
        let m = model("dependency-agent-windows");
        let id = render::policy_assignment_id(SUB, "deps");
        let roles = desired_roles(&info, &m, &id);
        assert_eq!(roles.len(), 1);
        let (key, (_, role_id)) = roles.iter().next().unwrap();
        assert_eq!(
            key,
            &format!(
                "{SUB}/providers/Microsoft.Authorization/roleDefinitions/92aaf0da-9dab-42b6-94a3-d43ce8d16293"
            )
        );
        assert!(role_id.starts_with(&format!(
            "{SUB}/providers/Microsoft.Authorization/roleAssignments/"
        )));
        // Deterministic, and distinct per assignment.
        assert_eq!(desired_roles(&info, &m, &id), roles);
        let other = desired_roles(&info, &m, &render::policy_assignment_id(SUB, "deps2"));
        assert_ne!(other.values().next().unwrap().1, role_id.clone());
        // No identity, no roles.
        let mut none = m.clone();
        none.identity = Some(IdentityModel {
            r#type: "None".into(),
            identity_ids: None,
        });
        assert!(desired_roles(&info, &none, &id).is_empty());
    }

    #[test]
    fn unknown_parameter_values_are_found() {
        use std::collections::BTreeMap as M;
        let raw = CtyValue::Dynamic(
            Box::new(crate::protocol::value::Type::Dynamic),
            Box::new(CtyValue::Object(M::from([
                ("a".to_owned(), CtyValue::String("x".into())),
                ("b".to_owned(), CtyValue::unknown()),
            ]))),
        );
        let (whole, keys) = unknown_parameters(Some(&raw));
        assert!(!whole);
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), vec!["b"]);
        assert!(unknown_parameters(Some(&CtyValue::unknown())).0);
    }

    #[test]
    fn arm_answers_map_back_without_spurious_differences() {
        let id = PolicyAssignmentId::parse(&format!(
            "{SUB}/providers/Microsoft.Authorization/policyAssignments/deps"
        ))
        .unwrap();
        let mut state = model("dependency-agent-windows");
        state.parameters = Some(AnyValue(json!({"effect": "DeployIfNotExists"})));
        state.location = Some("West Europe".into());
        state.enforcement_mode = Some("Default".into());
        let body = json!({
            "id": id.to_string(), "name": "deps", "location": "westeurope",
            "identity": {"type": "SystemAssigned", "principalId": "p1", "tenantId": "t"},
            "properties": {
                "policyDefinitionId": "/providers/microsoft.authorization/policydefinitions/1c210e94-a481-4beb-95fa-1571b434fb04",
                "parameters": {"effect": {"value": "DeployIfNotExists"}},
                "enforcementMode": "Default", "notScopes": [], "scope": SUB,
                "metadata": {"createdOn": "x"}
            }
        });
        let m = PolicyAssignment.model_from_arm(&body, &id, Some(&state));
        assert_eq!(m.policy.as_deref(), Some("dependency-agent-windows"));
        assert_eq!(m.parameters, state.parameters);
        assert_eq!(m.location.as_deref(), Some("West Europe"));
        assert_eq!(m.not_scopes, None);
        assert_eq!(m.principal_id.as_deref(), Some("p1"));
        assert_eq!(m.identity, state.identity);
    }

    #[test]
    fn moved_from_azurerm_subscription_policy_assignment() {
        let id = format!("{SUB}/providers/Microsoft.Authorization/policyAssignments/deps");
        let source = MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_subscription_policy_assignment".into(),
            schema_version: 0,
            state: json!({
                "id": id, "name": "deps", "subscription_id": SUB,
                "policy_definition_id": "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04",
                "parameters": "{\"effect\":{\"value\":\"DeployIfNotExists\"}}",
                "enforce": false, "display_name": "", "description": "", "location": "westeurope",
                "identity": [{"type": "SystemAssigned", "identity_ids": [], "principal_id": "p1", "tenant_id": "t"}],
                "non_compliance_message": [{"content": "fix it", "policy_definition_reference_id": ""}],
                "not_scopes": [], "metadata": "{}"
            }),
        };
        let m = PolicyAssignment.move_state(&source).unwrap().unwrap();
        assert_eq!(m.policy.as_deref(), Some("dependency-agent-windows"));
        assert_eq!(m.enforcement_mode.as_deref(), Some("DoNotEnforce"));
        assert_eq!(
            m.parameters,
            Some(AnyValue(json!({"effect": "DeployIfNotExists"})))
        );
        assert_eq!(m.display_name, None);
        assert_eq!(m.principal_id.as_deref(), Some("p1"));
        assert_eq!(m.non_compliance_messages.unwrap()[0].message, "fix it");
        let mut with_overrides = source.clone();
        with_overrides.state["overrides"] = json!([{"value": "Disabled", "selectors": []}]);
        let refused = PolicyAssignment
            .move_state(&with_overrides)
            .unwrap()
            .unwrap_err();
        let text = format!("{refused:?}");
        assert!(
            text.contains(
                "does not manage; its next update would remove them. Keep it in azurerm."
            ),
            "{text}"
        );
        assert!(
            PolicyAssignment
                .move_state(&MoveSource {
                    type_name: "azurerm_policy_definition".into(),
                    ..source
                })
                .is_none()
        );
    }
}
