//! `defender_security_contact`: Microsoft.Security/securityContacts/default, api-version
//! 2023-12-01-preview (arm-api.md §4).
//!
//! Who Defender for Cloud emails about alerts and attack paths. The API has one contact per
//! subscription, named `default` (the spec's enum says `Default`; policies and examples write
//! `default`). PUT answers 200 or 201, DELETE 200 or 204, all synchronous.
//!
//! Quirks of the published examples (rest-api-examples/INDEX.md) the reader absorbs:
//! - the GET example spells the attack-path source `AttachPath`; it is read as `AttackPath`;
//! - the PUT's 201 body has no `notificationsByRole.state`; a missing state is read from the
//!   roles (roles listed = notifications on);
//! - the list example has a role `Admin` outside the enum; unknown roles are kept as read, so
//!   the plan shows them instead of hiding them.
//!
//! `emails` is one semicolon-separated string on the wire and a list here.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::common::{arm_error, plan_subscription, subscription, validate_subscription_id};
use super::discovery::SubscriptionIdentity;
use super::setting::parse_security_id;
use crate::framework::{
    AttrPath, Config, Ctx, Diagnostic, Diagnostics, Failed, Import, MoveSource, MoveState,
    OpResult, Plan, Resource,
};

/// The api-version with `emails`, `isEnabled`, roles and notification sources (arm-api.md §4).
pub const API_VERSION: &str = "2023-12-01-preview";
/// The only contact name of 2023-12-01-preview.
pub const CONTACT_NAME: &str = "default";

/// `notificationsByRole.roles` enum.
pub const ROLES: &[&str] = &["AccountAdmin", "ServiceAdmin", "Owner", "Contributor"];
/// `minimalSeverity` of the `Alert` source.
pub const SEVERITIES: &[&str] = &["High", "Medium", "Low"];
/// `minimalRiskLevel` of the `AttackPath` source.
pub const RISK_LEVELS: &[&str] = &["Critical", "High", "Medium", "Low"];

// ---------------------------------------------------------------------------------------------
// Typed ID

/// `/subscriptions/{sub}/providers/Microsoft.Security/securityContacts/default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityContactId {
    pub subscription_id: String,
    pub name: String,
}

impl SecurityContactId {
    pub const FORMAT: &'static str =
        "/subscriptions/{subscription_id}/providers/Microsoft.Security/securityContacts/default";

    /// The subscription's contact.
    pub fn new(subscription_id: impl Into<String>) -> Self {
        SecurityContactId {
            subscription_id: subscription_id.into(),
            name: CONTACT_NAME.to_string(),
        }
    }

    /// Parses the ID; segment names, namespace and the name `default` are case-insensitive.
    pub fn parse(input: &str) -> Result<Self, String> {
        let (sub, name) = parse_security_id(input, "securityContacts")
            .map_err(|e| format!("parsing {input:?} as a Security Contact ID: {e}"))?;
        if !name.eq_ignore_ascii_case(CONTACT_NAME) {
            return Err(format!(
                "parsing {input:?} as a Security Contact ID: the name is {name:?}, but \
                 api-version {API_VERSION} has only the contact \"default\""
            ));
        }
        Ok(SecurityContactId::new(sub))
    }

    /// `Security Contact (Subscription "…" / Name "default")`.
    pub fn describe(&self) -> String {
        format!(
            "Security Contact (Subscription {:?} / Name {:?})",
            self.subscription_id, self.name
        )
    }
}

impl fmt::Display for SecurityContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/providers/Microsoft.Security/securityContacts/{}",
            self.subscription_id, self.name
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Model

/// Manages the security contact of a subscription: who Defender for Cloud emails about
/// security alerts and attack paths (the portal's "Email notifications" page).
///
/// A subscription has one contact, `default`. Creating this resource writes it (a contact
/// configured before is taken over); destroying it deletes the contact, after which Defender
/// for Cloud no longer emails the addresses and roles it named.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema, PartialEq)]
#[schemars(rename = "defender_security_contact")]
pub struct SecurityContactModel {
    /// The ARM ID of the contact:
    /// `/subscriptions/{subscription_id}/providers/Microsoft.Security/securityContacts/default`.
    #[schemars(extend("computed" = true))]
    pub id: Option<String>,
    /// The subscription whose contact this is. Defaults to the provider's subscription.
    #[schemars(extend(
        "optional" = true,
        "computed" = true,
        "requires_replace" = true,
        "case_insensitive" = true
    ))]
    pub subscription_id: Option<String>,
    /// Email addresses to notify (sent to Azure as one semicolon-separated string). Each must
    /// be a single address such as `secops@contoso.com`.
    pub emails: Option<Vec<String>>,
    /// A phone number for the contact, e.g. `+1-214-275-4038`: digits, spaces and
    /// `+ - ( ) .`, 7 to 15 digits, `+` only first.
    pub phone: Option<String>,
    /// Whether the contact receives notifications (`isEnabled`). Defaults to `true`.
    #[schemars(extend("optional" = true, "computed" = true))]
    pub enabled: Option<bool>,
    /// Also email everyone holding one of these roles on the subscription. Empty or unset
    /// turns role notifications off.
    #[schemars(extend("enum" = ["AccountAdmin", "ServiceAdmin", "Owner", "Contributor"]))]
    pub notify_roles: Option<BTreeSet<String>>,
    /// Email about security alerts of at least this severity. Unset: no alert emails.
    #[schemars(extend("enum" = ["High", "Medium", "Low"]))]
    pub alert_minimal_severity: Option<String>,
    /// Email about attack paths of at least this risk level. Unset: no attack-path emails.
    #[schemars(extend("enum" = ["Critical", "High", "Medium", "Low"]))]
    pub attack_path_minimal_risk_level: Option<String>,
}

pub struct SecurityContact;

// ---------------------------------------------------------------------------------------------
// Validation

/// Checks one email address: `local@domain.tld`, no spaces or list separators. Returns what
/// is wrong.
pub fn check_email(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || matches!(c, ';' | ','))
    {
        return Err(format!(
            "it contains {c:?}; give each address as its own list element"
        ));
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("it has no '@'".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("the part before '@' must be 1 to 64 characters".into());
    }
    const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(*c)))
    {
        return Err(format!("the part before '@' contains {c:?}"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before '@' has a misplaced '.'".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("the domain {domain:?} has no '.'"));
    }
    for label in &labels {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!("the domain {domain:?} is not a host name"));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "the domain {domain:?} does not end in a top-level domain"
        ));
    }
    Ok(())
}

/// Checks a phone number: digits, spaces and `+ - ( ) .`, `+` only first, 7 to 15 digits
/// (E.164 allows at most 15). Returns what is wrong.
pub fn check_phone(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("it is empty; leave phone unset instead".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.')))
    {
        return Err(format!("it contains {c:?}"));
    }
    if s.char_indices().any(|(i, c)| c == '+' && i > 0) {
        return Err("'+' may only come first".into());
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) {
        return Err(format!("it has {digits} digits, expected 7 to 15"));
    }
    Ok(())
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An error for a value outside `allowed`, with a hint when only the case differs (the
/// attribute keeps what the configuration says, so the spelling must be Azure's).
fn not_allowed(what: &str, value: &str, allowed: &[&str]) -> String {
    let hint = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map(|a| format!(" Did you mean {a:?}?"))
        .unwrap_or_default();
    format!(
        "{value:?} is not a {what}.{hint} Allowed values: {}.",
        quoted(allowed)
    )
}

// ---------------------------------------------------------------------------------------------
// Wire format

/// The request body for a model.
fn to_body(m: &SecurityContactModel) -> Value {
    let mut props = serde_json::Map::new();
    if let Some(emails) = m.emails.as_ref().filter(|e| !e.is_empty()) {
        props.insert("emails".into(), json!(emails.join(";")));
    }
    if let Some(phone) = &m.phone {
        props.insert("phone".into(), json!(phone));
    }
    props.insert("isEnabled".into(), json!(m.enabled.unwrap_or(true)));
    let roles: Vec<&String> = m.notify_roles.iter().flatten().collect();
    props.insert(
        "notificationsByRole".into(),
        json!({ "state": if roles.is_empty() { "Off" } else { "On" }, "roles": roles }),
    );
    let mut sources = Vec::new();
    if let Some(s) = &m.alert_minimal_severity {
        sources.push(json!({ "sourceType": "Alert", "minimalSeverity": s }));
    }
    if let Some(r) = &m.attack_path_minimal_risk_level {
        sources.push(json!({ "sourceType": "AttackPath", "minimalRiskLevel": r }));
    }
    props.insert("notificationsSources".into(), Value::Array(sources));
    json!({ "properties": props })
}

/// `value` as the prior state spelt it when they differ only in case, else Azure's spelling
/// of a known value, else as read.
fn spelled(value: &str, prior: Option<&str>, known: &[&str]) -> String {
    if let Some(p) = prior.filter(|p| p.eq_ignore_ascii_case(value)) {
        return p.to_string();
    }
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(value))
        .map_or_else(|| value.to_string(), |k| k.to_string())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A model from a GET (or PUT) answer. `prior` decides what equivalent answers look like:
/// case of enums and emails, an empty list against an unset one.
fn from_body(
    id: &SecurityContactId,
    body: &Value,
    prior: Option<&SecurityContactModel>,
) -> SecurityContactModel {
    let p = body.get("properties").unwrap_or(&Value::Null);

    let remote_emails: Vec<String> = str_at(p, "/emails")
        .unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    let prior_emails = prior.and_then(|m| m.emails.as_ref());
    let emails = if remote_emails.is_empty() {
        prior_emails.filter(|e| e.is_empty()).cloned()
    } else {
        match prior_emails {
            // Email addresses compare case-insensitively (the list example answers
            // `Jane@contoso.com`); the order is the user's.
            Some(pe) if same_ignoring_case(pe, &remote_emails) => Some(pe.clone()),
            // A real change: addresses that only differ in case keep the prior spelling, so
            // the plan shows just the ones that changed.
            _ => Some(
                remote_emails
                    .iter()
                    .map(|r| {
                        prior_emails
                            .and_then(|pe| pe.iter().find(|p| p.eq_ignore_ascii_case(r)))
                            .unwrap_or(r)
                            .clone()
                    })
                    .collect(),
            ),
        }
    };

    let phone = str_at(p, "/phone")
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);

    let enabled = p
        .get("isEnabled")
        .and_then(Value::as_bool)
        .or_else(|| prior.and_then(|m| m.enabled))
        .unwrap_or(true);

    // The 201 example has roles without a state: roles listed mean notifications are on.
    let state_off =
        str_at(p, "/notificationsByRole/state").is_some_and(|s| s.eq_ignore_ascii_case("Off"));
    let prior_roles = prior.and_then(|m| m.notify_roles.as_ref());
    let remote_roles: BTreeSet<String> = if state_off {
        BTreeSet::new()
    } else {
        p.pointer("/notificationsByRole/roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|r| {
                let prior_spelling =
                    prior_roles.and_then(|pr| pr.iter().find(|x| x.eq_ignore_ascii_case(r)));
                spelled(r, prior_spelling.map(String::as_str), ROLES)
            })
            .collect()
    };
    let notify_roles = if remote_roles.is_empty() {
        prior_roles.filter(|r| r.is_empty()).cloned()
    } else {
        Some(remote_roles)
    };

    let mut alert = None;
    let mut attack_path = None;
    for source in p
        .get("notificationsSources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = str_at(source, "/sourceType").unwrap_or_default();
        if kind.eq_ignore_ascii_case("Alert") {
            alert = str_at(source, "/minimalSeverity").map(|s| {
                spelled(
                    s,
                    prior.and_then(|m| m.alert_minimal_severity.as_deref()),
                    SEVERITIES,
                )
            });
        } else if kind.eq_ignore_ascii_case("AttackPath") || kind.eq_ignore_ascii_case("AttachPath")
        {
            // `AttachPath`: the misspelling of the published GET example.
            attack_path = str_at(source, "/minimalRiskLevel").map(|s| {
                spelled(
                    s,
                    prior.and_then(|m| m.attack_path_minimal_risk_level.as_deref()),
                    RISK_LEVELS,
                )
            });
        }
    }

    SecurityContactModel {
        id: Some(id.to_string()),
        subscription_id: Some(id.subscription_id.clone()),
        emails,
        phone,
        enabled: Some(enabled),
        notify_roles,
        alert_minimal_severity: alert,
        attack_path_minimal_risk_level: attack_path,
    }
}

/// Same addresses, ignoring case and order.
fn same_ignoring_case(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
}

// ---------------------------------------------------------------------------------------------
// Operations

impl SecurityContact {
    async fn put(
        &self,
        ctx: &Ctx,
        id: &SecurityContactId,
        model: &SecurityContactModel,
        operation: &str,
    ) -> Result<(), Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        arm.put(&id.to_string(), API_VERSION, &to_body(model))
            .await
            .map(|_| ())
            .map_err(|e| arm_error(operation, id.describe(), &e))
    }

    async fn get(&self, ctx: &Ctx, id: &SecurityContactId) -> Result<Option<Value>, Diagnostic> {
        let arm = ctx.provider()?.arm().await?;
        match arm.get(&id.to_string(), API_VERSION).await {
            Ok(resp) => Ok(Some(resp.body)),
            Err(e) if e.is_not_found() && e.code() != Some("SubscriptionNotFound") => Ok(None),
            Err(e) => Err(arm_error("reading", id.describe(), &e)),
        }
    }

    /// The state after a successful PUT: what was planned, with the values known now.
    fn applied(id: &SecurityContactId, planned: SecurityContactModel) -> SecurityContactModel {
        SecurityContactModel {
            id: Some(id.to_string()),
            subscription_id: Some(id.subscription_id.clone()),
            enabled: Some(planned.enabled.unwrap_or(true)),
            ..planned
        }
    }
}

impl Resource for SecurityContact {
    type Model = SecurityContactModel;
    const TYPE_NAME: &'static str = "defender_security_contact";

    fn validate(&self, config: &Config<'_, Self::Model>, diags: &mut Diagnostics) {
        let m = &config.model;
        validate_subscription_id(m.subscription_id.as_deref(), diags);
        if let Some(emails) = m.emails.as_ref().filter(|_| !config.is_unknown("emails")) {
            for (i, e) in emails.iter().enumerate() {
                let path = AttrPath::root("emails").index(i as i64);
                if let Err(why) = check_email(e) {
                    diags.error_at(
                        path,
                        "Invalid email address",
                        format!("{e:?} is not an email address: {why}."),
                    );
                } else if emails[..i].iter().any(|x| x.eq_ignore_ascii_case(e)) {
                    diags.error_at(
                        path,
                        "Duplicate email address",
                        format!("{e:?} is listed more than once (addresses ignore case)."),
                    );
                }
            }
        }
        let no_emails = !config.is_unknown("emails") && m.emails.as_ref().is_none_or(Vec::is_empty);
        let no_roles = !config.is_unknown("notify_roles")
            && m.notify_roles.as_ref().is_none_or(BTreeSet::is_empty);
        if no_emails && no_roles && m.enabled != Some(false) {
            diags.warning_at(
                AttrPath::root("emails"),
                "Nobody to notify",
                "The contact has no email addresses and no roles to notify, so Defender for \
                 Cloud emails nobody. Set emails or notify_roles.",
            );
        }
        if let Some(phone) = m.phone.as_ref().filter(|_| !config.is_unknown("phone"))
            && let Err(why) = check_phone(phone)
        {
            diags.error_at(
                AttrPath::root("phone"),
                "Invalid phone number",
                format!(
                    "{phone:?} is not a phone number: {why}. Use digits, spaces and + - ( ) ., \
                     e.g. \"+1-214-275-4038\"."
                ),
            );
        }
        if let Some(roles) = m
            .notify_roles
            .as_ref()
            .filter(|_| !config.is_unknown("notify_roles"))
        {
            for r in roles.iter().filter(|r| !ROLES.contains(&r.as_str())) {
                // A path into a set stops at the set.
                diags.error_at(
                    AttrPath::root("notify_roles"),
                    "Invalid role",
                    not_allowed("role Defender for Cloud notifies", r, ROLES),
                );
            }
        }
        if let Some(s) = &m.alert_minimal_severity
            && !SEVERITIES.contains(&s.as_str())
        {
            diags.error_at(
                AttrPath::root("alert_minimal_severity"),
                "Invalid alert severity",
                not_allowed("alert severity", s, SEVERITIES),
            );
        }
        if let Some(r) = &m.attack_path_minimal_risk_level
            && !RISK_LEVELS.contains(&r.as_str())
        {
            diags.error_at(
                AttrPath::root("attack_path_minimal_risk_level"),
                "Invalid attack path risk level",
                not_allowed("attack path risk level", r, RISK_LEVELS),
            );
        }
    }

    async fn plan(&self, ctx: &Ctx, plan: &mut Plan<'_, Self::Model>, _diags: &mut Diagnostics) {
        plan_subscription(
            ctx,
            plan.config_unknown("subscription_id"),
            &mut plan.planned.subscription_id,
        );
        if let Some(sub) = &plan.planned.subscription_id {
            plan.planned.id = Some(SecurityContactId::new(sub.clone()).to_string());
        }
        // A default, not "whatever the service has": unset means enabled.
        if plan.config.enabled.is_none() && !plan.config_unknown("enabled") {
            plan.planned.enabled = Some(true);
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Self::Model) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = SecurityContactId::new(sub);
        self.put(ctx, &id, &planned, "creating").await?;
        Ok(Self::applied(&id, planned))
    }

    async fn read(
        &self,
        ctx: &Ctx,
        state: Self::Model,
    ) -> OpResult<Option<Self::Model>, Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = SecurityContactId::new(sub);
        Ok(self
            .get(ctx, &id)
            .await?
            .map(|body| from_body(&id, &body, Some(&state))))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Self::Model,
        planned: Self::Model,
    ) -> OpResult<Self::Model, Self::Model> {
        let sub = subscription(ctx, planned.subscription_id.as_deref())?;
        let id = SecurityContactId::new(sub);
        if let Err(d) = self.put(ctx, &id, &planned, "updating").await {
            return Err(Failed::with_partial(d, prior));
        }
        Ok(Self::applied(&id, planned))
    }

    /// DELETE: 200 when deleted, 204 when there was none (both fine).
    async fn delete(&self, ctx: &Ctx, state: Self::Model) -> OpResult<(), Self::Model> {
        let sub = subscription(ctx, state.subscription_id.as_deref())?;
        let id = SecurityContactId::new(sub);
        let arm = ctx.provider()?.arm().await?;
        arm.delete(&id.to_string(), API_VERSION)
            .await
            .map_err(|e| arm_error("deleting", id.describe(), &e))?;
        Ok(())
    }
}

impl Import for SecurityContact {
    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Self::Model, Diagnostics> {
        let parsed = SecurityContactId::parse(id).map_err(|e| {
            Diagnostic::error(
                "Invalid import ID",
                format!("{e}. Expected {}", SecurityContactId::FORMAT),
            )
        })?;
        let body = self.get(ctx, &parsed).await?.ok_or_else(|| {
            Diagnostic::error(
                "Cannot import",
                format!("{} does not exist", parsed.describe()),
            )
        })?;
        Ok(from_body(&parsed, &body, None))
    }
}

/// `moved { from = azurerm_security_center_contact.x  to = defender_security_contact.x }`.
///
/// azurerm (api-version 2017-08-01-preview) stores `id`, `name`, `email`, `phone`,
/// `alert_notifications` and `alerts_to_admins`. The service keeps one contact per
/// subscription whatever the old name (azurerm's own tests say so), which today's API calls
/// `default`; the move maps:
/// - `email` → `emails` (split at `;` or `,`),
/// - `phone` → `phone` (empty → unset),
/// - `alert_notifications = true` → `alert_minimal_severity = "High"` (the old API emailed
///   high-severity alerts), `false` → unset,
/// - `alerts_to_admins = true` → `notify_roles = ["Owner"]` (the subscription's admins),
///   `false` → unset,
/// - `enabled = true`.
///
/// The refresh after the move reads the real contact, so the plan shows any difference.
impl MoveState for SecurityContact {
    fn move_state(&self, source: &MoveSource) -> Option<Result<Self::Model, Diagnostics>> {
        if source.type_name != "azurerm_security_center_contact" {
            return None;
        }
        Some((|| {
            let s = &source.state;
            let raw_id = s.get("id").and_then(Value::as_str).unwrap_or_default();
            let (sub, _old_name) = parse_security_id(raw_id, "securityContacts").map_err(|e| {
                Diagnostic::error(
                    "Cannot move state",
                    format!("the azurerm state's id {raw_id:?}: {e}"),
                )
            })?;
            let id = SecurityContactId::new(sub);
            let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
            let emails: Vec<String> = s
                .get("email")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split([';', ','])
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect();
            Ok(SecurityContactModel {
                id: Some(id.to_string()),
                subscription_id: Some(id.subscription_id.clone()),
                emails: (!emails.is_empty()).then_some(emails),
                phone: s
                    .get("phone")
                    .and_then(Value::as_str)
                    .filter(|p| !p.trim().is_empty())
                    .map(str::to_string),
                enabled: Some(true),
                notify_roles: flag("alerts_to_admins")
                    .then(|| BTreeSet::from(["Owner".to_string()])),
                alert_minimal_severity: flag("alert_notifications").then(|| "High".to_string()),
                attack_path_minimal_risk_level: None,
            })
        })())
    }
}

// ---------------------------------------------------------------------------------------------
// Identity and list (`terraform query`)

/// Imports by the subscription (the contact is always `default`).
impl crate::framework::Identity for SecurityContact {
    type Identity = SubscriptionIdentity;

    fn identity(&self, state: &Self::Model) -> Option<SubscriptionIdentity> {
        SubscriptionIdentity::of(state.subscription_id.as_deref())
    }

    fn import_id(&self, ctx: &Ctx, identity: &SubscriptionIdentity) -> Result<String, Diagnostics> {
        let sub = identity.subscription(ctx)?;
        Ok(SecurityContactId::new(sub).to_string())
    }
}

impl crate::framework::ListResource for SecurityContact {
    type ListConfig = super::discovery::SubscriptionsListConfig;
    const LIST_DESCRIPTION: &'static str = "Lists the security contacts (email notification \
        settings) of subscriptions; a subscription without one is skipped. \
        `terraform query -generate-config-out=FILE` writes a `defender_security_contact` with \
        an `import` block (by identity) for each.";

    fn validate_list(&self, config: &Config<'_, Self::ListConfig>, diags: &mut Diagnostics) {
        super::discovery::validate_subscriptions_list(config, diags);
    }

    async fn list(
        &self,
        ctx: &Ctx,
        config: Self::ListConfig,
        sink: crate::framework::ListSink<Self::Model>,
    ) -> Result<(), Diagnostics> {
        for sub in super::discovery::list_subscriptions(ctx, config.subscription_ids.as_deref())? {
            let id = SecurityContactId::new(sub);
            let Some(body) = self.get(ctx, &id).await? else {
                continue;
            };
            // What import builds from the same answer.
            let state = from_body(&id, &body, None);
            let shown = format!(
                "{} ({})",
                state
                    .emails
                    .as_ref()
                    .map(|e| e.join(", "))
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "no emails".to_owned()),
                id.subscription_id
            );
            if !sink.send(shown, state).await {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    /// The shape of the published GET answer (GetSecurityContact_example.json): the
    /// attack-path source spelt `AttachPath`.
    fn get_answer() -> Value {
        json!({
            "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default"),
            "name": "default",
            "type": "Microsoft.Security/securityContacts",
            "properties": {
                "notificationsByRole": {"state": "On", "roles": ["Owner"]},
                "isEnabled": true,
                "emails": "john@contoso.com;jane@contoso.com",
                "phone": "(214)275-4038",
                "notificationsSources": [
                    {"sourceType": "AttachPath", "minimalRiskLevel": "Critical"},
                    {"sourceType": "Alert", "minimalSeverity": "Medium"}
                ]
            }
        })
    }

    /// The shape of the published PUT answers (CreateSecurityContact_example.json): type
    /// `securityContact`, and the 201 without `notificationsByRole.state`.
    fn put_answer(status: u16) -> Value {
        let mut by_role = json!({"roles": ["Owner"]});
        if status == 200 {
            by_role["state"] = json!("On");
        }
        json!({
            "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default"),
            "name": "default",
            "type": "Microsoft.Security/securityContact",
            "properties": {
                "notificationsByRole": by_role,
                "isEnabled": true,
                "emails": "john@contoso.com;jane@contoso.com",
                "phone": "(214)275-4038",
                "notificationsSources": [
                    {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"},
                    {"sourceType": "Alert", "minimalSeverity": "Medium"}
                ]
            }
        })
    }

    fn configured() -> SecurityContactModel {
        SecurityContactModel {
            id: Some(SecurityContactId::new(SUB).to_string()),
            subscription_id: Some(SUB.into()),
            emails: Some(vec!["john@contoso.com".into(), "jane@contoso.com".into()]),
            phone: Some("(214)275-4038".into()),
            enabled: Some(true),
            notify_roles: Some(BTreeSet::from(["Owner".to_string()])),
            alert_minimal_severity: Some("Medium".into()),
            attack_path_minimal_risk_level: Some("Critical".into()),
        }
    }

    #[test]
    fn contact_id_parses_case_insensitively_and_round_trips() {
        let valid =
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default");
        let id = SecurityContactId::parse(&valid).unwrap();
        assert_eq!(id, SecurityContactId::new(SUB));
        assert_eq!(id.to_string(), valid);
        assert_eq!(SecurityContactId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(
            SecurityContactId::parse(&format!(
                "/Subscriptions/{SUB}/Providers/MICROSOFT.SECURITY/securitycontacts/Default"
            ))
            .unwrap(),
            id
        );
        assert_eq!(
            id.describe(),
            format!("Security Contact (Subscription \"{SUB}\" / Name \"default\")")
        );
        for bad in [
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/default1"),
            // The list example's id says `securityContact`.
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContact/default"),
            format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts"),
            "/subscriptions/x/providers/Microsoft.Security/securityContacts/default".into(),
        ] {
            assert!(SecurityContactId::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_checked() {
        for ok in [
            "john@contoso.com",
            "a.b+tag@sub.example.co.uk",
            "X_Y@EXAMPLE.ORG",
        ] {
            assert_eq!(check_email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "john",
            "john@",
            "@contoso.com",
            "john@contoso",
            "john@@contoso.com",
            "john doe@contoso.com",
            "a@contoso.com;b@contoso.com",
            "a@contoso.com,b@contoso.com",
            "john..doe@contoso.com",
            "john@-contoso.com",
            "john@contoso.c0m",
            "jöhn@contoso.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(
            check_email("a;b@c.com")
                .unwrap_err()
                .contains("its own list element")
        );
    }

    #[test]
    fn phones_are_checked() {
        for ok in [
            "(214)275-4038",
            "+1-555-555-5555",
            "+44 20 7946 0958",
            "555.123.4567",
        ] {
            assert_eq!(check_phone(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "call me",
            "12345",
            "1-800-FLOWERS",
            "1+5555555555",
            "+1234567890123456",
        ] {
            assert!(check_phone(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn body_joins_emails_and_sends_state_and_sources() {
        let body = to_body(&configured());
        assert_eq!(
            body,
            json!({"properties": {
                "emails": "john@contoso.com;jane@contoso.com",
                "phone": "(214)275-4038",
                "isEnabled": true,
                "notificationsByRole": {"state": "On", "roles": ["Owner"]},
                "notificationsSources": [
                    {"sourceType": "Alert", "minimalSeverity": "Medium"},
                    {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"}
                ]
            }})
        );
        let bare = SecurityContactModel {
            emails: None,
            phone: None,
            notify_roles: None,
            alert_minimal_severity: None,
            attack_path_minimal_risk_level: None,
            ..configured()
        };
        assert_eq!(
            to_body(&bare),
            json!({"properties": {
                "isEnabled": true,
                "notificationsByRole": {"state": "Off", "roles": []},
                "notificationsSources": []
            }})
        );
    }

    #[test]
    fn published_get_shape_reads_without_a_diff() {
        let id = SecurityContactId::new(SUB);
        assert_eq!(
            from_body(&id, &get_answer(), Some(&configured())),
            configured()
        );
        // Import (no prior state) reads the same values.
        assert_eq!(from_body(&id, &get_answer(), None), configured());
    }

    #[test]
    fn published_put_shapes_read_without_a_diff() {
        let id = SecurityContactId::new(SUB);
        for status in [200, 201] {
            let m = from_body(&id, &put_answer(status), Some(&configured()));
            assert_eq!(m, configured(), "{status}");
        }
    }

    #[test]
    fn equivalent_answers_keep_the_configured_spelling() {
        let id = SecurityContactId::new(SUB);
        let body = json!({"properties": {
            "emails": "Jane@Contoso.com; JOHN@contoso.com",
            "isEnabled": true,
            "notificationsByRole": {"state": "on", "roles": ["owner"]},
            "notificationsSources": [
                {"sourceType": "alert", "minimalSeverity": "medium"},
                {"sourceType": "ATTACKPATH", "minimalRiskLevel": "critical"}
            ]
        }});
        let prior = SecurityContactModel {
            phone: None,
            ..configured()
        };
        assert_eq!(from_body(&id, &body, Some(&prior)), prior);
        // Without a prior state, Azure's spellings.
        let imported = from_body(&id, &body, None);
        assert_eq!(
            imported.notify_roles,
            Some(BTreeSet::from(["Owner".to_string()]))
        );
        assert_eq!(imported.alert_minimal_severity.as_deref(), Some("Medium"));
        assert_eq!(
            imported.attack_path_minimal_risk_level.as_deref(),
            Some("Critical")
        );
        assert_eq!(
            imported.emails,
            Some(vec![
                "Jane@Contoso.com".to_string(),
                "JOHN@contoso.com".to_string()
            ])
        );
    }

    #[test]
    fn off_roles_and_empty_lists_match_an_unset_or_empty_configuration() {
        let id = SecurityContactId::new(SUB);
        let body = json!({"properties": {
            "emails": "",
            "isEnabled": false,
            "notificationsByRole": {"state": "Off", "roles": ["Owner"]},
            "notificationsSources": []
        }});
        let unset = SecurityContactModel {
            emails: None,
            phone: None,
            enabled: Some(false),
            notify_roles: None,
            alert_minimal_severity: None,
            attack_path_minimal_risk_level: None,
            ..configured()
        };
        assert_eq!(from_body(&id, &body, Some(&unset)), unset);
        let empty = SecurityContactModel {
            emails: Some(vec![]),
            notify_roles: Some(BTreeSet::new()),
            ..unset.clone()
        };
        assert_eq!(from_body(&id, &body, Some(&empty)), empty);
    }

    #[test]
    fn drift_shows() {
        let id = SecurityContactId::new(SUB);
        let body = json!({"properties": {
            "emails": "mallory@contoso.com",
            "isEnabled": true,
            "notificationsByRole": {"state": "On", "roles": ["Owner", "Admin"]},
            "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Low"}]
        }});
        let m = from_body(&id, &body, Some(&configured()));
        assert_eq!(m.emails, Some(vec!["mallory@contoso.com".to_string()]));
        let partly = json!({"properties": {"emails": "JOHN@contoso.com;mallory@contoso.com"}});
        assert_eq!(
            from_body(&id, &partly, Some(&configured())).emails,
            Some(vec![
                "john@contoso.com".to_string(),
                "mallory@contoso.com".to_string()
            ])
        );
        assert_eq!(
            m.notify_roles,
            Some(BTreeSet::from(["Admin".to_string(), "Owner".to_string()]))
        );
        assert_eq!(m.alert_minimal_severity.as_deref(), Some("Low"));
        assert_eq!(m.attack_path_minimal_risk_level, None);
        assert_eq!(m.phone, None);
    }

    #[test]
    fn moves_an_azurerm_contact_of_any_name_into_default() {
        let source = MoveSource {
            provider_address: "registry.terraform.io/hashicorp/azurerm".into(),
            type_name: "azurerm_security_center_contact".into(),
            schema_version: 0,
            state: json!({
                "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/securityContacts/test-account"),
                "name": "test-account",
                "email": "a@contoso.com; b@contoso.com",
                "phone": "+1-555-555-5555",
                "alert_notifications": true,
                "alerts_to_admins": false,
            }),
        };
        let m = SecurityContact.move_state(&source).unwrap().unwrap();
        assert_eq!(m.id, Some(SecurityContactId::new(SUB).to_string()));
        assert_eq!(
            m.emails,
            Some(vec![
                "a@contoso.com".to_string(),
                "b@contoso.com".to_string()
            ])
        );
        assert_eq!(m.phone.as_deref(), Some("+1-555-555-5555"));
        assert_eq!(m.alert_minimal_severity.as_deref(), Some("High"));
        assert_eq!(m.notify_roles, None);
        assert_eq!(m.enabled, Some(true));
    }

    fn validate(m: SecurityContactModel) -> Diagnostics {
        let raw = crate::framework::Value::Null;
        let mut diags = Diagnostics::new();
        SecurityContact.validate(
            &Config {
                model: m,
                raw: &raw,
            },
            &mut diags,
        );
        diags
    }

    #[test]
    fn validation_points_at_the_element_and_names_what_is_allowed() {
        assert!(validate(configured()).is_empty());
        let d = validate(SecurityContactModel {
            emails: Some(vec![
                "ok@contoso.com".into(),
                "bad".into(),
                "OK@contoso.com".into(),
            ]),
            phone: Some("12".into()),
            notify_roles: Some(BTreeSet::from(["owner".to_string()])),
            alert_minimal_severity: Some("Critical".into()),
            attack_path_minimal_risk_level: Some("critical".into()),
            ..configured()
        });
        let at: Vec<(String, String)> =
            d.0.iter()
                .map(|d| (d.path.as_ref().unwrap().to_string(), d.summary.clone()))
                .collect();
        assert_eq!(
            at,
            [
                ("emails[1]".into(), "Invalid email address".into()),
                ("emails[2]".into(), "Duplicate email address".into()),
                ("phone".into(), "Invalid phone number".into()),
                ("notify_roles".into(), "Invalid role".into()),
                (
                    "alert_minimal_severity".into(),
                    "Invalid alert severity".into()
                ),
                (
                    "attack_path_minimal_risk_level".into(),
                    "Invalid attack path risk level".into()
                ),
            ]
        );
        assert!(d.0[3].detail.contains("Did you mean \"Owner\"?"));
        assert!(d.0[5].detail.contains("Did you mean \"Critical\"?"));
    }

    #[test]
    fn a_contact_without_recipients_warns() {
        let d = validate(SecurityContactModel {
            emails: Some(vec![]),
            notify_roles: None,
            ..configured()
        });
        assert_eq!(d.0.len(), 1);
        assert!(!d.has_errors());
        assert_eq!(d.0[0].summary, "Nobody to notify");
        // A disabled contact is quiet on purpose.
        assert!(
            validate(SecurityContactModel {
                emails: None,
                notify_roles: None,
                enabled: Some(false),
                ..configured()
            })
            .is_empty()
        );
    }

    #[test]
    fn not_allowed_names_the_values_and_hints_at_case() {
        let t = not_allowed("role", "owner", ROLES);
        assert!(t.contains("Did you mean \"Owner\"?"), "{t}");
        assert!(
            t.contains("\"AccountAdmin\", \"ServiceAdmin\", \"Owner\", \"Contributor\""),
            "{t}"
        );
    }
}
