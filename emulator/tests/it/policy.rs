//! Azure Policy over the wire: built-in definitions, policy assignments at every scope with
//! identities, role assignments with directory replication, remediation tasks on the clock.

use crate::common;

use std::time::Duration;

use arm_emulator::{Config, FaultRule, RuntimeConfigPatch};
use common::*;
use serde_json::{Value, json};

const POLICY_API: &str = "2025-03-01";
const ROLE_API: &str = "2022-04-01";
const REMEDIATION_API: &str = "2021-10-01";

/// Dependency agent for Windows VMs: DINE by default, role Log Analytics Contributor.
const DEPS: &str =
    "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04";
/// The Defender for Endpoint initiative (four DINE members).
const MDE: &str =
    "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc";
const LAC: &str = "92aaf0da-9dab-42b6-94a3-d43ce8d16293";

struct Api {
    base: String,
    token: String,
}

impl Api {
    async fn new(emu: &arm_emulator::EmulatorHandle) -> Api {
        Api {
            base: emu.base_url(),
            token: token(emu).await,
        }
    }

    fn url(&self, path: &str, api: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}api-version={api}", self.base)
    }

    async fn get(&self, path: &str, api: &str) -> (u16, Value) {
        json(get(&self.url(path, api), &self.token).await).await
    }

    async fn put(&self, path: &str, api: &str, body: Value) -> (u16, Value) {
        json(put(&self.url(path, api), &self.token, body).await).await
    }

    async fn delete(&self, path: &str, api: &str) -> (u16, Value) {
        json(
            client()
                .delete(self.url(path, api))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, api: &str) -> (u16, Value) {
        json(
            client()
                .post(self.url(path, api))
                .bearer_auth(&self.token)
                .header("content-length", "0")
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

fn assignment_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/policyAssignments/{name}")
}

fn role_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

fn remediation_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.PolicyInsights/remediations/{name}")
}

fn dine_body(definition: &str) -> Value {
    json!({
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"policyDefinitionId": definition, "displayName": "deploy"}
    })
}

fn names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn built_in_definitions_are_served_read_only() {
    let emu = start(Config::default()).await;
    let api = Api::new(&emu).await;
    let (status, def) = api.get(DEPS, POLICY_API).await;
    assert_eq!(status, 200, "{def}");
    assert_eq!(def["type"], "Microsoft.Authorization/policyDefinitions");
    assert_eq!(def["properties"]["policyType"], "BuiltIn");
    assert_eq!(
        def["properties"]["policyRule"]["then"]["details"]["roleDefinitionIds"][0]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next(),
        Some(LAC)
    );
    let (status, set) = api.get(MDE, "2023-04-01").await;
    assert_eq!(status, 200);
    assert_eq!(
        set["properties"]["policyDefinitions"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (status, missing) = api
        .get(
            "/providers/Microsoft.Authorization/policyDefinitions/00000000-0000-0000-0000-000000000000",
            POLICY_API,
        )
        .await;
    assert_eq!(
        (status, arm_code(&missing)),
        (404, "PolicyDefinitionNotFound")
    );
    let (status, list) = api
        .get(
            "/providers/Microsoft.Authorization/policySetDefinitions",
            POLICY_API,
        )
        .await;
    assert_eq!(status, 200);
    assert!(list["value"].as_array().unwrap().len() >= 10);
    let (status, refused) = api.put(DEPS, POLICY_API, json!({"properties": {}})).await;
    assert_eq!((status, arm_code(&refused)), (403, "AuthorizationFailed"));

    // A built-in name reads at a subscription too; custom definitions live there.
    let sub = format!("/subscriptions/{}", new_subscription());
    let (status, _) = api
        .get(
            &format!("{sub}/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04"),
            POLICY_API,
        )
        .await;
    assert_eq!(status, 200);
    let custom = format!("{sub}/providers/Microsoft.Authorization/policyDefinitions/naming");
    let (status, created) = api
        .put(
            &custom,
            POLICY_API,
            json!({"properties": {"mode": "All", "parameters": {"prefix": {"type": "String"}},
                   "policyRule": {"if": {"field": "name", "notLike": "[concat(parameters('prefix'), '*')]"},
                                  "then": {"effect": "deny"}}}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["properties"]["policyType"], "Custom");
    let (status, _) = api.delete(&custom, POLICY_API).await;
    assert_eq!(status, 200);
    let (status, _) = api.delete(&custom, POLICY_API).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn assignments_at_every_scope_and_list_filters() {
    let emu = start(Config::default()).await;
    let api = Api::new(&emu).await;
    let sub = format!("/subscriptions/{}", new_subscription());
    let rg = format!("{sub}/resourceGroups/rg1");
    let vm = format!("{rg}/providers/Microsoft.Compute/virtualMachines/vm1");
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    for (scope, name) in [
        (mg, "mg-deps"),
        (sub.as_str(), "sub-deps"),
        (rg.as_str(), "rg-deps"),
        (vm.as_str(), "vm-deps"),
    ] {
        let (status, body) = api
            .put(&assignment_path(scope, name), POLICY_API, dine_body(DEPS))
            .await;
        assert_eq!(status, 201, "{scope}: {body}");
        assert_eq!(body["properties"]["scope"], scope);
        assert_eq!(body["properties"]["notScopes"], json!([]));
        assert_eq!(body["properties"]["enforcementMode"], "Default");
        let (status, read) = api.get(&assignment_path(scope, name), "2024-04-01").await;
        assert_eq!(status, 200);
        assert_eq!(read, body);
    }
    let list = |scope: String, filter: &'static str| {
        let api = &api;
        async move {
            let path = format!(
                "{scope}/providers/Microsoft.Authorization/policyAssignments?$filter={}",
                url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
            );
            let (status, body) = api.get(&path, POLICY_API).await;
            assert_eq!(status, 200, "{body}");
            names(&body)
        }
    };
    assert_eq!(
        list(rg.clone(), "atScope()").await,
        vec!["rg-deps", "sub-deps"]
    );
    assert_eq!(list(rg.clone(), "atExactScope()").await, vec!["rg-deps"]);
    assert_eq!(
        list(sub.clone(), "").await,
        vec!["rg-deps", "sub-deps", "vm-deps"]
    );
    assert_eq!(list(mg.to_owned(), "atScope()").await, vec!["mg-deps"]);
    let by_definition = list(
        sub.clone(),
        "policyDefinitionId eq '/providers/microsoft.authorization/policydefinitions/1C210E94-A481-4BEB-95FA-1571B434FB04'",
    )
    .await;
    assert_eq!(by_definition.len(), 3);

    let path = assignment_path(&sub, "sub-deps");
    let (status, deleted) = api.delete(&path, POLICY_API).await;
    assert_eq!((status, deleted["name"].as_str()), (200, Some("sub-deps")));
    let (status, _) = api.delete(&path, POLICY_API).await;
    assert_eq!(status, 204);
    let (status, gone) = api.get(&path, POLICY_API).await;
    assert_eq!((status, arm_code(&gone)), (404, "PolicyAssignmentNotFound"));
}

#[tokio::test]
async fn names_parameters_and_identities_are_checked() {
    let emu = start(Config::default()).await;
    let api = Api::new(&emu).await;
    let sub = format!("/subscriptions/{}", new_subscription());
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";

    let long = "a".repeat(25);
    let (status, e) = api
        .put(&assignment_path(mg, &long), POLICY_API, dine_body(DEPS))
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidPolicyAssignmentName"));
    assert_eq!(
        e["error"]["message"],
        format!(
            "The policy assignment name '{long}' is invalid. The policy assignment name length must not exceed '24' characters."
        )
    );
    let (status, _) = api
        .put(&assignment_path(&sub, &long), POLICY_API, dine_body(DEPS))
        .await;
    assert_eq!(
        status, 201,
        "25 characters are fine below a management group"
    );
    let (status, e) = api
        .put(&assignment_path(&sub, "a*b"), POLICY_API, dine_body(DEPS))
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidPolicyAssignmentName"));

    let with_params = |params: Value| {
        let mut b = dine_body(DEPS);
        b["properties"]["parameters"] = params;
        b
    };
    let (status, e) = api
        .put(
            &assignment_path(&sub, "p1"),
            POLICY_API,
            with_params(json!({"effct": {"value": "Disabled"}})),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "UndefinedPolicyParameter"));
    assert!(e["error"]["message"].as_str().unwrap().contains("'effct'"));
    let (status, e) = api
        .put(
            &assignment_path(&sub, "p1"),
            POLICY_API,
            with_params(json!({"effect": {"value": "Audit"}})),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidPolicyParameterValue"));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DeployIfNotExists, Disabled")
    );
    let (status, e) = api
        .put(
            &assignment_path(&sub, "p1"),
            POLICY_API,
            with_params(json!({"listOfImageIdToInclude": {"value": "x"}})),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidPolicyParameterType"));
    let (status, e) = api
        .put(
            &assignment_path(&sub, "p1"),
            POLICY_API,
            json!({"properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/00000000-0000-0000-0000-000000000001"}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (404, "PolicyDefinitionNotFound"));

    // DINE needs an identity, unless its effect is turned off.
    let (status, e) = api
        .put(
            &assignment_path(&sub, "noid"),
            POLICY_API,
            json!({"properties": {"policyDefinitionId": DEPS}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "ResourceIdentityRequired"));
    let (status, _) = api
        .put(
            &assignment_path(&sub, "noid"),
            POLICY_API,
            json!({"properties": {"policyDefinitionId": DEPS, "parameters": {"effect": {"value": "Disabled"}}}}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, e) = api
        .put(
            &assignment_path(&sub, "mde"),
            POLICY_API,
            json!({"properties": {"policyDefinitionId": MDE}}),
        )
        .await;
    assert_eq!(
        (status, arm_code(&e)),
        (400, "ResourceIdentityRequired"),
        "initiative members count"
    );

    // System-assigned: a principal in the emulator's tenant, kept across updates.
    let path = assignment_path(&sub, "sys");
    let (status, a) = api.put(&path, POLICY_API, dine_body(DEPS)).await;
    assert_eq!(status, 201);
    let principal = a["identity"]["principalId"].as_str().unwrap().to_owned();
    assert_eq!(
        a["identity"]["tenantId"],
        arm_emulator::config::DEFAULT_TENANT_ID
    );
    let mut update = dine_body(DEPS);
    update["properties"]["displayName"] = json!("renamed");
    let (status, b) = api.put(&path, POLICY_API, update.clone()).await;
    assert_eq!(status, 201, "PUT answers 201 for updates too");
    assert_eq!(b["identity"]["principalId"], principal.as_str());
    update["location"] = json!("eastus");
    let (status, e) = api.put(&path, POLICY_API, update).await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidLocationUpdate"));
    let mut no_location = dine_body(DEPS);
    no_location.as_object_mut().unwrap().remove("location");
    let (status, e) = api
        .put(&assignment_path(&sub, "noloc"), POLICY_API, no_location)
        .await;
    assert_eq!((status, arm_code(&e)), (400, "LocationRequired"));

    // User-assigned: echoed with its principal and client IDs.
    let uai = format!(
        "{sub}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/policy"
    );
    let (status, u) = api
        .put(
            &assignment_path(&sub, "uai"),
            POLICY_API,
            json!({"location": "westeurope",
                   "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}},
                   "properties": {"policyDefinitionId": DEPS}}),
        )
        .await;
    assert_eq!(status, 201, "{u}");
    let echoed = &u["identity"]["userAssignedIdentities"][&uai];
    assert!(
        echoed["principalId"].is_string() && echoed["clientId"].is_string(),
        "{u}"
    );
    let (status, e) = api
        .put(
            &assignment_path(&sub, "uai2"),
            POLICY_API,
            json!({"location": "westeurope", "identity": {"type": "UserAssigned"},
                   "properties": {"policyDefinitionId": DEPS}}),
        )
        .await;
    assert_eq!(
        (status, arm_code(&e)),
        (400, "InvalidPolicyAssignmentIdentity")
    );
}

#[tokio::test]
async fn eventual_consistency_after_create() {
    let emu = start(
        Config::default()
            .with_fault(FaultRule::not_found_after_create(2).path("policyAssignments")),
    )
    .await;
    let api = Api::new(&emu).await;
    let path = assignment_path(&format!("/subscriptions/{}", new_subscription()), "ec");
    let (status, _) = api.put(&path, POLICY_API, dine_body(DEPS)).await;
    assert_eq!(status, 201);
    for _ in 0..2 {
        let (status, e) = api.get(&path, POLICY_API).await;
        assert_eq!((status, arm_code(&e)), (404, "ResourceNotFound"));
    }
    let (status, _) = api.get(&path, POLICY_API).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn role_assignments_wait_for_the_identity_unless_service_principal() {
    let emu = start(Config {
        principal_replication_ms: 60_000,
        ..Config::default()
    })
    .await;
    let api = Api::new(&emu).await;
    let sub = format!("/subscriptions/{}", new_subscription());
    let (_, a) = api
        .put(&assignment_path(&sub, "deps"), POLICY_API, dine_body(DEPS))
        .await;
    let principal = a["identity"]["principalId"].as_str().unwrap().to_owned();
    let role = format!("{sub}/providers/Microsoft.Authorization/roleDefinitions/{LAC}");
    let name = "8f5d3a9e-0c65-4b0f-9a55-1a1f4c6b2d10";

    let (status, e) = api
        .put(
            &role_path(&sub, name),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "PrincipalNotFound"));
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Principal {principal} does not exist in the directory {}",
            arm_emulator::config::DEFAULT_TENANT_ID
        )),
        "{message}"
    );

    let (status, ra) = api
        .put(
            &role_path(&sub, name),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}),
        )
        .await;
    assert_eq!(status, 201, "{ra}");
    assert_eq!(
        ra["properties"]["roleDefinitionId"],
        format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}")
    );
    assert_eq!(ra["properties"]["scope"], sub.as_str());
    let (status, again) = api
        .put(
            &role_path(&sub, name),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}),
        )
        .await;
    assert_eq!((status, again["name"].as_str()), (200, Some(name)));
    let (status, e) = api
        .put(
            &role_path(&sub, "0a1b2c3d-0000-4000-8000-000000000001"),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (409, "RoleAssignmentExists"));
    assert_eq!(e["error"]["message"], "The role assignment already exists.");

    // Once replicated (the delay turned off here, through the control endpoint), principalType
    // is filled from the directory.
    let config = client()
        .post(format!("{}/_emulator/config", api.base))
        .json(&json!({"principal_replication_ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
    assert_eq!(emu.config().principal_replication_ms, 0);
    let rg = format!("{sub}/resourceGroups/logs");
    let (status, filled) = api
        .put(
            &role_path(&rg, "0a1b2c3d-0000-4000-8000-000000000002"),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!(status, 201, "{filled}");
    assert_eq!(filled["properties"]["principalType"], "ServicePrincipal");

    let filter = |f: &str| {
        format!(
            "{rg}/providers/Microsoft.Authorization/roleAssignments?$filter={}",
            url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>()
        )
    };
    let (_, at_scope) = api.get(&filter("atScope()"), ROLE_API).await;
    assert_eq!(at_scope["value"].as_array().unwrap().len(), 2, "{at_scope}");
    let (_, by_principal) = api
        .get(&filter(&format!("principalId eq '{principal}'")), ROLE_API)
        .await;
    assert_eq!(by_principal["value"].as_array().unwrap().len(), 2);
    let (_, other) = api
        .get(
            &filter("principalId eq '00000000-0000-0000-0000-000000000009'"),
            ROLE_API,
        )
        .await;
    assert_eq!(other["value"], json!([]));

    let (status, e) = api
        .put(
            &role_path(&sub, "not-a-guid"),
            ROLE_API,
            json!({"properties": {"roleDefinitionId": role, "principalId": principal}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidRoleAssignmentId"));
    let (status, _) = api.delete(&role_path(&sub, name), ROLE_API).await;
    assert_eq!(status, 200);
    let (status, _) = api.delete(&role_path(&sub, name), ROLE_API).await;
    assert_eq!(status, 204);
}

async fn wait_for_state(api: &Api, path: &str, wanted: &str) -> Value {
    for _ in 0..100 {
        let (status, body) = api.get(path, REMEDIATION_API).await;
        assert_eq!(status, 200, "{body}");
        if body["properties"]["provisioningState"] == wanted {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path} never reached {wanted}");
}

#[tokio::test]
async fn remediations_run_on_the_clock_and_can_be_cancelled() {
    let emu = start(Config {
        remediation_step_ms: 150,
        remediation_resources: 3,
        ..Config::default()
    })
    .await;
    let api = Api::new(&emu).await;
    let sub = format!("/subscriptions/{}", new_subscription());
    let assignment = assignment_path(&sub, "deps");
    api.put(&assignment, POLICY_API, dine_body(DEPS)).await;

    let path = remediation_path(&sub, "deps-1");
    let (status, r) = api
        .put(
            &path,
            REMEDIATION_API,
            json!({"properties": {"policyAssignmentId": assignment}}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["properties"]["provisioningState"], "Accepted");
    assert_eq!(r["properties"]["deploymentStatus"]["totalDeployments"], 3);
    assert!(r.get("_emulator").is_none());
    let (status, same) = api
        .put(
            &path,
            "2024-10-01",
            json!({"properties": {"policyAssignmentId": assignment}}),
        )
        .await;
    assert_eq!(status, 200, "the same task again is not restarted: {same}");
    let (status, e) = api
        .put(
            &path,
            REMEDIATION_API,
            json!({"properties": {"policyAssignmentId": assignment, "resourceCount": 5}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidRemediationRequest"));
    wait_for_state(&api, &path, "Evaluating").await;
    let done = wait_for_state(&api, &path, "Succeeded").await;
    assert_eq!(
        done["properties"]["deploymentStatus"],
        json!({"totalDeployments": 3, "successfulDeployments": 3, "failedDeployments": 0})
    );
    let (status, deployments) = api
        .post(&format!("{path}/listDeployments"), REMEDIATION_API)
        .await;
    assert_eq!(status, 200, "{deployments}");
    let items = deployments["value"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|d| d["status"] == "Succeeded"));
    assert!(
        items[0]["remediatedResourceId"]
            .as_str()
            .unwrap()
            .contains("/providers/Microsoft.Compute/virtualMachines/"),
        "the definition's target type: {}",
        items[0]
    );
    let (status, e) = api.post(&format!("{path}/cancel"), REMEDIATION_API).await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidCancelRequest"));

    // Cancel a running one.
    emu.update_config(RuntimeConfigPatch {
        remediation_step_ms: Some(60_000),
        ..Default::default()
    });
    let running = remediation_path(&sub, "deps-2");
    api.put(
        &running,
        REMEDIATION_API,
        json!({"properties": {"policyAssignmentId": assignment}}),
    )
    .await;
    let (status, c) = api
        .post(&format!("{running}/CANCEL"), REMEDIATION_API)
        .await;
    assert_eq!(
        (status, c["properties"]["provisioningState"].as_str()),
        (200, Some("Cancelling"))
    );
    let (status, list) = api
        .get(
            &format!(
                "{sub}/providers/Microsoft.PolicyInsights/remediations?$filter={}",
                url::form_urlencoded::byte_serialize(
                    format!("PolicyAssignmentId eq '{assignment}'").as_bytes()
                )
                .collect::<String>()
            ),
            REMEDIATION_API,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(names(&list), vec!["deps-1", "deps-2"]);
    let (status, _) = api.delete(&running, REMEDIATION_API).await;
    assert_eq!(status, 200);
    let (status, _) = api.delete(&running, REMEDIATION_API).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn remediation_failures_and_initiative_members() {
    let emu = start(Config {
        remediation_step_ms: 0,
        remediation_resources: 2,
        remediation_failures: 1.0,
        ..Config::default()
    })
    .await;
    let api = Api::new(&emu).await;
    let sub = format!("/subscriptions/{}", new_subscription());
    let (status, missing) = api
        .put(
            &remediation_path(&sub, "orphan"),
            REMEDIATION_API,
            json!({"properties": {"policyAssignmentId": assignment_path(&sub, "nope")}}),
        )
        .await;
    assert_eq!(
        (status, arm_code(&missing)),
        (404, "PolicyAssignmentNotFound")
    );

    let mde = assignment_path(&sub, "mde");
    let (status, _) = api.put(&mde, POLICY_API, dine_body(MDE)).await;
    assert_eq!(status, 201);
    let (status, e) = api
        .put(
            &remediation_path(&sub, "mde-all"),
            REMEDIATION_API,
            json!({"properties": {"policyAssignmentId": mde}}),
        )
        .await;
    assert_eq!((status, arm_code(&e)), (400, "InvalidRemediationRequest"));
    let path = remediation_path(&sub, "mde-linux");
    let (status, r) = api
        .put(
            &path,
            REMEDIATION_API,
            json!({"properties": {"policyAssignmentId": mde,
                   "policyDefinitionReferenceId": "microsoftDefenderForEndpointLinuxAgentDeploy",
                   "filters": {"locations": ["westeurope"]}}}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let failed = wait_for_state(&api, &path, "Failed").await;
    assert_eq!(
        failed["properties"]["deploymentStatus"]["failedDeployments"],
        2
    );
    let (_, deployments) = api
        .post(&format!("{path}/listDeployments"), REMEDIATION_API)
        .await;
    let items = deployments["value"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "Failed" && d["error"]["code"] == "DeploymentFailed")
    );
    assert_eq!(items[0]["resourceLocation"], "westeurope");
}

/// Update (PATCH, arm-api.md §7.1): identity, location, resource selectors and overrides
/// change; other members are ignored; a new system-assigned identity gets a principal; 404
/// for an assignment that does not exist.
#[tokio::test]
async fn assignments_are_updated_with_patch_on_the_update_members_only() {
    let emu = start(Config::default()).await;
    let api = Api::new(&emu).await;
    let scope = format!("/subscriptions/{}", new_subscription());
    let path = assignment_path(&scope, "deps");
    let url = api.url(&path, POLICY_API);
    let patch = |body: Value| {
        let (url, token) = (url.clone(), api.token.clone());
        async move { json(patch(&url, &token, body).await).await }
    };
    let (status, err) = patch(json!({"location": "westeurope"})).await;
    assert_eq!(
        (status, arm_code(&err)),
        (404, "PolicyAssignmentNotFound"),
        "{err}"
    );

    let (status, created) = api
        .put(
            &path,
            POLICY_API,
            json!({"properties": {"policyDefinitionId": DEPS, "displayName": "deploy",
                   "parameters": {"effect": {"value": "Disabled"}}}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert!(created.get("identity").is_none() || created["identity"]["type"] == "None");

    let overrides = json!([{"kind": "policyEffect", "value": "Disabled"}]);
    let (status, patched) = patch(json!({
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"overrides": overrides, "displayName": "not in the update model"}
    }))
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["identity"]["type"], "SystemAssigned");
    assert!(
        patched["identity"]["principalId"]
            .as_str()
            .is_some_and(|p| !p.is_empty()),
        "{patched}"
    );
    assert_eq!(patched["location"], "westeurope");
    assert_eq!(patched["properties"]["overrides"], overrides);
    assert_eq!(patched["properties"]["displayName"], "deploy", "ignored");
    assert_eq!(
        patched["properties"]["policyDefinitionId"],
        created["properties"]["policyDefinitionId"]
    );
    let (_, got) = api.get(&path, POLICY_API).await;
    assert_eq!(got, patched);
}
