//! `defender_workspace_solution`: the `Security` or `SecurityCenterFree` solution
//! (Microsoft.OperationsManagement/solutions, api-version 2015-11-01-preview, arm-api.md §11.3)
//! that a custom workspace needs before Defender for Cloud processes the data it receives.
//!
//! Names and plans (policy-catalog.md §12): `Security({workspace})` with product
//! `OMSGallery/Security` (Defender plans on; policy 3e596b57 audits `Security(*)`),
//! `SecurityCenterFree({workspace})` with product `OMSGallery/SecurityCenterFree` (free tier;
//! deployed by the AMA pipeline policies). The solution lives in the workspace's resource group.
//! Whether the service answers PUT synchronously is not re-read (arm-api.md §11.3 gives no
//! status codes); the ARM client follows a long-running answer either way.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::arm_error;
use super::default_workspace::normalize_location;
use super::workspace_ids::{
    SolutionId, WorkspaceId, canonical_workspace_id, validate_workspace_id,
};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Only api-version of Microsoft.OperationsManagement/solutions (arm-api.md §0).
pub const API_VERSION: &str = "2015-11-01-preview";
/// api-version used to read a workspace's location.
pub const WORKSPACE_API_VERSION: &str = "2023-09-01";

/// The solutions this resource manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solution {
    Security,
    SecurityCenterFree,
}

impl Solution {
    pub const ALLOWED: &'static str = "\"Security\" or \"SecurityCenterFree\"";

    pub fn parse(s: &str) -> Option<Solution> {
        if s.eq_ignore_ascii_case("Security") {
            Some(Solution::Security)
        } else if s.eq_ignore_ascii_case("SecurityCenterFree") {
            Some(Solution::SecurityCenterFree)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Solution::Security => "Security",
            Solution::SecurityCenterFree => "SecurityCenterFree",
        }
    }

    pub fn product(self) -> String {
        format!("OMSGallery/{}", self.name())
    }

    /// From a plan's `product`, `OMSGallery/{name}`.
    pub fn from_product(product: &str) -> Option<Solution> {
        let (gallery, name) = product.split_once('/')?;
        gallery
            .eq_ignore_ascii_case("OMSGallery")
            .then(|| Solution::parse(name))
            .flatten()
    }

    /// The solution's resource ID for `workspace`: `Security(ws)` in the workspace's group.
    pub fn id_for(self, workspace: &WorkspaceId) -> SolutionId {
        SolutionId::new(
            &workspace.subscription_id,
            &workspace.resource_group,
            format!("{}({})", self.name(), workspace.name),
        )
    }
}

/// Adds the Defender for Cloud solution to a Log Analytics workspace: `Security` (the data of
/// machines covered by a Defender for Servers plan) or `SecurityCenterFree` (the free tier).
/// Defender for Cloud processes the data a custom workspace receives only once the workspace
/// has the solution; on its own default workspaces it installs it itself.
///
/// The solution is named `Security({workspace})` or `SecurityCenterFree({workspace})` and lives
/// in the workspace's resource group. Destroying this resource removes the solution.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_workspace_solution")]
pub struct WorkspaceSolutionModel {
    /// The solution's ARM ID:
    /// `/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.OperationsManagement/solutions/{solution}({workspace})`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The ARM ID of the Log Analytics workspace.
    #[schemars(extend("requires_replace" = true, "case_insensitive" = true))]
    pub workspace_id: String,
    /// `Security` or `SecurityCenterFree`.
    #[schemars(extend("requires_replace" = true))]
    pub solution: String,
    /// The solution's region. Defaults to the workspace's region, which is where a workspace's
    /// solutions belong.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub location: Option<String>,
}

pub struct WorkspaceSolution;

fn parse_inputs(m: &WorkspaceSolutionModel) -> Result<(WorkspaceId, Solution), Diagnostic> {
    let ws = WorkspaceId::parse(&m.workspace_id).map_err(|e| {
        Diagnostic::error("Invalid Log Analytics workspace ID", e.to_string())
            .at(AttrPath::root("workspace_id"))
    })?;
    let solution = Solution::parse(&m.solution).ok_or_else(|| {
        Diagnostic::error(
            "Invalid solution",
            format!(
                "{:?} is not a solution; use {}",
                m.solution,
                Solution::ALLOWED
            ),
        )
        .at(AttrPath::root("solution"))
    })?;
    Ok((ws, solution))
}

/// What GET answered.
#[derive(Debug, Clone, PartialEq)]
struct Remote {
    location: Option<String>,
    workspace_id: Option<String>,
    solution: Option<Solution>,
}

fn parse_remote(body: &serde_json::Value) -> Remote {
    let s = |p: &str| body.pointer(p).and_then(|v| v.as_str()).map(str::to_owned);
    Remote {
        location: s("/location"),
        workspace_id: s("/properties/workspaceResourceId"),
        solution: s("/plan/product")
            .as_deref()
            .and_then(Solution::from_product),
    }
}

fn keep_spelling(
    state: Option<&str>,
    remote: Option<String>,
    same: fn(&str, &str) -> bool,
) -> Option<String> {
    match (state, remote) {
        (Some(s), Some(r)) if same(s, &r) => Some(s.to_owned()),
        (_, Some(r)) => Some(r),
        (s, None) => s.map(str::to_owned),
    }
}

fn same_location(a: &str, b: &str) -> bool {
    normalize_location(a) == normalize_location(b)
}

fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl WorkspaceSolution {
    async fn get(&self, ctx: &Ctx, id: &SolutionId) -> Result<Option<Remote>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => Ok(Some(parse_remote(&resp.body))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    /// The workspace's region, for a solution configured without one.
    async fn workspace_location(&self, ctx: &Ctx, ws: &WorkspaceId) -> Result<String, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        let resp = arm
            .get(&ws.to_string(), WORKSPACE_API_VERSION)
            .await
            .map_err(|e| {
                arm_error("reading", ws.describe(), &e).at(AttrPath::root("workspace_id"))
            })?;
        resp.body
            .get("location")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                Diagnostic::error(
                    "Unexpected response",
                    format!("reading {}: the response has no location", ws.describe()),
                )
            })
    }

    async fn put(
        &self,
        ctx: &Ctx,
        ws: &WorkspaceId,
        solution: Solution,
        location: &str,
        operation: &str,
    ) -> Result<SolutionId, Diagnostic> {
        let id = solution.id_for(ws);
        let arm = ctx.provider()?.arm().await?;
        let body = json!({
            "location": location,
            "plan": {
                "name": id.name,
                "publisher": "Microsoft",
                "product": solution.product(),
                "promotionCode": ""
            },
            "properties": { "workspaceResourceId": ws.to_string() }
        });
        arm.put(&id.to_string(), API_VERSION, &body)
            .await
            .map_err(|e| arm_error(operation, id.describe(), &e))?;
        Ok(id)
    }
}

impl Resource for WorkspaceSolution {
    type Model = WorkspaceSolutionModel;
    const TYPE_NAME: &'static str = "defender_workspace_solution";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        if !config.is_unknown("workspace_id") {
            validate_workspace_id("workspace_id", Some(&config.model.workspace_id), diags);
        }
        if !config.is_unknown("solution") && Solution::parse(&config.model.solution).is_none() {
            diags.error_at(
                AttrPath::root("solution"),
                "Invalid solution",
                format!(
                    "{:?} is not a Defender for Cloud solution; use {}.",
                    config.model.solution,
                    Solution::ALLOWED
                ),
            );
        }
        if let Some(l) = &config.model.location
            && l.trim().is_empty()
        {
            diags.error_at(
                AttrPath::root("location"),
                "Invalid location",
                "the location is empty; set a region such as \"westeurope\", or leave it out to \
                 use the workspace's region",
            );
        } else if let Some(l) = &config.model.location
            && !config.is_unknown("location")
            && !l.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        {
            // ARM region names are letters and digits ("westeurope"); ARM also normalises
            // display names ("West Europe"), so spaces pass. Anything else ARM refuses with
            // LocationNotAvailableForResourceType after the solution's other checks.
            diags.error_at(
                AttrPath::root("location"),
                "Invalid location",
                format!(
                    "{l:?} is not an Azure region name: use letters and digits such as \
                     \"westeurope\" (or a display name such as \"West Europe\"), or leave it \
                     out to use the workspace's region"
                ),
            );
        }
    }

    async fn plan(&self, _ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        if plan.config_unknown("workspace_id") || plan.config_unknown("solution") {
            return;
        }
        if let Ok((ws, solution)) = parse_inputs(&plan.planned) {
            plan.planned.id = Some(solution.id_for(&ws).to_string());
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let (ws, solution) = parse_inputs(&planned)?;
        let location = match &planned.location {
            Some(l) => l.clone(),
            None => self.workspace_location(ctx, &ws).await?,
        };
        let id = self.put(ctx, &ws, solution, &location, "creating").await?;
        Ok(WorkspaceSolutionModel {
            id: Some(id.to_string()),
            location: Some(location),
            ..planned
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let (ws, solution) = parse_inputs(&state)?;
        let id = solution.id_for(&ws);
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|remote| WorkspaceSolutionModel {
                id: Some(id.to_string()),
                workspace_id: keep_spelling(
                    Some(&state.workspace_id),
                    remote.workspace_id.as_deref().map(canonical_workspace_id),
                    same_id,
                )
                .unwrap_or_else(|| state.workspace_id.clone()),
                solution: match remote.solution {
                    Some(s) if Solution::parse(&state.solution) == Some(s) => {
                        state.solution.clone()
                    }
                    Some(s) => s.name().to_owned(),
                    None => state.solution.clone(),
                },
                location: keep_spelling(state.location.as_deref(), remote.location, same_location),
            }))
    }

    /// Every argument replaces the resource; an update only re-applies the same solution.
    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let (ws, solution) = parse_inputs(&planned)?;
        let location = planned
            .location
            .clone()
            .or_else(|| prior.location.clone())
            .unwrap_or_default();
        match self.put(ctx, &ws, solution, &location, "updating").await {
            Ok(id) => Ok(WorkspaceSolutionModel {
                id: Some(id.to_string()),
                location: Some(location),
                ..planned
            }),
            Err(d) => Err(Failed::with_partial(d, prior)),
        }
    }

    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let (ws, solution) = parse_inputs(&state)?;
        let id = solution.id_for(&ws);
        let arm = ctx.provider()?.arm().await?;
        arm.delete(&id.to_string(), API_VERSION)
            .await
            .map_err(|e| arm_error("deleting", id.describe(), &e))?;
        Ok(())
    }
}

impl Import for WorkspaceSolution {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let bad = |why: String| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{why}. Expected {}", SolutionId::FORMAT),
            )
        };
        let parsed = SolutionId::parse(id).map_err(|e| bad(e.to_string()))?;
        let (name, workspace) = parsed.split_name().ok_or_else(|| {
            bad(format!(
                "the name {:?} is not {{solution}}({{workspace}})",
                parsed.name
            ))
        })?;
        let solution = Solution::parse(name).ok_or_else(|| {
            bad(format!(
                "{name:?} is not a Defender for Cloud solution ({})",
                Solution::ALLOWED
            ))
        })?;
        let remote = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        let ws = WorkspaceId::new(&parsed.subscription_id, &parsed.resource_group, workspace);
        Ok(WorkspaceSolutionModel {
            id: Some(solution.id_for(&ws).to_string()),
            workspace_id: remote
                .workspace_id
                .as_deref()
                .map(canonical_workspace_id)
                .unwrap_or_else(|| ws.to_string()),
            solution: solution.name().to_owned(),
            location: remote.location,
        })
    }
}

/// `moved { from = azurerm_log_analytics_solution.x  to = defender_workspace_solution.x }`:
/// azurerm (log_analytics_solution_resource.go, schema version 1; version 0 differs only in the
/// spelling of `id`, which parses case-insensitively) stores `id`
/// (`…/solutions/{solution_name}({workspace_name})`), `solution_name`, `workspace_name`,
/// `workspace_resource_id`, `location`, `resource_group_name`, a `plan` block (`name`,
/// `publisher`, `product`, `promotion_code`) and `tags`. The map:
/// - `solution_name` → `solution` (its canonical spelling); any other solution than `Security`
///   or `SecurityCenterFree` is refused: it stays with azurerm;
/// - `workspace_resource_id` → `workspace_id` (derived from the ID when missing);
/// - `location` → `location` (left for the next read when empty);
/// - `resource_group_name`, `workspace_name` and `plan` are checked, not kept: this resource
///   writes `{solution}({workspace})` in the workspace's resource group with the product
///   `OMSGallery/{solution}`, so a solution named or placed otherwise is refused;
/// - `tags` are not managed: they stay on the solution in Azure.
impl MoveState for WorkspaceSolution {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_log_analytics_solution" {
            return None;
        }
        Some((|| {
            let s = &source.state;
            let text = |k: &str| source.text(k).map(str::to_owned);
            let refuse = |why: String| Diagnostic::error("Cannot move state", why);
            let raw_id = text("id").unwrap_or_default();
            let id = SolutionId::parse(&raw_id)
                .map_err(|e| refuse(format!("the azurerm state's id {raw_id:?}: {e}")))?;
            let (id_solution, id_workspace) = id.split_name().ok_or_else(|| {
                refuse(format!(
                    "the azurerm state's id {raw_id:?}: the name {:?} is not \
                     {{solution}}({{workspace}})",
                    id.name
                ))
            })?;
            let name = text("solution_name").unwrap_or_else(|| id_solution.to_owned());
            let solution = Solution::parse(&name).ok_or_else(|| {
                refuse(format!(
                    "{} is the solution {name:?}, not a Defender for Cloud solution ({}): \
                     defender_workspace_solution manages only those. It stays with azurerm: \
                     remove this moved block and keep its azurerm_log_analytics_solution.",
                    id.describe(),
                    Solution::ALLOWED
                ))
            })?;
            let workspace_id = match text("workspace_resource_id") {
                Some(w) => w,
                None => WorkspaceId::new(&id.subscription_id, &id.resource_group, id_workspace)
                    .to_string(),
            };
            let ws = WorkspaceId::parse(&workspace_id)
                .map_err(|e| refuse(format!("the azurerm state's workspace_resource_id: {e}")))?;
            // The solution this resource reads and writes must be the one azurerm managed.
            let expected = solution.id_for(&ws);
            if !expected.to_string().eq_ignore_ascii_case(&id.to_string()) {
                return Err(refuse(format!(
                    "{} does not belong to workspace {:?} the way defender_workspace_solution \
                     places solutions: it manages {expected}, named {{solution}}({{workspace}}) \
                     in the workspace's resource group. Keep this solution in azurerm.",
                    id.describe(),
                    ws.to_string()
                ))
                .into());
            }
            let product = s
                .get("plan")
                .and_then(|v| v.as_array())
                .and_then(|a| a.first())
                .and_then(|p| p.get("product"))
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty());
            if let Some(product) = product
                && Solution::from_product(product) != Some(solution)
            {
                return Err(refuse(format!(
                    "{} has the plan product {product:?}; defender_workspace_solution writes {:?} \
                     for the solution {:?}. Keep this solution in azurerm.",
                    id.describe(),
                    solution.product(),
                    solution.name()
                ))
                .into());
            }
            Ok(WorkspaceSolutionModel {
                id: Some(expected.to_string()),
                workspace_id,
                solution: solution.name().to_owned(),
                location: text("location"),
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity

/// The identity of a `defender_workspace_solution`: `import { to = …, identity = {
/// workspace_id = "…", solution = "Security" } }`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_workspace_solution_identity")]
pub struct WorkspaceSolutionIdentity {
    /// The ARM ID of the Log Analytics workspace (its subscription in lower case).
    pub workspace_id: String,
    /// `Security` or `SecurityCenterFree` (any case on import).
    pub solution: String,
}

impl crate::framework::Identity for WorkspaceSolution {
    type Identity = WorkspaceSolutionIdentity;

    fn identity(&self, state: &Self::Model) -> Option<WorkspaceSolutionIdentity> {
        Some(WorkspaceSolutionIdentity {
            workspace_id: super::discovery::identity_workspace_id(&state.workspace_id)?,
            solution: Solution::parse(&state.solution)?.name().to_owned(),
        })
    }

    fn import_id(
        &self,
        _ctx: &Ctx,
        identity: &WorkspaceSolutionIdentity,
    ) -> Result<String, Diagnostics> {
        let ws = super::discovery::identity_workspace(&identity.workspace_id)?;
        let solution = Solution::parse(&identity.solution).ok_or_else(|| {
            Diagnostic::error(
                "Invalid identity",
                format!(
                    "solution {:?} is not a Defender for Cloud solution; use {}",
                    identity.solution,
                    Solution::ALLOWED
                ),
            )
        })?;
        Ok(solution.id_for(&ws).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    #[test]
    fn names_products_and_ids() {
        let ws = WorkspaceId::new(SUB, "rg", "law");
        let id = Solution::Security.id_for(&ws);
        assert_eq!(
            id.to_string(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationsManagement/solutions/Security(law)"
            )
        );
        assert_eq!(
            Solution::SecurityCenterFree.product(),
            "OMSGallery/SecurityCenterFree"
        );
        assert_eq!(
            Solution::from_product("omsgallery/securitycenterfree"),
            Some(Solution::SecurityCenterFree)
        );
        assert_eq!(Solution::from_product("OMSGallery/SecurityInsights"), None);
        assert_eq!(Solution::parse("security"), Some(Solution::Security));
        assert_eq!(Solution::parse("Sentinel"), None);
    }

    #[test]
    fn parses_a_solution_body() {
        let r = parse_remote(&json!({
            "location": "West Europe",
            "plan": {"name": "Security(law)", "publisher": "Microsoft", "product": "OMSGallery/Security", "promotionCode": ""},
            "properties": {"workspaceResourceId": "/x", "provisioningState": "Succeeded"}
        }));
        assert_eq!(r.solution, Some(Solution::Security));
        assert_eq!(r.workspace_id.as_deref(), Some("/x"));
        assert_eq!(
            keep_spelling(Some("westeurope"), r.location, same_location).as_deref(),
            Some("westeurope")
        );
        assert_eq!(
            keep_spelling(
                Some("westeurope"),
                Some("northeurope".into()),
                same_location
            )
            .as_deref(),
            Some("northeurope")
        );
    }

    fn azurerm_solution(solution: &str, workspace_rg: &str) -> MoveSource {
        let ws = format!(
            "/subscriptions/{SUB}/resourceGroups/{workspace_rg}/providers/Microsoft.OperationalInsights/workspaces/law1"
        );
        MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_log_analytics_solution".into(),
            schema_version: 1,
            state: json!({
                "id": format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationsManagement/solutions/{solution}(law1)"),
                "solution_name": solution,
                "workspace_name": "law1",
                "workspace_resource_id": ws,
                "location": "westeurope",
                "resource_group_name": "rg",
                "plan": [{"name": format!("{solution}(law1)"), "publisher": "Microsoft",
                          "product": format!("OMSGallery/{solution}"), "promotion_code": ""}],
                "tags": {"env": "prod"},
                "timeouts": null
            }),
        }
    }

    #[test]
    fn moves_azurerm_state() {
        let src = azurerm_solution("SecurityCenterFree", "rg");
        let m = WorkspaceSolution.move_state(&src).unwrap().unwrap();
        assert_eq!(
            m,
            WorkspaceSolutionModel {
                id: Some(format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationsManagement/solutions/SecurityCenterFree(law1)"
                )),
                workspace_id: format!(
                    "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1"
                ),
                solution: "SecurityCenterFree".into(),
                location: Some("westeurope".into()),
            }
        );
        // Schema version 0: the ID in other case, the workspace derived from it when missing.
        let mut v0 = azurerm_solution("security", "rg");
        v0.schema_version = 0;
        v0.state["id"] = json!(format!(
            "/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.OperationsManagement/solutions/security(law1)"
        ));
        v0.state["workspace_resource_id"] = json!(null);
        v0.state["location"] = json!("");
        let m = WorkspaceSolution.move_state(&v0).unwrap().unwrap();
        assert_eq!(m.solution, "Security");
        assert!(m.id.as_deref().unwrap().contains("/resourceGroups/rg/"));
        assert!(
            m.workspace_id.ends_with("/workspaces/law1"),
            "{}",
            m.workspace_id
        );
        assert_eq!(m.location, None);

        let other = MoveSource {
            type_name: "azurerm_log_analytics_workspace".into(),
            ..src
        };
        assert!(WorkspaceSolution.move_state(&other).is_none());
    }

    #[test]
    fn refuses_to_move_other_solutions_and_other_placements() {
        let e = WorkspaceSolution
            .move_state(&azurerm_solution("SecurityInsights", "rg"))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.0[0].summary, "Cannot move state");
        assert!(e.0[0].detail.contains("\"SecurityInsights\""), "{e:?}");
        assert!(e.0[0].detail.contains("stays with azurerm"), "{e:?}");
        // The workspace in another resource group than the solution.
        let e = WorkspaceSolution
            .move_state(&azurerm_solution("Security", "other-rg"))
            .unwrap()
            .unwrap_err();
        assert!(e.0[0].detail.contains("Security(law1)"), "{e:?}");
        // A Security-named solution of another product.
        let mut src = azurerm_solution("Security", "rg");
        src.state["plan"][0]["product"] = json!("OMSGallery/SecurityInsights");
        let e = WorkspaceSolution.move_state(&src).unwrap().unwrap_err();
        assert!(
            e.0[0].detail.contains("OMSGallery/SecurityInsights"),
            "{e:?}"
        );
        let mut src = azurerm_solution("Security", "rg");
        src.state["id"] = json!("/subscriptions/x");
        assert!(WorkspaceSolution.move_state(&src).unwrap().is_err());
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;
    use crate::framework::Identity;

    const WS: &str = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg/providers/Microsoft.OperationalInsights/workspaces/Law-1";

    #[test]
    fn identity_is_the_canonical_workspace_and_solution() {
        let m: WorkspaceSolutionModel = serde_json::from_value(json!({
            "workspace_id": WS.replace("20ff7fc3", "20FF7FC3"),
            "solution": "securitycenterfree"
        }))
        .unwrap();
        let identity = WorkspaceSolution.identity(&m).unwrap();
        assert_eq!(identity.workspace_id, WS);
        assert_eq!(identity.solution, "SecurityCenterFree");
        let ctx = Ctx::new(None, Default::default());
        assert_eq!(
            WorkspaceSolution.import_id(&ctx, &identity).unwrap(),
            "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg/providers/Microsoft.OperationsManagement/solutions/SecurityCenterFree(Law-1)"
        );
        let bad = WorkspaceSolutionIdentity {
            solution: "Sentinel".into(),
            ..identity
        };
        let e = WorkspaceSolution.import_id(&ctx, &bad).unwrap_err();
        assert!(e.0[0].detail.contains("\"SecurityCenterFree\""), "{e:?}");
    }
}
