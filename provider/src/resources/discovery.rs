//! Pieces the resource identities and list resources (`terraform query`) share: the list
//! configuration of subscription-level types, subscription defaults for identities, and the
//! canonical spelling of the IDs identities carry.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::is_guid;
use crate::framework::{AttrPath, Config, Ctx, Diagnostic, Diagnostics};

/// Which subscriptions a `list` block looks in.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_subscriptions_list")]
pub struct SubscriptionsListConfig {
    /// The subscriptions to look in, by ID. Defaults to the provider's subscription.
    pub subscription_ids: Option<Vec<String>>,
}

/// Checks `subscription_ids`: each a GUID, no repeats.
pub fn validate_subscription_ids(ids: Option<&[String]>, diags: &mut Diagnostics) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in ids.unwrap_or_default().iter().enumerate() {
        let path = AttrPath::root("subscription_ids").index(i as i64);
        if !is_guid(s) {
            diags.error_at(
                path,
                "Invalid subscription ID",
                format!(
                    "{s:?} is not a subscription ID. Expected a GUID such as \
                     \"00000000-0000-0000-0000-000000000000\"."
                ),
            );
        } else if !seen.insert(s.to_ascii_lowercase()) {
            diags.error_at(
                path,
                "Duplicate subscription ID",
                format!("{s:?} is listed twice."),
            );
        }
    }
}

/// The validation of [`SubscriptionsListConfig`].
pub fn validate_subscriptions_list(
    config: &Config<'_, SubscriptionsListConfig>,
    diags: &mut Diagnostics,
) {
    validate_subscription_ids(config.model.subscription_ids.as_deref(), diags);
}

/// The subscriptions a list looks in: the configured ones, else the provider's.
pub fn list_subscriptions(ctx: &Ctx, ids: Option<&[String]>) -> Result<Vec<String>, Diagnostic> {
    super::common::subscriptions(ctx, ids, "subscription_ids in the list block's config")
}

/// The subscription an identity names; its default is the provider's (as for the resource).
pub fn identity_subscription(ctx: &Ctx, given: Option<&str>) -> Result<String, Diagnostics> {
    let sub = match given {
        Some(s) => s.to_owned(),
        None => super::common::provider_subscription(
            ctx,
            "subscription_id in the import block's identity",
            None,
        )?,
    };
    if !is_guid(&sub) {
        return Err(Diagnostic::error(
            "Invalid identity",
            format!("subscription_id {sub:?} is not a subscription ID (a GUID)."),
        )
        .into());
    }
    Ok(sub.to_ascii_lowercase())
}

/// The identity of a subscription singleton (one setting per subscription, with a fixed
/// name: `defender_auto_provisioning`, `defender_security_contact`,
/// `defender_server_vulnerability_assessment`, `defender_workspace_setting`):
/// `import { to = …, identity = { subscription_id = "…" } }`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_subscription_singleton_identity")]
pub struct SubscriptionIdentity {
    /// The subscription (lower case). Defaults to the provider's subscription on import.
    pub subscription_id: Option<String>,
}

impl SubscriptionIdentity {
    /// The identity of a state in `subscription_id`; `None` while that is not known.
    pub fn of(subscription_id: Option<&str>) -> Option<Self> {
        Some(SubscriptionIdentity {
            subscription_id: Some(canonical_subscription(subscription_id?)),
        })
    }

    /// The subscription the identity names (the provider's by default), in lower case.
    pub fn subscription(&self, ctx: &Ctx) -> Result<String, Diagnostics> {
        identity_subscription(ctx, self.subscription_id.as_deref())
    }
}

/// A subscription ID as identities carry it: lower case, as ARM answers it.
pub fn canonical_subscription(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// A scope or ARM ID as identities carry it: the leading `/subscriptions/{guid}` in lower case
/// (as ARM answers it); the rest as given (names keep their case). Others as they are.
pub fn canonical_scope(s: &str) -> String {
    let mut parts = s.splitn(4, '/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(key), Some(sub), rest) if key.eq_ignore_ascii_case("subscriptions") => {
            let mut out = format!("/subscriptions/{}", canonical_subscription(sub));
            if let Some(rest) = rest {
                out.push('/');
                out.push_str(rest);
            }
            out
        }
        _ => s.to_owned(),
    }
}

/// The scope an identity names (a management group, subscription, resource group or
/// resource), or the diagnostic for an import by identity.
pub fn identity_scope(scope: &str) -> Result<crate::arm::ids::Scope, Diagnostics> {
    crate::arm::ids::Scope::parse(scope)
        .map_err(|e| Diagnostic::error("Invalid identity", format!("scope {scope:?}: {e}")).into())
}

/// Checks a name an identity gives (`what` says of what): ARM names are non-empty and hold no
/// `/`.
pub fn identity_name(name: &str, what: &str) -> Result<(), Diagnostics> {
    if name.is_empty() || name.contains('/') {
        return Err(Diagnostic::error(
            "Invalid identity",
            format!("name {name:?} is not {what} name (non-empty, without '/')"),
        )
        .into());
    }
    Ok(())
}

/// A Log Analytics workspace ID as identities carry it: ARM's keywords in canonical case, the
/// subscription in lower case, the group and workspace names as given. `None` when `id` is not
/// a workspace ID.
pub fn identity_workspace_id(id: &str) -> Option<String> {
    let ws = super::workspace_ids::WorkspaceId::parse(id).ok()?;
    Some(canonical_scope(&ws.to_string()))
}

/// The workspace an identity names (its subscription in lower case, as the identity the
/// imported state gets has it), or the diagnostic for an import by identity.
pub fn identity_workspace(id: &str) -> Result<super::workspace_ids::WorkspaceId, Diagnostics> {
    let ws = super::workspace_ids::WorkspaceId::parse(id).map_err(|e| {
        Diagnostic::error(
            "Invalid identity",
            format!(
                "workspace_id {id:?}: {}. Expected {}",
                e.reason,
                super::workspace_ids::WorkspaceId::FORMAT
            ),
        )
    })?;
    Ok(super::workspace_ids::WorkspaceId {
        subscription_id: canonical_subscription(&ws.subscription_id),
        ..ws
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subscription_ids_are_guids_without_repeats() {
        let mut diags = Diagnostics::new();
        let ids = vec![
            "20ff7fc3-e762-44dd-bd96-b71116dcdc23".to_owned(),
            "nope".to_owned(),
            "20FF7FC3-E762-44DD-BD96-B71116DCDC23".to_owned(),
        ];
        validate_subscription_ids(Some(&ids), &mut diags);
        let paths: Vec<_> = diags.0.iter().map(|d| d.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                Some(AttrPath::root("subscription_ids").index(1)),
                Some(AttrPath::root("subscription_ids").index(2)),
            ]
        );
        assert!(diags.0[0].detail.contains("Expected a GUID"));
    }

    #[test]
    fn identity_ids_have_a_lower_case_subscription_and_names_as_given() {
        assert_eq!(
            canonical_scope(
                "/SUBSCRIPTIONS/20FF7FC3-E762-44DD-BD96-B71116DCDC23/resourceGroups/Rg"
            ),
            "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg"
        );
        assert_eq!(
            canonical_scope("/subscriptions/20FF7FC3-E762-44DD-BD96-B71116DCDC23"),
            "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23"
        );
        let mg = "/providers/Microsoft.Management/managementGroups/Mg";
        assert_eq!(canonical_scope(mg), mg);
        assert_eq!(
            identity_workspace_id(
                "/subscriptions/20FF7FC3-E762-44DD-BD96-B71116DCDC23/resourcegroups/Rg/providers/microsoft.operationalinsights/workspaces/Law-1"
            )
            .as_deref(),
            Some(
                "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/Rg/providers/Microsoft.OperationalInsights/workspaces/Law-1"
            )
        );
        assert!(identity_workspace_id("/subscriptions/x").is_none());
        assert_eq!(
            identity_workspace(
                "/subscriptions/20FF7FC3-E762-44DD-BD96-B71116DCDC23/resourceGroups/Rg/providers/Microsoft.OperationalInsights/workspaces/Law-1"
            )
            .unwrap()
            .subscription_id,
            "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
        );
        let e = identity_workspace("nope").unwrap_err();
        assert!(e.0[0].detail.contains("Expected /subscriptions/"), "{e:?}");
    }

    /// The subscription singletons' identity, as Terraform gets it from a state: the
    /// subscription in lower case; none while the subscription is not known.
    #[test]
    fn subscription_singletons_are_identified_by_the_lower_case_subscription() {
        use crate::framework::Value;
        let r = crate::resources::registry();
        let ws = "/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law";
        for (name, required) in [
            ("defender_auto_provisioning", json!({ "enabled": false })),
            ("defender_security_contact", json!({})),
            ("defender_server_vulnerability_assessment", json!({})),
            ("defender_workspace_setting", json!({ "workspace_id": ws })),
        ] {
            let res = &r.resources[name];
            let state = |sub: serde_json::Value| {
                let mut j = required.clone();
                j["subscription_id"] = sub;
                crate::framework::convert::json_to_value(&j, res.value_type()).unwrap()
            };
            let identity = res.identity_of(&state(json!("20FF7FC3-E762-44DD-BD96-B71116DCDC23")));
            assert_eq!(
                identity.as_ref().and_then(|i| i.attr("subscription_id")),
                Some(&Value::String(
                    "20ff7fc3-e762-44dd-bd96-b71116dcdc23".into()
                )),
                "{name}"
            );
            assert_eq!(res.identity_of(&state(json!(null))), None, "{name}");
            let schema = &res.identity_schema().unwrap().schema;
            assert_eq!(
                schema
                    .attributes
                    .iter()
                    .map(|a| (a.name.as_str(), a.required))
                    .collect::<Vec<_>>(),
                [("subscription_id", false)],
                "{name}"
            );
        }
    }

    /// Terraform requires an identity of the same type name for every list resource; docs
    /// need descriptions everywhere.
    #[test]
    fn list_resources_have_identities_and_everything_is_described() {
        let r = crate::resources::registry();
        assert_eq!(r.list_resources.len(), 5);
        for (name, l) in &r.list_resources {
            let res = r.resources.get(name).expect("a resource of the same name");
            assert!(res.identity_schema().is_some(), "{name} has no identity");
            assert!(!l.description().is_empty(), "{name}");
            for a in &l.schema().attributes {
                assert!(!a.description.is_empty(), "list {name}.{}", a.name);
                assert!(
                    !a.required,
                    "list {name}.{}: every list config attribute is optional",
                    a.name
                );
            }
        }
        for (name, res) in &r.resources {
            for a in res
                .identity_schema()
                .iter()
                .flat_map(|i| &i.schema.attributes)
            {
                assert!(!a.description.is_empty(), "identity {name}.{}", a.name);
            }
        }
        assert_eq!(r.actions.len(), 2);
        for (name, a) in &r.actions {
            assert!(!a.schema().description.is_empty(), "{name}");
            for attr in &a.schema().attributes {
                assert!(!attr.description.is_empty(), "action {name}.{}", attr.name);
            }
        }
    }
}
