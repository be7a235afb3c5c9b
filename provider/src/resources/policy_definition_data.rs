//! `defender_policy_definition`: a catalog entry by key (the built-in policy definitions and
//! initiatives Defender for Cloud auto provisioning uses). Offline: the catalog is compiled into
//! the provider, so the values are known at plan time and no ARM call is made.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{self, CatalogEntry};
use crate::framework::{AttrPath, Config, Ctx, DataSource, Diagnostic, Diagnostics};

/// Looks up a built-in policy definition or initiative that Defender for Cloud auto provisioning
/// uses, by its catalog key (`kubernetes-policy-addon`, `mde`, `ama-windows`, …): its ID,
/// display name, version, parameters and the roles its managed identity needs.
///
/// The catalog is part of the provider, so this reads nothing from Azure and its values are
/// known at plan time. `defender_policy_assignment` takes the same keys.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_policy_definition")]
pub struct PolicyDefinitionDataModel {
    /// The catalog key, e.g. `kubernetes-policy-addon`, `dependency-agent-linux` or `mde`.
    pub key: String,
    /// The definition's ARM ID: `/providers/Microsoft.Authorization/policyDefinitions/{guid}`, or
    /// `/providers/Microsoft.Authorization/policySetDefinitions/{guid}` for an initiative.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The definition's name (its GUID).
    #[schemars(extend("computed" = true))]
    pub name: Option<String>,
    /// `Definition` (a policy definition) or `Set` (an initiative).
    #[schemars(extend("computed" = true))]
    pub kind: Option<String>,
    /// The definition's display name.
    #[schemars(extend("computed" = true))]
    pub display_name: Option<String>,
    /// The definition's version (what `definition_version` patterns such as `1.*.*` match).
    #[schemars(extend("computed" = true))]
    pub version: Option<String>,
    /// What the policy deploys, in a sentence.
    #[schemars(extend("computed" = true))]
    pub deploys: Option<String>,
    /// True when the policy is deprecated upstream or refused by the service (the Log Analytics
    /// agent policies); see `replaced_by`.
    #[schemars(extend("computed" = true))]
    pub retired: Option<bool>,
    /// The catalog key to use instead of a retired policy; null otherwise.
    #[schemars(extend("computed" = true))]
    pub replaced_by: Option<String>,
    /// GUIDs of the roles the assignment's managed identity needs (the definition's
    /// `roleDefinitionIds`; for an initiative, those of every member). A full ID is
    /// `/providers/Microsoft.Authorization/roleDefinitions/{guid}`.
    #[schemars(extend("computed" = true))]
    pub role_definition_ids: Option<Vec<String>>,
    /// The parameters an assignment can set, by name.
    #[schemars(extend("computed" = true))]
    pub parameters: Option<BTreeMap<String, ParameterModel>>,
    /// The members of an initiative, in order; empty for a definition.
    #[schemars(extend("computed" = true))]
    pub members: Option<Vec<MemberModel>>,
}

/// A parameter of the definition.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ParameterModel {
    /// `String`, `Array`, `Object`, `Boolean`, `Integer`, `Float` or `DateTime`.
    #[schemars(extend("computed" = true))]
    pub r#type: Option<String>,
    /// True when the parameter has no default and an assignment must set it.
    #[schemars(extend("computed" = true))]
    pub required: Option<bool>,
    /// The default value, JSON-encoded (`jsondecode()` it); null when the parameter is required.
    #[schemars(extend("computed" = true))]
    pub default_value: Option<String>,
    /// The allowed values, each JSON-encoded; empty when any value of the type is allowed.
    #[schemars(extend("computed" = true))]
    pub allowed_values: Option<Vec<String>>,
    /// True when the value is a resource ID the assignment's identity gets its roles on
    /// (`assignPermissions`).
    #[schemars(extend("computed" = true))]
    pub assign_permissions: Option<bool>,
    /// What the parameter does.
    #[schemars(extend("computed" = true))]
    pub description: Option<String>,
}

/// A member of an initiative.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MemberModel {
    /// The member's `policyDefinitionReferenceId` (what remediations and non-compliance
    /// messages name).
    #[schemars(extend("computed" = true))]
    pub reference_id: Option<String>,
    /// The member's catalog key.
    #[schemars(extend("computed" = true))]
    pub key: Option<String>,
    /// The member definition's ARM ID.
    #[schemars(extend("computed" = true))]
    pub definition_id: Option<String>,
    /// GUIDs of the roles the member needs.
    #[schemars(extend("computed" = true))]
    pub role_definition_ids: Option<Vec<String>>,
}

pub struct PolicyDefinitionData;

/// The diagnostic for a key the catalog does not have: the closest keys, then all of them.
pub fn unknown_key(key: &str) -> Diagnostic {
    Diagnostic::error("Unknown policy", unknown_key_detail(key)).at(AttrPath::root("key"))
}

/// `"…" is not a catalog key. Did you mean …? Keys: …`.
pub fn unknown_key_detail(key: &str) -> String {
    let mut s = format!("{key:?} is not a catalog key.");
    let close = catalog::suggest_keys(key);
    if !close.is_empty() {
        s.push_str(&format!(" Did you mean {}?", close.join(" or ")));
    }
    let all: Vec<&str> = catalog::entries().iter().map(|e| e.key).collect();
    s.push_str(&format!(" Keys: {}.", all.join(", ")));
    s
}

fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl PolicyDefinitionDataModel {
    fn from_entry(key: String, e: &CatalogEntry) -> Self {
        PolicyDefinitionDataModel {
            key,
            id: Some(e.definition_id.clone()),
            name: Some(e.guid().to_string()),
            kind: Some(e.kind.as_str().to_string()),
            display_name: Some(e.display_name.to_string()),
            version: Some(e.version.to_string()),
            deploys: Some(e.deploys.to_string()),
            retired: Some(e.retired),
            replaced_by: e.replaced_by.map(str::to_string),
            role_definition_ids: Some(e.role_definition_ids.clone()),
            parameters: Some(
                e.parameters
                    .iter()
                    .map(|p| {
                        (
                            p.name.to_string(),
                            ParameterModel {
                                r#type: Some(p.ty.as_str().to_string()),
                                required: Some(p.required()),
                                default_value: p.default.as_ref().map(json_text),
                                allowed_values: Some(p.allowed.iter().map(json_text).collect()),
                                assign_permissions: Some(p.assign_permissions),
                                description: Some(p.description.to_string()),
                            },
                        )
                    })
                    .collect(),
            ),
            members: Some(
                e.members
                    .iter()
                    .map(|m| MemberModel {
                        reference_id: Some(m.reference_id.to_string()),
                        key: Some(m.key.to_string()),
                        definition_id: Some(m.definition_id.clone()),
                        role_definition_ids: Some(m.role_definition_ids.clone()),
                    })
                    .collect(),
            ),
        }
    }
}

impl DataSource for PolicyDefinitionData {
    type Model = PolicyDefinitionDataModel;
    const TYPE_NAME: &'static str = "defender_policy_definition";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        if config.is_unknown("key") {
            return;
        }
        if catalog::lookup(&config.model.key).is_none() {
            diags.push(unknown_key(&config.model.key));
        }
    }

    async fn read(&self, _ctx: &Ctx, config: Self::Model) -> Result<Self::Model, Diagnostics> {
        let entry = catalog::lookup(&config.key).ok_or_else(|| unknown_key(&config.key))?;
        Ok(PolicyDefinitionDataModel::from_entry(config.key, entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{DataSourceEntry, ErasedDataSource, Schema};

    #[test]
    fn schema_derives() {
        let s = Schema::of::<PolicyDefinitionDataModel>().unwrap();
        let key = s.attributes.iter().find(|a| a.name == "key").unwrap();
        assert!(key.required);
        let params = s
            .attributes
            .iter()
            .find(|a| a.name == "parameters")
            .unwrap();
        assert!(params.computed && !params.optional);
        assert!(s.attributes.iter().all(|a| !a.description.is_empty()));
    }

    #[tokio::test]
    async fn reads_an_entry() {
        let ctx = Ctx::new(None, Default::default());
        let m = PolicyDefinitionData
            .read(
                &ctx,
                PolicyDefinitionDataModel::from_entry(
                    "x".into(),
                    catalog::lookup("mde-windows").unwrap(),
                ),
            )
            .await;
        // `key` drives the read; everything else is replaced.
        assert!(m.is_err(), "x is not a key");
        let mut config = PolicyDefinitionDataModel::from_entry(
            "defender-containers-aks".into(),
            catalog::lookup("mde-windows").unwrap(),
        );
        config.id = None;
        let m = PolicyDefinitionData.read(&ctx, config).await.unwrap();
        assert_eq!(
            m.id.as_deref(),
            Some(
                "/providers/Microsoft.Authorization/policyDefinitions/64def556-fbad-4622-930e-72d1d5589bf5"
            )
        );
        assert_eq!(m.kind.as_deref(), Some("Definition"));
        let p = &m.parameters.as_ref().unwrap()["logAnalyticsWorkspaceResourceId"];
        assert_eq!(p.default_value.as_deref(), Some("\"\""));
        assert_eq!(p.assign_permissions, Some(true));
        assert_eq!(p.required, Some(false));
        let e = &m.parameters.as_ref().unwrap()["effect"];
        assert_eq!(
            e.allowed_values.as_deref(),
            Some(
                &[
                    "\"DeployIfNotExists\"".to_string(),
                    "\"Disabled\"".to_string()
                ][..]
            )
        );
        assert_eq!(m.members.as_deref(), Some(&[][..]));
    }

    #[test]
    fn unknown_keys_fail_validation_on_the_key() {
        let entry = DataSourceEntry::new(PolicyDefinitionData);
        let ty = entry.value_type().clone();
        let mut v = crate::framework::Value::null_object(&ty);
        *v.attr_mut("key").unwrap() = crate::framework::Value::String("kubernetes-addon".into());
        let diags = entry.validate(&v);
        assert!(diags.has_errors());
        let text = format!("{diags:?}");
        assert!(
            text.contains("Did you mean kubernetes-policy-addon"),
            "{text}"
        );
        assert!(text.contains("\"key\""), "{text}");
        *v.attr_mut("key").unwrap() = crate::framework::Value::String("mde".into());
        assert!(!entry.validate(&v).has_errors());
    }
}
