//! `Microsoft.Security/securityContacts`, api-version 2023-12-01-preview (arm-api.md section 4;
//! examples in `Microsoft.Security/2023-12-01-preview/`). The older 2017-08-01-preview and
//! 2020-01-01-preview have other bodies and are not served.
//!
//! - LIST, GET, PUT and DELETE; synchronous. PUT answers 201 when it creates the contact and
//!   200 when it replaces it; DELETE answers 200, or 204 when there was no contact.
//! - One contact per subscription: the spec's name enum has only `Default` (policies and
//!   examples write `default`); any other name is a bad request. There is no contact until one
//!   is written, so GET answers 404 before.
//! - Validation per the spec: `emails` a string of semicolon-separated addresses (the service
//!   answers `InvalidInputJson` "Invalid security contact email" for a comma-separated list, as
//!   azurerm issue 6150 shows), `phone` a string, `isEnabled` a boolean,
//!   `notificationsByRole.state` `On`/`Off`, `roles` from `AccountAdmin`, `ServiceAdmin`,
//!   `Owner`, `Contributor`, `notificationsSources[]` discriminated by `sourceType`: `Alert`
//!   with `minimalSeverity` (`High`, `Medium`, `Low`) or `AttackPath` with `minimalRiskLevel`
//!   (`Critical`, `High`, `Medium`, `Low`). Enum values are accepted in any case and stored in
//!   the spec's spelling; unknown properties are dropped.
//! - Answers in the example shapes: like the published 201 (CreateSecurityContact_example.json),
//!   a creating PUT answers `notificationsByRole` without `state` when notifications by role
//!   are on; the emulator stores the body it answers, so a GET right after such a create has
//!   no `state` either, and clients must read "roles listed" as on.

use serde_json::{Map, Value, json};

use super::{PutContext, PutOutcome, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

const ROLES: &[&str] = &["AccountAdmin", "ServiceAdmin", "Owner", "Contributor"];
const SEVERITIES: &[&str] = &["High", "Medium", "Low"];
const RISK_LEVELS: &[&str] = &["Critical", "High", "Medium", "Low"];
const STATES: &[&str] = &["On", "Off"];

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Security",
    type_name: "securityContacts",
    full_type: "Microsoft.Security/securityContacts",
    scopes: &[ScopeKind::Subscription],
    api_versions: &["2023-12-01-preview"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put,
};

fn invalid(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("InvalidInputJson", message)
}

/// The spec's spelling of `value` if it is one of `allowed` (any case).
fn canonical(
    value: &Value,
    allowed: &[&'static str],
    what: &str,
) -> Result<&'static str, ArmError> {
    let s = value
        .as_str()
        .ok_or_else(|| invalid(format!("The value {value} of '{what}' is not a string.")))?;
    allowed
        .iter()
        .copied()
        .find(|a| a.eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            invalid(format!(
                "The value '{s}' of '{what}' is not valid. Allowed values: '{}'.",
                allowed.join("', '")
            ))
        })
}

/// A loose address check: one '@', something on both sides, a dot in the domain, no spaces
/// or commas.
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c == ',')
}

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    if !ctx.resource.name.eq_ignore_ascii_case("default") {
        return Err(ArmError::bad_request(
            "InvalidSecurityContactName",
            format!(
                "Security contact '{}' is not supported. The only security contact is 'default'.",
                ctx.resource.name
            ),
        ));
    }
    let props = match ctx.body.get("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => return Err(invalid("The 'properties' property is required.")),
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties' is not an object."
            )));
        }
    };
    let mut out = Map::new();

    let mut roles_on = false;
    if let Some(by_role) = props.get("notificationsByRole").filter(|v| !v.is_null()) {
        let obj = by_role.as_object().ok_or_else(|| {
            invalid("The value of 'properties.notificationsByRole' is not an object.")
        })?;
        let mut o = Map::new();
        if let Some(state) = obj.get("state").filter(|v| !v.is_null()) {
            let state = canonical(state, STATES, "properties.notificationsByRole.state")?;
            roles_on = state == "On";
            o.insert("state".into(), json!(state));
        }
        let mut roles = Vec::new();
        for r in obj
            .get("roles")
            .filter(|v| !v.is_null())
            .map(|v| {
                v.as_array().ok_or_else(|| {
                    invalid("The value of 'properties.notificationsByRole.roles' is not an array.")
                })
            })
            .transpose()?
            .into_iter()
            .flatten()
        {
            let role = canonical(r, ROLES, "properties.notificationsByRole.roles")?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        o.insert("roles".into(), json!(roles));
        // The published 201 leaves the state out when roles are notified.
        if ctx.existing.is_none() && roles_on && !roles.is_empty() {
            o.remove("state");
        }
        out.insert("notificationsByRole".into(), Value::Object(o));
    }

    match props.get("isEnabled") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => {
            out.insert("isEnabled".into(), json!(b));
        }
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.isEnabled' is not a boolean."
            )));
        }
    }

    match props.get("emails") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            for e in s.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                if !plausible_email(e) {
                    return Err(invalid(format!(
                        "Invalid security contact email '{e}'. Separate addresses with ';'."
                    )));
                }
            }
            out.insert("emails".into(), json!(s));
        }
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.emails' is not a string."
            )));
        }
    }

    match props.get("phone") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            out.insert("phone".into(), json!(s));
        }
        Some(other) => {
            return Err(invalid(format!(
                "The value {other} of 'properties.phone' is not a string."
            )));
        }
    }

    if let Some(sources) = props.get("notificationsSources").filter(|v| !v.is_null()) {
        let sources = sources.as_array().ok_or_else(|| {
            invalid("The value of 'properties.notificationsSources' is not an array.")
        })?;
        let mut seen = Vec::new();
        let mut list = Vec::new();
        for s in sources {
            let kind = canonical(
                s.get("sourceType").unwrap_or(&Value::Null),
                &["Alert", "AttackPath"],
                "properties.notificationsSources[].sourceType",
            )?;
            if seen.contains(&kind) {
                return Err(invalid(format!(
                    "The notification source '{kind}' is listed more than once."
                )));
            }
            seen.push(kind);
            let (field, allowed) = if kind == "Alert" {
                ("minimalSeverity", SEVERITIES)
            } else {
                ("minimalRiskLevel", RISK_LEVELS)
            };
            let value = s.get(field).filter(|v| !v.is_null()).ok_or_else(|| {
                invalid(format!(
                    "The notification source '{kind}' requires '{field}'."
                ))
            })?;
            let value = canonical(
                value,
                allowed,
                &format!("properties.notificationsSources[].{field}"),
            )?;
            list.push(json!({ "sourceType": kind, field: value }));
        }
        out.insert("notificationsSources".into(), Value::Array(list));
    }

    Ok(PutOutcome {
        body: json!({
            "id": ctx.resource.id,
            "name": ctx.resource.name,
            "type": ctx.resource.resource_type,
            "properties": out,
        }),
        status: ctx.write_status(),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    fn resource(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!("/subscriptions/s/providers/Microsoft.Security/securityContacts/{name}"),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: None,
        }
    }

    fn run(name: &str, body: Value, existing: Option<&Value>) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = resource(name);
        put(&PutContext {
            resource: &r,
            api_version: "2023-12-01-preview",
            body,
            existing,
            runtime: &runtime,
        })
    }

    fn example_request() -> Value {
        json!({"properties": {
            "notificationsByRole": {"state": "On", "roles": ["Owner"]},
            "isEnabled": true,
            "emails": "john@contoso.com;jane@contoso.com",
            "phone": "(214)275-4038",
            "notificationsSources": [
                {"sourceType": "AttackPath", "minimalRiskLevel": "Critical"},
                {"sourceType": "Alert", "minimalSeverity": "Medium"}
            ]
        }})
    }

    #[test]
    fn create_answers_201_without_the_role_state_and_replace_200_with_it() {
        let created = run("default", example_request(), None).unwrap();
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(
            created.body["properties"]["notificationsByRole"],
            json!({"roles": ["Owner"]})
        );
        assert_eq!(
            created.body["properties"]["emails"],
            "john@contoso.com;jane@contoso.com"
        );
        let replaced = run("default", example_request(), Some(&created.body)).unwrap();
        assert_eq!(replaced.status, StatusCode::OK);
        assert_eq!(
            replaced.body["properties"]["notificationsByRole"],
            json!({"state": "On", "roles": ["Owner"]})
        );
        // Off keeps its state even on create.
        let off = run(
            "default",
            json!({"properties": {"notificationsByRole": {"state": "off", "roles": []}}}),
            None,
        )
        .unwrap();
        assert_eq!(
            off.body["properties"]["notificationsByRole"],
            json!({"state": "Off", "roles": []})
        );
    }

    #[test]
    fn enums_are_canonicalised() {
        let out = run(
            "Default",
            json!({"properties": {
                "notificationsByRole": {"state": "on", "roles": ["owner", "CONTRIBUTOR"]},
                "notificationsSources": [{"sourceType": "alert", "minimalSeverity": "high"}],
                "extra": 1
            }}),
            Some(&json!({})),
        )
        .unwrap();
        assert_eq!(
            out.body["properties"],
            json!({
                "notificationsByRole": {"state": "On", "roles": ["Owner", "Contributor"]},
                "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "High"}]
            })
        );
    }

    #[test]
    fn invalid_bodies_are_refused() {
        for body in [
            json!({}),
            json!({"properties": {"emails": "a@contoso.com,b@contoso.com"}}),
            json!({"properties": {"emails": "not-an-address"}}),
            json!({"properties": {"emails": ["a@contoso.com"]}}),
            json!({"properties": {"isEnabled": "yes"}}),
            json!({"properties": {"notificationsByRole": {"state": "Maybe", "roles": []}}}),
            json!({"properties": {"notificationsByRole": {"state": "On", "roles": ["Admin"]}}}),
            json!({"properties": {"notificationsSources": [{"sourceType": "AttachPath", "minimalRiskLevel": "High"}]}}),
            json!({"properties": {"notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Critical"}]}}),
            json!({"properties": {"notificationsSources": [{"sourceType": "Alert"}]}}),
            json!({"properties": {"notificationsSources": [
                {"sourceType": "Alert", "minimalSeverity": "High"},
                {"sourceType": "Alert", "minimalSeverity": "Low"}]}}),
        ] {
            let err = run("default", body.clone(), None).err().unwrap_or_else(|| {
                panic!("accepted {body}");
            });
            assert_eq!(err.code(), "InvalidInputJson", "{body}");
        }
        let err = run("default1", example_request(), None).err().unwrap();
        assert_eq!(err.code(), "InvalidSecurityContactName");
    }
}
