//! `defender_remediate`: an action that starts a remediation task for a policy assignment
//! (Microsoft.PolicyInsights/remediations, arm-api.md §10) and reports its progress until the
//! task ends.
//!
//! - Each invocation is a new task (a task runs once; a PUT of an existing task with the same
//!   settings does not restart it, arm-api.md §10 / docs), so the task's name is new every
//!   time unless `name` is given.
//! - PUT is synchronous and the service runs the task asynchronously (`Accepted`, running
//!   states, then `Succeeded`/`Failed`/`Canceled`): the task is polled (every 15 s against
//!   Azure, 100 ms against a loopback emulator, as the ARM client polls) and every change of
//!   state or counts is a progress message.
//! - A task that ends `Failed`/`Canceled` or with failed deployments fails the action with a
//!   diagnostic naming the assignment, the task, the request id of the PUT that started it and
//!   the failed deployments (`POST {task}/listDeployments`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::policy_common::{
    PolicyAssignmentId, RemediationId, TaskSettings, TaskStatus, put_remediation, scope_string,
    wait_for_remediation,
};
use super::policy_remediation::{PolicyRemediation, PolicyRemediationModel};
use crate::arm::ids::Scope;
use crate::catalog::render;
use crate::framework::{
    Action, AttrPath, Config, Ctx, Diagnostic, Diagnostics, Progress, Resource,
};

/// Starts a remediation task for a policy assignment and waits for it to end, reporting its
/// progress: Azure Policy deploys what a DeployIfNotExists or Modify policy requires on the
/// resources that already exist and do not comply. Run it with
/// `terraform apply -invoke=action.defender_remediate.NAME`, or after an assignment is
/// created or changed with an `action_trigger` in the assignment's `lifecycle` block.
///
/// Each run starts a new task. The action fails, naming the assignment, the task and its
/// failed deployments, when the task fails, is cancelled, or any deployment fails.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_remediate")]
pub struct RemediateModel {
    /// The policy assignment to remediate, e.g.
    /// `defender_policy_assignment.mde.id`.
    pub policy_assignment_id: String,
    /// For an initiative assignment: the member to remediate (its
    /// `policyDefinitionReferenceId`).
    pub policy_definition_reference_id: Option<String>,
    /// Where the task looks for resources: the assignment's scope (the default) or a scope
    /// below it (a resource group, a resource).
    pub scope: Option<String>,
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
    /// The task's name. Defaults to a new name for every run.
    pub name: Option<String>,
}

pub struct Remediate;

/// The remediation resource's model with the same settings, so its checks (the same
/// attribute names) apply here unchanged.
fn as_resource(m: &RemediateModel) -> PolicyRemediationModel {
    PolicyRemediationModel {
        id: None,
        policy_assignment_id: m.policy_assignment_id.clone(),
        name: m.name.clone(),
        scope: m.scope.clone(),
        policy_definition_reference_id: m.policy_definition_reference_id.clone(),
        mode: m.mode.clone(),
        location_filters: m.location_filters.clone(),
        parallel_deployments: m.parallel_deployments,
        resource_count: m.resource_count,
        failure_threshold: m.failure_threshold,
        wait: Some(true),
        triggers: None,
        provisioning_state: None,
        total_deployments: None,
        successful_deployments: None,
        failed_deployments: None,
    }
}

fn describe_progress(name: &str, s: &TaskStatus) -> String {
    format!(
        "remediation task {name}: {} ({} succeeded, {} failed of {} deployments)",
        if s.state.is_empty() {
            "Accepted"
        } else {
            &s.state
        },
        s.succeeded,
        s.failed,
        s.total
    )
}

impl Action for Remediate {
    type Model = RemediateModel;
    const TYPE_NAME: &'static str = "defender_remediate";

    fn validate(&self, config: &Config<'_, RemediateModel>, diags: &mut Diagnostics) {
        PolicyRemediation.validate(
            &Config {
                model: as_resource(&config.model),
                raw: config.raw,
            },
            diags,
        );
        if let Some(name) = &config.model.name
            && (name.is_empty() || name.contains('/'))
        {
            diags.error_at(
                AttrPath::root("name"),
                "Invalid task name",
                format!(
                    "{name:?} is not a remediation task name: it must be non-empty, without '/'."
                ),
            );
        }
    }

    async fn invoke(
        &self,
        ctx: &Ctx,
        config: RemediateModel,
        progress: Progress,
    ) -> Result<(), Diagnostics> {
        let arm = ctx.provider()?.arm().await?;
        let assignment = PolicyAssignmentId::parse(&config.policy_assignment_id).map_err(|e| {
            Diagnostic::error("Invalid policy assignment ID", e.to_string())
                .at(AttrPath::root("policy_assignment_id"))
        })?;
        let scope = match &config.scope {
            Some(s) => Scope::parse(s).map_err(|e| {
                Diagnostic::error("Invalid scope", e.to_string()).at(AttrPath::root("scope"))
            })?,
            None => assignment.scope.clone(),
        };
        let name = config.name.clone().unwrap_or_else(|| {
            render::remediation_name(
                &config.policy_assignment_id,
                config.policy_definition_reference_id.as_deref(),
                &format!("action|{}", uuid::Uuid::new_v4()),
            )
        });
        let id = RemediationId::new(scope, name.clone());
        let input = TaskSettings {
            mode: config.mode.as_deref(),
            location_filters: config.location_filters.as_deref(),
            parallel_deployments: config.parallel_deployments,
            resource_count: config.resource_count,
            failure_threshold: config.failure_threshold,
        }
        .input(
            assignment.to_string(),
            config.policy_definition_reference_id.clone(),
        );
        let body = render::remediation_body(&input)
            .map_err(|e| Diagnostic::error("Invalid remediation", e.to_string()))?;
        // The PUT is answered at once; the task runs on in Azure (arm-api.md §10).
        let created = put_remediation(arm, &id, &body).await?;
        let request_id = created.request_id.clone().unwrap_or_else(|| "none".into());
        progress.report(format!(
            "started remediation task {name} for {} at {} (request id {request_id})",
            assignment.describe(),
            scope_string(&id.scope)
        ));
        wait_for_remediation(
            ctx,
            arm,
            &id,
            Some(&request_id),
            Some(created.body),
            |status| progress.report(describe_progress(&name, status)),
        )
        .await
        .map(|_| ())
        .map_err(|d| {
            // The same errors as the resources' (naming the request that started the task),
            // said of the assignment.
            Diagnostic::error(
                d.summary,
                format!("remediating {}: {}", assignment.describe(), d.detail),
            )
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Value as CtyValue;

    #[test]
    fn progress_names_the_task_and_counts() {
        let s = TaskStatus::of(&serde_json::json!({"properties": {
            "provisioningState": "Evaluating",
            "deploymentStatus": {"totalDeployments": 2, "successfulDeployments": 1, "failedDeployments": 0}
        }}));
        assert_eq!(
            describe_progress("t1", &s),
            "remediation task t1: Evaluating (1 succeeded, 0 failed of 2 deployments)"
        );
    }

    #[test]
    fn checks_are_the_remediation_resource_s_on_the_same_attributes() {
        let m = RemediateModel {
            policy_assignment_id: "nope".into(),
            policy_definition_reference_id: None,
            scope: None,
            mode: Some("Sometimes".into()),
            location_filters: None,
            parallel_deployments: Some(99),
            resource_count: None,
            failure_threshold: None,
            name: Some("a/b".into()),
        };
        let raw = CtyValue::Null;
        let mut diags = Diagnostics::new();
        Remediate.validate(
            &Config {
                model: m,
                raw: &raw,
            },
            &mut diags,
        );
        let paths: Vec<_> = diags.0.iter().filter_map(|d| d.path.clone()).collect();
        for attr in [
            "policy_assignment_id",
            "mode",
            "parallel_deployments",
            "name",
        ] {
            assert!(paths.contains(&AttrPath::root(attr)), "{attr}: {diags:?}");
        }
    }
}
