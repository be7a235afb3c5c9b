//! Typed IDs of the workspace side: Log Analytics workspaces and what hangs off them
//! (arm-api.md §3, §11, §12). Segment names and namespaces parse case-insensitively (ARM IDs
//! are case-insensitive, arm-api.md §13.6); `Display` writes the canonical form. One type per
//! shape, a test per shape, as azurerm's `parse/*.go`.

use std::fmt;

use crate::arm::ids::{IdError, ResourceId, Scope};
use crate::framework::{AttrPath, Diagnostics};

use super::common::is_guid;

/// One `key/value` pair an ID must have: the key, and the value when it is fixed
/// (a provider namespace or a singleton name).
struct Want {
    key: &'static str,
    value: Option<&'static str>,
}

const fn seg(key: &'static str) -> Want {
    Want { key, value: None }
}

const fn fixed(key: &'static str, value: &'static str) -> Want {
    Want {
        key,
        value: Some(value),
    }
}

/// Matches `input` against `want` segment by segment; returns the values.
fn match_segments(
    input: &str,
    kind: &'static str,
    expected: &'static str,
    want: &[Want],
) -> Result<Vec<String>, IdError> {
    let err = |reason: String| IdError {
        kind,
        input: input.to_owned(),
        reason,
        expected: Some(expected),
    };
    let id = ResourceId::parse(input).map_err(|e| err(e.reason))?;
    let segs = id.segments();
    for (i, w) in want.iter().enumerate() {
        let Some(s) = segs.get(i) else {
            return Err(err(format!("the segment {:?} is missing", w.key)));
        };
        if !s.key.eq_ignore_ascii_case(w.key) {
            return Err(err(format!(
                "segment {} is {:?}, expected {:?}",
                i * 2 + 1,
                s.key,
                w.key
            )));
        }
        if let Some(v) = w.value
            && !s.value.eq_ignore_ascii_case(v)
        {
            return Err(err(format!("{:?} is {:?}, expected {v:?}", w.key, s.value)));
        }
    }
    if segs.len() > want.len() {
        return Err(err(format!(
            "unexpected segments after the name: {}",
            ResourceId::from_segments(segs[want.len()..].to_vec())
        )));
    }
    if !is_guid(&segs[0].value) {
        return Err(err(format!(
            "the subscription {:?} is not a GUID",
            segs[0].value
        )));
    }
    Ok(segs.iter().map(|s| s.value.clone()).collect())
}

/// Log Analytics workspace names: 4–63 characters, letters, digits and hyphens, starting and
/// ending with a letter or digit (arm-api.md §11.1, from bicep-types 2025-07-01).
pub fn check_workspace_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if !(4..=63).contains(&n) {
        return Err(format!(
            "the workspace name {name:?} has {n} characters; Log Analytics allows 4 to 63"
        ));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let first_last_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !name.chars().all(ok_char) || !first_last_ok {
        return Err(format!(
            "the workspace name {name:?} may hold only letters, digits and hyphens, and must \
             start and end with a letter or digit"
        ));
    }
    Ok(())
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl WorkspaceId {
    pub const FORMAT: &'static str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}";
    const KIND: &'static str = "a Log Analytics Workspace";
    const WANT: [Want; 4] = [
        seg("subscriptions"),
        seg("resourceGroups"),
        fixed("providers", "Microsoft.OperationalInsights"),
        seg("workspaces"),
    ];

    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        WorkspaceId {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            name: name.into(),
        }
    }

    /// Parses the ID and checks the workspace name rules.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = match_segments(input, Self::KIND, Self::FORMAT, &Self::WANT)?;
        check_workspace_name(&v[3]).map_err(|reason| IdError {
            kind: Self::KIND,
            input: input.to_owned(),
            reason,
            expected: Some(Self::FORMAT),
        })?;
        Ok(WorkspaceId::new(&v[0], &v[1], &v[3]))
    }

    /// `Log Analytics Workspace (Subscription "…" / Resource Group "…" / Name "…")`.
    pub fn describe(&self) -> String {
        format!(
            "Log Analytics Workspace (Subscription {:?} / Resource Group {:?} / Name {:?})",
            self.subscription_id, self.resource_group, self.name
        )
    }

    /// Whether two IDs name the same workspace (ARM compares IDs case-insensitively).
    pub fn same_as(&self, other: &WorkspaceId) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }

    /// A case-insensitive key for maps of workspaces.
    pub fn key(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }
}

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

/// A workspace ID as ARM answered it, with ARM's keywords in canonical case
/// (`resourcegroups` → `resourceGroups`, as azurerm's parsers do); names keep their case. Not a
/// workspace ID: returned as it is.
pub fn canonical_workspace_id(id: &str) -> String {
    WorkspaceId::parse(id)
        .map(|w| w.to_string())
        .unwrap_or_else(|_| id.to_owned())
}

/// Checks a workspace ID attribute at plan time: a diagnostic on `attr` naming the expected
/// form. `None` (unknown or unset) passes.
pub fn validate_workspace_id(attr: &str, value: Option<&str>, diags: &mut Diagnostics) {
    if let Some(v) = value
        && let Err(e) = WorkspaceId::parse(v)
    {
        diags.error_at(
            AttrPath::root(attr),
            "Invalid Log Analytics workspace ID",
            format!(
                "{v:?} is not the ID of a Log Analytics workspace: {}. Expected {}, as \
                 azurerm_log_analytics_workspace.<name>.id gives it.",
                e.reason,
                WorkspaceId::FORMAT
            ),
        );
    }
}

/// `/subscriptions/{sub}/providers/Microsoft.Security/workspaceSettings/{name}` (arm-api.md §3;
/// the only name the service accepts is `default`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceSettingId {
    pub subscription_id: String,
    pub name: String,
}

impl WorkspaceSettingId {
    pub const FORMAT: &'static str =
        "/subscriptions/{subscriptionId}/providers/Microsoft.Security/workspaceSettings/default";
    const KIND: &'static str = "a Workspace Setting";
    const WANT: [Want; 3] = [
        seg("subscriptions"),
        fixed("providers", "Microsoft.Security"),
        seg("workspaceSettings"),
    ];

    pub fn new(subscription_id: impl Into<String>) -> Self {
        WorkspaceSettingId {
            subscription_id: subscription_id.into(),
            name: "default".to_owned(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = match_segments(input, Self::KIND, Self::FORMAT, &Self::WANT)?;
        // azurerm learned it from the service: "Invalid workspace settings name 'kttest' ,
        // only default is allowed" (security_center_workspace_resource.go).
        if !v[2].eq_ignore_ascii_case("default") {
            return Err(IdError {
                kind: Self::KIND,
                input: input.to_owned(),
                reason: format!(
                    "the name is {:?}; the only workspace setting is \"default\"",
                    v[2]
                ),
                expected: Some(Self::FORMAT),
            });
        }
        Ok(WorkspaceSettingId {
            subscription_id: v[0].clone(),
            name: v[2].clone(),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "Workspace Setting (Subscription {:?} / Name {:?})",
            self.subscription_id, self.name
        )
    }
}

impl fmt::Display for WorkspaceSettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/providers/Microsoft.Security/workspaceSettings/{}",
            self.subscription_id, self.name
        )
    }
}

/// `{workspace}/dataSources/{name}` (arm-api.md §11.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataSourceId {
    pub workspace: WorkspaceId,
    pub name: String,
}

impl DataSourceId {
    pub const FORMAT: &'static str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}/dataSources/{dataSourceName}";
    const KIND: &'static str = "a Log Analytics Data Source";
    const WANT: [Want; 5] = [
        seg("subscriptions"),
        seg("resourceGroups"),
        fixed("providers", "Microsoft.OperationalInsights"),
        seg("workspaces"),
        seg("dataSources"),
    ];

    pub fn new(workspace: WorkspaceId, name: impl Into<String>) -> Self {
        DataSourceId {
            workspace,
            name: name.into(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = match_segments(input, Self::KIND, Self::FORMAT, &Self::WANT)?;
        Ok(DataSourceId::new(
            WorkspaceId::new(&v[0], &v[1], &v[3]),
            &v[4],
        ))
    }

    pub fn describe(&self) -> String {
        format!(
            "Data Source (Subscription {:?} / Resource Group {:?} / Workspace {:?} / Name {:?})",
            self.workspace.subscription_id,
            self.workspace.resource_group,
            self.workspace.name,
            self.name
        )
    }
}

impl fmt::Display for DataSourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/dataSources/{}", self.workspace, self.name)
    }
}

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationsManagement/solutions/{name}`
/// (arm-api.md §11.3; names like `Security(workspace)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SolutionId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl SolutionId {
    pub const FORMAT: &'static str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationsManagement/solutions/{solution}({workspaceName})";
    const KIND: &'static str = "a Solution";
    const WANT: [Want; 4] = [
        seg("subscriptions"),
        seg("resourceGroups"),
        fixed("providers", "Microsoft.OperationsManagement"),
        seg("solutions"),
    ];

    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        SolutionId {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            name: name.into(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = match_segments(input, Self::KIND, Self::FORMAT, &Self::WANT)?;
        Ok(SolutionId::new(&v[0], &v[1], &v[3]))
    }

    /// `Security(ws)` → `("Security", "ws")`.
    pub fn split_name(&self) -> Option<(&str, &str)> {
        let (solution, rest) = self.name.split_once('(')?;
        let workspace = rest.strip_suffix(')')?;
        (!solution.is_empty() && !workspace.is_empty()).then_some((solution, workspace))
    }

    pub fn describe(&self) -> String {
        format!(
            "Solution (Subscription {:?} / Resource Group {:?} / Name {:?})",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

impl fmt::Display for SolutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationsManagement/solutions/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }
}

/// `{workspace}/providers/Microsoft.SecurityInsights/dataConnectors/{name}` (arm-api.md §12: an
/// extension resource on the workspace).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataConnectorId {
    pub workspace: WorkspaceId,
    pub name: String,
}

impl DataConnectorId {
    pub const FORMAT: &'static str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}/providers/Microsoft.SecurityInsights/dataConnectors/{dataConnectorName}";
    const KIND: &'static str = "a Sentinel Data Connector";
    const WANT: [Want; 6] = [
        seg("subscriptions"),
        seg("resourceGroups"),
        fixed("providers", "Microsoft.OperationalInsights"),
        seg("workspaces"),
        fixed("providers", "Microsoft.SecurityInsights"),
        seg("dataConnectors"),
    ];

    pub fn new(workspace: WorkspaceId, name: impl Into<String>) -> Self {
        DataConnectorId {
            workspace,
            name: name.into(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = match_segments(input, Self::KIND, Self::FORMAT, &Self::WANT)?;
        Ok(DataConnectorId::new(
            WorkspaceId::new(&v[0], &v[1], &v[3]),
            &v[5],
        ))
    }

    pub fn describe(&self) -> String {
        format!(
            "Data Connector (Subscription {:?} / Resource Group {:?} / Workspace {:?} / Name {:?})",
            self.workspace.subscription_id,
            self.workspace.resource_group,
            self.workspace.name,
            self.name
        )
    }
}

impl fmt::Display for DataConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/providers/Microsoft.SecurityInsights/dataConnectors/{}",
            self.workspace, self.name
        )
    }
}

/// A workspace setting's `scope`: the subscription or one of its resource groups.
pub fn parse_setting_scope(input: &str) -> Result<Scope, String> {
    match Scope::parse(input) {
        Ok(s @ (Scope::Subscription { .. } | Scope::ResourceGroup { .. })) => Ok(s),
        Ok(_) => Err(format!(
            "{input:?} is neither a subscription nor a resource group; expected \
             /subscriptions/{{subscription_id}} or \
             /subscriptions/{{subscription_id}}/resourceGroups/{{name}}"
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    fn ws() -> WorkspaceId {
        WorkspaceId::new(SUB, "myRg", "myWorkspace")
    }

    #[test]
    fn workspace_id_parses_case_insensitively_and_displays_canonically() {
        let lower = format!(
            "/SUBSCRIPTIONS/{SUB}/resourcegroups/myRg/providers/microsoft.operationalinsights/WORKSPACES/myWorkspace"
        );
        let id = WorkspaceId::parse(&lower).unwrap();
        assert_eq!(id, ws());
        assert_eq!(
            id.to_string(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace"
            )
        );
        assert!(id.same_as(&WorkspaceId::new(SUB, "MYRG", "myworkspace")));
        assert_eq!(canonical_workspace_id(&lower), ws().to_string());
        assert_eq!(canonical_workspace_id("not-an-id"), "not-an-id");
        assert_eq!(id.key(), id.to_string().to_ascii_lowercase());
    }

    #[test]
    fn workspace_id_rejects_other_shapes() {
        let cases = [
            ("not-an-id", "does not start with '/'"),
            (
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws1",
                "not a GUID",
            ),
            (
                &format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/abcd"
                ),
                "expected \"Microsoft.OperationalInsights\"",
            ),
            (
                &format!("/subscriptions/{SUB}/resourceGroups/rg"),
                "\"providers\" is missing",
            ),
            (
                &format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws1/dataSources/x"
                ),
                "unexpected segments",
            ),
            (
                &format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ab"
                ),
                "has 2 characters",
            ),
            (
                &format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/-abc"
                ),
                "start and end",
            ),
            (
                &format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/a_bcd"
                ),
                "only letters, digits and hyphens",
            ),
        ];
        for (input, want) in cases {
            let e = WorkspaceId::parse(input).unwrap_err().to_string();
            assert!(e.contains(want), "{input}: {e}");
        }
    }

    #[test]
    fn validate_workspace_id_puts_the_diagnostic_on_the_attribute() {
        let mut diags = Diagnostics::new();
        validate_workspace_id("workspace_id", Some("/subscriptions/nope"), &mut diags);
        assert!(diags.has_errors());
        let d = &diags.0[0];
        assert_eq!(d.path, Some(AttrPath::root("workspace_id")));
        assert!(d.detail.contains(WorkspaceId::FORMAT), "{}", d.detail);
        let mut ok = Diagnostics::new();
        validate_workspace_id("workspace_id", Some(&ws().to_string()), &mut ok);
        validate_workspace_id("workspace_id", None, &mut ok);
        assert!(ok.is_empty());
    }

    #[test]
    fn workspace_setting_id_round_trips_and_only_default() {
        let id = WorkspaceSettingId::new(SUB);
        let text = id.to_string();
        assert_eq!(
            text,
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/workspaceSettings/default")
        );
        assert_eq!(WorkspaceSettingId::parse(&text).unwrap(), id);
        let upper = text.replace("workspaceSettings", "WORKSPACESETTINGS");
        assert_eq!(WorkspaceSettingId::parse(&upper).unwrap(), id);
        let e = WorkspaceSettingId::parse(&text.replace("/default", "/kttest")).unwrap_err();
        assert!(e.to_string().contains("only workspace setting"), "{e}");
        assert_eq!(
            id.describe(),
            format!("Workspace Setting (Subscription {SUB:?} / Name \"default\")")
        );
    }

    #[test]
    fn data_source_id_round_trips() {
        let id = DataSourceId::new(ws(), "SecurityEventCollectionConfiguration");
        let text = id.to_string();
        assert!(
            text.ends_with(
                "/workspaces/myWorkspace/dataSources/SecurityEventCollectionConfiguration"
            )
        );
        assert_eq!(DataSourceId::parse(&text).unwrap(), id);
        assert_eq!(
            DataSourceId::parse(&text.replace("dataSources", "datasources")).unwrap(),
            id
        );
        assert!(DataSourceId::parse(&ws().to_string()).is_err());
    }

    #[test]
    fn solution_id_round_trips_and_splits() {
        let id = SolutionId::new(SUB, "myRg", "Security(myWorkspace)");
        let text = id.to_string();
        assert_eq!(SolutionId::parse(&text).unwrap(), id);
        assert_eq!(id.split_name(), Some(("Security", "myWorkspace")));
        assert_eq!(SolutionId::new(SUB, "rg", "Security").split_name(), None);
        assert_eq!(SolutionId::new(SUB, "rg", "Security()").split_name(), None);
        let e = SolutionId::parse(&text.replace("OperationsManagement", "Security")).unwrap_err();
        assert!(
            e.to_string().contains("Microsoft.OperationsManagement"),
            "{e}"
        );
    }

    #[test]
    fn data_connector_id_round_trips() {
        let id = DataConnectorId::new(ws(), "763f9fa1-c2d3-4fa2-93e9-bccd4899aa12");
        let text = id.to_string();
        assert_eq!(DataConnectorId::parse(&text).unwrap(), id);
        let lower = text.to_ascii_lowercase();
        let parsed = DataConnectorId::parse(&lower).unwrap();
        assert!(parsed.workspace.same_as(&ws()));
        assert!(
            DataConnectorId::parse(&format!(
                "{ws}/providers/Microsoft.SecurityInsights/onboardingStates/default",
                ws = ws()
            ))
            .is_err()
        );
    }

    #[test]
    fn setting_scope_is_subscription_or_resource_group() {
        assert!(matches!(
            parse_setting_scope(&format!("/subscriptions/{SUB}")),
            Ok(Scope::Subscription { .. })
        ));
        assert!(matches!(
            parse_setting_scope(&format!("/subscriptions/{SUB}/resourceGroups/rg")),
            Ok(Scope::ResourceGroup { .. })
        ));
        assert!(parse_setting_scope(&ws().to_string()).is_err());
        assert!(
            parse_setting_scope("/providers/Microsoft.Management/managementGroups/mg").is_err()
        );
    }
}
