//! The Log Analytics workspace Defender for Cloud creates for itself in a region:
//! data source `defender_default_workspace` and function
//! `provider::defender::default_workspace_id(subscription_id, location)`.
//!
//! Names: workspace `DefaultWorkspace-{subscription}-{code}` in resource group
//! `DefaultResourceGroup-{code}`, where `{code}` is the region's short code
//! (policy-catalog.md §12, from `locationLongNameToShortMap` of the Defender for Containers
//! policies 64def556/708b60a6, 56 regions). Those policies have no fallback for a region outside
//! the map, so neither do we: an unmapped region is an error, not a guess. The other policies
//! of §12 use variant maps (canadaeast → CCA in the Defender for SQL/AMA maps, westindia → CIN,
//! a lowercase `defaultWorkspace-` in the deprecated AMA pipeline 8b5ad9ab); this follows the
//! map the current Defender plans use.
//!
//! Everything here is computed offline: no ARM call, so the values are known at plan time.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{is_guid, subscription, validate_subscription_id};
use super::workspace_ids::WorkspaceId;
use crate::framework::{
    AttrPath, Config, Ctx, DataSource, Diagnostic, Diagnostics, Function, FunctionError, Param,
    Signature, Type, Value,
};

/// Region (ARM location name) → the short code in the default workspace's name
/// (policy-catalog.md §12; codes are case-sensitive as the policies write them).
pub const REGION_CODES: &[(&str, &str)] = &[
    ("australiacentral", "CAU"),
    ("australiacentral2", "CBR2"),
    ("australiaeast", "EAU"),
    ("australiasoutheast", "SEAU"),
    ("brazilsouth", "CQ"),
    ("brazilsoutheast", "BRSE"),
    ("canadacentral", "CCA"),
    ("canadaeast", "YQ"),
    ("centralindia", "CIN"),
    ("centralus", "CUS"),
    ("chinaeast2", "E2"),
    ("chinaeast3", "NE3"),
    ("chinanorth3", "NN3"),
    ("eastasia", "EA"),
    ("eastus", "EUS"),
    ("eastus2", "EUS2"),
    ("eastus2euap", "eus2p"),
    ("francecentral", "PAR"),
    ("francesouth", "MRS"),
    ("germanynorth", "DEN"),
    ("germanywestcentral", "DEWC"),
    ("israelcentral", "ILC"),
    ("italynorth", "ITN"),
    ("japaneast", "EJP"),
    ("japanwest", "OS"),
    ("jioindiacentral", "JINC"),
    ("jioindiawest", "JINW"),
    ("koreacentral", "SE"),
    ("koreasouth", "PS"),
    ("mexicocentral", "MXC"),
    ("northcentralus", "NCUS"),
    ("northeurope", "NEU"),
    ("norwayeast", "NOE"),
    ("norwaywest", "NOW"),
    ("polandcentral", "PLC"),
    ("qatarcentral", "QLC"),
    ("southafricanorth", "JNB"),
    ("southafricawest", "CPT"),
    ("southcentralus", "SCUS"),
    ("southeastasia", "SEA"),
    ("southindia", "MA"),
    ("spaincentral", "ESC"),
    ("swedencentral", "SEC"),
    ("switzerlandnorth", "CHN"),
    ("switzerlandwest", "CHW"),
    ("uaecentral", "AUH"),
    ("uaenorth", "DXB"),
    ("uksouth", "SUK"),
    ("ukwest", "WUK"),
    ("usgovarizona", "USGA"),
    ("usgovvirginia", "USGV"),
    ("westcentralus", "WCUS"),
    ("westeurope", "WEU"),
    ("westus", "WUS"),
    ("westus2", "WUS2"),
    ("westus3", "USW3"),
];

/// ARM's location name for what users write: `West Europe` → `westeurope`.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The region's code, or an explanation naming the regions that have one.
pub fn region_code(location: &str) -> Result<&'static str, String> {
    let wanted = normalize_location(location);
    REGION_CODES
        .iter()
        .find(|(region, _)| *region == wanted)
        .map(|(_, code)| *code)
        .ok_or_else(|| {
            let known: Vec<&str> = REGION_CODES.iter().map(|(r, _)| *r).collect();
            format!(
                "{location:?} is not a region for which Defender for Cloud names a default \
                 workspace (its policies have no code for it). Known regions: {}.",
                known.join(", ")
            )
        })
}

/// The region table of the docs (`examples/data-sources/defender_default_workspace/notes.md`).
pub fn markdown_region_table() -> String {
    let mut out = String::from("| Region | Code |\n|---|---|\n");
    for (region, code) in REGION_CODES {
        out.push_str(&format!("| `{region}` | `{code}` |\n"));
    }
    out
}

/// The default workspace of a subscription in a region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultWorkspace {
    pub code: &'static str,
    pub id: WorkspaceId,
}

impl DefaultWorkspace {
    pub fn resolve(subscription_id: &str, location: &str) -> Result<Self, String> {
        if !is_guid(subscription_id) {
            return Err(format!(
                "{subscription_id:?} is not a subscription ID. Expected a GUID such as \
                 \"00000000-0000-0000-0000-000000000000\"."
            ));
        }
        let code = region_code(location)?;
        Ok(DefaultWorkspace {
            code,
            id: WorkspaceId::new(
                subscription_id,
                format!("DefaultResourceGroup-{code}"),
                format!("DefaultWorkspace-{subscription_id}-{code}"),
            ),
        })
    }
}

/// The Log Analytics workspace Defender for Cloud creates for a subscription in a region when
/// no custom workspace is configured: `DefaultWorkspace-{subscription}-{code}` in resource
/// group `DefaultResourceGroup-{code}`, where `{code}` is the region's short code (for example
/// `WEU` for `westeurope`), as Defender for Cloud's own policies name it.
///
/// The values are computed offline and known at plan time; the data source does not check that
/// the workspace exists (Defender for Cloud creates it on first use).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_default_workspace")]
pub struct DefaultWorkspaceModel {
    /// The subscription. Defaults to the provider's subscription.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub subscription_id: Option<String>,
    /// The region, as an ARM location name (`westeurope`) or display name (`West Europe`).
    pub location: String,
    /// The workspace's ARM ID.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The workspace's name, `DefaultWorkspace-{subscription}-{code}`.
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// The workspace's resource group, `DefaultResourceGroup-{code}`.
    #[schemars(extend("computed" = true))]
    pub resource_group_name: Option<String>,
    /// The region's short code, e.g. `WEU`.
    #[schemars(extend("computed" = true))]
    pub region_code: Option<String>,
}

pub struct DefaultWorkspaceDataSource;

impl DataSource for DefaultWorkspaceDataSource {
    type Model = DefaultWorkspaceModel;
    const TYPE_NAME: &'static str = "defender_default_workspace";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        validate_subscription_id(config.model.subscription_id.as_deref(), diags);
        if !config.is_unknown("location")
            && let Err(e) = region_code(&config.model.location)
        {
            diags.error_at(AttrPath::root("location"), "Unknown region", e);
        }
    }

    async fn read(&self, ctx: &Ctx, config: Self::Model) -> Result<Self::Model, Diagnostics> {
        let sub = subscription(ctx, config.subscription_id.as_deref())?;
        let dw = DefaultWorkspace::resolve(&sub, &config.location)
            .map_err(|e| Diagnostic::error("Unknown region", e).at(AttrPath::root("location")))?;
        Ok(DefaultWorkspaceModel {
            subscription_id: Some(sub),
            id: Some(dw.id.to_string()),
            name: Some(dw.id.name.clone()),
            resource_group_name: Some(dw.id.resource_group.clone()),
            region_code: Some(dw.code.to_owned()),
            ..config
        })
    }
}

/// `provider::defender::default_workspace_id(subscription_id, location)`.
pub struct DefaultWorkspaceIdFunction;

impl Function for DefaultWorkspaceIdFunction {
    const NAME: &'static str = "default_workspace_id";

    fn signature(&self) -> Signature {
        Signature {
            summary: "The ID of the Log Analytics workspace Defender for Cloud creates in a region",
            description: "Returns the ARM ID of the workspace Defender for Cloud creates for a \
subscription in a region, `/subscriptions/{subscription_id}/resourceGroups/DefaultResourceGroup-{code}/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{subscription_id}-{code}`, \
where `{code}` is the region's short code (`WEU` for `westeurope`). Computed offline, so it is \
known at plan time; it does not check that the workspace exists. A region for which Defender \
for Cloud has no code is an error.",
            params: vec![
                Param {
                    name: "subscription_id",
                    ty: Type::String,
                    description: "The subscription ID (a GUID).",
                    allow_null: false,
                },
                Param {
                    name: "location",
                    ty: Type::String,
                    description: "The region, as an ARM location name (`westeurope`) or display \
                                  name (`West Europe`).",
                    allow_null: false,
                },
            ],
            variadic: None,
            returns: Type::String,
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        let arg = |i: usize| -> Result<&str, FunctionError> {
            args.get(i)
                .and_then(Value::as_str)
                .ok_or_else(|| FunctionError {
                    text: "expected a string".to_owned(),
                    argument: Some(i as i64),
                })
        };
        let (sub, location) = (arg(0)?, arg(1)?);
        if !is_guid(sub) {
            return Err(FunctionError {
                text: format!("{sub:?} is not a subscription ID (a GUID)"),
                argument: Some(0),
            });
        }
        let dw = DefaultWorkspace::resolve(sub, location).map_err(|text| FunctionError {
            text,
            argument: Some(1),
        })?;
        Ok(Value::String(dw.id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    #[test]
    fn the_map_has_the_56_regions_of_the_policies_once_each() {
        assert_eq!(REGION_CODES.len(), 56);
        let mut regions: Vec<&str> = REGION_CODES.iter().map(|(r, _)| *r).collect();
        regions.sort_unstable();
        regions.dedup();
        assert_eq!(regions.len(), 56);
        for (region, code) in REGION_CODES {
            assert_eq!(normalize_location(region), *region);
            assert!(!code.is_empty());
        }
    }

    #[test]
    fn the_docs_list_the_region_map() {
        let notes = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/data-sources/defender_default_workspace/notes.md");
        let text = std::fs::read_to_string(&notes).expect("notes.md");
        let table = markdown_region_table();
        assert!(
            text.contains(&table),
            "{} is out of date; its table must read:\n{table}",
            notes.display()
        );
        let rows = text.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(
            rows,
            REGION_CODES.len(),
            "no other rows in {}",
            notes.display()
        );
    }

    #[test]
    fn names_follow_defender_for_cloud() {
        let dw = DefaultWorkspace::resolve(SUB, "West Europe").unwrap();
        assert_eq!(dw.code, "WEU");
        assert_eq!(
            dw.id.to_string(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/DefaultResourceGroup-WEU/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{SUB}-WEU"
            )
        );
        // Codes keep the policies' case.
        assert_eq!(region_code("eastus2euap"), Ok("eus2p"));
        assert_eq!(region_code("EastUS"), Ok("EUS"));
        assert_eq!(region_code("westus3"), Ok("USW3"));
    }

    #[test]
    fn unmapped_regions_are_errors_naming_the_known_ones() {
        let e = region_code("westindia").unwrap_err();
        assert!(e.contains("\"westindia\" is not a region"), "{e}");
        assert!(e.contains("westeurope"), "{e}");
        assert!(DefaultWorkspace::resolve("nope", "westeurope").is_err());
    }

    #[test]
    fn function_returns_the_id_and_blames_the_argument() {
        let f = DefaultWorkspaceIdFunction;
        let v = f
            .call(vec![
                Value::String(SUB.into()),
                Value::String("northeurope".into()),
            ])
            .unwrap();
        assert_eq!(
            v.as_str().unwrap(),
            format!(
                "/subscriptions/{SUB}/resourceGroups/DefaultResourceGroup-NEU/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{SUB}-NEU"
            )
        );
        let e = f
            .call(vec![
                Value::String("x".into()),
                Value::String("northeurope".into()),
            ])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
        let e = f
            .call(vec![
                Value::String(SUB.into()),
                Value::String("mars".into()),
            ])
            .unwrap_err();
        assert_eq!(e.argument, Some(1));
        assert_eq!(f.signature().params.len(), 2);
    }
}
