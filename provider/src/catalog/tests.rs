//! The catalog against the upstream reference data, parameter checks, names, and snapshots of
//! every entry's rendered requests.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::render::{
    self, AssignmentInput, Identity, NonComplianceMessage, PolicyRef, RemediationInput,
    RemediationMode,
};
use super::*;

// ---------------------------------------------------------------------------------------------
// The data against shared/reference/data (Azure/azure-policy built-ins, ALZ library)

/// shared/reference/data beside the repository (CI clones it there), or $DEFENDER_REFERENCE_DATA.
fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DEFENDER_REFERENCE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/data")
        });
    dir.is_dir().then_some(dir)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Upstream definitions and sets by lowercase GUID (`name`).
fn upstream(dir: &Path) -> HashMap<String, (PathBuf, Value)> {
    let mut files = Vec::new();
    json_files(&dir.join("azure-policy/built-in-policies"), &mut files);
    assert!(!files.is_empty(), "no built-in policy JSON under {dir:?}");
    files
        .into_iter()
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{p:?}: {e}"));
            let name = v["name"].as_str().unwrap().to_ascii_lowercase();
            (name, (p, v))
        })
        .collect()
}

fn last_segment_lower(id: &str) -> String {
    id.rsplit('/').next().unwrap().to_ascii_lowercase()
}

fn upstream_roles(def: &Value) -> Vec<String> {
    def.pointer("/properties/policyRule/then/details/roleDefinitionIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| last_segment_lower(r.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every entry's facts equal the upstream JSON: ID, kind, display name, version, deprecation,
/// effect, parameters (names in order, types, allowed values, defaults, assignPermissions,
/// strongType), roles (sets: the union of the members'), members and their wiring.
#[test]
fn matches_reference_data() {
    let Some(dir) = reference_dir() else {
        eprintln!(
            "skipping: no shared/reference/data beside the repository (set DEFENDER_REFERENCE_DATA)"
        );
        return;
    };
    let up = upstream(&dir);
    let mut errors: Vec<String> = Vec::new();
    for e in entries() {
        let mut err = |m: String| errors.push(format!("{}: {m}", e.key));
        let Some((path, doc)) = up.get(&e.guid().to_ascii_lowercase()) else {
            err(format!("{} is not in the reference data", e.guid()));
            continue;
        };
        let props = &doc["properties"];
        let is_set = props.get("policyDefinitions").is_some();
        if is_set != (e.kind == DefinitionKind::Set) {
            err(format!(
                "kind {:?} but {path:?} says set = {is_set}",
                e.kind
            ));
        }
        let prefix = if is_set {
            SET_DEFINITION_PREFIX
        } else {
            DEFINITION_PREFIX
        };
        if e.definition_id != format!("{prefix}{}", doc["name"].as_str().unwrap()) {
            err(format!("definition_id {}", e.definition_id));
        }
        if props["displayName"] != e.display_name {
            err(format!(
                "display_name {:?}, upstream {}",
                e.display_name, props["displayName"]
            ));
        }
        if props["version"] != e.version {
            err(format!(
                "version {:?}, upstream {}",
                e.version, props["version"]
            ));
        }
        let deprecated = props
            .pointer("/metadata/deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if deprecated && !e.retired {
            err("deprecated upstream but not marked retired".into());
        }
        if e.retired && e.replaced_by.is_none() {
            err("retired without a successor (replaced_by)".into());
        }

        // Parameters.
        let up_params = props["parameters"].as_object().cloned().unwrap_or_default();
        let ours: Vec<&str> = e.parameters.iter().map(|p| p.name).collect();
        let theirs: Vec<&str> = up_params.keys().map(String::as_str).collect();
        if ours != theirs {
            err(format!("parameters {ours:?}, upstream {theirs:?}"));
        }
        for p in &e.parameters {
            let Some(u) = up_params.get(p.name) else {
                continue;
            };
            let ut = ParamType::parse(u["type"].as_str().unwrap());
            if ut != Some(p.ty) {
                err(format!("{}: type {}, upstream {}", p.name, p.ty, u["type"]));
            }
            if u.get("defaultValue") != p.default.as_ref() {
                err(format!(
                    "{}: default {:?}, upstream {:?}",
                    p.name,
                    p.default,
                    u.get("defaultValue")
                ));
            }
            let ua = u
                .get("allowedValues")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if ua != p.allowed {
                err(format!(
                    "{}: allowed {:?}, upstream {ua:?}",
                    p.name, p.allowed
                ));
            }
            let st = u.pointer("/metadata/strongType").and_then(Value::as_str);
            if st != p.strong_type {
                err(format!(
                    "{}: strong_type {:?}, upstream {st:?}",
                    p.name, p.strong_type
                ));
            }
            // Sets: the flag may also come from a member parameter wired to this one.
            let mut ap = u
                .pointer("/metadata/assignPermissions")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if is_set {
                for m in props["policyDefinitions"].as_array().unwrap() {
                    let mguid = last_segment_lower(m["policyDefinitionId"].as_str().unwrap());
                    let Some((_, mdoc)) = up.get(&mguid) else {
                        continue;
                    };
                    for (mp, v) in m["parameters"].as_object().into_iter().flatten() {
                        let wired = v["value"].as_str()
                            == Some(format!("[parameters('{}')]", p.name).as_str());
                        let flagged = mdoc["properties"]["parameters"][mp]
                            .pointer("/metadata/assignPermissions")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        ap |= wired && flagged;
                    }
                }
            }
            if ap != p.assign_permissions {
                err(format!(
                    "{}: assign_permissions {}, upstream {ap}",
                    p.name, p.assign_permissions
                ));
            }
        }

        if is_set {
            // Members and their wiring; roles are the union of the members'.
            let ups = props["policyDefinitions"].as_array().unwrap();
            if ups.len() != e.members.len() {
                err(format!(
                    "{} members, upstream {}",
                    e.members.len(),
                    ups.len()
                ));
            }
            let mut union: BTreeSet<String> = BTreeSet::new();
            for (m, u) in e.members.iter().zip(ups) {
                if u["policyDefinitionReferenceId"] != m.reference_id {
                    err(format!(
                        "member {} is {} upstream",
                        m.reference_id, u["policyDefinitionReferenceId"]
                    ));
                }
                if !u["policyDefinitionId"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(&m.definition_id)
                {
                    err(format!("member {}: {}", m.reference_id, m.definition_id));
                }
                if u.get("definitionVersion").and_then(Value::as_str) != m.definition_version {
                    err(format!("member {}: definition_version", m.reference_id));
                }
                let wiring: Map<String, Value> = u["parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v["value"].clone()))
                    .collect();
                if wiring != m.parameters {
                    err(format!("member {}: parameter wiring", m.reference_id));
                }
                let mguid = last_segment_lower(&m.definition_id);
                match up.get(&mguid) {
                    Some((_, mdoc)) => {
                        let roles = upstream_roles(mdoc);
                        if roles != m.role_definition_ids {
                            err(format!(
                                "member {}: roles {:?}, upstream {roles:?}",
                                m.reference_id, m.role_definition_ids
                            ));
                        }
                        union.extend(roles);
                    }
                    None => err(format!(
                        "member {} not in the reference data",
                        m.reference_id
                    )),
                }
            }
            let ours: BTreeSet<String> = e.role_definition_ids.iter().cloned().collect();
            if ours != union {
                err(format!("roles {ours:?}, members' union {union:?}"));
            }
            if e.effect != Effect::PerMember {
                err("a set's effect is per member".into());
            }
        } else {
            let roles = upstream_roles(doc);
            if roles != e.role_definition_ids {
                err(format!(
                    "roles {:?}, upstream {roles:?}",
                    e.role_definition_ids
                ));
            }
            let ue = props
                .pointer("/policyRule/then/effect")
                .and_then(Value::as_str)
                .unwrap();
            let ok = match &e.effect {
                Effect::Fixed(f) => f.eq_ignore_ascii_case(ue),
                Effect::Parameter { name, .. } => ue == format!("[parameters('{name}')]"),
                Effect::PerMember => false,
            };
            if !ok {
                err(format!("effect {:?}, upstream {ue:?}", e.effect));
            }
        }
    }
    assert!(
        errors.is_empty(),
        "the catalog differs from the reference data:\n{}",
        errors.join("\n")
    );
}

/// The ALZ library's Defender for SQL assignment passes our parameter checks unchanged.
#[test]
fn alz_defender_sql_assignment_parameters_check() {
    let Some(dir) = reference_dir() else {
        eprintln!("skipping: no shared/reference/data");
        return;
    };
    let path =
        dir.join("alz-library/platform/alz/policy_assignments/Deploy-MDFC-DefSQL-AMA.alz_policy_assignment.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entry = by_definition_id(doc["properties"]["policyDefinitionId"].as_str().unwrap())
        .expect("the ALZ assignment's initiative is in the catalog");
    assert_eq!(entry.key, "defender-sql-ama-user-workspace");
    let params: Map<String, Value> = doc["properties"]["parameters"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    assert_eq!(entry.check_parameters(&params), vec![]);
    // And it breaks when a value is wrong.
    let mut bad = params.clone();
    bad.insert("bringYourOwnDcr".into(), json!("yes"));
    assert_eq!(entry.check_parameters(&bad).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The catalog itself

#[test]
fn builds_and_has_the_issue_keys() {
    build().unwrap();
    for (key, guid) in [
        (
            "kubernetes-policy-addon",
            "a8eff44f-8c92-45c3-a3fb-9880802d67a7",
        ),
        (
            "kubernetes-policy-extension-arc",
            "0adc5395-9169-4b9b-8687-af838d69410a",
        ),
        (
            "dependency-agent-windows",
            "1c210e94-a481-4beb-95fa-1571b434fb04",
        ),
        (
            "dependency-agent-linux",
            "4da21710-ce6f-4e06-8cdb-5cc4c93ffbee",
        ),
        (
            "dependency-agent-windows-vmss",
            "3be22e3b-d919-47aa-805e-8985dbeb0ad9",
        ),
        (
            "dependency-agent-linux-vmss",
            "765266ab-e40e-4c61-bcb2-5a5275d0b7c0",
        ),
        (
            "dependency-agent-windows-ama",
            "89ca9cc7-25cd-4d53-97ba-445ca7a1f222",
        ),
        (
            "dependency-agent-linux-ama",
            "d55b81e1-984f-4a96-acab-fae204e3ca7f",
        ),
        ("mde", "e20d08c5-6d64-656d-6465-ce9e37fd0ebc"),
        ("mde-windows", "1ec9c2c2-6d64-656d-6465-3ec3309b8579"),
        ("mde-linux", "d30025d0-6d64-656d-6465-67688881b632"),
        ("mde-windows-arc", "37c043a6-6d64-656d-6465-b362dfeb354a"),
        ("mde-linux-arc", "4eb909e7-6d64-656d-6465-2eeb297a1625"),
        ("ama-windows", "ca817e41-e85a-4783-bc7f-dc532d36235e"),
        ("ama-linux", "a4034bc6-ae50-406d-bf76-50f4ee5a7811"),
        ("ama-windows-vmss", "4efbd9d8-6bc6-45f6-9be2-7fe9dd5d89ff"),
        ("ama-linux-vmss", "56a3e4f8-649b-4fac-887e-5564d11e8d3a"),
        ("ama-windows-arc", "94f686d6-9a24-4e19-91f1-de937dc171a4"),
        ("ama-linux-arc", "845857af-0333-4c5d-bbbc-6076697da122"),
        ("defender-sql-ama", "d7c3ea3a-edf3-4bd5-bd64-d5b635b05393"),
        (
            "defender-containers-aks",
            "64def556-fbad-4622-930e-72d1d5589bf5",
        ),
        (
            "defender-containers-arc",
            "708b60a6-d253-4fe0-9114-4be4c00f012c",
        ),
        (
            "vulnerability-assessment",
            "13ce0167-8ca6-4048-8e6b-f996402e3c1b",
        ),
        (
            "guest-configuration-prerequisites",
            "12794019-7a00-42cf-95c2-882eed337cc8",
        ),
    ] {
        let e = lookup(key).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(e.guid(), guid, "{key}");
    }
    let mde = lookup("mde").unwrap();
    assert_eq!(mde.kind, DefinitionKind::Set);
    assert_eq!(
        mde.definition_id,
        "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc"
    );
    let keys: Vec<&str> = mde.members.iter().map(|m| m.key).collect();
    assert_eq!(
        keys,
        [
            "mde-windows",
            "mde-linux",
            "mde-windows-arc",
            "mde-linux-arc"
        ]
    );
    // Contributor, from every member.
    assert_eq!(
        mde.role_definition_ids,
        ["b24988ac-6180-42a0-ab88-20f7382dd24c"]
    );
}

/// The auto-provisioning resource's retirement message names these keys and definitions.
#[test]
fn retirement_message_keys_exist() {
    let text = crate::resources::auto_provisioning::RETIREMENT;
    for key in ["mde", "ama-windows", "ama-linux"] {
        let e = lookup(key).unwrap();
        assert!(text.contains(&format!("\"{key}\"")), "{key}");
        assert!(text.contains(e.guid()), "{key}: {}", e.guid());
    }
}

#[test]
fn legacy_log_analytics_policies_are_retired_with_successors() {
    for (key, successor) in [
        ("log-analytics-agent-windows", "ama-windows"),
        ("log-analytics-agent-linux", "ama-linux"),
        ("log-analytics-agent-windows-vmss", "ama-windows-vmss"),
        ("log-analytics-agent-linux-vmss", "ama-linux-vmss"),
        ("log-analytics-agent-windows-arc", "ama-windows-arc"),
        ("log-analytics-agent-linux-arc", "ama-linux-arc"),
    ] {
        let e = lookup(key).unwrap();
        assert!(e.retired, "{key}");
        assert_eq!(e.replaced_by, Some(successor), "{key}");
        assert!(!lookup(successor).unwrap().retired);
    }
    assert!(!lookup("mde").unwrap().retired);
}

#[test]
fn lookup_by_id_is_case_insensitive() {
    let e = by_definition_id(
        "/PROVIDERS/microsoft.authorization/POLICYDEFINITIONS/A8EFF44F-8C92-45C3-A3FB-9880802D67A7",
    )
    .unwrap();
    assert_eq!(e.key, "kubernetes-policy-addon");
    assert!(
        by_definition_id("/providers/Microsoft.Authorization/policyDefinitions/nope").is_none()
    );
    // A definition GUID under the set prefix is a different resource.
    assert!(by_definition_id(
        "/providers/Microsoft.Authorization/policySetDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7"
    )
    .is_none());
    assert_eq!(
        suggest_keys("kubernetes-policy-add-on")[0],
        "kubernetes-policy-addon"
    );
}

#[test]
fn check_parameters_reports_each_kind_of_problem() {
    let e = lookup("defender-containers-arc").unwrap();
    assert_eq!(e.check_parameters(&Map::new()), vec![]);

    let params = |v: Value| v.as_object().unwrap().clone();
    // Unknown name with a did-you-mean and the list of parameters.
    let p = e.check_parameters(&params(json!({ "logAnalyticsWorkspaceResourceID": "x" })));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].name, "logAnalyticsWorkspaceResourceID");
    assert!(
        p[0].message.contains(
            "Did you mean \"logAnalyticsWorkspaceResourceId\"? Parameter names must match in case"
        ),
        "{}",
        p[0].message
    );
    let p = e.check_parameters(&params(json!({ "efect": "Disabled" })));
    assert!(
        p[0].message.contains("Did you mean \"effect\"?"),
        "{}",
        p[0].message
    );
    assert!(p[0].message.contains(
        "Its parameters: \"effect\", \"logAnalyticsWorkspaceResourceId\", \"excludedDistributions\""
    ));

    // Wrong type.
    let p = e.check_parameters(&params(json!({ "excludedDistributions": "aks" })));
    assert_eq!(
        p[0].message,
        "\"excludedDistributions\" must be an Array, got a string (\"aks\")."
    );
    // Outside the allowed values, with the right case suggested.
    let p = e.check_parameters(&params(json!({ "effect": "deployIfNotExists" })));
    assert_eq!(
        p[0].message,
        "\"deployIfNotExists\" is not an allowed value of \"effect\"; allowed: \"DeployIfNotExists\", \"Disabled\". Did you mean \"DeployIfNotExists\"? Values must match in case."
    );
    let p = e.check_parameters(&params(json!({ "effect": "Audit" })));
    assert!(
        p[0].message
            .starts_with("\"Audit\" is not an allowed value")
    );
    // Null counts as not given.
    assert_eq!(
        e.check_parameters(&params(json!({ "effect": null }))),
        vec![]
    );

    // Required parameters missing.
    let e = lookup("log-analytics-agent-windows").unwrap();
    let p = e.check_parameters(&Map::new());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].name, "logAnalytics");
    assert!(
        p[0].message.starts_with(
            "log-analytics-agent-windows requires parameter \"logAnalytics\" (String)"
        )
    );

    // Array elements against allowed values; integers and booleans.
    let e = lookup("defender-sql-agents").unwrap();
    let p = e.check_parameters(&params(
        json!({ "enableCollectionOfSqlQueriesForSecurityResearch": 1 }),
    ));
    assert!(
        p[0].message.contains("must be a Boolean"),
        "{}",
        p[0].message
    );

    // A definition without parameters.
    let e = lookup("guest-configuration-windows").unwrap();
    let p = e.check_parameters(&params(json!({ "effect": "Disabled" })));
    assert_eq!(
        p[0].message,
        "guest-configuration-windows takes no parameters, so \"effect\" is unknown."
    );
}

#[test]
fn parameter_types() {
    assert!(ParamType::Integer.accepts(&json!(5)));
    assert!(ParamType::Integer.accepts(&json!(5.0)));
    assert!(!ParamType::Integer.accepts(&json!(5.5)));
    assert!(ParamType::Float.accepts(&json!(5)));
    assert!(!ParamType::String.accepts(&json!(true)));
    assert!(ParamType::Object.accepts(&json!({})));
    assert_eq!(ParamType::parse("string"), Some(ParamType::String));
    assert_eq!(ParamType::parse("ARRAY"), Some(ParamType::Array));
    assert_eq!(ParamType::parse("list"), None);
}

#[test]
fn effects_and_remediation_targets() {
    let none = Map::new();
    let addon = lookup("kubernetes-policy-addon").unwrap();
    assert!(addon.can_deploy());
    assert_eq!(addon.remediation_targets(&none), vec![None]);
    let disabled = json!({ "effect": "Disabled" }).as_object().unwrap().clone();
    assert_eq!(addon.remediation_targets(&disabled), vec![]);

    // Fixed DeployIfNotExists.
    let linux = lookup("dependency-agent-linux").unwrap();
    assert_eq!(linux.effect, Effect::Fixed("DeployIfNotExists"));
    assert_eq!(linux.remediation_targets(&none), vec![None]);

    // Legacy: Disabled by default, so nothing to remediate unless asked.
    let la = lookup("log-analytics-agent-windows").unwrap();
    assert_eq!(la.remediation_targets(&none), vec![]);

    // Sets: members whose effect, wired to the set's parameters, deploys.
    let mde = lookup("mde").unwrap();
    assert_eq!(
        mde.remediation_targets(&none),
        vec![
            Some("microsoftDefenderForEndpointWindowsAgentDeploy"),
            Some("microsoftDefenderForEndpointLinuxAgentDeploy"),
            Some("microsoftDefenderForEndpointWindowsArcAgentDeploy"),
            Some("microsoftDefenderForEndpointLinuxArcAgentDeploy"),
        ]
    );
    let audit_linux = json!({
        "microsoftDefenderForEndpointLinuxVmAgentDeployEffect": "AuditIfNotExists",
        "microsoftDefenderForEndpointLinuxArcAgentDeployEffect": "Disabled",
    });
    assert_eq!(
        mde.remediation_targets(audit_linux.as_object().unwrap()),
        vec![
            Some("microsoftDefenderForEndpointWindowsAgentDeploy"),
            Some("microsoftDefenderForEndpointWindowsArcAgentDeploy"),
        ]
    );
    // Guest configuration: Modify members count.
    let gc = lookup("guest-configuration-prerequisites").unwrap();
    assert_eq!(gc.remediation_targets(&none).len(), 4);
    assert_eq!(
        lookup("guest-configuration-identity").unwrap().effect,
        Effect::Fixed("Modify")
    );
}

#[test]
fn role_targets_include_resources_parameters_point_to() {
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000000";
    let ws_elsewhere = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law";
    let e = lookup("defender-containers-aks").unwrap();
    // Default: empty workspace parameter, only the assignment scope.
    let t = e.role_assignment_targets(sub, &Map::new());
    assert_eq!(t.len(), 2);
    assert!(t.iter().all(|t| t.scope == sub));
    let params = json!({ "logAnalyticsWorkspaceResourceId": ws_elsewhere });
    let t = e.role_assignment_targets(sub, params.as_object().unwrap());
    assert_eq!(
        t.iter()
            .map(|t| (t.role_definition_id.as_str(), t.scope.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("5e93ba01-8f92-4c7a-b12a-801e3df23824", sub),
            ("8bb6f106-b146-4ee6-a3f9-b9c5a96e0ae5", sub),
            ("5e93ba01-8f92-4c7a-b12a-801e3df23824", ws_elsewhere),
            ("8bb6f106-b146-4ee6-a3f9-b9c5a96e0ae5", ws_elsewhere),
        ]
    );
    // A workspace inside the scope is covered by the scope's roles.
    let inside =
        format!("{sub}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law");
    let params = json!({ "logAnalyticsWorkspaceResourceId": inside.to_uppercase() });
    assert_eq!(
        e.role_assignment_targets(sub, params.as_object().unwrap())
            .len(),
        2
    );

    // Sets: the union of the members' roles, in member order.
    let sql = lookup("defender-sql-ama").unwrap();
    assert_eq!(
        sql.role_definition_ids,
        [
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
            "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
            "92aaf0da-9dab-42b6-94a3-d43ce8d16293",
            "cd570a14-e51a-42ad-bac8-bafd67325302",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Names

#[test]
fn default_names_fit_and_are_unique() {
    let mg = "/providers/Microsoft.Management/managementGroups/contoso";
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000000";
    let mut seen = BTreeSet::new();
    for e in entries() {
        let n = render::default_assignment_name(e.key, mg);
        assert!(n.len() <= 24, "{n}");
        render::validate_assignment_name(&n, &Scope::parse(mg).unwrap()).unwrap();
        assert!(seen.insert(n.clone()), "{n} twice");
        assert_eq!(
            n,
            render::default_assignment_name(e.key, mg),
            "deterministic"
        );
        assert_eq!(render::default_assignment_name(e.key, sub), e.key);
    }
    assert_eq!(
        render::default_assignment_name("kubernetes-policy-addon", mg),
        "kubernetes-policy-addon"
    );
    let long = render::default_assignment_name("dependency-agent-windows-vmss-ama", mg);
    assert!(
        long.starts_with("dependency-agent-") && long.len() <= 24,
        "{long}"
    );
    // Any text, e.g. a definition ID, becomes a valid name.
    let n = render::default_assignment_name(
        "/providers/Microsoft.Authorization/policyDefinitions/x.y",
        sub,
    );
    render::validate_assignment_name(&n, &Scope::parse(sub).unwrap()).unwrap();
}

use crate::arm::ids::Scope;

#[test]
fn assignment_name_rules() {
    let mg = Scope::parse("/providers/Microsoft.Management/managementGroups/contoso").unwrap();
    let sub = Scope::parse("/subscriptions/00000000-0000-0000-0000-000000000000").unwrap();
    let n25 = "a".repeat(25);
    let err = render::validate_assignment_name(&n25, &mg).unwrap_err();
    assert!(
        err.contains("25 characters") && err.contains("at most 24"),
        "{err}"
    );
    render::validate_assignment_name(&n25, &sub).unwrap();
    assert!(render::validate_assignment_name(&"a".repeat(65), &sub).is_err());
    assert!(
        render::validate_assignment_name("a.b", &sub)
            .unwrap_err()
            .contains("'.'")
    );
    assert!(render::validate_assignment_name("ab ", &sub).is_err());
    assert!(render::validate_assignment_name("", &sub).is_err());
}

#[test]
fn role_assignment_names_are_stable_guids() {
    let a = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/policyAssignments/mde";
    let role = "b24988ac-6180-42a0-ab88-20f7382dd24c";
    let scope = "/subscriptions/00000000-0000-0000-0000-000000000000";
    let n = render::role_assignment_name(a, role, scope);
    assert!(crate::resources::common::is_guid(&n));
    assert_eq!(
        n,
        render::role_assignment_name(&a.to_uppercase(), &role.to_uppercase(), scope)
    );
    assert_ne!(
        n,
        render::role_assignment_name(a, role, &format!("{scope}/resourceGroups/rg"))
    );
    assert_ne!(
        n,
        render::role_assignment_name(&format!("{a}2"), role, scope)
    );
}

// ---------------------------------------------------------------------------------------------
// Bodies

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";
const MG: &str = "/providers/Microsoft.Management/managementGroups/contoso-platform";
const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-workloads";
const PRINCIPAL: &str = "11111111-2222-3333-4444-555555555555";
const ELSEWHERE_WORKSPACE: &str = "/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-central";

#[test]
fn policy_assignment_body_shapes() {
    let e = lookup("kubernetes-policy-addon").unwrap();
    let mut input = AssignmentInput::new(PolicyRef::Entry(e), SUB, "k8s");
    input.location = Some("westeurope".into());
    assert_eq!(
        render::policy_assignment_body(&input).unwrap(),
        json!({
            "location": "westeurope",
            "identity": { "type": "SystemAssigned" },
            "properties": {
                "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/a8eff44f-8c92-45c3-a3fb-9880802d67a7",
                "displayName": "Deploy Azure Policy Add-on to Azure Kubernetes Service clusters",
            }
        })
    );
    // Without a location there is no identity to keep.
    input.location = None;
    assert!(matches!(
        render::policy_assignment_body(&input),
        Err(render::RenderError::Location(_))
    ));
    // A user-assigned identity needs its ID.
    input.location = Some("westeurope".into());
    input.identity = Identity::UserAssigned(String::new());
    assert!(matches!(
        render::policy_assignment_body(&input),
        Err(render::RenderError::Identity(_))
    ));
    // Bad parameters never render.
    input.identity = Identity::SystemAssigned;
    input.parameters = json!({ "effect": "Audit" }).as_object().unwrap().clone();
    let err = render::policy_assignment_body(&input).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"Audit\" is not an allowed value"),
        "{err}"
    );
    // A 25-character name at a management group.
    input.parameters.clear();
    input.scope = MG.into();
    input.name = "a".repeat(25);
    assert!(matches!(
        render::policy_assignment_body(&input),
        Err(render::RenderError::Name { .. })
    ));
}

/// Text that would break JSON made by concatenation goes through as data.
#[test]
fn values_are_escaped_as_json() {
    let e = lookup("defender-containers-aks").unwrap();
    let mut input = AssignmentInput::new(PolicyRef::Entry(e), SUB, "aks");
    input.location = Some("westeurope".into());
    let nasty = "quote \" backslash \\ brace }{ newline \n tag <b>&amp; {{handlebars}}";
    input.display_name = Some(nasty.into());
    input.description = Some(nasty.into());
    input.parameters = json!({ "logAnalyticsWorkspaceResourceId": nasty })
        .as_object()
        .unwrap()
        .clone();
    input.non_compliance_messages = vec![NonComplianceMessage {
        message: nasty.into(),
        policy_definition_reference_id: None,
    }];
    let mut md = Map::new();
    md.insert(nasty.into(), json!(nasty));
    input.metadata = Some(md);
    let body = render::policy_assignment_body(&input).unwrap();
    assert_eq!(body["properties"]["displayName"], nasty);
    assert_eq!(body["properties"]["description"], nasty);
    assert_eq!(
        body["properties"]["parameters"]["logAnalyticsWorkspaceResourceId"]["value"],
        nasty
    );
    assert_eq!(
        body["properties"]["nonComplianceMessages"][0]["message"],
        nasty
    );
    assert_eq!(body["properties"]["metadata"][nasty], nasty);
}

#[test]
fn role_assignment_body_per_scope() {
    let role = "B24988AC-6180-42A0-AB88-20F7382DD24C";
    assert_eq!(
        render::role_assignment_body(role, RG, PRINCIPAL).unwrap(),
        json!({ "properties": {
            "roleDefinitionId": "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
            "principalId": PRINCIPAL,
            "principalType": "ServicePrincipal",
        }})
    );
    assert_eq!(
        render::role_assignment_body(role, MG, PRINCIPAL).unwrap()["properties"]["roleDefinitionId"],
        "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    );
    assert!(render::role_assignment_body("contributor", SUB, PRINCIPAL).is_err());
    assert!(render::role_assignment_body(role, "/nope", PRINCIPAL).is_err());
}

#[test]
fn remediation_body_shapes() {
    let id = format!("{SUB}/providers/Microsoft.Authorization/policyAssignments/mde");
    let minimal = RemediationInput {
        policy_assignment_id: id.clone(),
        ..Default::default()
    };
    assert_eq!(
        render::remediation_body(&minimal).unwrap(),
        json!({ "properties": {
            "policyAssignmentId": id,
            "resourceDiscoveryMode": "ExistingNonCompliant",
        }})
    );
    // Zero is a value, not "unset".
    let full = RemediationInput {
        policy_assignment_id: id.clone(),
        policy_definition_reference_id: Some(
            "microsoftDefenderForEndpointWindowsAgentDeploy".into(),
        ),
        mode: RemediationMode::ReEvaluateCompliance,
        location_filters: vec!["westeurope".into(), "northeurope".into()],
        parallel_deployments: Some(1),
        resource_count: Some(50_000),
        failure_threshold: Some(0.0),
    };
    assert_eq!(
        render::remediation_body(&full).unwrap(),
        json!({ "properties": {
            "policyAssignmentId": id,
            "policyDefinitionReferenceId": "microsoftDefenderForEndpointWindowsAgentDeploy",
            "resourceDiscoveryMode": "ReEvaluateCompliance",
            "filters": { "locations": ["westeurope", "northeurope"] },
            "parallelDeployments": 1,
            "resourceCount": 50000,
            "failureThreshold": { "percentage": 0.0 },
        }})
    );
    for bad in [
        RemediationInput {
            parallel_deployments: Some(31),
            ..full.clone()
        },
        RemediationInput {
            resource_count: Some(0),
            ..full.clone()
        },
        RemediationInput {
            failure_threshold: Some(1.5),
            ..full.clone()
        },
        RemediationInput {
            policy_assignment_id: SUB.into(),
            ..full.clone()
        },
    ] {
        assert!(render::remediation_body(&bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots: every entry, default and non-default parameters, three scopes

/// A value different from the default (or a plausible one for a required parameter).
fn sample_value(p: &ParamSpec, non_default: bool) -> Value {
    if !p.allowed.is_empty() {
        let pick = p
            .allowed
            .iter()
            .find(|a| !non_default || Some(*a) != p.default.as_ref())
            // A single allowed value (selectedProvider: MdeTvm) has no other choice.
            .unwrap_or(&p.allowed[0]);
        return match p.ty {
            ParamType::Array => json!([pick]),
            _ => pick.clone(),
        };
    }
    let lname = p.name.to_ascii_lowercase();
    match p.ty {
        ParamType::String | ParamType::DateTime => {
            if p.assign_permissions
                || lname.contains("workspaceresourceid")
                || lname == "loganalytics"
            {
                json!(ELSEWHERE_WORKSPACE)
            } else if lname.contains("dcrresourceid") {
                json!(
                    "/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-monitoring/providers/Microsoft.Insights/dataCollectionRules/dcr-defender"
                )
            } else if lname.contains("identityresourceid") {
                json!(
                    "/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-policy"
                )
            } else if lname.contains("region") || lname.contains("location") {
                json!("northeurope")
            } else if lname.contains("workspaceid") {
                json!("a1b2c3d4-0000-0000-0000-000000000000")
            } else {
                json!(format!("custom-{}", p.name))
            }
        }
        ParamType::Array => json!([format!("custom-{}", p.name)]),
        ParamType::Object => json!({ "custom": p.name }),
        ParamType::Boolean => json!(!p.default.as_ref().and_then(Value::as_bool).unwrap_or(false)),
        ParamType::Integer => json!(p.default.as_ref().and_then(Value::as_i64).unwrap_or(0) + 1),
        ParamType::Float => json!(p.default.as_ref().and_then(Value::as_f64).unwrap_or(0.0) + 0.5),
    }
}

fn case(entry: &'static CatalogEntry, scope: &str, non_default: bool) -> Value {
    let mut input = AssignmentInput::new(
        PolicyRef::Entry(entry),
        scope,
        render::default_assignment_name(entry.key, scope),
    );
    input.location = Some("westeurope".into());
    for p in &entry.parameters {
        if non_default || p.required() {
            input
                .parameters
                .insert(p.name.to_string(), sample_value(p, non_default));
        }
    }
    let mut remediation = RemediationInput::default();
    if non_default {
        input.display_name = Some(format!("Defender auto provisioning: {}", entry.key));
        input.description = Some(entry.deploys.to_string());
        input.enforcement_mode = Some("DoNotEnforce".into());
        input.not_scopes = vec![format!("{SUB}/resourceGroups/rg-excluded")];
        input.non_compliance_messages = vec![NonComplianceMessage {
            message: format!("{} must be deployed.", entry.key),
            policy_definition_reference_id: entry
                .members
                .first()
                .map(|m| m.reference_id.to_string()),
        }];
        let major = entry.version.split('.').next().unwrap();
        input.definition_version = Some(format!("{major}.*.*"));
        input.identity = Identity::UserAssigned(
            "/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-policy".into(),
        );
        let mut md = Map::new();
        md.insert("managedBy".into(), json!("terraform-provider-defender"));
        input.metadata = Some(md);
        remediation = RemediationInput {
            mode: RemediationMode::ReEvaluateCompliance,
            location_filters: vec!["westeurope".into()],
            parallel_deployments: Some(5),
            resource_count: Some(1000),
            failure_threshold: Some(0.1),
            ..remediation
        };
    }
    assert_eq!(
        entry.check_parameters(&input.parameters),
        vec![],
        "{}",
        entry.key
    );
    let generation = render::remediation_generation(&input);
    let requests = render::assignment_requests(&input, PRINCIPAL, Some(&remediation), &generation)
        .unwrap_or_else(|e| panic!("{}: {e}", entry.key));
    serde_json::to_value(requests).unwrap()
}

#[test]
fn snapshots_of_every_entry() {
    for entry in entries() {
        let mut cases = Map::new();
        for (scope_name, scope) in [
            ("subscription", SUB),
            ("management_group", MG),
            ("resource_group", RG),
        ] {
            for (variant, non_default) in [("default", false), ("custom", true)] {
                cases.insert(
                    format!("{scope_name}/{variant}"),
                    case(entry, scope, non_default),
                );
            }
        }
        insta::assert_json_snapshot!(entry.key, cases);
    }
}

/// Rendering the same input twice gives the same requests (snapshots need no filters).
#[test]
fn rendering_is_deterministic() {
    for entry in entries() {
        assert_eq!(case(entry, SUB, true), case(entry, SUB, true));
    }
}

/// The data source's docs list every key with its definition, kind and what it deploys, and
/// nothing else (examples/data-sources/defender_policy_definition/notes.md).
#[test]
fn docs_list_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data-sources/defender_policy_definition/notes.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), entries().len(), "one row per key in {path:?}");
    for (row, e) in rows.iter().zip(entries()) {
        let mut expected = format!(
            "| `{}` | {} | `{}` | {} |",
            e.key,
            e.kind.as_str(),
            e.guid(),
            e.deploys
        );
        if let Some(r) = e.replaced_by {
            expected.push_str(&format!(" `{r}` |"));
        }
        assert_eq!(*row, expected, "{path:?} is stale for {}", e.key);
    }
}
