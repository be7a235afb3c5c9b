//! defender_policy_assignment and defender_policy_remediation with the real Terraform CLI
//! against the emulator: identity, role assignments, remediation, eventual consistency,
//! drift, import, `moved {}` from azurerm, plan-time diagnostics without ARM requests, and the
//! examples/auto-provisioning configuration end to end.

use std::path::Path;

use arm_emulator::{Config, FaultRule};
use serde_json::{Value, json};

use crate::common::{SUBSCRIPTION, TfEnv};

fn sub_scope() -> String {
    format!("/subscriptions/{SUBSCRIPTION}")
}

/// A fast emulator: remediation steps of 100 ms.
fn fast() -> Config {
    Config {
        remediation_step_ms: 100,
        ..Config::default()
    }
}

/// Stored resources of a type (`Microsoft.Authorization/roleAssignments`, …).
fn stored(env: &TfEnv, type_segment: &str) -> Vec<Value> {
    let state = env.emulator.state().snapshot_json();
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["id"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains(&format!("/{}/", type_segment.to_ascii_lowercase()))
        })
        .map(|r| r["body"].clone())
        .collect()
}

/// ARM requests (not token or metadata calls).
fn arm_requests(env: &TfEnv) -> Vec<arm_emulator::RequestLogEntry> {
    env.arm_requests()
}

fn output(env_out: &str, name: &str) -> Option<String> {
    env_out
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name} = ")))
        .map(|v| v.trim_matches('"').to_owned())
}

const LAC: &str = "92aaf0da-9dab-42b6-94a3-d43ce8d16293";

/// Terraform wraps diagnostics at its terminal width: compare with whitespace collapsed.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_roles_remediation_drift_import_destroy() {
    let env = TfEnv::with_config(fast()).await;
    let scope = sub_scope();
    env.config(&format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-windows"
  scope    = "{scope}"
  location = "westeurope"
  remediation = {{
    wait = true
  }}
}}

output "id" {{ value = defender_policy_assignment.deps.id }}
output "principal" {{ value = defender_policy_assignment.deps.principal_id }}
"#
    ));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    let id = format!(
        "{scope}/providers/Microsoft.Authorization/policyAssignments/dependency-agent-windows"
    );
    // The ID and the role assignments' keys are known at plan time; the identity defaults.
    assert!(
        plan.stdout.contains(&format!("= \"{id}\"")),
        "{}",
        plan.all()
    );
    assert!(
        plan.stdout.contains("type = \"SystemAssigned\""),
        "{}",
        plan.all()
    );

    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let principal = output(&apply.stdout, "principal").expect("principal output");

    let assignment = env.emulator.get_resource(&id).expect("assignment stored");
    assert_eq!(assignment["identity"]["type"], "SystemAssigned");
    assert_eq!(assignment["identity"]["principalId"], principal.as_str());
    assert_eq!(
        assignment["properties"]["policyDefinitionId"],
        "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04"
    );
    let roles = stored(&env, "roleAssignments");
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(roles[0]["properties"]["principalId"], principal.as_str());
    assert_eq!(roles[0]["properties"]["principalType"], "ServicePrincipal");
    assert!(
        roles[0]["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with(LAC)
    );
    let tasks = stored(&env, "remediations");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["properties"]["policyAssignmentId"], id.as_str());

    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // A role assignment removed outside Terraform comes back.
    let role_id = roles[0]["id"].as_str().unwrap().to_owned();
    assert!(env.emulator.delete_resource(&role_id));
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert!(drift.stdout.contains("role_assignments"), "{}", drift.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(
        env.emulator.get_resource(&role_id).is_some(),
        "the same deterministic name"
    );
    assert_eq!(
        stored(&env, "remediations").len(),
        1,
        "no new task for a role repair"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Import by ARM ID into a fresh state finds the role assignments too.
    env.tf(&["state", "rm", "defender_policy_assignment.deps"])
        .await
        .assert_code(0);
    let import = env
        .tf(&[
            "import",
            "-no-color",
            "defender_policy_assignment.deps",
            &id,
        ])
        .await;
    import.assert_code(0);
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    // The imported state has no remediation settings: adding them is an update that starts a
    // task; everything else matches.
    assert!(
        plan.code == 2 && plan.stdout.contains("+ remediation"),
        "{}",
        plan.all()
    );
    assert!(!plan.stdout.contains("role_assignments"), "{}", plan.all());

    // Destroy: no role assignment is left behind.
    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert!(stored(&env, "roleAssignments").is_empty());
    assert!(env.emulator.get_resource(&id).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_fail_at_plan_time_on_the_attribute_without_arm_requests() {
    let env = TfEnv::start().await;
    let scope = sub_scope();
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    let mut cases: Vec<(String, &str, &str)> = vec![
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy     = "dependency-agent-windows"
  scope      = "{scope}"
  location   = "westeurope"
  parameters = {{ efect = "Disabled" }}
}}"#
            ),
            "\"efect\" is not a parameter of dependency-agent-windows. Did you mean \"effect\"?",
            "parameters = { efect = \"Disabled\" }",
        ),
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy     = "dependency-agent-windows"
  scope      = "{scope}"
  location   = "westeurope"
  parameters = {{ effect = "Audit" }}
}}"#
            ),
            "\"Audit\" is not an allowed value of \"effect\"; allowed: \"DeployIfNotExists\", \"Disabled\".",
            "parameters = { effect = \"Audit\" }",
        ),
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy   = "dependency-agent-windows"
  scope    = "{mg}"
  name     = "deploy-dependency-agent-w"
  location = "westeurope"
}}"#
            ),
            "policy assignment names at management group scope are at most 24 characters",
            "name     = \"deploy-dependency-agent-w\"",
        ),
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy   = "dependency-agent-windows"
  scope    = "{scope}"
  location = "westeurope"
  identity = {{ type = "UserAssigned" }}
}}"#
            ),
            "identity type \"UserAssigned\" needs exactly one user-assigned identity ID in identity_ids",
            "identity = { type = \"UserAssigned\" }",
        ),
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy = "kubernetes-policy-addon"
  scope  = "{scope}"
}}"#
            ),
            "location is required because policy \"kubernetes-policy-addon\" can deploy or modify resources",
            "resource \"defender_policy_assignment\" \"x\"",
        ),
        (
            format!(
                r#"resource "defender_policy_assignment" "x" {{
  policy   = "dependency-agent-windos"
  scope    = "{scope}"
  location = "westeurope"
}}"#
            ),
            "\"dependency-agent-windos\" is not a catalog key. Did you mean dependency-agent-windows",
            "policy   = \"dependency-agent-windos\"",
        ),
    ];
    cases.push((
        format!(
            r#"resource "defender_policy_assignment" "x" {{
  policy   = "dependency-agent-windows"
  scope    = "{scope}"
  identity = {{ type = "None" }}
}}"#
        ),
        "Azure refuses such an assignment without a managed identity (ResourceIdentityRequired)",
        "identity = { type = \"None\" }",
    ));
    assert_eq!("deploy-dependency-agent-w".len(), 25);
    for (hcl, message, line) in cases {
        env.config(&hcl);
        env.emulator.clear_requests();
        let plan = env.tf(&["plan", "-no-color"]).await;
        plan.assert_code(1);
        let text = plan.all();
        assert!(flat(&text).contains(message), "{message}\n{text}");
        assert!(
            text.contains(line),
            "points at the attribute ({line}): {text}"
        );
        let arm = arm_requests(&env);
        assert!(arm.is_empty(), "no ARM request for bad input: {arm:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_consistency_and_principal_replication_are_absorbed() {
    // The assignment reads 404 three times after its creation; the first two role assignment
    // PUTs answer PrincipalNotFound as a replicating identity does.
    let config = Config {
        faults: vec![
            FaultRule::not_found_after_create(3).path("policyAssignments"),
            FaultRule::arm_error(
                400,
                "PrincipalNotFound",
                "Principal 00000000000000000000000000000000 does not exist in the directory 72f9acb2-0000-4e00-8000-00000000e1a0.",
            )
            .method("PUT")
            .path("roleAssignments")
            .times(2),
        ],
        ..fast()
    };
    let env = TfEnv::with_config(config).await;
    env.config(&format!(
        r#"resource "defender_policy_assignment" "addon" {{
  policy   = "kubernetes-policy-addon"
  scope    = "{}"
  location = "westeurope"
}}"#,
        sub_scope()
    ));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let roles = stored(&env, "roleAssignments");
    assert_eq!(roles.len(), 2, "both roles of the add-on policy: {roles:?}");
    let gets_404 = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("policyAssignments") && r.status == 404)
        .count();
    assert!(gets_404 >= 3, "read until consistent");
    let principal_not_found = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("roleAssignments") && r.status == 400)
        .count();
    assert_eq!(principal_not_found, 2, "retried");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_remediation_names_the_deployments_and_keeps_state() {
    let env = TfEnv::with_config(Config {
        remediation_failures: 1.0,
        remediation_resources: 2,
        ..fast()
    })
    .await;
    env.config(&format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{}"
  location = "westeurope"
  remediation = {{
    wait              = true
    location_filters  = ["westeurope"]
    failure_threshold = 0.5
  }}
}}"#,
        sub_scope()
    ));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = flat(&apply.all());
    assert!(text.contains("Error: Remediation failed"), "{text}");
    assert!(text.contains("2 of 2 deployments failed"), "{text}");
    assert!(
        text.contains(
            "/providers/Microsoft.Compute/virtualMachines/virtualmachines-0: DeploymentFailed"
        ),
        "names the failed deployment: {text}"
    );
    // What was created stays in state (tainted, so the next apply replaces it).
    let list = env.tf(&["state", "list"]).await;
    assert!(
        list.stdout.contains("defender_policy_assignment.deps"),
        "{}",
        list.all()
    );
    assert_eq!(stored(&env, "roleAssignments").len(), 1);
    let plan = env.tf(&["plan", "-no-color"]).await;
    assert!(
        plan.stdout.contains("is tainted, so must be replaced"),
        "{}",
        plan.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_cancels_running_remediation_then_removes_roles() {
    let env = TfEnv::with_config(Config {
        remediation_step_ms: 600_000,
        ..Config::default()
    })
    .await;
    env.config(&format!(
        r#"resource "defender_policy_assignment" "mde" {{
  policy   = "mde"
  scope    = "{}"
  location = "westeurope"
  remediation = {{ mode = "ReEvaluateCompliance" }}
}}"#,
        sub_scope()
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let tasks = stored(&env, "remediations");
    assert_eq!(
        tasks.len(),
        4,
        "one task per member of the initiative: {tasks:?}"
    );
    let mut refs: Vec<&str> = tasks
        .iter()
        .map(|t| {
            t["properties"]["policyDefinitionReferenceId"]
                .as_str()
                .unwrap()
        })
        .collect();
    refs.sort();
    assert_eq!(
        refs,
        vec![
            "microsoftDefenderForEndpointLinuxAgentDeploy",
            "microsoftDefenderForEndpointLinuxArcAgentDeploy",
            "microsoftDefenderForEndpointWindowsAgentDeploy",
            "microsoftDefenderForEndpointWindowsArcAgentDeploy",
        ]
    );
    assert!(
        tasks
            .iter()
            .all(|t| t["properties"]["resourceDiscoveryMode"] == "ReEvaluateCompliance")
    );
    assert!(!stored(&env, "roleAssignments").is_empty());
    env.emulator.clear_requests();
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let requests = env.emulator.requests();
    let cancels = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/cancel"))
        .count();
    assert_eq!(cancels, 4);
    let first_role_delete = requests
        .iter()
        .position(|r| r.method == "DELETE" && r.path.contains("roleAssignments"))
        .unwrap();
    let assignment_delete = requests
        .iter()
        .position(|r| r.method == "DELETE" && r.path.contains("policyAssignments"))
        .unwrap();
    let last_cancel = requests
        .iter()
        .rposition(|r| r.path.ends_with("/cancel"))
        .unwrap();
    assert!(last_cancel < first_role_delete && first_role_delete < assignment_delete);
    assert!(stored(&env, "roleAssignments").is_empty());
    for id in tasks.iter().map(|t| t["id"].as_str().unwrap()) {
        let task = env.emulator.get_resource(id).unwrap();
        assert!(task["_emulator"]["cancelledAt"].is_string(), "{task}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_group_scope_workspace_roles_and_parameter_changes() {
    let env = TfEnv::with_config(fast()).await;
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    let ws = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/central"
    );
    let hcl = |effect: &str| {
        format!(
            r#"resource "defender_policy_assignment" "aks" {{
  policy   = "defender-containers-aks"
  scope    = "{mg}"
  location = "westeurope"
  parameters = {{
    effect                          = "{effect}"
    logAnalyticsWorkspaceResourceId = "{ws}"
  }}
  remediation = {{ wait = true }}
}}"#
        )
    };
    env.config(&hcl("DeployIfNotExists"));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let id =
        format!("{mg}/providers/Microsoft.Authorization/policyAssignments/defender-containers-aks");
    assert!(
        env.emulator.get_resource(&id).is_some(),
        "the default name fits in 24 characters"
    );
    let roles = stored(&env, "roleAssignments");
    // Two roles at the management group and the same two on the workspace.
    assert_eq!(roles.len(), 4, "{roles:?}");
    let on_workspace = roles
        .iter()
        .filter(|r| {
            r["properties"]["scope"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&ws)
        })
        .count();
    assert_eq!(on_workspace, 2);
    assert_eq!(stored(&env, "remediations").len(), 1);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // A parameter change updates in place and starts a new remediation task.
    env.config(&hcl("Disabled"));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(plan.stdout.contains("1 to change"), "{}", plan.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    // Disabled deploys nothing: no new task.
    assert_eq!(stored(&env, "remediations").len(), 1);
    env.config(&hcl("DeployIfNotExists"));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(
        stored(&env, "remediations").len(),
        2,
        "back to a deploying effect: a new task"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(stored(&env, "roleAssignments").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_assigned_identity_and_adopted_role_assignments() {
    let env = TfEnv::with_config(fast()).await;
    let scope = sub_scope();
    let uai = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/policy"
    );
    env.config(&format!(
        r#"resource "defender_policy_assignment" "deps" {{
  policy   = "dependency-agent-linux"
  scope    = "{scope}"
  location = "westeurope"
  identity = {{
    type         = "UserAssigned"
    identity_ids = ["{uai}"]
  }}
}}

output "principal" {{ value = defender_policy_assignment.deps.principal_id }}
"#
    ));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let principal = output(&apply.stdout, "principal").unwrap();
    let roles = stored(&env, "roleAssignments");
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["properties"]["principalId"], principal.as_str());
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // The same role for the same principal made by hand under another name is adopted, not
    // duplicated (409 RoleAssignmentExists).
    let ours = roles[0]["id"].as_str().unwrap().to_owned();
    assert!(env.emulator.delete_resource(&ours));
    let theirs = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/11111111-2222-4333-8444-555555555555"
    );
    let mut body = roles[0].clone();
    body["id"] = json!(theirs);
    body["name"] = json!("11111111-2222-4333-8444-555555555555");
    env.emulator.set_resource(&theirs, body);
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(env.emulator.get_resource(&ours).is_none(), "not duplicated");
    let show = env.state_show("defender_policy_assignment.deps").await;
    assert!(show.stdout.contains(&theirs), "{}", show.all());
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(stored(&env, "roleAssignments").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_definition_id_is_checked_against_the_definition_in_azure() {
    let env = TfEnv::with_config(fast()).await;
    let scope = sub_scope();
    let definition =
        format!("{scope}/providers/Microsoft.Authorization/policyDefinitions/deploy-tags");
    env.emulator.set_resource(
        &definition,
        json!({
            "id": definition, "name": "deploy-tags", "type": "Microsoft.Authorization/policyDefinitions",
            "properties": {
                "displayName": "Deploy tags", "policyType": "Custom", "mode": "Indexed",
                "parameters": {
                    "effect": {"type": "String", "allowedValues": ["DeployIfNotExists", "Disabled"], "defaultValue": "DeployIfNotExists"},
                    "tagName": {"type": "String"}
                },
                "policyRule": {"if": {"field": "type", "equals": "Microsoft.Compute/virtualMachines"},
                               "then": {"effect": "[parameters('effect')]",
                                        "details": {"type": "Microsoft.Resources/tags",
                                                    "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"]}}}
            }
        }),
    );
    let hcl = |params: &str| {
        format!(
            r#"resource "defender_policy_assignment" "tags" {{
  policy_definition_id = "{definition}"
  scope                = "{scope}"
  location             = "westeurope"
  parameters           = {params}
}}"#
        )
    };
    // ARM compares parameter names case-insensitively; an unknown one and a missing required
    // one are refused.
    env.config(&hcl("{ tagNme = \"env\", effect = \"Sometimes\" }"));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = flat(&plan.all());
    assert!(text.contains("\"tagNme\" is not a parameter of"), "{text}");
    assert!(
        text.contains("\"Sometimes\" is not an allowed value of \"effect\""),
        "{text}"
    );
    assert!(text.contains("requires parameter \"tagName\""), "{text}");

    env.config(&hcl("{ tagname = \"env\" }"));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    let roles = stored(&env, "roleAssignments");
    assert_eq!(
        roles.len(),
        1,
        "the definition's Contributor role: {roles:?}"
    );
    let show = env.state_show("defender_policy_assignment.tags").await;
    assert!(
        show.stdout
            .contains("name                 = \"deploy-tags\""),
        "{}",
        show.all()
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

/// An assignment as azurerm left it in Azure and in its state.
struct Azurerm {
    type_name: &'static str,
    name: &'static str,
    scope_attr: &'static str,
    scope: String,
    definition: &'static str,
    parameters: Option<Value>,
    enforce: bool,
}

impl Azurerm {
    fn id(&self) -> String {
        format!(
            "{}/providers/Microsoft.Authorization/policyAssignments/{}",
            self.scope, self.name
        )
    }

    fn principal(&self) -> String {
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, self.name.as_bytes()).to_string()
    }

    fn arm_body(&self) -> Value {
        let mut props = json!({
            "policyDefinitionId": self.definition, "notScopes": [], "scope": self.scope,
            "enforcementMode": if self.enforce { "Default" } else { "DoNotEnforce" },
            "metadata": {"createdOn": "2025-01-01T00:00:00Z"},
        });
        if let Some(p) = &self.parameters {
            props["parameters"] = p.clone();
        }
        json!({
            "id": self.id(), "name": self.name, "type": "Microsoft.Authorization/policyAssignments",
            "location": "westeurope",
            "identity": {"type": "SystemAssigned", "principalId": self.principal(), "tenantId": crate::common::TENANT},
            "properties": props,
        })
    }

    fn state(&self) -> Value {
        let mut attrs = json!({
            "id": self.id(), "name": self.name, self.scope_attr: self.scope,
            "policy_definition_id": self.definition, "description": "", "display_name": "",
            "location": "westeurope", "enforce": self.enforce, "metadata": "{\"createdOn\":\"2025-01-01T00:00:00Z\"}",
            "identity": [{"type": "SystemAssigned", "identity_ids": [], "principal_id": self.principal(), "tenant_id": crate::common::TENANT}],
            "not_scopes": [], "non_compliance_message": [], "overrides": [], "resource_selectors": [],
            "parameters": self.parameters.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            "timeouts": null,
        });
        if self.parameters.is_none() {
            attrs["parameters"] = json!("");
        }
        json!({
            "mode": "managed", "type": self.type_name, "name": self.name.replace('-', "_"),
            "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
            "instances": [{"schema_version": 0, "attributes": attrs, "sensitive_attributes": [], "private": "bnVsbA=="}]
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_from_the_three_azurerm_policy_assignment_types() {
    let env = TfEnv::with_config(fast()).await;
    let sub = sub_scope();
    let rg = format!("{sub}/resourceGroups/aks");
    let mg = "/providers/Microsoft.Management/managementGroups/contoso".to_owned();
    let sources = [
        Azurerm {
            type_name: "azurerm_subscription_policy_assignment",
            name: "deploy-deps",
            scope_attr: "subscription_id",
            scope: sub.clone(),
            definition: "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04",
            parameters: Some(json!({"effect": {"value": "DeployIfNotExists"}})),
            enforce: true,
        },
        Azurerm {
            type_name: "azurerm_management_group_policy_assignment",
            name: "deploy-mde",
            scope_attr: "management_group_id",
            scope: mg.clone(),
            definition: "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc",
            parameters: None,
            enforce: false,
        },
        Azurerm {
            type_name: "azurerm_resource_group_policy_assignment",
            name: "aks-addon",
            scope_attr: "resource_group_id",
            scope: rg.clone(),
            definition: "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7",
            parameters: None,
            enforce: true,
        },
    ];
    for s in &sources {
        env.emulator.set_resource(&s.id(), s.arm_body());
    }
    // azurerm users granted the Dependency agent's role by hand (azurerm_role_assignment).
    let by_hand = format!(
        "{sub}/providers/Microsoft.Authorization/roleAssignments/4f0c1d7e-7a53-4e38-9a8b-2d1c0e9f7a61"
    );
    env.emulator.set_resource(
        &by_hand,
        json!({"id": by_hand, "name": "4f0c1d7e-7a53-4e38-9a8b-2d1c0e9f7a61", "type": "Microsoft.Authorization/roleAssignments",
               "properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}"),
                              "principalId": sources[0].principal(), "principalType": "ServicePrincipal", "scope": sub}}),
    );
    let state = json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1,
        "lineage": "0c7e5e2a-9a44-4d4f-8f0b-3f1f0c3b7a10", "outputs": {},
        "resources": sources.iter().map(Azurerm::state).collect::<Vec<_>>(),
        "check_results": null
    });
    std::fs::write(
        env.path().join("terraform.tfstate"),
        serde_json::to_vec_pretty(&state).unwrap(),
    )
    .unwrap();
    env.config(&format!(
        r#"moved {{
  from = azurerm_subscription_policy_assignment.deploy_deps
  to   = defender_policy_assignment.deps
}}
moved {{
  from = azurerm_management_group_policy_assignment.deploy_mde
  to   = defender_policy_assignment.mde
}}
moved {{
  from = azurerm_resource_group_policy_assignment.aks_addon
  to   = defender_policy_assignment.addon
}}

resource "defender_policy_assignment" "deps" {{
  policy     = "dependency-agent-windows"
  scope      = "{sub}"
  name       = "deploy-deps"
  location   = "westeurope"
  parameters = {{ effect = "DeployIfNotExists" }}
}}

resource "defender_policy_assignment" "mde" {{
  policy           = "mde"
  scope            = "{mg}"
  name             = "deploy-mde"
  location         = "westeurope"
  enforcement_mode = "DoNotEnforce"
}}

resource "defender_policy_assignment" "addon" {{
  policy_definition_id = "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7"
  scope                = "{rg}"
  name                 = "aks-addon"
  location             = "westeurope"
}}
"#
    ));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    for (from, to) in [
        (
            "azurerm_subscription_policy_assignment.deploy_deps",
            "defender_policy_assignment.deps",
        ),
        (
            "azurerm_management_group_policy_assignment.deploy_mde",
            "defender_policy_assignment.mde",
        ),
        (
            "azurerm_resource_group_policy_assignment.aks_addon",
            "defender_policy_assignment.addon",
        ),
    ] {
        assert!(
            plan.stdout.contains(&format!(
                "# {to} will be updated in-place\n  # (moved from {from})"
            )),
            "{}",
            plan.all()
        );
    }
    // Nothing is created or destroyed: the moved assignments only gain their role assignments.
    assert!(plan.stdout.contains("0 to add"), "{}", plan.all());
    assert!(plan.stdout.contains("0 to destroy"), "{}", plan.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    for s in &sources {
        let body = env.emulator.get_resource(&s.id()).unwrap();
        assert_eq!(
            body["identity"]["principalId"],
            s.principal().as_str(),
            "the same identity"
        );
    }
    let roles = stored(&env, "roleAssignments");
    let deps_roles: Vec<&Value> = roles
        .iter()
        .filter(|r| r["properties"]["principalId"] == sources[0].principal().as_str())
        .collect();
    assert_eq!(
        deps_roles.len(),
        1,
        "the hand-made role assignment is adopted, not duplicated"
    );
    assert_eq!(deps_roles[0]["id"], by_hand.as_str());
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remediation_resource_runs_waits_reruns_and_imports() {
    let env = TfEnv::with_config(fast()).await;
    let scope = sub_scope();
    let hcl = |month: &str| {
        format!(
            r#"resource "defender_policy_assignment" "mde" {{
  policy   = "mde"
  scope    = "{scope}"
  location = "westeurope"
}}

resource "defender_policy_remediation" "linux" {{
  policy_assignment_id           = defender_policy_assignment.mde.id
  policy_definition_reference_id = "microsoftDefenderForEndpointLinuxAgentDeploy"
  parallel_deployments           = 5
  wait                           = true
  triggers                       = {{ month = "{month}" }}
}}

output "state" {{ value = defender_policy_remediation.linux.provisioning_state }}
"#
        )
    };
    env.config(&hcl("2026-07"));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_eq!(output(&apply.stdout, "state").as_deref(), Some("Succeeded"));
    let tasks = stored(&env, "remediations");
    assert_eq!(
        tasks.len(),
        1,
        "the assignment has no remediation of its own"
    );
    assert_eq!(tasks[0]["properties"]["parallelDeployments"], 5);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // A new trigger value: a new task replaces the old one.
    env.config(&hcl("2026-08"));
    let plan = env.tf(&["plan", "-no-color"]).await;
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.all());
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let tasks = stored(&env, "remediations");
    assert_eq!(tasks.len(), 1, "the old task was deleted: {tasks:?}");

    let id = tasks[0]["id"].as_str().unwrap().to_owned();
    env.tf(&["state", "rm", "defender_policy_remediation.linux"])
        .await
        .assert_code(0);
    env.tf(&[
        "import",
        "-no-color",
        "defender_policy_remediation.linux",
        &id,
    ])
    .await
    .assert_code(0);
    let show = env.state_show("defender_policy_remediation.linux").await;
    assert!(
        show.stdout
            .contains("microsoftDefenderForEndpointLinuxAgentDeploy"),
        "{}",
        show.all()
    );

    // Bad settings fail at plan time without ARM requests.
    env.config(&format!(
        r#"resource "defender_policy_remediation" "x" {{
  policy_assignment_id = "{scope}/providers/Microsoft.Authorization/policyAssignments/mde"
  scope                = "/subscriptions/00000000-0000-0000-0000-000000000009"
  parallel_deployments = 31
}}"#
    ));
    env.emulator.clear_requests();
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = flat(&plan.all());
    assert!(text.contains("31 is out of range"), "{text}");
    assert!(text.contains("is not \"/subscriptions/20ff7fc3"), "{text}");
    assert!(arm_requests(&env).is_empty());
}

/// The emulator's built-ins and the provider's catalog are written separately from the same
/// reference data; they must agree on everything the provider relies on.
#[test]
fn every_catalog_entry_is_served_by_the_emulator_alike() {
    use arm_emulator::types::policy_definitions::builtins;
    let b = builtins();
    for e in defender::catalog::entries() {
        let list = match e.kind {
            defender::catalog::DefinitionKind::Definition => &b.definitions,
            defender::catalog::DefinitionKind::Set => &b.sets,
        };
        let served = list
            .iter()
            .find(|d| {
                d["id"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(&e.definition_id))
            })
            .unwrap_or_else(|| {
                panic!(
                    "{} ({}) is not served by the emulator",
                    e.key, e.definition_id
                )
            });
        let params = served["properties"]["parameters"].as_object().unwrap();
        let mut served_names: Vec<&str> = params.keys().map(String::as_str).collect();
        let mut names: Vec<&str> = e.parameters.iter().map(|p| p.name).collect();
        served_names.sort();
        names.sort();
        assert_eq!(names, served_names, "{}: parameter names", e.key);
        for p in &e.parameters {
            let s = &params[p.name];
            assert_eq!(
                p.default.as_ref(),
                s.get("defaultValue"),
                "{}.{}: default",
                e.key,
                p.name
            );
            let allowed: Vec<Value> = s["allowedValues"].as_array().cloned().unwrap_or_default();
            assert_eq!(p.allowed, allowed, "{}.{}: allowed values", e.key, p.name);
            let ap = s["metadata"]["assignPermissions"]
                .as_bool()
                .unwrap_or(false);
            if e.kind == defender::catalog::DefinitionKind::Definition {
                assert_eq!(
                    p.assign_permissions, ap,
                    "{}.{}: assignPermissions",
                    e.key, p.name
                );
            }
        }
        match e.kind {
            defender::catalog::DefinitionKind::Definition => {
                let mut served_roles: Vec<String> =
                    served["properties"]["policyRule"]["then"]["details"]["roleDefinitionIds"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|r| r.as_str()?.rsplit('/').next().map(str::to_ascii_lowercase))
                        .collect();
                let mut roles: Vec<String> = e
                    .role_definition_ids
                    .iter()
                    .map(|r| r.to_ascii_lowercase())
                    .collect();
                served_roles.sort();
                roles.sort();
                assert_eq!(roles, served_roles, "{}: roles", e.key);
            }
            defender::catalog::DefinitionKind::Set => {
                let members = served["properties"]["policyDefinitions"]
                    .as_array()
                    .unwrap();
                assert_eq!(members.len(), e.members.len(), "{}: members", e.key);
                for (m, s) in e.members.iter().zip(members) {
                    assert_eq!(
                        m.reference_id, s["policyDefinitionReferenceId"],
                        "{}",
                        e.key
                    );
                    assert!(
                        s["policyDefinitionId"]
                            .as_str()
                            .is_some_and(|id| id.eq_ignore_ascii_case(&m.definition_id)),
                        "{}: member {}",
                        e.key,
                        m.reference_id
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_provisioning_example_applies_plans_empty_and_destroys_cleanly() {
    let mut env = TfEnv::with_config(Config {
        remediation_step_ms: 150,
        remediation_resources: 3,
        ..Config::default()
    })
    .await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = std::fs::read_to_string(root.join("examples/auto-provisioning/main.tf")).unwrap();
    std::fs::write(env.path().join("main.tf"), example).unwrap();
    env.extra_env
        .push(("TF_VAR_subscription_id".into(), SUBSCRIPTION.into()));

    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 4 added"),
        "{}",
        apply.all()
    );

    let assignments = stored(&env, "policyAssignments");
    assert_eq!(assignments.len(), 4);
    let roles = stored(&env, "roleAssignments");
    for a in &assignments {
        let principal = a["identity"]["principalId"].as_str().unwrap();
        let mine = roles
            .iter()
            .filter(|r| r["properties"]["principalId"] == principal)
            .count();
        assert!(mine >= 1, "{} has its roles: {roles:?}", a["name"]);
    }
    // The add-on policy needs two roles.
    let addon = assignments
        .iter()
        .find(|a| a["name"] == "kubernetes-policy-addon")
        .unwrap();
    let addon_roles = roles
        .iter()
        .filter(|r| r["properties"]["principalId"] == addon["identity"]["principalId"])
        .count();
    assert_eq!(addon_roles, 2);
    // One task per definition and per member of the initiative, all finished.
    let tasks = stored(&env, "remediations");
    assert_eq!(tasks.len(), 1 + 1 + 1 + 4, "{tasks:?}");
    for t in &tasks {
        let body = env
            .emulator
            .get_resource(t["id"].as_str().unwrap())
            .unwrap();
        assert!(body["_emulator"].is_object());
    }

    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert!(
        stored(&env, "roleAssignments").is_empty(),
        "no role assignment left behind"
    );
    assert!(stored(&env, "policyAssignments").is_empty());
}

/// `parameters` is dynamic: values typed in HCL (a `list(string)` variable, `tolist`, `toset`,
/// a whole `tomap`) go to ARM as JSON and plan empty afterwards, however Terraform typed them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_parameter_values_plan_empty_after_apply() {
    let env = TfEnv::with_config(fast()).await;
    let image = |n: &str| {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/img/providers/Microsoft.Compute/images/{n}"
        )
    };
    env.config(&format!(
        r#"variable "images" {{
  type    = list(string)
  default = ["{a}", "{b}"]
}}

resource "defender_policy_assignment" "listed" {{
  policy   = "dependency-agent-windows"
  name     = "deps-listed"
  scope    = "{scope}"
  location = "westeurope"
  parameters = {{
    effect                 = "DeployIfNotExists"
    listOfImageIdToInclude = var.images
  }}
}}

resource "defender_policy_assignment" "set" {{
  policy   = "dependency-agent-windows"
  name     = "deps-set"
  scope    = "{scope}"
  location = "westeurope"
  parameters = {{
    listOfImageIdToInclude = toset(["{a}"])
  }}
}}

resource "defender_policy_assignment" "map" {{
  policy     = "dependency-agent-windows"
  name       = "deps-map"
  scope      = "{scope}"
  location   = "westeurope"
  parameters = tomap({{ effect = "DeployIfNotExists" }})
}}
"#,
        a = image("a"),
        b = image("b"),
        scope = sub_scope()
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let listed = env
        .emulator
        .get_resource(&format!(
            "{}/providers/Microsoft.Authorization/policyAssignments/deps-listed",
            sub_scope()
        ))
        .unwrap();
    assert_eq!(
        listed["properties"]["parameters"]["listOfImageIdToInclude"]["value"],
        serde_json::json!([image("a"), image("b")])
    );
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(0);

    // A change in Azure still shows: the typed value stays only while it means the same JSON.
    let id = format!(
        "{}/providers/Microsoft.Authorization/policyAssignments/deps-listed",
        sub_scope()
    );
    let mut changed = listed.clone();
    changed["properties"]["parameters"]["listOfImageIdToInclude"]["value"] =
        serde_json::json!([image("a")]);
    env.emulator.set_resource(&id, changed);
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.all()
    );
}
