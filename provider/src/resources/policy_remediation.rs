//! `defender_policy_remediation`: Microsoft.PolicyInsights/remediations (arm-api.md §10) for
//! any policy assignment — one created by `defender_policy_assignment`, by azurerm or in the
//! portal.
//!
//! - A task runs once: its settings cannot change after it starts (docs), so every setting
//!   requires replacement, and `triggers` starts a new task when any of its values change.
//! - PUT is synchronous and the service runs the task asynchronously (`provisioningState`
//!   `Accepted`, then running states, then `Succeeded`/`Failed`/`Canceled`); the ARM client's
//!   long-running-operation handling is skipped for it, and `wait` polls with progress instead.
//! - Destroy cancels a running task, then deletes it (DELETE 200/204).

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::arm_error;
use super::policy_common::{
    PolicyAssignmentId, RemediationId, TaskSettings, TaskStatus, cancel_remediation,
    is_terminal_state, put_remediation, scope_string, wait_for_remediation,
};
use crate::arm::ArmClient;
use crate::arm::ids::Scope;
use crate::catalog::render::{self, REMEDIATION_API_VERSION};
use crate::framework::timeouts::DefaultTimeouts;
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, OpResult, Plan, Resource,
};

/// Runs a remediation task for a policy assignment: Azure Policy deploys what a
/// DeployIfNotExists or Modify policy requires on the resources that already exist and do not
/// comply. For an initiative, name the member with `policy_definition_reference_id`.
///
/// A task runs once. Changing any setting (or a value in `triggers`) starts a new task;
/// destroying the resource cancels the task if it is still running, then deletes it.
/// `defender_policy_assignment` can create its tasks itself (its `remediation` attribute); use
/// this resource for assignments made elsewhere, or to re-run a remediation on demand.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_remediation")]
pub struct PolicyRemediationModel {
    /// The task's ARM ID: `{scope}/providers/Microsoft.PolicyInsights/remediations/{name}`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The policy assignment to remediate.
    #[schemars(extend("requires_replace" = true))]
    pub policy_assignment_id: String,
    /// The task's name. Defaults to a name derived from the assignment, the member and
    /// `triggers`.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub name: Option<String>,
    /// Where the task looks for resources: the assignment's scope (the default) or a scope
    /// below it (a resource group, a resource).
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub scope: Option<String>,
    /// For an initiative assignment: the member to remediate (its `policyDefinitionReferenceId`).
    #[schemars(extend("requires_replace" = true))]
    pub policy_definition_reference_id: Option<String>,
    /// `ExistingNonCompliant` (remediate what the last compliance scan found; the default) or
    /// `ReEvaluateCompliance` (scan first).
    #[schemars(extend("requires_replace" = true))]
    pub mode: Option<String>,
    /// Only remediate resources in these regions.
    #[schemars(extend("requires_replace" = true))]
    pub location_filters: Option<Vec<String>>,
    /// How many resources are remediated at once, 1 to 30 (Azure's default 10).
    #[schemars(extend("requires_replace" = true))]
    pub parallel_deployments: Option<i64>,
    /// How many non-compliant resources are remediated, 1 to 50000 (Azure's default 500).
    #[schemars(extend("requires_replace" = true))]
    pub resource_count: Option<i64>,
    /// The fraction of failed deployments (0.0 to 1.0) at which the task stops.
    #[schemars(extend("requires_replace" = true))]
    pub failure_threshold: Option<f64>,
    /// Wait for the task to finish, logging progress, and fail naming the failed deployments.
    /// Defaults to false.
    pub wait: Option<bool>,
    /// Arbitrary values; changing any starts a new task (e.g. a date to re-run monthly).
    #[schemars(extend("requires_replace" = true))]
    pub triggers: Option<BTreeMap<String, String>>,
    /// The task's state when last read: `Accepted`, a running state, `Succeeded`, `Failed`,
    /// `Cancelling` or `Canceled`.
    #[schemars(extend("computed" = true))]
    pub provisioning_state: Option<String>,
    /// Deployments the task makes (non-compliant resources found).
    #[schemars(extend("computed" = true))]
    pub total_deployments: Option<i64>,
    /// Deployments that succeeded.
    #[schemars(extend("computed" = true))]
    pub successful_deployments: Option<i64>,
    /// Deployments that failed.
    #[schemars(extend("computed" = true))]
    pub failed_deployments: Option<i64>,
}

pub struct PolicyRemediation;

fn attr(name: &str) -> AttrPath {
    AttrPath::root(name)
}

/// The default task name: derived from the assignment, the member and the triggers.
fn default_name(m: &PolicyRemediationModel) -> String {
    let triggers = serde_json::to_string(&m.triggers).unwrap_or_default();
    render::remediation_name(
        &m.policy_assignment_id,
        m.policy_definition_reference_id.as_deref(),
        &format!("resource|{triggers}"),
    )
}

fn is_within(inner: &str, outer: &str) -> bool {
    let i = inner.trim_end_matches('/').to_ascii_lowercase();
    let o = outer.trim_end_matches('/').to_ascii_lowercase();
    i == o || i.starts_with(&format!("{o}/"))
}

fn task_id(m: &PolicyRemediationModel) -> Result<RemediationId, Diagnostic> {
    let assignment = PolicyAssignmentId::parse(&m.policy_assignment_id).map_err(|e| {
        Diagnostic::error("Invalid policy assignment ID", e.to_string())
            .at(attr("policy_assignment_id"))
    })?;
    let scope = match &m.scope {
        Some(s) => Scope::parse(s)
            .map_err(|e| Diagnostic::error("Invalid scope", e.to_string()).at(attr("scope")))?,
        None => assignment.scope.clone(),
    };
    let name = m.name.clone().unwrap_or_else(|| default_name(m));
    Ok(RemediationId::new(scope, name))
}

fn task_settings(m: &PolicyRemediationModel) -> TaskSettings<'_> {
    TaskSettings {
        mode: m.mode.as_deref(),
        location_filters: m.location_filters.as_deref(),
        parallel_deployments: m.parallel_deployments,
        resource_count: m.resource_count,
        failure_threshold: m.failure_threshold,
    }
}

fn with_status(mut m: PolicyRemediationModel, body: &Value) -> PolicyRemediationModel {
    let s = TaskStatus::of(body);
    m.provisioning_state = Some(s.state);
    m.total_deployments = Some(s.total as i64);
    m.successful_deployments = Some(s.succeeded as i64);
    m.failed_deployments = Some(s.failed as i64);
    m
}

impl PolicyRemediation {
    async fn get(&self, arm: &ArmClient, id: &RemediationId) -> Result<Option<Value>, Diagnostic> {
        match arm.get(&id.to_string(), REMEDIATION_API_VERSION).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.is_not_found() && e.code() != Some("SubscriptionNotFound") => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }
}

impl Resource for PolicyRemediation {
    type Model = PolicyRemediationModel;
    const TYPE_NAME: &'static str = "defender_policy_remediation";
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
        let assignment = if config.is_unknown("policy_assignment_id") {
            None
        } else {
            match PolicyAssignmentId::parse(&m.policy_assignment_id) {
                Ok(a) => Some(a),
                Err(e) => {
                    diags.error_at(
                        attr("policy_assignment_id"),
                        "Invalid policy assignment ID",
                        e.to_string(),
                    );
                    None
                }
            }
        };
        if let Some(s) = &m.scope {
            match Scope::parse(s) {
                Err(e) => diags.error_at(attr("scope"), "Invalid scope", e.to_string()),
                Ok(scope) => {
                    if let Some(a) = &assignment
                        && !is_within(&scope_string(&scope), &scope_string(&a.scope))
                    {
                        diags.error_at(
                            attr("scope"),
                            "Scope outside the assignment",
                            format!(
                                "{s:?} is not {:?} or below it: a remediation task only reaches what its assignment covers.",
                                scope_string(&a.scope)
                            ),
                        );
                    }
                }
            }
        }
        task_settings(m).check(attr, diags);
    }

    async fn plan(&self, _ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        let known = |p: &Plan<'_, Self::Model>, a: &str| !p.config_unknown(a);
        let all_known = [
            "policy_assignment_id",
            "policy_definition_reference_id",
            "triggers",
            "scope",
            "name",
        ]
        .iter()
        .all(|a| known(plan, a));
        if !all_known {
            for a in ["id", "name", "scope"] {
                if plan.raw_config.attr(a).is_none_or(|v| v.is_null()) || a == "id" {
                    plan.set_unknown(a);
                }
            }
            return;
        }
        if plan.config.name.is_none() {
            plan.planned.name = Some(default_name(&plan.config));
        }
        if plan.config.scope.is_none()
            && let Ok(a) = PolicyAssignmentId::parse(&plan.config.policy_assignment_id)
        {
            plan.planned.scope = Some(scope_string(&a.scope));
        }
        if let Ok(id) = task_id(&plan.planned) {
            plan.planned.id = Some(id.to_string());
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let id = task_id(&planned)?;
        let input = task_settings(&planned).input(
            planned.policy_assignment_id.clone(),
            planned.policy_definition_reference_id.clone(),
        );
        let body = render::remediation_body(&input)
            .map_err(|e| Diagnostic::error("Invalid remediation", e.to_string()))?;
        let started = put_remediation(arm, &id, &body).await?;
        let created = started.body;
        let mut state = with_status(
            PolicyRemediationModel {
                id: Some(id.to_string()),
                name: Some(id.name.clone()),
                scope: Some(scope_string(&id.scope)),
                ..planned.clone()
            },
            &created,
        );
        if planned.wait == Some(true) {
            let waited = wait_for_remediation(
                ctx,
                arm,
                &id,
                started.request_id.as_deref(),
                Some(created),
                |_| {},
            )
            .await;
            if let Ok(Some(body)) = self.get(arm, &id).await {
                state = with_status(state, &body);
            }
            if let Err(d) = waited {
                return Err(Failed::with_partial(d, state));
            }
        }
        Ok(state)
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let id = task_id(&state)?;
        Ok(self
            .get(arm, &id)
            .await?
            .map(|body| with_status(state, &body)))
    }

    /// Only `wait` changes in place; it matters to the next task.
    async fn update(
        &self,
        _ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        Ok(PolicyRemediationModel {
            wait: planned.wait,
            ..prior
        })
    }

    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let arm = ctx.provider()?.arm().await?;
        let id = task_id(&state)?;
        if let Some(body) = self.get(arm, &id).await? {
            let s = TaskStatus::of(&body);
            if !is_terminal_state(&s.state) && !s.state.eq_ignore_ascii_case("Cancelling") {
                cancel_remediation(arm, &id.to_string()).await?;
            }
        }
        arm.delete(&id.to_string(), REMEDIATION_API_VERSION)
            .await
            .map(|_| ())
            .map_err(|e| arm_error("deleting", id.describe(), &e).into())
    }
}

impl Import for PolicyRemediation {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = RemediationId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{e}. Expected {{scope}}/providers/Microsoft.PolicyInsights/remediations/{{name}}"),
            )
        })?;
        let arm = ctx.provider()?.arm().await?;
        let body = self.get(arm, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        let p = &body["properties"];
        let s = |k: &str| p[k].as_str().map(str::to_owned);
        let model = PolicyRemediationModel {
            id: Some(parsed.to_string()),
            policy_assignment_id: s("policyAssignmentId").unwrap_or_default(),
            name: Some(parsed.name.clone()),
            scope: Some(scope_string(&parsed.scope)),
            policy_definition_reference_id: s("policyDefinitionReferenceId"),
            mode: s("resourceDiscoveryMode").filter(|m| m != "ExistingNonCompliant"),
            location_filters: p["filters"]["locations"].as_array().map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            }),
            parallel_deployments: p["parallelDeployments"].as_i64(),
            resource_count: p["resourceCount"].as_i64(),
            failure_threshold: p["failureThreshold"]["percentage"].as_f64(),
            wait: None,
            triggers: None,
            provisioning_state: None,
            total_deployments: None,
            successful_deployments: None,
            failed_deployments: None,
        };
        Ok(with_status(model, &body))
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

/// The identity of a `defender_policy_remediation`: `import { to = …, identity = { scope =
/// "/subscriptions/…", name = "…" } }`, the task's scope and name.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_remediation_identity")]
pub struct PolicyRemediationIdentity {
    /// Where the task is: `/providers/Microsoft.Management/managementGroups/{name}`,
    /// `/subscriptions/{id}`, a resource group or a resource (the subscription in lower case).
    pub scope: String,
    /// The task's name.
    pub name: String,
}

impl crate::framework::Identity for PolicyRemediation {
    type Identity = PolicyRemediationIdentity;

    /// From the planned `scope` and `name` (both known once the plan has them); not from
    /// `task_id`, which would derive a name from values not known yet.
    fn identity(&self, state: &Self::Model) -> Option<PolicyRemediationIdentity> {
        let scope = Scope::parse(state.scope.as_deref()?).ok()?;
        Some(PolicyRemediationIdentity {
            scope: super::discovery::canonical_scope(&scope_string(&scope)),
            name: state.name.clone()?,
        })
    }

    fn import_id(
        &self,
        _ctx: &Ctx,
        identity: &PolicyRemediationIdentity,
    ) -> Result<String, Diagnostics> {
        let scope = super::discovery::identity_scope(&identity.scope)?;
        super::discovery::identity_name(&identity.name, "a remediation task")?;
        Ok(super::discovery::canonical_scope(
            &RemediationId::new(scope, identity.name.clone()).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> PolicyRemediationModel {
        PolicyRemediationModel {
            id: None,
            policy_assignment_id: "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/policyAssignments/mde".into(),
            name: None,
            scope: None,
            policy_definition_reference_id: Some("microsoftDefenderForEndpointLinuxAgentDeploy".into()),
            mode: None,
            location_filters: None,
            parallel_deployments: None,
            resource_count: None,
            failure_threshold: None,
            wait: None,
            triggers: None,
            provisioning_state: None,
            total_deployments: None,
            successful_deployments: None,
            failed_deployments: None,
        }
    }

    #[test]
    fn default_names_follow_member_and_triggers() {
        let a = model();
        let id = task_id(&a).unwrap();
        assert_eq!(
            id.to_string(),
            format!(
                "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.PolicyInsights/remediations/{}",
                default_name(&a)
            )
        );
        let mut b = a.clone();
        b.triggers = Some(BTreeMap::from([("month".to_owned(), "2026-08".to_owned())]));
        assert_ne!(default_name(&a), default_name(&b));
        let mut c = a.clone();
        c.policy_definition_reference_id = None;
        assert_ne!(default_name(&a), default_name(&c));
        assert_eq!(default_name(&a), default_name(&a.clone()));
    }

    #[test]
    fn status_fills_the_computed_attributes() {
        let body = serde_json::json!({"properties": {"provisioningState": "Failed",
            "deploymentStatus": {"totalDeployments": 3, "successfulDeployments": 1, "failedDeployments": 2}}});
        let m = with_status(model(), &body);
        assert_eq!(m.provisioning_state.as_deref(), Some("Failed"));
        assert_eq!(
            (
                m.total_deployments,
                m.successful_deployments,
                m.failed_deployments
            ),
            (Some(3), Some(1), Some(2))
        );
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use crate::framework::Identity;

    #[test]
    fn identity_is_the_canonical_scope_and_the_name() {
        let m: PolicyRemediationModel = serde_json::from_value(serde_json::json!({
            "policy_assignment_id": "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/providers/Microsoft.Authorization/policyAssignments/mde",
            "scope": "/SUBSCRIPTIONS/20FF7FC3-E762-44DD-BD96-B71116DCDC23/resourcegroups/App",
            "name": "r1"
        }))
        .unwrap();
        let identity = PolicyRemediation.identity(&m).unwrap();
        assert_eq!(
            identity.scope,
            "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/App"
        );
        let ctx = Ctx::new(None, Default::default());
        assert_eq!(
            PolicyRemediation.import_id(&ctx, &identity).unwrap(),
            "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/App/providers/Microsoft.PolicyInsights/remediations/r1"
        );
        let unplanned = PolicyRemediationModel { name: None, ..m };
        assert!(PolicyRemediation.identity(&unplanned).is_none());
        let shouty = PolicyRemediationIdentity {
            scope: identity
                .scope
                .to_uppercase()
                .replace("RESOURCEGROUPS/APP", "resourceGroups/App"),
            ..identity.clone()
        };
        assert_eq!(
            PolicyRemediation.import_id(&ctx, &shouty).unwrap(),
            PolicyRemediation.import_id(&ctx, &identity).unwrap()
        );
        let bad = PolicyRemediationIdentity {
            scope: "nope".into(),
            name: "r1".into(),
        };
        assert!(PolicyRemediation.import_id(&ctx, &bad).is_err());
    }
}
