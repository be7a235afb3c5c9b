//! `defender_setting`: Microsoft.Security/settings/{name}, api-version 2022-05-01.
//!
//! The subscription's integration toggles of Defender for Cloud (arm-api.md §5). Every setting
//! exists in every subscription (the list always returns them) and there is no DELETE: create
//! adopts the setting, destroy PUTs its default back (`enabled = false`, see [`SETTINGS`]).
//! `kind` is the body's discriminator and required by the service; it follows from the name
//! (`AlertSyncSettings` for Sentinel, `DataExportSettings` for the others), so users never
//! write it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::common::{arm_error, plan_subscription, subscription, validate_subscription_id};
use crate::arm::ids::{ResourceId, SubscriptionId};
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// Stable api-version of Microsoft.Security/settings (arm-api.md §0; azurerm uses it too).
pub const API_VERSION: &str = "2022-05-01";

/// One setting this resource manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingInfo {
    /// The setting name, as the spec's `settingName` enum spells it.
    pub name: &'static str,
    /// The body's `kind` discriminator.
    pub kind: &'static str,
    /// What destroy puts back. All `false`: the unfiltered list example
    /// (2022-05-01/GetSettings_example.json) shows WDATP, WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW,
    /// WDATP_UNIFIED_SOLUTION and Sentinel disabled in a subscription; MCAS is in no list
    /// example and is reset to disabled like the others (azurerm's delete does the same).
    pub default_enabled: bool,
    /// What the toggle does, listed by the unknown-name diagnostic.
    pub meaning: &'static str,
}

/// The settings of the 2022-05-01 `settingName` enum (arm-api.md §5). `WDATP_VNEXT`, which
/// the service also lists, is not in the enum and not managed. `AlertSuppressionSetting` is a
/// kind of the enum that no setting name uses.
pub const SETTINGS: &[SettingInfo] = &[
    SettingInfo {
        name: "WDATP",
        kind: "DataExportSettings",
        default_enabled: false,
        meaning: "the integration with Microsoft Defender for Endpoint (the portal's \
                  \"Endpoint protection\" toggle)",
    },
    SettingInfo {
        name: "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW",
        kind: "DataExportSettings",
        default_enabled: false,
        meaning: "an exclusion: true keeps Linux machines out of the Defender for Endpoint \
                  integration, false includes them",
    },
    SettingInfo {
        name: "WDATP_UNIFIED_SOLUTION",
        kind: "DataExportSettings",
        default_enabled: false,
        meaning: "the Defender for Endpoint unified solution for Windows Server 2012 R2 and \
                  2016",
    },
    SettingInfo {
        name: "MCAS",
        kind: "DataExportSettings",
        default_enabled: false,
        meaning: "the integration with Microsoft Defender for Cloud Apps",
    },
    SettingInfo {
        name: "Sentinel",
        kind: "AlertSyncSettings",
        default_enabled: false,
        meaning: "alert synchronisation with Microsoft Sentinel",
    },
];

/// The setting called exactly `name`.
pub fn setting_info(name: &str) -> Option<&'static SettingInfo> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// The setting whose name matches `name` ignoring case (ARM names are case-insensitive,
/// arm-api.md §13.6; azurerm's old state spelt Sentinel `SENTINEL`).
pub fn setting_info_ignore_case(name: &str) -> Option<&'static SettingInfo> {
    SETTINGS.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

fn allowed_names() -> String {
    SETTINGS
        .iter()
        .map(|s| format!("{:?}", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// Typed IDs of subscription-level Microsoft.Security resources

/// Parses `/subscriptions/{guid}/providers/Microsoft.Security/{type_name}/{name}` with
/// case-insensitive segment names and namespace; returns the subscription and the name as
/// given. Used by the typed IDs of this module and of `security_contact` and
/// `server_vulnerability_assessment`.
pub(crate) fn parse_security_id(input: &str, type_name: &str) -> Result<(String, String), String> {
    let id = ResourceId::parse(input).map_err(|e| e.reason)?;
    let segs = id.segments();
    let want = [
        ("subscriptions", None),
        ("providers", Some("Microsoft.Security")),
        (type_name, None),
    ];
    for (i, (key, value)) in want.iter().enumerate() {
        let Some(seg) = segs.get(i) else {
            return Err(format!("the segment {key:?} is missing"));
        };
        if !seg.key.eq_ignore_ascii_case(key) {
            return Err(format!(
                "segment {} is {:?}, expected {key:?}",
                i * 2 + 1,
                seg.key
            ));
        }
        if let Some(v) = value
            && !seg.value.eq_ignore_ascii_case(v)
        {
            return Err(format!(
                "the provider namespace is {:?}, expected {v:?}",
                seg.value
            ));
        }
    }
    if segs.len() > want.len() {
        return Err(format!(
            "unexpected segments after the name: {}",
            ResourceId::from_segments(segs[want.len()..].to_vec())
        ));
    }
    let sub = SubscriptionId::parse(&segs[0].value).map_err(|e| e.reason)?;
    Ok((sub.as_str().to_string(), segs[2].value.clone()))
}

/// `/subscriptions/{sub}/providers/Microsoft.Security/settings/{name}`, the name one of
/// [`SETTINGS`] (canonical spelling after parsing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecuritySettingId {
    pub subscription_id: String,
    pub name: String,
}

impl SecuritySettingId {
    pub const FORMAT: &'static str =
        "/subscriptions/{subscription_id}/providers/Microsoft.Security/settings/{name}";

    pub fn new(subscription_id: impl Into<String>, name: impl Into<String>) -> Self {
        SecuritySettingId {
            subscription_id: subscription_id.into(),
            name: name.into(),
        }
    }

    /// Parses the ID; segment names, namespace and setting name are case-insensitive, the
    /// name is returned in its canonical spelling.
    pub fn parse(input: &str) -> Result<Self, String> {
        let (subscription_id, name) = parse_security_id(input, "settings")
            .map_err(|e| format!("parsing {input:?} as a Security Setting ID: {e}"))?;
        let info = setting_info_ignore_case(&name).ok_or_else(|| {
            format!(
                "parsing {input:?} as a Security Setting ID: {name:?} is not a setting this \
                 provider manages; allowed: {}",
                allowed_names()
            )
        })?;
        Ok(SecuritySettingId::new(subscription_id, info.name))
    }

    /// `Security Setting (Subscription "…" / Name "…")`, azurerm's way of naming it.
    pub fn describe(&self) -> String {
        format!(
            "Security Setting (Subscription {:?} / Name {:?})",
            self.subscription_id, self.name
        )
    }
}

impl fmt::Display for SecuritySettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/providers/Microsoft.Security/settings/{}",
            self.subscription_id, self.name
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Model

/// Manages one of Defender for Cloud's integration settings of a subscription
/// (Microsoft.Security/settings): the Defender for Endpoint integration (`WDATP`, the portal's
/// "Endpoint protection" toggle) and its Linux and unified-solution variants, the Defender for
/// Cloud Apps integration (`MCAS`) and alert synchronisation with Microsoft Sentinel.
///
/// Every setting always exists: creating this resource adopts it, destroying it sets it back
/// to its default, disabled (`enabled = false`).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_setting")]
pub struct SettingModel {
    /// The ARM ID of the setting:
    /// `/subscriptions/{subscription_id}/providers/Microsoft.Security/settings/{name}`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The subscription whose setting this is. Defaults to the provider's subscription.
    #[schemars(extend("optional" = true, "computed" = true, "requires_replace" = true))]
    pub subscription_id: Option<String>,
    /// The setting, spelt as Azure does: `WDATP` (Defender for Endpoint integration, the
    /// portal's "Endpoint protection"), `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` (an exclusion:
    /// `true` keeps Linux machines out of that integration), `WDATP_UNIFIED_SOLUTION` (the
    /// unified solution for Windows Server 2012 R2 and 2016), `MCAS` (Defender for Cloud Apps)
    /// or `Sentinel` (alert synchronisation with Microsoft Sentinel).
    #[schemars(extend(
        "requires_replace" = true,
        "enum" = ["WDATP", "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW", "WDATP_UNIFIED_SOLUTION", "MCAS", "Sentinel"]
    ))]
    pub name: String,
    /// Whether the setting is on. For `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW` the meaning is
    /// inverted: `false` includes Linux machines in the Defender for Endpoint integration.
    pub enabled: bool,
    /// The body's `kind`, derived from the name: `AlertSyncSettings` for `Sentinel`,
    /// `DataExportSettings` for the others.
    #[schemars(extend("computed" = true))]
    pub kind: Option<String>,
}

pub struct Setting;

fn describe(id: &SecuritySettingId) -> String {
    id.describe()
}

/// `properties.enabled` of a GET answer. The service answers a JSON boolean; policy
/// f9e2bd2f writes the string `"false"`, so a string is read too.
fn parse_enabled(body: &serde_json::Value) -> Option<bool> {
    match body.pointer("/properties/enabled")? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl Setting {
    async fn put(
        &self,
        ctx: &Ctx,
        id: &SecuritySettingId,
        info: &SettingInfo,
        enabled: bool,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        let body = json!({ "kind": info.kind, "properties": { "enabled": enabled } });
        arm.put(&id.to_string(), API_VERSION, &body)
            .await
            .map(|_| ())
            .map_err(|e| arm_error(operation, describe(id), &e))
    }

    /// `None` when ARM answers 404 (the subscription is gone: the settings always exist).
    async fn get(&self, ctx: &Ctx, id: &SecuritySettingId) -> Result<Option<bool>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => parse_enabled(&resp.body).map(Some).ok_or_else(|| {
                Diagnostic::error(
                    "Unexpected response",
                    format!(
                        "reading {}: the response has no boolean properties.enabled",
                        describe(id)
                    ),
                )
            }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(arm_error("reading", describe(id), &e)),
        }
    }

    fn model(id: &SecuritySettingId, info: &SettingInfo, enabled: bool) -> SettingModel {
        SettingModel {
            id: Some(id.to_string()),
            subscription_id: Some(id.subscription_id.clone()),
            name: info.name.to_string(),
            enabled,
            kind: Some(info.kind.to_string()),
        }
    }
}

/// The setting a model names; an error diagnostic on `name` otherwise (validate has already
/// refused it, so this only guards state written by hand).
fn info_of(name: &str) -> Result<&'static SettingInfo, Diagnostic> {
    setting_info(name).ok_or_else(|| unknown_name(name))
}

fn unknown_name(name: &str) -> Diagnostic {
    let hint = setting_info_ignore_case(name)
        .map(|s| {
            format!(
                " Did you mean {:?}? Setting names are case-sensitive.",
                s.name
            )
        })
        .unwrap_or_default();
    let meanings: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("- {}: {}", s.name, s.meaning))
        .collect();
    Diagnostic::error(
        "Unknown setting name",
        format!(
            "{name:?} is not a Defender for Cloud setting this provider manages.{hint} Allowed \
             values: {}.\n\n{}",
            allowed_names(),
            meanings.join("\n")
        ),
    )
    .at(AttrPath::root("name"))
}

impl Resource for Setting {
    type Model = SettingModel;
    const TYPE_NAME: &'static str = "defender_setting";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        validate_subscription_id(config.model.subscription_id.as_deref(), diags);
        if config.is_unknown("name") {
            return;
        }
        let name = &config.model.name;
        if setting_info(name).is_none() {
            diags.push(unknown_name(name));
            return;
        }
        if name == "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW"
            && config.model.enabled
            && !config.is_unknown("enabled")
        {
            diags.warning_at(
                AttrPath::root("enabled"),
                "Linux machines are excluded from Defender for Endpoint",
                "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW is an exclusion: enabled = true keeps Linux \
                 machines out of the Defender for Endpoint integration. Set enabled = false to \
                 include them.",
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        let unknown = plan.config_unknown("subscription_id");
        plan_subscription(ctx, unknown, &mut plan.planned.subscription_id);
        if plan.config_unknown("name") {
            return;
        }
        if let Some(info) = setting_info(&plan.planned.name) {
            plan.planned.kind = Some(info.kind.to_string());
            if let Some(sub) = &plan.planned.subscription_id {
                plan.planned.id = Some(SecuritySettingId::new(sub.clone(), info.name).to_string());
            }
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let info = info_of(&planned.name)?;
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = SecuritySettingId::new(sub, info.name);
        self.put(ctx, &id, info, planned.enabled, "creating")
            .await?;
        Ok(Self::model(&id, info, planned.enabled))
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let info = info_of(&state.name)?;
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = SecuritySettingId::new(sub, info.name);
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|enabled| Self::model(&id, info, enabled)))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let info = info_of(&planned.name)?;
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = SecuritySettingId::new(sub, info.name);
        if let Err(d) = self.put(ctx, &id, info, planned.enabled, "updating").await {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(Self::model(&id, info, planned.enabled))
    }

    /// There is no DELETE (arm-api.md §5): destroy puts the setting's default back.
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let info = info_of(&state.name)?;
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = SecuritySettingId::new(sub, info.name);
        self.put(ctx, &id, info, info.default_enabled, "deleting")
            .await?;
        Ok(())
    }
}

impl Import for Setting {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = SecuritySettingId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{e}. Expected {}", SecuritySettingId::FORMAT),
            )
        })?;
        let info = info_of(&parsed.name)?;
        let enabled = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", describe(&parsed)),
            )
        })?;
        Ok(Self::model(&parsed, info, enabled))
    }
}

/// `moved { from = azurerm_security_center_setting.x  to = defender_setting.x }`: azurerm
/// (schema version 1) stores `id`, `setting_name` and `enabled`; its version 0 spelt Sentinel's
/// ID `SENTINEL`, which the case-insensitive lookup takes as well.
impl MoveState for Setting {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_security_center_setting" {
            return None;
        }
        Some((|| {
            let raw_id = source
                .state
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let parsed = SecuritySettingId::parse(raw_id).map_err(|e| {
                Diagnostic::error("Cannot move state", format!("the azurerm state's id: {e}"))
            })?;
            let info = info_of(&parsed.name)?;
            let enabled = source
                .state
                .get("enabled")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            Ok(Self::model(&parsed, info, enabled))
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and list (`terraform query`)

/// The identity of a `defender_setting`: `import { to = defender_setting.x, identity = {
/// name = "WDATP" } }`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_setting_identity")]
pub struct SettingIdentity {
    /// The subscription (lower case). Defaults to the provider's subscription on import.
    pub subscription_id: Option<String>,
    /// The setting, e.g. `WDATP` or `Sentinel` (any case on import).
    pub name: String,
}

impl crate::framework::Identity for Setting {
    type Identity = SettingIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SettingIdentity> {
        Some(SettingIdentity {
            subscription_id: Some(super::discovery::canonical_subscription(
                state.subscription_id.as_deref()?,
            )),
            name: setting_info_ignore_case(&state.name)?.name.to_owned(),
        })
    }

    fn import_id(&self, ctx: &Ctx, identity: &SettingIdentity) -> Result<String, Diagnostics> {
        let sub =
            super::discovery::identity_subscription(ctx, identity.subscription_id.as_deref())?;
        Ok(SecuritySettingId::new(sub, &identity.name).to_string())
    }
}

impl crate::framework::ListResource for Setting {
    type ListConfig = super::discovery::SubscriptionsListConfig;
    const LIST_DESCRIPTION: &'static str = "Lists the Defender for Cloud integration settings \
        of subscriptions: one result per setting this provider manages (`WDATP`, \
        `WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW`, `WDATP_UNIFIED_SOLUTION`, `MCAS`, `Sentinel`), \
        as the portal shows them. `terraform query -generate-config-out=FILE` writes a \
        `defender_setting` with an `import` block (by identity) for each.";

    fn validate_list(&self, config: &Config<'_, Self::ListConfig>, diags: &mut Diagnostics) {
        super::discovery::validate_subscriptions_list(config, diags);
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: Self::ListConfig,
        sink: crate::framework::ListSink<Self::Model>,
    ) -> Result<(), Diagnostics> {
        let arm = ctx.provider()?.arm().await?;
        for sub in super::discovery::list_subscriptions(ctx, config.subscription_ids.as_deref())? {
            let path = format!("/subscriptions/{sub}/providers/Microsoft.Security/settings");
            let items = arm.list(&path, API_VERSION, &[]).await.map_err(|e| {
                arm_error(
                    "listing",
                    format!("Security Settings (Subscription {sub:?})"),
                    &e,
                )
            })?;
            // The list also answers WDATP_VNEXT, which is not a setting of the api-version's
            // enum (arm-api.md §5): only the managed ones are listed.
            for info in SETTINGS {
                let Some(enabled) = items
                    .iter()
                    .find(|i| {
                        i.get("name")
                            .and_then(|n| n.as_str())
                            .is_some_and(|n| n.eq_ignore_ascii_case(info.name))
                    })
                    .and_then(parse_enabled)
                else {
                    continue;
                };
                let id = SecuritySettingId::new(sub.clone(), info.name);
                let state = Self::model(&id, info, enabled);
                let shown = format!(
                    "{} ({}): {}",
                    info.name,
                    sub,
                    if enabled { "enabled" } else { "disabled" }
                );
                if !sink.send(shown, state).await {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    #[test]
    fn setting_id_parses_case_insensitively_and_round_trips() {
        let valid = format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP");
        let id = SecuritySettingId::parse(&valid).unwrap();
        assert_eq!(id, SecuritySettingId::new(SUB, "WDATP"));
        assert_eq!(id.to_string(), valid);
        assert_eq!(SecuritySettingId::parse(&id.to_string()).unwrap(), id);
        let shouty = SecuritySettingId::parse(&format!(
            "/SUBSCRIPTIONS/{SUB}/PROVIDERS/microsoft.security/SETTINGS/sentinel"
        ))
        .unwrap();
        assert_eq!(shouty.name, "Sentinel", "canonical spelling");
        assert_eq!(
            shouty.to_string(),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/Sentinel")
        );
        assert_eq!(
            shouty.describe(),
            format!("Security Setting (Subscription \"{SUB}\" / Name \"Sentinel\")")
        );
    }

    #[test]
    fn setting_id_refuses_other_shapes() {
        for bad in [
            String::new(),
            format!("/subscriptions/{SUB}"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/pricings/WDATP"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Compute/settings/WDATP"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP/x/y"),
            "/subscriptions/nope/providers/Microsoft.Security/settings/WDATP".to_string(),
            format!("subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP"),
        ] {
            assert!(SecuritySettingId::parse(&bad).is_err(), "{bad:?}");
        }
        let e = SecuritySettingId::parse(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Security/settings/WDATP_VNEXT"
        ))
        .unwrap_err();
        assert!(e.contains("\"WDATP_VNEXT\" is not a setting"), "{e}");
        assert!(e.contains("\"Sentinel\""), "names the allowed ones: {e}");
    }

    #[test]
    fn kinds_follow_the_name_and_defaults_are_disabled() {
        for s in SETTINGS {
            let want = if s.name == "Sentinel" {
                "AlertSyncSettings"
            } else {
                "DataExportSettings"
            };
            assert_eq!(s.kind, want, "{}", s.name);
            assert!(!s.default_enabled, "{}", s.name);
        }
        assert_eq!(SETTINGS.len(), 5);
        assert!(setting_info("sentinel").is_none());
        assert_eq!(
            setting_info_ignore_case("SENTINEL").unwrap().name,
            "Sentinel"
        );
    }

    #[test]
    fn schema_lists_the_allowed_names() {
        let schema = crate::framework::Schema::of::<SettingModel>().unwrap();
        let name = schema.attribute("name").unwrap();
        let listed: Vec<&str> = name.allowed.iter().map(String::as_str).collect();
        let table: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        assert_eq!(listed, table);
        assert!(name.required && name.requires_replace);
        assert!(schema.attribute("kind").unwrap().computed);
    }

    #[test]
    fn enabled_is_read_from_a_boolean_or_a_policy_string() {
        assert_eq!(
            parse_enabled(&json!({"properties": {"enabled": true}})),
            Some(true)
        );
        assert_eq!(
            parse_enabled(&json!({"properties": {"enabled": "False"}})),
            Some(false)
        );
        assert_eq!(parse_enabled(&json!({"properties": {}})), None);
    }

    #[test]
    fn unknown_names_are_refused_on_the_attribute_with_the_allowed_list() {
        let d = unknown_name("sentinel");
        assert_eq!(d.path, Some(AttrPath::root("name")));
        assert!(
            d.detail.contains("Did you mean \"Sentinel\"?"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("\"WDATP_UNIFIED_SOLUTION\""),
            "{}",
            d.detail
        );
        let d = unknown_name("Nope");
        assert!(!d.detail.contains("Did you mean"), "{}", d.detail);
    }

    #[test]
    fn moves_azurerm_state_of_either_schema_version() {
        let r = Setting;
        for (id_name, setting_name) in [("SENTINEL", "SENTINEL"), ("WDATP", "WDATP")] {
            let source = MoveSource {
                provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
                type_name: "azurerm_security_center_setting".into(),
                schema_version: 1,
                state: json!({
                    "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/settings/{id_name}"),
                    "setting_name": setting_name,
                    "enabled": true,
                }),
            };
            let m = r.move_state(&source).unwrap().unwrap();
            assert!(m.enabled);
            assert_eq!(m.subscription_id.as_deref(), Some(SUB));
            assert!(setting_info(&m.name).is_some());
            assert_eq!(
                m.id,
                Some(SecuritySettingId::new(SUB, m.name.clone()).to_string())
            );
        }
        let other = MoveSource {
            provider_address: String::new(),
            type_name: "azurerm_security_center_contact".into(),
            schema_version: 0,
            state: json!({}),
        };
        assert!(r.move_state(&other).is_none());
    }
}
