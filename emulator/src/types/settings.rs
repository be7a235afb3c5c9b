//! `Microsoft.Security/settings`, api-version 2022-05-01, the one the provider and azurerm use
//! (Azure also has 2019-01-01 and 2017-08-01-preview; arm-api.md section 0). Arm-api.md
//! section 5; examples in `Microsoft.Security/2022-05-01/`.
//!
//! - LIST, GET and PUT; there is no DELETE in the spec, so DELETE answers 405.
//! - Every setting exists in every subscription (the list always returns them): the names of
//!   the spec's `settingName` enum plus `WDATP_VNEXT`, which the service lists too.
//! - Before any write each setting is disabled, as the unfiltered list example shows for
//!   WDATP, WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW, WDATP_UNIFIED_SOLUTION and Sentinel.
//! - PUT is synchronous and answers 200 with the resource. `kind` is required and is the
//!   discriminator: `DataExportSettings` for MCAS and the WDATP settings, `AlertSyncSettings`
//!   for Sentinel; a body whose kind does not fit the name is a bad request.
//!   `properties.enabled` is a required boolean.
//! - Names outside the list are refused with 400: the spec's enum is modelAsString, but the
//!   service has a fixed set of settings and a PUT cannot create another.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{PutContext, PutOutcome, ResourceRef, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

/// Setting names and their kinds, in the order the list answers them.
const SETTINGS: &[(&str, &str)] = &[
    ("MCAS", "DataExportSettings"),
    ("WDATP", "DataExportSettings"),
    ("WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW", "DataExportSettings"),
    ("WDATP_UNIFIED_SOLUTION", "DataExportSettings"),
    ("WDATP_VNEXT", "DataExportSettings"),
    ("Sentinel", "AlertSyncSettings"),
];

/// Kinds the spec's discriminator knows; `AlertSuppressionSetting` belongs to no name.
const KINDS: &[&str] = &[
    "DataExportSettings",
    "AlertSyncSettings",
    "AlertSuppressionSetting",
];

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Security",
    type_name: "settings",
    full_type: "Microsoft.Security/settings",
    scopes: &[ScopeKind::Subscription],
    api_versions: &["2022-05-01"],
    verbs: &[Verb::Get, Verb::List, Verb::Put],
    singleton_names: &[
        "MCAS",
        "WDATP",
        "WDATP_EXCLUDE_LINUX_PUBLIC_PREVIEW",
        "WDATP_UNIFIED_SOLUTION",
        "WDATP_VNEXT",
        "Sentinel",
    ],
    default_body,
    put,
};

fn kind_of(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| *k)
}

/// The body in the examples' shape: `name`, `type`, `id`, `kind`, `properties.enabled`.
fn body(resource: &ResourceRef, kind: &str, enabled: bool) -> Value {
    json!({
        "name": resource.name,
        "type": resource.resource_type,
        "id": resource.id,
        "kind": kind,
        "properties": { "enabled": enabled },
    })
}

fn default_body(resource: &ResourceRef) -> Value {
    body(
        resource,
        kind_of(&resource.name).unwrap_or("DataExportSettings"),
        false,
    )
}

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let Some(expected_kind) = kind_of(&ctx.resource.name) else {
        let names: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
        return Err(ArmError::bad_request(
            "InvalidSettingName",
            format!(
                "Setting '{}' is not supported. Supported settings: '{}'.",
                ctx.resource.name,
                names.join("', '")
            ),
        ));
    };
    let kind = match ctx.body.get("kind") {
        None | Some(Value::Null) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                format!(
                    "The 'kind' property is required. Setting '{}' has kind '{expected_kind}'.",
                    ctx.resource.name
                ),
            ));
        }
        Some(Value::String(k)) => k,
        Some(other) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                format!("The value {other} of 'kind' is not valid."),
            ));
        }
    };
    if !KINDS.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
        return Err(ArmError::bad_request(
            "InvalidInputJson",
            format!(
                "The kind '{kind}' is not valid. Allowed kinds: '{}'.",
                KINDS.join("', '")
            ),
        ));
    }
    if !kind.eq_ignore_ascii_case(expected_kind) {
        return Err(ArmError::bad_request(
            "InvalidSettingKind",
            format!(
                "Setting '{}' has kind '{expected_kind}', not '{kind}'.",
                ctx.resource.name
            ),
        ));
    }
    let enabled = match ctx.body.pointer("/properties/enabled") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                "The 'properties.enabled' property is required.",
            ));
        }
        Some(other) => {
            return Err(ArmError::bad_request(
                "InvalidInputJson",
                format!("The value {other} of 'properties.enabled' is not a boolean."),
            ));
        }
    };
    // Unknown properties are dropped, as the service's model does.
    Ok(PutOutcome {
        body: body(ctx.resource, expected_kind, enabled),
        status: StatusCode::OK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn resource(name: &str) -> ResourceRef {
        ResourceRef {
            id: format!("/subscriptions/s/providers/Microsoft.Security/settings/{name}"),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: None,
        }
    }

    fn run(name: &str, body: Value) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = resource(name);
        put(&PutContext {
            resource: &r,
            api_version: "2022-05-01",
            body,
            existing: None,
            runtime: &runtime,
        })
    }

    #[test]
    fn every_singleton_has_a_kind_and_defaults_to_disabled() {
        for name in SPEC.singleton_names {
            let b = default_body(&resource(name));
            assert_eq!(b["properties"]["enabled"], false, "{name}");
            assert_eq!(b["kind"], kind_of(name).unwrap(), "{name}");
        }
        assert_eq!(kind_of("sentinel"), Some("AlertSyncSettings"));
    }

    #[test]
    fn put_checks_kind_against_the_name() {
        let ok = run(
            "Sentinel",
            json!({"kind": "alertsyncsettings", "properties": {"enabled": true, "x": 1}}),
        )
        .unwrap();
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body["kind"], "AlertSyncSettings");
        assert_eq!(ok.body["properties"], json!({"enabled": true}));

        let err = run(
            "WDATP",
            json!({"kind": "AlertSyncSettings", "properties": {"enabled": true}}),
        )
        .err()
        .unwrap();
        assert_eq!(err.code(), "InvalidSettingKind");
        for body in [
            json!({"properties": {"enabled": true}}),
            json!({"kind": "Nope", "properties": {"enabled": true}}),
            json!({"kind": "DataExportSettings", "properties": {}}),
            json!({"kind": "DataExportSettings", "properties": {"enabled": "true"}}),
        ] {
            let err = run("MCAS", body).err().unwrap();
            assert_eq!(err.code(), "InvalidInputJson");
        }
        let err = run(
            "Other",
            json!({"kind": "DataExportSettings", "properties": {"enabled": true}}),
        )
        .err()
        .unwrap();
        assert_eq!(err.code(), "InvalidSettingName");
    }
}
