//! defender_setting, defender_security_contact and defender_server_vulnerability_assessment
//! with the real Terraform CLI against the emulator: plan, apply, empty second plan, drift,
//! import, destroy; `moved {}` from each azurerm equivalent; bad input refused at plan time on
//! the attribute without any ARM request.

use crate::common::{SUBSCRIPTION, TfEnv, TfOutput};
use serde_json::{Value, json};

fn setting_id(name: &str) -> String {
    format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/settings/{name}")
}

fn contact_id() -> String {
    format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default")
}

fn va_id() -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting"
    )
}

fn setting_body(name: &str, kind: &str, enabled: bool) -> Value {
    json!({"name": name, "type": "Microsoft.Security/settings", "id": setting_id(name),
           "kind": kind, "properties": {"enabled": enabled}})
}

fn enabled(env: &TfEnv, name: &str) -> Option<bool> {
    env.emulator
        .get_resource(&setting_id(name))
        .and_then(|b| b.pointer("/properties/enabled").and_then(Value::as_bool))
}

/// Requests to ARM (not to the token or metadata endpoints) since the log was cleared.
fn arm_requests(env: &TfEnv) -> Vec<String> {
    env.arm_requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn arm_writes(env: &TfEnv) -> Vec<String> {
    arm_requests(env)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect()
}

#[track_caller]
fn assert_contains(out: &TfOutput, text: &str) {
    assert!(
        out.all().contains(text),
        "expected {text:?} in:\n{}",
        out.all()
    );
}

/// State rm, import by ARM ID, then an empty plan.
async fn assert_imports(env: &TfEnv, address: &str, id: &str) {
    env.tf(&["state", "rm", address]).await.assert_code(0);
    let import = env.tf(&["import", "-no-color", address, id]).await;
    import.assert_code(0);
    assert_contains(&import, "Import successful!");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

// ---------------------------------------------------------------------------------------------
// defender_setting

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setting_lifecycle_adopts_and_destroy_resets_to_disabled() {
    let env = TfEnv::start().await;
    env.config(
        "resource \"defender_setting\" \"endpoint_protection\" {\n  name    = \"WDATP\"\n  enabled = true\n}\n\n\
         resource \"defender_setting\" \"sentinel\" {\n  name    = \"Sentinel\"\n  enabled = true\n}\n",
    );

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(
        &plan,
        "defender_setting.endpoint_protection will be created",
    );
    // ID and kind are known at plan time.
    assert_contains(&plan, &format!("\"{}\"", setting_id("WDATP")));
    assert_contains(&plan, "\"AlertSyncSettings\"");
    assert_contains(&plan, "\"DataExportSettings\"");

    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(enabled(&env, "WDATP"), Some(true));
    assert_eq!(enabled(&env, "Sentinel"), Some(true));
    assert_eq!(
        env.emulator.get_resource(&setting_id("Sentinel")).unwrap()["kind"],
        "AlertSyncSettings"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Somebody turns Endpoint protection off in the portal.
    env.emulator.set_resource(
        &setting_id("WDATP"),
        setting_body("WDATP", "DataExportSettings", false),
    );
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(&drift, "~ enabled         = false -> true");
    assert_contains(&drift, "Plan: 0 to add, 1 to change, 0 to destroy.");
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(enabled(&env, "WDATP"), Some(true));

    // Import takes any casing of the ID and reads it canonically.
    env.tf(&["state", "rm", "defender_setting.endpoint_protection"])
        .await
        .assert_code(0);
    let shouty =
        format!("/SUBSCRIPTIONS/{SUBSCRIPTION}/providers/microsoft.security/SETTINGS/wdatp");
    let import = env
        .tf(&[
            "import",
            "-no-color",
            "defender_setting.endpoint_protection",
            &shouty,
        ])
        .await;
    import.assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Destroy puts each setting's default (disabled) back; there is no DELETE.
    env.emulator.clear_requests();
    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert_contains(&destroy, "Destroy complete! Resources: 2 destroyed");
    let mut writes = arm_writes(&env);
    writes.sort();
    assert_eq!(
        writes,
        [
            format!("PUT {}", setting_id("Sentinel")),
            format!("PUT {}", setting_id("WDATP")),
        ]
    );
    assert_eq!(enabled(&env, "WDATP"), Some(false));
    assert_eq!(enabled(&env, "Sentinel"), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setting_moved_from_azurerm_security_center_setting() {
    let env = TfEnv::start().await;
    env.emulator.set_resource(
        &setting_id("MCAS"),
        setting_body("MCAS", "DataExportSettings", true),
    );
    // azurerm's schema version 1: id, setting_name, enabled (and timeouts).
    env.write_azurerm_state(
        "azurerm_security_center_setting",
        1,
        json!({"id": setting_id("MCAS"), "setting_name": "MCAS", "enabled": true, "timeouts": null}),
    );
    env.config(
        "moved {\n  from = azurerm_security_center_setting.this\n  to   = defender_setting.this\n}\n\n\
         resource \"defender_setting\" \"this\" {\n  name    = \"MCAS\"\n  enabled = true\n}",
    );
    env.assert_clean_move("has moved to defender_setting.this")
        .await;
    let show = env.state_show("defender_setting.this").await;
    show.assert_code(0);
    assert_contains(&show, &setting_id("MCAS"));
    assert_contains(&show, "DataExportSettings");
}

// ---------------------------------------------------------------------------------------------
// defender_security_contact

const CONTACT: &str = r#"resource "defender_security_contact" "this" {
  emails                         = ["secops@contoso.com", "jane@contoso.com"]
  phone                          = "+1-214-275-4038"
  notify_roles                   = ["Owner", "ServiceAdmin"]
  alert_minimal_severity         = "Medium"
  attack_path_minimal_risk_level = "Critical"
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_lifecycle_plan_apply_drift_import_destroy() {
    let env = TfEnv::start().await;
    env.config(CONTACT);

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(&plan, "defender_security_contact.this will be created");
    assert_contains(&plan, &format!("\"{}\"", contact_id()));
    // enabled defaults to true.
    assert_contains(&plan, "+ enabled ");

    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let stored = env.emulator.get_resource(&contact_id()).expect("created");
    let p = &stored["properties"];
    assert_eq!(p["emails"], "secops@contoso.com;jane@contoso.com");
    assert_eq!(p["phone"], "+1-214-275-4038");
    assert_eq!(p["isEnabled"], true);
    // The emulator answers creates like the published 201: roles without their state.
    assert_eq!(
        p["notificationsByRole"],
        json!({"roles": ["Owner", "ServiceAdmin"]})
    );
    let mut sources = p["notificationsSources"].as_array().unwrap().clone();
    sources.sort_by_key(|s| s["sourceType"].as_str().unwrap().to_string());
    assert_eq!(
        sources,
        [
            json!({"sourceType": "Alert", "minimalSeverity": "Medium"}),
            json!({"sourceType": "AttackPath", "minimalRiskLevel": "Critical"})
        ]
    );
    // ...which reads back without a diff.
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Drift in the shape of the published GET (attack path source spelt `AttachPath`, lower
    // case enums): only the real differences show.
    env.emulator.set_resource(
        &contact_id(),
        json!({"id": contact_id(), "name": "default", "type": "Microsoft.Security/securityContacts",
        "properties": {
            "notificationsByRole": {"state": "On", "roles": ["owner", "serviceadmin"]},
            "isEnabled": true,
            "emails": "SecOps@contoso.com;mallory@fabrikam.com",
            "phone": "+1-214-275-4038",
            "notificationsSources": [
                {"sourceType": "AttachPath", "minimalRiskLevel": "critical"},
                {"sourceType": "Alert", "minimalSeverity": "High"}
            ]}}),
    );
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(
        &drift,
        "~ alert_minimal_severity         = \"High\" -> \"Medium\"",
    );
    // Addresses compare ignoring case: SecOps@ is the same address, only the other changed.
    assert_contains(
        &drift,
        "~ \"mallory@fabrikam.com\" -> \"jane@contoso.com\",",
    );
    assert_contains(&drift, "            \"secops@contoso.com\",\n");
    assert!(
        !drift.stdout.contains("attack_path_minimal_risk_level"),
        "the misspelt source reads as AttackPath: {}",
        drift.all()
    );
    assert!(
        !drift.stdout.contains("notify_roles"),
        "role case is not a change: {}",
        drift.all()
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let p = env.emulator.get_resource(&contact_id()).unwrap()["properties"].clone();
    assert_eq!(p["emails"], "secops@contoso.com;jane@contoso.com");
    assert_eq!(
        p["notificationsByRole"],
        json!({"state": "On", "roles": ["Owner", "ServiceAdmin"]}),
        "a replacing PUT answers 200 with the state"
    );
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    assert_imports(&env, "defender_security_contact.this", &contact_id()).await;

    // A contact deleted outside Terraform is planned for creation again.
    env.emulator.delete_resource(&contact_id());
    let gone = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    gone.assert_code(2);
    assert_contains(&gone, "defender_security_contact.this will be created");
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);

    // Destroy deletes the contact.
    env.emulator.clear_requests();
    let destroy = env.tf(&["destroy", "-auto-approve", "-no-color"]).await;
    destroy.assert_code(0);
    assert_eq!(arm_writes(&env), [format!("DELETE {}", contact_id())]);
    assert!(env.emulator.get_resource(&contact_id()).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_with_roles_off_and_no_sources_has_no_diff() {
    let env = TfEnv::start().await;
    env.config(
        "resource \"defender_security_contact\" \"this\" {\n  emails  = [\"secops@contoso.com\"]\n  enabled = false\n  notify_roles = []\n}\n",
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let p = env.emulator.get_resource(&contact_id()).unwrap()["properties"].clone();
    assert_eq!(p["isEnabled"], false);
    assert_eq!(
        p["notificationsByRole"],
        json!({"state": "Off", "roles": []})
    );
    assert_eq!(p["notificationsSources"], json!([]));
    assert!(p.get("phone").is_none(), "{p}");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_moved_from_azurerm_security_center_contact() {
    let env = TfEnv::start().await;
    // What the service has: one contact, `default`, whatever azurerm called it.
    env.emulator.set_resource(
        &contact_id(),
        json!({"id": contact_id(), "name": "default", "type": "Microsoft.Security/securityContacts",
               "properties": {
                   "notificationsByRole": {"state": "On", "roles": ["Owner"]},
                   "isEnabled": true,
                   "emails": "secops@contoso.com",
                   "phone": "+1-555-555-5555",
                   "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "High"}]}}),
    );
    env.write_azurerm_state(
        "azurerm_security_center_contact",
        0,
        json!({
            "id": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/test-account"),
            "name": "test-account",
            "email": "secops@contoso.com",
            "phone": "+1-555-555-5555",
            "alert_notifications": true,
            "alerts_to_admins": true,
            "timeouts": null
        }),
    );
    env.config(
        "moved {\n  from = azurerm_security_center_contact.this\n  to   = defender_security_contact.this\n}\n\n\
         resource \"defender_security_contact\" \"this\" {\n  emails                 = [\"secops@contoso.com\"]\n  phone                  = \"+1-555-555-5555\"\n  notify_roles           = [\"Owner\"]\n  alert_minimal_severity = \"High\"\n}",
    );
    env.assert_clean_move("has moved to defender_security_contact.this")
        .await;
    let show = env.state_show("defender_security_contact.this").await;
    assert_contains(&show, &contact_id());
}

// ---------------------------------------------------------------------------------------------
// defender_server_vulnerability_assessment

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerability_assessment_lifecycle_plan_apply_drift_import_destroy() {
    let env = TfEnv::start().await;
    env.config("resource \"defender_server_vulnerability_assessment\" \"this\" {}\n");

    let plan = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    plan.assert_code(2);
    assert_contains(&plan, "+ selected_provider = \"MdeTvm\"");
    assert_contains(&plan, &format!("\"{}\"", va_id()));

    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    let stored = env.emulator.get_resource(&va_id()).expect("created");
    assert_eq!(stored["kind"], "AzureServersSetting");
    assert_eq!(stored["properties"]["selectedProvider"], "MdeTvm");
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    // Removed outside Terraform: planned for creation again.
    assert!(env.emulator.delete_resource(&va_id()));
    let drift = env.tf(&["plan", "-detailed-exitcode", "-no-color"]).await;
    drift.assert_code(2);
    assert_contains(
        &drift,
        "defender_server_vulnerability_assessment.this will be created",
    );
    env.tf(&["apply", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);

    // Import by azurerm's spelling of the ID.
    env.tf(&[
        "state",
        "rm",
        "defender_server_vulnerability_assessment.this",
    ])
    .await
    .assert_code(0);
    let azurerm_id = format!(
        "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting"
    );
    let import = env
        .tf(&[
            "import",
            "-no-color",
            "defender_server_vulnerability_assessment.this",
            &azurerm_id,
        ])
        .await;
    import.assert_code(0);
    env.tf(&["plan", "-detailed-exitcode", "-no-color"])
        .await
        .assert_code(0);

    env.emulator.clear_requests();
    env.tf(&["destroy", "-auto-approve", "-no-color"])
        .await
        .assert_code(0);
    assert_eq!(arm_writes(&env), [format!("DELETE {}", va_id())]);
    assert!(env.emulator.get_resource(&va_id()).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerability_assessment_moved_from_azurerm() {
    let env = TfEnv::start().await;
    env.emulator.set_resource(
        &va_id(),
        json!({"name": "azureServersSetting",
               "type": "Microsoft.Security/serverVulnerabilityAssessmentsSettings",
               "id": va_id(), "kind": "AzureServersSetting",
               "properties": {"selectedProvider": "MdeTvm"},
               "systemData": {"createdAt": "2023-05-12T13:47:50.328Z"}}),
    );
    env.write_azurerm_state(
        "azurerm_security_center_server_vulnerability_assessments_setting",
        0,
        json!({
            "id": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/AzureServersSetting"),
            "vulnerability_assessment_provider": "MdeTvm",
            "timeouts": null
        }),
    );
    env.config(
        "moved {\n  from = azurerm_security_center_server_vulnerability_assessments_setting.this\n  to   = defender_server_vulnerability_assessment.this\n}\n\n\
         resource \"defender_server_vulnerability_assessment\" \"this\" {\n  selected_provider = \"MdeTvm\"\n}",
    );
    env.assert_clean_move("has moved to defender_server_vulnerability_assessment.this")
        .await;
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// One diagnostic of `terraform plan -json`: summary, detail and the highlighted source.
#[derive(Debug)]
struct Diag {
    summary: String,
    detail: String,
    highlighted: String,
}

fn error_diagnostics(out: &TfOutput) -> Vec<Diag> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "diagnostic" && v["diagnostic"]["severity"] == "error")
        .map(|v| {
            let d = &v["diagnostic"];
            let code = d["snippet"]["code"].as_str().unwrap_or_default();
            let start = d["snippet"]["highlight_start_offset"].as_u64().unwrap_or(0) as usize;
            let end = d["snippet"]["highlight_end_offset"].as_u64().unwrap_or(0) as usize;
            Diag {
                summary: d["summary"].as_str().unwrap_or_default().to_string(),
                detail: d["detail"].as_str().unwrap_or_default().to_string(),
                highlighted: code.get(start..end).unwrap_or_default().to_string(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_plan_time_diagnostics_on_the_attribute_without_arm_requests() {
    let env = TfEnv::start().await;
    // (configuration, summary, highlighted source, words the detail must have)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "resource \"defender_setting\" \"x\" {\n  name    = \"WDATP_LINUX\"\n  enabled = true\n}",
            "Unknown setting name",
            "\"WDATP_LINUX\"",
            &[
                "\"WDATP\"",
                "\"WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW\"",
                "\"WDATP_UNIFIED_SOLUTION\"",
                "\"MCAS\"",
                "\"Sentinel\"",
            ],
        ),
        (
            "resource \"defender_setting\" \"x\" {\n  name    = \"sentinel\"\n  enabled = true\n}",
            "Unknown setting name",
            "\"sentinel\"",
            &["Did you mean \"Sentinel\"?"],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails = [\"ok@contoso.com\", \"secops at contoso.com\"]\n}",
            "Invalid email address",
            "\"secops at contoso.com\"",
            &["is not an email address"],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails = [\"a@contoso.com;b@contoso.com\"]\n}",
            "Invalid email address",
            "\"a@contoso.com;b@contoso.com\"",
            &["its own list element"],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails = [\"ok@contoso.com\"]\n  phone  = \"call me maybe\"\n}",
            "Invalid phone number",
            "\"call me maybe\"",
            &["+1-214-275-4038"],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails       = [\"ok@contoso.com\"]\n  notify_roles = [\"Owner\", \"Admin\"]\n}",
            "Invalid role",
            "[\"Owner\", \"Admin\"]",
            &[
                "\"Admin\"",
                "\"AccountAdmin\", \"ServiceAdmin\", \"Owner\", \"Contributor\"",
            ],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails                 = [\"ok@contoso.com\"]\n  alert_minimal_severity = \"Critical\"\n}",
            "Invalid alert severity",
            "\"Critical\"",
            &["\"High\", \"Medium\", \"Low\""],
        ),
        (
            "resource \"defender_security_contact\" \"x\" {\n  emails                         = [\"ok@contoso.com\"]\n  attack_path_minimal_risk_level = \"Severe\"\n}",
            "Invalid attack path risk level",
            "\"Severe\"",
            &["\"Critical\", \"High\", \"Medium\", \"Low\""],
        ),
        (
            "resource \"defender_server_vulnerability_assessment\" \"x\" {\n  selected_provider = \"Qualys\"\n}",
            "Invalid vulnerability assessment provider",
            "\"Qualys\"",
            &["\"MdeTvm\""],
        ),
    ];
    for (config, summary, highlighted, words) in cases {
        env.config(config);
        env.emulator.clear_requests();
        let plan = env.tf(&["plan", "-json", "-no-color"]).await;
        plan.assert_code(1);
        let diags = error_diagnostics(&plan);
        assert_eq!(diags.len(), 1, "{config}:\n{diags:#?}\n{}", plan.all());
        let d = &diags[0];
        assert_eq!(d.summary, *summary, "{config}");
        assert_eq!(d.highlighted, *highlighted, "{config}: {d:#?}");
        for w in *words {
            assert!(
                d.detail.contains(w),
                "{config}: {w:?} not in {:?}",
                d.detail
            );
        }
        assert!(
            arm_requests(&env).is_empty(),
            "{config}: no ARM request for bad input: {:?}",
            arm_requests(&env)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluding_linux_warns_what_the_inverted_setting_means() {
    let env = TfEnv::start().await;
    env.config(
        "resource \"defender_setting\" \"linux\" {\n  name    = \"WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW\"\n  enabled = true\n}",
    );
    let plan = env.tf(&["plan", "-no-color"]).await;
    plan.assert_code(0);
    assert_contains(
        &plan,
        "Warning: Linux machines are excluded from Defender for Endpoint",
    );
    assert_contains(&plan, "to include them.");
}
