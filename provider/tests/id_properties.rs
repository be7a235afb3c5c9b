//! Property tests of every typed ARM ID outside `arm/ids.rs` (which has its own): parse never
//! panics on arbitrary input; what parses displays canonically and parses back to itself
//! (Display ∘ parse is idempotent); canonical IDs built from valid parts parse and display
//! unchanged; ARM's case-insensitivity holds (any casing of a canonical ID parses to an ID that
//! displays as the canonical one, ignoring case).

use defender::resources::policy_common::{PolicyAssignmentId, RemediationId};
use defender::resources::security_contact::SecurityContactId;
use defender::resources::server_vulnerability_assessment::ServerVulnerabilityAssessmentsSettingId;
use defender::resources::setting::SecuritySettingId;
use defender::resources::workspace_ids::{
    DataConnectorId, DataSourceId, SolutionId, WorkspaceId, WorkspaceSettingId,
};
use proptest::prelude::*;

fn guid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{2,20}[a-z0-9]"
}

fn scope() -> impl Strategy<Value = String> {
    prop_oneof![
        name().prop_map(|m| format!("/providers/Microsoft.Management/managementGroups/{m}")),
        guid().prop_map(|s| format!("/subscriptions/{s}")),
        (guid(), name()).prop_map(|(s, rg)| format!("/subscriptions/{s}/resourceGroups/{rg}")),
        (guid(), name(), name()).prop_map(|(s, rg, vm)| format!(
            "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
        )),
    ]
}

fn workspace() -> impl Strategy<Value = String> {
    (guid(), name(), name()).prop_map(|(s, rg, ws)| {
        format!("/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}")
    })
}

/// Flips the case of the characters `mask` selects.
fn recase(s: &str, mask: &[bool]) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask.get(i % mask.len().max(1)).copied().unwrap_or(false) {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

/// Arbitrary input, biased towards ARM-looking paths (mutations of `valid`).
fn noisy(valid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "(/[A-Za-z0-9.()_-]{0,12}){0,12}/?",
        (valid, 0usize..200, "[/a-zA-Z.()]{0,4}").prop_map(|(v, at, junk)| {
            let at = at.min(v.len());
            let at = (0..=at).rev().find(|i| v.is_char_boundary(*i)).unwrap_or(0);
            format!("{}{junk}{}", &v[..at], &v[at..])
        }),
    ]
}

macro_rules! id_properties {
    ($modname:ident, $ty:ty, $valid:expr) => {
        mod $modname {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(256))]

                #[test]
                fn canonical_ids_round_trip(v in $valid, mask in proptest::collection::vec(any::<bool>(), 1..16)) {
                    let id = <$ty>::parse(&v).map_err(|e| TestCaseError::fail(format!("{v}: {e}")))?;
                    prop_assert_eq!(id.to_string(), v.clone());
                    prop_assert_eq!(<$ty>::parse(&id.to_string()).unwrap(), id.clone());
                    // ARM compares segment names and namespaces case-insensitively.
                    let other = recase(&v, &mask);
                    let again = <$ty>::parse(&other).map_err(|e| TestCaseError::fail(format!("{other}: {e}")))?;
                    prop_assert!(again.to_string().eq_ignore_ascii_case(&v), "{} vs {}", again, v);
                }

                #[test]
                fn parse_never_panics_and_display_is_canonical(input in noisy($valid)) {
                    if let Ok(id) = <$ty>::parse(&input) {
                        let shown = id.to_string();
                        let back = <$ty>::parse(&shown)
                            .map_err(|e| TestCaseError::fail(format!("{input} → {shown}: {e}")))?;
                        prop_assert_eq!(back.to_string(), shown);
                    }
                }
            }
        }
    };
}

id_properties!(
    policy_assignment,
    PolicyAssignmentId,
    (scope(), name())
        .prop_map(|(s, n)| format!("{s}/providers/Microsoft.Authorization/policyAssignments/{n}"))
);
id_properties!(
    remediation,
    RemediationId,
    (scope(), name())
        .prop_map(|(s, n)| format!("{s}/providers/Microsoft.PolicyInsights/remediations/{n}"))
);
id_properties!(
    security_contact,
    SecurityContactId,
    guid().prop_map(|s| format!(
        "/subscriptions/{s}/providers/Microsoft.Security/securityContacts/default"
    ))
);
id_properties!(
    server_vulnerability_assessment,
    ServerVulnerabilityAssessmentsSettingId,
    guid().prop_map(|s| format!(
        "/subscriptions/{s}/providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting"
    ))
);
id_properties!(
    security_setting,
    SecuritySettingId,
    (
        guid(),
        prop_oneof![Just("MCAS"), Just("WDATP"), Just("Sentinel")]
    )
        .prop_map(|(s, n)| format!("/subscriptions/{s}/providers/Microsoft.Security/settings/{n}"))
);
id_properties!(workspace_id, WorkspaceId, workspace());
id_properties!(
    workspace_setting,
    WorkspaceSettingId,
    guid().prop_map(|s| format!(
        "/subscriptions/{s}/providers/Microsoft.Security/workspaceSettings/default"
    ))
);
id_properties!(
    data_source,
    DataSourceId,
    (workspace(), name()).prop_map(|(w, n)| format!("{w}/dataSources/{n}"))
);
id_properties!(
    solution,
    SolutionId,
    (guid(), name(), name(), prop_oneof![Just("Security"), Just("SecurityCenterFree")]).prop_map(
        |(s, rg, ws, sol)| format!(
            "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationsManagement/solutions/{sol}({ws})"
        )
    )
);
id_properties!(
    data_connector,
    DataConnectorId,
    (workspace(), name())
        .prop_map(|(w, n)| format!("{w}/providers/Microsoft.SecurityInsights/dataConnectors/{n}"))
);
