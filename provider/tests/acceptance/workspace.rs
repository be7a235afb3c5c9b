//! The workspace side with the real Terraform CLI against the emulator:
//! `defender_workspace_setting`, `defender_security_events`, `defender_workspace_solution`,
//! `defender_sentinel_connector` (plan, apply, empty second plan, drift, import, destroy), the
//! data sources `defender_default_workspace` and `defender_security_event_ids`, the function
//! `provider::defender::default_workspace_id`, `moved {}` from
//! azurerm_security_center_workspace, azurerm_log_analytics_solution (a solution other than
//! Security or SecurityCenterFree refused) and
//! azurerm_sentinel_data_connector_azure_security_center, the Sentinel + Defender warning, and
//! bad inputs refused at plan time without ARM calls. The Log Analytics workspaces themselves are seeded (the
//! provider does not manage them); one test creates one through the provider's own ARM client
//! to follow the emulator's long-running operations.

use arm_emulator::FaultRule;
use serde_json::{Value, json};

use crate::common::{CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION, TENANT, TfEnv};

const RG: &str = "rg-security";

fn ws_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/{name}"
    )
}

/// Puts a finished workspace in the emulator, as if created outside Terraform.
fn seed_workspace(env: &TfEnv, name: &str) -> String {
    let id = ws_id(name);
    env.emulator.set_resource(
        &id,
        json!({
            "id": id, "name": name, "type": "Microsoft.OperationalInsights/workspaces",
            "location": "westeurope", "tags": {},
            "properties": {"customerId": uuid::Uuid::new_v4().to_string(),
                           "provisioningState": "Succeeded", "sku": {"name": "PerGB2018"},
                           "retentionInDays": 30}
        }),
    );
    id
}

fn onboard_sentinel(env: &TfEnv, workspace: &str) {
    let id = format!("{workspace}/providers/Microsoft.SecurityInsights/onboardingStates/default");
    env.emulator.set_resource(
        &id,
        json!({"id": id, "name": "default", "type": "Microsoft.SecurityInsights/onboardingStates",
               "properties": {"customerManagedKey": false}}),
    );
}

fn arm_requests(env: &TfEnv) -> Vec<arm_emulator::RequestLogEntry> {
    env.arm_requests()
}

/// A plan line `{name} = {value}`, whatever the alignment (`name` with its `+`/`~` mark).
#[track_caller]
fn assert_attr(text: &str, name: &str, value: &str) {
    let found = text.lines().any(|l| {
        l.trim()
            .strip_prefix(name)
            .and_then(|r| r.trim_start().strip_prefix('='))
            .is_some_and(|r| r.trim() == value)
    });
    assert!(found, "expected `{name} = {value}` in:\n{text}");
}

#[track_caller]
fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

// ---------------------------------------------------------------------------------------------
// defender_workspace_setting

fn setting_id() -> String {
    format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/workspaceSettings/default")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_setting_lifecycle_waits_for_the_workspace_to_show() {
    let env = TfEnv::start().await;
    let law_a = seed_workspace(&env, "law-a");
    let law_b = seed_workspace(&env, "law-b");
    // The service answers 404 for a while after the first write (eventual consistency).
    env.emulator
        .add_fault(
            FaultRule::not_found_after_create(2)
                .path("workspaceSettings/default")
                .times(1),
        )
        .unwrap();
    env.config(&format!(
        "resource \"defender_workspace_setting\" \"this\" {{\n  workspace_id = \"{law_a}\"\n}}"
    ));

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(
        &plan.stdout,
        "defender_workspace_setting.this will be created",
    );
    assert_attr(&plan.stdout, "+ id", &format!("\"{}\"", setting_id()));
    assert_attr(
        &plan.stdout,
        "+ scope",
        &format!("\"/subscriptions/{SUBSCRIPTION}\""),
    );

    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let reqs = arm_requests(&env);
    let put_at = reqs
        .iter()
        .position(|r| r.method == "PUT" && r.path.ends_with("workspaceSettings/default"))
        .expect("a PUT of the setting");
    let gets_after: Vec<u16> = reqs[put_at + 1..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("workspaceSettings/default"))
        .map(|r| r.status)
        .collect();
    assert!(
        gets_after.starts_with(&[404, 404, 200]),
        "apply waited through the 404s until the setting showed: {gets_after:?}"
    );
    let setting = env.emulator.get_resource(&setting_id()).unwrap();
    assert_eq!(setting["properties"]["workspaceId"], law_a.as_str());
    assert_eq!(
        setting["properties"]["scope"],
        format!("/subscriptions/{SUBSCRIPTION}")
    );

    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift: someone pointed the subscription at another workspace.
    let mut drifted = setting.clone();
    drifted["properties"]["workspaceId"] = json!(law_b.to_ascii_lowercase());
    env.emulator.set_resource(&setting_id(), drifted);
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(&drift.stdout, "~ workspace_id");
    // Shown with ARM's keywords in canonical case.
    assert_contains(&drift.stdout, &format!("\"{law_a}\""));
    assert_contains(&drift.stdout, &format!("\"{law_b}\" ->"));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(
        env.emulator.get_resource(&setting_id()).unwrap()["properties"]["workspaceId"],
        law_a.as_str()
    );

    // A workspace ID ARM answers in another case is the same workspace: no diff.
    let mut recased = env.emulator.get_resource(&setting_id()).unwrap();
    recased["properties"]["workspaceId"] = json!(law_a.to_ascii_lowercase());
    env.emulator.set_resource(&setting_id(), recased);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    env.tf(&["state", "rm", "defender_workspace_setting.this"])
        .await
        .assert_code(0);
    let import = env
        .tf(&[
            "import",
            "-no-color",
            "defender_workspace_setting.this",
            &setting_id(),
        ])
        .await;
    import.assert_code(0);
    assert_contains(&import.stdout, "Import successful!");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert_contains(&destroy.stdout, "Destroy complete! Resources: 1 destroyed");
    assert!(
        env.emulator.get_resource(&setting_id()).is_none(),
        "destroy deletes the setting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_setting_for_a_missing_workspace_fails_with_arms_404() {
    let env = TfEnv::start().await;
    let missing = ws_id("law-missing");
    env.config(&format!(
        "resource \"defender_workspace_setting\" \"this\" {{\n  workspace_id = \"{missing}\"\n}}"
    ));
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = apply.all();
    assert_contains(&text, "Error creating Workspace Setting");
    assert_contains(&text, "ResourceNotFound");
    assert_contains(&text, "law-missing");
    let list = env.tf(&["state", "list"]).await;
    assert!(
        !list.stdout.contains("defender_workspace_setting"),
        "{}",
        list.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_from_azurerm_security_center_workspace() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-moved");
    let id = setting_id();
    let scope = format!("/subscriptions/{SUBSCRIPTION}");
    env.emulator.set_resource(
        &id,
        json!({"id": id, "name": "default", "type": "Microsoft.Security/workspaceSettings",
               "properties": {"workspaceId": law, "scope": scope}}),
    );
    // A state written by azurerm (schema version 0: id, scope, workspace_id, timeouts).
    let state = json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 1,
        "lineage": "7c4bd0b4-6b0c-4f0e-9d64-3d7e6f1a2b90", "outputs": {},
        "resources": [{
            "mode": "managed", "type": "azurerm_security_center_workspace", "name": "this",
            "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
            "instances": [{"schema_version": 0,
                           "attributes": {"id": id, "scope": scope, "workspace_id": law,
                                          "timeouts": null},
                           "sensitive_attributes": [], "private": "bnVsbA=="}]
        }],
        "check_results": null
    });
    std::fs::write(
        env.path().join("terraform.tfstate"),
        serde_json::to_vec_pretty(&state).unwrap(),
    )
    .unwrap();
    env.config(&format!(
        "moved {{\n  from = azurerm_security_center_workspace.this\n  to   = defender_workspace_setting.this\n}}\n\n\
         resource \"defender_workspace_setting\" \"this\" {{\n  workspace_id = \"{law}\"\n  scope        = \"{scope}\"\n}}"
    ));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(
        &plan.stdout,
        "azurerm_security_center_workspace.this has moved to defender_workspace_setting.this",
    );
    assert_contains(&plan.stdout, "Plan: 0 to add, 0 to change, 0 to destroy.");
    env.emulator.clear_requests();
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let writes: Vec<_> = arm_requests(&env)
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(
        writes.is_empty(),
        "a move writes nothing to ARM: {writes:?}"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    let show = env.state_show("defender_workspace_setting.this").await;
    show.assert_code(0);
    assert_contains(
        &show.stdout,
        &format!("subscription_id = \"{SUBSCRIPTION}\""),
    );
}

// ---------------------------------------------------------------------------------------------
// defender_security_events

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_lifecycle_maps_common_to_recommended() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-events");
    let ds = format!("{law}/dataSources/SecurityEventCollectionConfiguration");
    let config = |tier: &str| {
        format!(
            "resource \"defender_security_events\" \"this\" {{\n  workspace_id = \"{law}\"\n  tier         = \"{tier}\"\n}}"
        )
    };
    env.config(&config("Common"));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_attr(&plan.stdout, "+ id", &format!("\"{ds}\""));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let stored = env.emulator.get_resource(&ds).unwrap();
    assert_eq!(stored["kind"], "SecurityEventCollectionConfiguration");
    assert_eq!(
        stored["properties"],
        json!({"tier": "Recommended", "tierSetMethod": "Custom"}),
        "the API's name of Common"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift shows in the portal's words.
    let mut drifted = stored.clone();
    drifted["properties"]["tier"] = json!("Minimal");
    env.emulator.set_resource(&ds, drifted);
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_attr(&drift.stdout, "~ tier", "\"Minimal\" -> \"Common\"");
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(
        env.emulator.get_resource(&ds).unwrap()["properties"]["tier"],
        "Recommended"
    );

    // Changing the tier updates in place.
    env.config(&config("All"));
    let up = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    up.assert_code(0);
    assert_contains(&up.stdout, "1 changed");
    assert_eq!(
        env.emulator.get_resource(&ds).unwrap()["properties"]["tier"],
        "All"
    );

    env.tf(&["state", "rm", "defender_security_events.this"])
        .await
        .assert_code(0);
    env.config(&config("All"));
    let import = env
        .tf(&["import", "-no-color", "defender_security_events.this", &ds])
        .await;
    import.assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(
        env.emulator.get_resource(&ds).is_none(),
        "destroy deletes the data source"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_read_back_recommended_as_written() {
    // Users who write the API's name get no diff either.
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-recommended");
    env.config(&format!(
        "resource \"defender_security_events\" \"this\" {{\n  workspace_id = \"{law}\"\n  tier         = \"Recommended\"\n}}"
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_case_in_workspace_id_updates_in_place() {
    // ARM IDs compare without case: writing `resourcegroups` where state has `resourceGroups`
    // names the same workspace, so it is an in-place update, not a destroy and create (which
    // would turn security events collection off and on again).
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-case");
    let ds = format!("{law}/dataSources/SecurityEventCollectionConfiguration");
    let config = |workspace: &str| {
        format!(
            "resource \"defender_security_events\" \"this\" {{\n  workspace_id = \"{workspace}\"\n  tier         = \"Minimal\"\n}}"
        )
    };
    env.config(&config(&law));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let lower = law.replace("resourceGroups", "resourcegroups");
    assert_ne!(lower, law, "the seeded ID spells resourceGroups");
    env.config(&config(&lower));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(&plan.stdout, "will be updated in-place");
    assert!(
        !plan.stdout.contains("must be replaced"),
        "a change of case alone must not replace:\n{}",
        plan.stdout
    );
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert_contains(&apply.stdout, "0 added, 1 changed, 0 destroyed");
    assert!(
        env.arm_requests().iter().all(|r| r.method != "DELETE"),
        "nothing deleted"
    );
    assert!(env.emulator.get_resource(&ds).is_some());
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Another workspace still replaces.
    let other = seed_workspace(&env, "law-case-other");
    env.config(&config(&other));
    let replace = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    replace.assert_code(2);
    assert_contains(&replace.stdout, "must be replaced");
}

// ---------------------------------------------------------------------------------------------
// defender_workspace_solution

/// A plan right after an apply can meet ARM's 404-after-create lag: the refresh reads again
/// instead of dropping the solution from state (which planned it "will be created" again). A
/// solution really deleted is still found missing, after the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_inside_arms_404_after_create_lag_keeps_the_solution() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-lag");
    let sol = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.OperationsManagement/solutions/Security(law-lag)"
    );
    // Every GET of the new solution answers 404 for 2 s after its PUT.
    env.emulator
        .add_fault(FaultRule::not_found_after_create_for(2000).path("/solutions/"))
        .unwrap();
    env.config(&format!(
        "resource \"defender_workspace_solution\" \"this\" {{\n  workspace_id = \"{law}\"\n  solution     = \"Security\"\n}}"
    ));
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    env.emulator.clear_requests();
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
    let gets: Vec<u16> = env
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/solutions/"))
        .map(|r| r.status)
        .collect();
    assert!(
        gets.len() >= 2 && gets[0] == 404 && gets.last() == Some(&200),
        "the refresh met the lag and read again: {gets:?}"
    );

    // Deleted outside Terraform right after the apply: missing after the (loopback) wait.
    assert!(env.emulator.delete_resource(&sol));
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(
        &drift.stdout,
        "defender_workspace_solution.this will be created",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_solution_lifecycle_defaults_to_the_workspace_region() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-solution");
    let sol = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.OperationsManagement/solutions/Security(law-solution)"
    );
    env.config(&format!(
        "resource \"defender_workspace_solution\" \"this\" {{\n  workspace_id = \"{law}\"\n  solution     = \"Security\"\n}}"
    ));
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_attr(&plan.stdout, "+ id", &format!("\"{sol}\""));
    assert_attr(&plan.stdout, "+ location", "(known after apply)");
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let stored = env.emulator.get_resource(&sol).unwrap();
    assert_eq!(stored["location"], "westeurope");
    assert_eq!(stored["plan"]["product"], "OMSGallery/Security");
    assert_eq!(stored["plan"]["name"], "Security(law-solution)");
    assert_eq!(stored["properties"]["workspaceResourceId"], law.as_str());
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift: the solution was removed outside Terraform.
    env.emulator.delete_resource(&sol);
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(
        &drift.stdout,
        "defender_workspace_solution.this will be created",
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(env.emulator.get_resource(&sol).is_some());

    env.tf(&["state", "rm", "defender_workspace_solution.this"])
        .await
        .assert_code(0);
    env.tf(&[
        "import",
        "-no-color",
        "defender_workspace_solution.this",
        &sol,
    ])
    .await
    .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Another solution replaces it.
    env.config(&format!(
        "resource \"defender_workspace_solution\" \"this\" {{\n  workspace_id = \"{law}\"\n  solution     = \"SecurityCenterFree\"\n}}"
    ));
    let replace = env.tf(&["plan", "-no-color"]).await;
    replace.assert_code(0);
    assert_contains(&replace.stdout, "must be replaced");

    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(env.emulator.get_resource(&sol).is_none());
}

/// A solution in the emulator as the service keeps it, and the state azurerm wrote for it
/// (schema version 1).
fn seed_azurerm_solution(env: &TfEnv, law: &str, workspace: &str, solution: &str) -> String {
    let name = format!("{solution}({workspace})");
    let sol = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.OperationsManagement/solutions/{name}"
    );
    env.emulator.set_resource(
        &sol,
        json!({"id": sol, "name": name, "type": "Microsoft.OperationsManagement/solutions",
               "location": "westeurope",
               "plan": {"name": name, "publisher": "Microsoft",
                        "product": format!("OMSGallery/{solution}"), "promotionCode": ""},
               "properties": {"workspaceResourceId": law, "provisioningState": "Succeeded"}}),
    );
    env.write_azurerm_state(
        "azurerm_log_analytics_solution",
        1,
        json!({
            "id": sol, "solution_name": solution, "workspace_name": workspace,
            "workspace_resource_id": law, "location": "westeurope", "resource_group_name": RG,
            "plan": [{"name": name, "publisher": "Microsoft",
                      "product": format!("OMSGallery/{solution}"), "promotion_code": ""}],
            "tags": {}, "timeouts": null
        }),
    );
    sol
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solution_moved_from_azurerm_log_analytics_solution() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-moved-solution");
    let sol = seed_azurerm_solution(&env, &law, "law-moved-solution", "SecurityCenterFree");
    env.config(&format!(
        "moved {{\n  from = azurerm_log_analytics_solution.this\n  to   = defender_workspace_solution.this\n}}\n\n\
         resource \"defender_workspace_solution\" \"this\" {{\n  workspace_id = \"{law}\"\n  solution     = \"SecurityCenterFree\"\n}}"
    ));
    env.assert_clean_move(
        "azurerm_log_analytics_solution.this has moved to defender_workspace_solution.this",
    )
    .await;
    let show = env.state_show("defender_workspace_solution.this").await;
    show.assert_code(0);
    assert_attr(&show.stdout, "id", &format!("\"{sol}\""));
    assert_attr(&show.stdout, "location", "\"westeurope\"");
    assert_attr(&show.stdout, "solution", "\"SecurityCenterFree\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_another_solution_from_azurerm_is_refused() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-sentinel-solution");
    seed_azurerm_solution(&env, &law, "law-sentinel-solution", "SecurityInsights");
    env.config(&format!(
        "moved {{\n  from = azurerm_log_analytics_solution.this\n  to   = defender_workspace_solution.this\n}}\n\n\
         resource \"defender_workspace_solution\" \"this\" {{\n  workspace_id = \"{law}\"\n  solution     = \"Security\"\n}}"
    ));
    env.emulator.clear_requests();
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(1);
    let text = plan.all();
    assert_contains(&text, "Cannot move state");
    assert_contains(&text, "\"SecurityInsights\"");
    assert_contains(&text, "stays with azurerm");
    let writes: Vec<_> = arm_requests(&env)
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(
        writes.is_empty(),
        "a refused move writes nothing: {writes:?}"
    );
    // The state still holds the azurerm resource.
    let list = env.tf(&["state", "list"]).await;
    list.assert_code(0);
    assert_eq!(list.stdout.trim(), "azurerm_log_analytics_solution.this");
}

// ---------------------------------------------------------------------------------------------
// defender_sentinel_connector

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_connector_lifecycle() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-sentinel");
    env.config(&format!(
        "resource \"defender_sentinel_connector\" \"this\" {{\n  workspace_id = \"{law}\"\n}}\n\n\
         output \"id\" {{ value = defender_sentinel_connector.this.id }}"
    ));
    // Without Sentinel on the workspace the service refuses; the error says what to do.
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(1);
    let text = apply.all();
    assert_contains(&text, "is not onboarded to Microsoft Sentinel");
    assert_contains(&text, "azurerm_sentinel_log_analytics_workspace_onboarding");
    let list = env.tf(&["state", "list"]).await;
    assert!(
        !list.stdout.contains("defender_sentinel_connector"),
        "{}",
        list.all()
    );

    onboard_sentinel(&env, &law);
    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    // The name is derived at plan time: known, and the same on every run.
    assert_contains(
        &plan.stdout,
        "/providers/Microsoft.SecurityInsights/dataConnectors/",
    );
    assert!(
        !plan.stdout.contains("(known after apply)"),
        "everything is known at plan time: {}",
        plan.all()
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let out = env.tf(&["output", "-raw", "id"]).await;
    out.assert_code(0);
    let id = out.stdout.trim().to_owned();
    let stored = env.emulator.get_resource(&id).expect("the connector");
    assert_eq!(stored["kind"], "AzureSecurityCenter");
    assert_eq!(stored["properties"]["subscriptionId"], SUBSCRIPTION);
    assert_eq!(
        stored["properties"]["dataTypes"]["alerts"]["state"],
        "Enabled"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift: alerts switched off in the portal.
    let mut drifted = stored.clone();
    drifted["properties"]["dataTypes"]["alerts"]["state"] = json!("Disabled");
    env.emulator.set_resource(&id, drifted);
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_attr(&drift.stdout, "~ alerts_enabled", "false -> true");
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(
        env.emulator.get_resource(&id).unwrap()["properties"]["dataTypes"]["alerts"]["state"],
        "Enabled"
    );

    env.tf(&["state", "rm", "defender_sentinel_connector.this"])
        .await
        .assert_code(0);
    env.tf(&[
        "import",
        "-no-color",
        "defender_sentinel_connector.this",
        &id,
    ])
    .await
    .assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert!(env.emulator.get_resource(&id).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_and_defender_security_events_on_one_workspace_warn_at_plan() {
    let env = TfEnv::start().await;
    let shared = seed_workspace(&env, "law-shared");
    let other = seed_workspace(&env, "law-other");
    let config = |events_ws: &str, tier: &str| {
        format!(
            "resource \"defender_security_events\" \"events\" {{\n  workspace_id = \"{events_ws}\"\n  tier         = \"{tier}\"\n}}\n\n\
             resource \"defender_sentinel_connector\" \"alerts\" {{\n  workspace_id = \"{shared}\"\n}}"
        )
    };
    const WARNING: &str =
        "Warning: Security events collected by both Defender for Cloud and Microsoft Sentinel";

    env.config(&config(&shared, "Common"));
    env.emulator.clear_requests();
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    let text = plan.all();
    assert_contains(&text, WARNING);
    assert_contains(&text, "law-shared");
    assert_contains(&text, "workspace_id");
    assert_eq!(
        text.matches(WARNING).count(),
        1,
        "one warning for the pair: {text}"
    );
    assert!(
        arm_requests(&env).is_empty(),
        "planning creations calls no ARM"
    );

    // Different workspaces, or no Defender collection: no warning.
    env.config(&config(&other, "Common"));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(!plan.all().contains(WARNING), "{}", plan.all());
    env.config(&config(&shared, "None"));
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert!(!plan.all().contains(WARNING), "{}", plan.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_connector_moved_from_azurerm() {
    let env = TfEnv::start().await;
    let law = seed_workspace(&env, "law-moved-sentinel");
    onboard_sentinel(&env, &law);
    let id = format!("{law}/providers/Microsoft.SecurityInsights/dataConnectors/asc-alerts");
    env.emulator.set_resource(
        &id,
        json!({"id": id, "name": "asc-alerts", "type": "Microsoft.SecurityInsights/dataConnectors",
               "kind": "AzureSecurityCenter",
               "properties": {"subscriptionId": SUBSCRIPTION,
                              "dataTypes": {"alerts": {"state": "Enabled"}}}}),
    );
    // azurerm's schema version 0: id, name, log_analytics_workspace_id, subscription_id (and
    // timeouts).
    env.write_azurerm_state(
        "azurerm_sentinel_data_connector_azure_security_center",
        0,
        json!({"id": id, "name": "asc-alerts", "log_analytics_workspace_id": law,
               "subscription_id": SUBSCRIPTION, "timeouts": null}),
    );
    // `name` keeps azurerm's name: without it, the derived GUID would replace the connector.
    env.config(&format!(
        "moved {{\n  from = azurerm_sentinel_data_connector_azure_security_center.this\n  to   = defender_sentinel_connector.this\n}}\n\n\
         resource \"defender_sentinel_connector\" \"this\" {{\n  workspace_id = \"{law}\"\n  name         = \"asc-alerts\"\n}}"
    ));
    env.assert_clean_move("azurerm_sentinel_data_connector_azure_security_center.this has moved to defender_sentinel_connector.this")
        .await;
    let show = env.state_show("defender_sentinel_connector.this").await;
    show.assert_code(0);
    assert_attr(&show.stdout, "id", &format!("\"{id}\""));
    assert_attr(
        &show.stdout,
        "subscription_id",
        &format!("\"{SUBSCRIPTION}\""),
    );
    assert_attr(&show.stdout, "alerts_enabled", "true");
}

// ---------------------------------------------------------------------------------------------
// Data sources and the function

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_workspace_function_and_data_sources() {
    let env = TfEnv::start().await;
    env.config(&format!(
        "data \"defender_default_workspace\" \"weu\" {{\n  location = \"West Europe\"\n}}\n\n\
         data \"defender_security_event_ids\" \"all\" {{}}\n\n\
         output \"fn\" {{ value = provider::defender::default_workspace_id(\"{SUBSCRIPTION}\", \"northeurope\") }}\n\
         output \"ds\" {{ value = data.defender_default_workspace.weu }}\n\
         output \"minimal\" {{ value = data.defender_security_event_ids.all.minimal }}\n\
         output \"common_count\" {{ value = length(data.defender_security_event_ids.all.common) }}"
    ));
    env.emulator.clear_requests();
    let apply = env.tf(&["apply", "-auto-approve", "-no-color"]).await;
    apply.assert_code(0);
    assert!(
        arm_requests(&env).is_empty(),
        "all offline: {:?}",
        arm_requests(&env)
    );
    let out = env.tf(&["output", "-json"]).await;
    out.assert_code(0);
    let o: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        o["fn"]["value"],
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/DefaultResourceGroup-NEU/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{SUBSCRIPTION}-NEU"
        )
    );
    let ds = &o["ds"]["value"];
    assert_eq!(ds["name"], format!("DefaultWorkspace-{SUBSCRIPTION}-WEU"));
    assert_eq!(ds["resource_group_name"], "DefaultResourceGroup-WEU");
    assert_eq!(ds["region_code"], "WEU");
    assert_eq!(ds["subscription_id"], SUBSCRIPTION);
    assert_eq!(
        ds["id"],
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/DefaultResourceGroup-WEU/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{SUBSCRIPTION}-WEU"
        )
    );
    let minimal: Vec<u64> = o["minimal"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(minimal.len(), 39);
    assert_eq!(minimal[..3], [1102, 4624, 4625]);
    assert_eq!(o["common_count"]["value"], 143);

    // The function's errors blame the argument; the data source's the attribute.
    env.config(&format!(
        "output \"fn\" {{ value = provider::defender::default_workspace_id(\"{SUBSCRIPTION}\", \"westindia\") }}"
    ));
    let bad = env.tf(&["plan", "-no-color"]).await;
    bad.assert_code(1);
    assert_contains(&bad.all(), "\"westindia\" is not a region");
    env.config("data \"defender_default_workspace\" \"x\" {\n  location = \"mars\"\n}");
    let bad = env.tf(&["plan", "-no-color"]).await;
    bad.assert_code(1);
    let text = bad.all();
    assert_contains(&text, "Error: Unknown region");
    assert_contains(&text, "location = \"mars\"");
}

// ---------------------------------------------------------------------------------------------
// Bad input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_plan_time_diagnostics_without_arm_calls() {
    let env = TfEnv::start().await;
    let law = ws_id("law-good");
    let not_ws = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/logs"
    );
    let cases = [
        (
            format!(
                "resource \"defender_workspace_setting\" \"x\" {{\n  workspace_id = \"{not_ws}\"\n}}"
            ),
            "Invalid Log Analytics workspace ID",
            format!("workspace_id = \"{not_ws}\""),
        ),
        (
            "resource \"defender_security_events\" \"x\" {\n  workspace_id = \"law-good\"\n  tier         = \"Common\"\n}"
                .to_owned(),
            "Invalid Log Analytics workspace ID",
            "workspace_id = \"law-good\"".to_owned(),
        ),
        (
            format!(
                "resource \"defender_security_events\" \"x\" {{\n  workspace_id = \"{law}\"\n  tier         = \"Everything\"\n}}"
            ),
            "Invalid tier",
            "tier         = \"Everything\"".to_owned(),
        ),
        (
            format!(
                "resource \"defender_workspace_solution\" \"x\" {{\n  workspace_id = \"{law}\"\n  solution     = \"SecurityInsights\"\n}}"
            ),
            "Invalid solution",
            "solution     = \"SecurityInsights\"".to_owned(),
        ),
        (
            format!(
                "resource \"defender_sentinel_connector\" \"x\" {{\n  workspace_id = \"{law}/dataSources/x\"\n}}"
            ),
            "Invalid Log Analytics workspace ID",
            "workspace_id = \"".to_owned(),
        ),
        (
            format!(
                "resource \"defender_workspace_setting\" \"x\" {{\n  workspace_id = \"{law}\"\n  scope        = \"/subscriptions/00000000-0000-0000-0000-000000000001\"\n}}"
            ),
            "Invalid scope",
            "scope        = \"/subscriptions/00000000-0000-0000-0000-000000000001\"".to_owned(),
        ),
    ];
    for (config, summary, points_at) in cases {
        env.config(&config);
        env.emulator.clear_requests();
        let plan = env.tf(&["plan", "-no-color"]).await;
        plan.assert_code(1);
        let text = plan.all();
        assert_contains(&text, &format!("Error: {summary}"));
        assert_contains(&text, &points_at);
        let arm = arm_requests(&env);
        assert!(
            arm.is_empty(),
            "no ARM request for bad input {config}: {arm:?}"
        );
    }
    // The tier error names what is allowed.
    env.config(&format!(
        "resource \"defender_security_events\" \"x\" {{\n  workspace_id = \"{law}\"\n  tier         = \"Everything\"\n}}"
    ));
    let text = env.tf(&["plan", "-no-color"]).await.all();
    assert_contains(&text, "\"Common\" (the API's \"Recommended\")");
}

// ---------------------------------------------------------------------------------------------
// The emulator's long-running workspace operations through the provider's ARM client

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arm_client_follows_workspace_operations() {
    let env = TfEnv::start().await;
    let auth = defender::arm::AuthConfig {
        subscription_id: Some(SUBSCRIPTION.into()),
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT_ID.into()),
        client_secret: Some(CLIENT_SECRET.into()),
        metadata_host: Some(env.metadata_host()),
        ..Default::default()
    };
    let arm = defender::arm::build_client(&auth, "1.15.5", Default::default())
        .await
        .expect("client");
    let id = ws_id("law-client");
    env.emulator.clear_requests();
    let created = arm
        .put(&id, "2023-09-01", &json!({"location": "westeurope"}))
        .await
        .expect("PUT follows the operation");
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");
    let polled: Vec<_> = arm_requests(&env)
        .into_iter()
        .filter(|r| r.path.contains("/operationStatuses/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(polled, [200, 200], "polled InProgress, then Succeeded");

    // A setting can now point at it.
    let setting = setting_id();
    arm.put(
        &setting,
        "2017-08-01-preview",
        &json!({"properties": {"workspaceId": id, "scope": format!("/subscriptions/{SUBSCRIPTION}")}}),
    )
    .await
    .expect("the workspace exists");

    let deleted = arm.delete(&id, "2023-09-01").await.expect("DELETE follows");
    assert!(deleted.is_some(), "it existed");
    assert!(env.emulator.get_resource(&id).is_none());
    assert!(arm.delete(&id, "2023-09-01").await.unwrap().is_none());
}
