//! `terraform-provider-defender render`, run as a person runs it.

use std::process::{Command, Output};

use serde_json::Value;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

fn render(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terraform-provider-defender"))
        .arg("render")
        .args(args)
        .output()
        .expect("the provider binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn prints_assignment_role_assignments_and_remediations() {
    let o = render(&[
        "--policy",
        "mde",
        "--scope",
        SUB,
        "--location",
        "westeurope",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reqs: Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let reqs = reqs.as_array().unwrap();
    // The assignment, Contributor for the identity, one remediation per member.
    assert_eq!(reqs.len(), 6, "{reqs:#?}");
    assert_eq!(
        reqs[0]["path"],
        format!("{SUB}/providers/Microsoft.Authorization/policyAssignments/mde")
    );
    let body = &reqs[0]["body"];
    assert_eq!(body["location"], "westeurope");
    assert_eq!(body["identity"]["type"], "SystemAssigned");
    assert_eq!(
        body["properties"]["policyDefinitionId"],
        "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc"
    );
    assert!(
        reqs[1]["path"]
            .as_str()
            .unwrap()
            .contains("/roleAssignments/")
    );
    assert_eq!(
        reqs[1]["body"]["properties"]["roleDefinitionId"],
        format!(
            "{SUB}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
        )
    );
    assert_eq!(
        reqs[1]["body"]["properties"]["principalType"],
        "ServicePrincipal"
    );
    let refs: Vec<&str> = reqs[2..]
        .iter()
        .map(|r| {
            r["body"]["properties"]["policyDefinitionReferenceId"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        refs,
        [
            "microsoftDefenderForEndpointWindowsAgentDeploy",
            "microsoftDefenderForEndpointLinuxAgentDeploy",
            "microsoftDefenderForEndpointWindowsArcAgentDeploy",
            "microsoftDefenderForEndpointLinuxArcAgentDeploy"
        ]
    );
    // The same command prints the same JSON (stable names for review diffs).
    let again = render(&[
        "--policy",
        "mde",
        "--scope",
        SUB,
        "--location",
        "westeurope",
    ]);
    assert_eq!(o.stdout, again.stdout);
}

#[test]
fn parameters_name_and_options_reach_the_body() {
    let ws = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law";
    let params = format!(r#"{{"logAnalyticsWorkspaceResourceId":"{ws}"}}"#);
    let mg = "/providers/Microsoft.Management/managementGroups/platform";
    let o = render(&[
        "--policy",
        "defender-containers-aks",
        "--scope",
        mg,
        "--parameters",
        &params,
        "--name",
        "containers",
        "--location",
        "northeurope",
        "--principal-id",
        "22222222-2222-2222-2222-222222222222",
        "--no-remediation",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reqs: Value = serde_json::from_slice(&o.stdout).unwrap();
    let reqs = reqs.as_array().unwrap();
    assert_eq!(
        reqs[0]["path"],
        format!("{mg}/providers/Microsoft.Authorization/policyAssignments/containers")
    );
    assert_eq!(
        reqs[0]["body"]["properties"]["parameters"]["logAnalyticsWorkspaceResourceId"]["value"],
        ws
    );
    // Two roles at the management group, the same two on the workspace; no remediation.
    assert_eq!(reqs.len(), 5);
    assert_eq!(
        reqs.iter()
            .filter(|r| r["path"].as_str().unwrap().starts_with(ws))
            .count(),
        2
    );
    assert!(
        reqs.iter()
            .all(|r| !r["path"].as_str().unwrap().contains("remediations"))
    );
    assert_eq!(
        reqs[1]["body"]["properties"]["principalId"],
        "22222222-2222-2222-2222-222222222222"
    );
}

#[test]
fn bad_input_fails_with_the_reason() {
    let o = render(&["--policy", "kubernetes-policy-add-on", "--scope", SUB]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("did you mean kubernetes-policy-addon"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());

    let o = render(&["--policy", "mde", "--scope", SUB]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("pass --location"), "{}", stderr(&o));

    let o = render(&[
        "--policy",
        "kubernetes-policy-addon",
        "--scope",
        SUB,
        "--location",
        "westeurope",
        "--parameters",
        r#"{"effect":"Audit","efect":"Disabled"}"#,
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("\"Audit\" is not an allowed value of \"effect\""),
        "{err}"
    );
    assert!(err.contains("Did you mean \"effect\"?"), "{err}");

    let o = render(&[
        "--policy",
        "mde",
        "--scope",
        "/providers/Microsoft.Management/managementGroups/platform",
        "--location",
        "westeurope",
        "--name",
        "a-name-of-twenty-five-chr",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("at most 24 characters"),
        "{}",
        stderr(&o)
    );
}
