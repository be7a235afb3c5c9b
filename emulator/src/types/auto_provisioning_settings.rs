//! `Microsoft.Security/autoProvisioningSettings`, api-version 2017-08-01-preview only
//! (arm-api.md section 1; examples in `Microsoft.Security/2017-08-01-preview/`).
//!
//! - LIST, GET and PUT; no DELETE in the spec, so DELETE answers 405.
//! - PUT is synchronous and answers 200 (the only code in the spec), echoing the resource.
//! - A singleton per subscription: `default` always exists. What the service answers for a
//!   never-configured subscription is UNVERIFIED (arm-api.md 1); the emulator answers `Off`.
//! - `properties.autoProvision` is required, `On` or `Off` (modelAsString; accepted in any
//!   case, stored as `On`/`Off`).
//! - The setting controlled the legacy Log Analytics (MMA) agent, which is retired: today's
//!   service refuses to turn it `On` (INDEX.md: "Auto provisioning examples report `On`,
//!   which today's service refuses to set"), so `On` answers 400 `Deprecated` unless the
//!   emulator runs with `allow_mma_autoprovision`.
//! - Only `default` can be written. The spec leaves `settingName` a free string, but the
//!   service has exactly one setting; a PUT of another name is a bad request (400), not a
//!   missing resource, because the client asked to create something that cannot exist.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{PutContext, PutOutcome, ResourceRef, TypeSpec, Verb, envelope};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Security",
    type_name: "autoProvisioningSettings",
    full_type: "Microsoft.Security/autoProvisioningSettings",
    scopes: &[ScopeKind::Subscription],
    api_versions: &["2017-08-01-preview"],
    verbs: &[Verb::Get, Verb::List, Verb::Put],
    singleton_names: &["default"],
    default_body,
    put,
};

fn default_body(resource: &ResourceRef) -> Value {
    envelope(resource, json!({ "autoProvision": "Off" }))
}

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    if SPEC.singleton_name(&ctx.resource.name).is_none() {
        return Err(ArmError::bad_request(
            "InvalidAutoProvisioningSettingName",
            format!(
                "Auto provisioning setting '{}' is not supported. The only setting is 'default'.",
                ctx.resource.name
            ),
        ));
    }
    let value = ctx
        .body
        .get("properties")
        .and_then(|p| p.get("autoProvision"));
    let canonical = match value {
        None | Some(Value::Null) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                "The 'properties.autoProvision' property is required. Allowed values: 'On', 'Off'.",
            ));
        }
        Some(Value::String(s)) if s.eq_ignore_ascii_case("on") => "On",
        Some(Value::String(s)) if s.eq_ignore_ascii_case("off") => "Off",
        Some(other) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                format!(
                    "The value {other} of 'properties.autoProvision' is not valid. Allowed values: 'On', 'Off'."
                ),
            ));
        }
    };
    if canonical == "On" && !ctx.runtime.allow_mma_autoprovision {
        return Err(ArmError::bad_request(
            "Deprecated",
            "Auto provisioning of the Log Analytics agent (MMA) is deprecated and can no longer be turned on: the Log Analytics agent was retired. Use the Azure Monitor Agent (AMA) or Microsoft Defender for Endpoint integration instead.",
        ));
    }
    // Unknown properties are dropped, as the service's model does.
    Ok(PutOutcome {
        body: envelope(ctx.resource, json!({ "autoProvision": canonical })),
        status: StatusCode::OK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn resource(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!(
                "/subscriptions/s/providers/Microsoft.Security/autoProvisioningSettings/{name}"
            ),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: None,
        }
    }

    fn run(name: &str, body: Value, allow: bool) -> Result<PutOutcome, ArmError> {
        let mut runtime = Config::default().runtime();
        runtime.allow_mma_autoprovision = allow;
        let r = resource(name);
        put(&PutContext {
            resource: &r,
            api_version: "2017-08-01-preview",
            body,
            existing: None,
            runtime: &runtime,
        })
    }

    #[test]
    fn off_is_normalised_and_extra_properties_dropped() {
        let out = run(
            "default",
            json!({"properties": {"autoProvision": "oFF", "x": 1}}),
            false,
        )
        .unwrap();
        assert_eq!(out.status, StatusCode::OK);
        assert_eq!(out.body["properties"], json!({"autoProvision": "Off"}));
        assert_eq!(
            out.body["type"],
            "Microsoft.Security/autoProvisioningSettings"
        );
    }

    #[test]
    fn on_is_deprecated_unless_allowed() {
        let err = run(
            "default",
            json!({"properties": {"autoProvision": "On"}}),
            false,
        )
        .err()
        .unwrap();
        assert_eq!(err.code(), "Deprecated");
        assert!(err.to_string().contains("Azure Monitor Agent"));
        let ok = run(
            "Default",
            json!({"properties": {"autoProvision": "on"}}),
            true,
        )
        .unwrap();
        assert_eq!(ok.body["properties"]["autoProvision"], "On");
    }

    #[test]
    fn invalid_bodies_and_names() {
        for body in [
            json!({}),
            json!({"properties": {}}),
            json!({"properties": {"autoProvision": "Maybe"}}),
            json!({"properties": {"autoProvision": true}}),
        ] {
            let err = run("default", body, true).err().unwrap();
            assert_eq!(err.code(), "InvalidInputJson");
        }
        let err = run(
            "other",
            json!({"properties": {"autoProvision": "Off"}}),
            false,
        )
        .err()
        .unwrap();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}
