//! `Microsoft.Authorization/roleAssignments`, api-version 2022-04-01 (arm-api.md 9; examples
//! in `Microsoft.Authorization/2022-04-01/`).
//!
//! - Every scope below the tenant. Names are GUIDs: anything else answers 400
//!   `InvalidRoleAssignmentId` (wording UNVERIFIED).
//! - PUT answers 201 when it creates, 200 when the same assignment is written again; changing
//!   the role, principal or scope of an existing name answers 400
//!   `RoleAssignmentUpdateNotPermitted` [3p]. The same scope + principal + role under another
//!   name answers 409 `RoleAssignmentExists` "The role assignment already exists." [3p].
//! - `roleDefinitionId` is accepted in any scope's form and answered in the tenant form
//!   `/providers/Microsoft.Authorization/roleDefinitions/{guid}`, as the create example does.
//!   The role must exist: 400 `RoleDefinitionDoesNotExist` otherwise (the roles of the
//!   built-in policies, plus Reader and Resource Policy Contributor).
//! - A principal the emulator created less than `principal_replication_ms` ago (a new
//!   system-assigned identity) answers 400 `PrincipalNotFound` "Principal {id} does not exist
//!   in the directory {tenant}. …" unless the request says `principalType:
//!   ServicePrincipal`, which skips the lookup (arm-api.md 9 [3p]). Without `principalType`
//!   the service fills it from the directory: `ServicePrincipal` for the emulator's
//!   identities, `User` (the spec's default) for anyone else.
//! - LIST: `$filter=atScope()` (at and above), none (above, at and below),
//!   `principalId eq '{id}'`, `assignedTo('{id}')`.
//! - DELETE 200 with the deleted body, 204 when there was none.

use std::time::SystemTime;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::policy_assignments;
use super::policy_definitions;
use super::scope_tree::{self, canonical_scope};
use super::{HandlerFuture, PutContext, PutOutcome, Request, ResourceRef, TypeSpec, Verb};
use crate::arm::path::ScopeKind;
use crate::directory::Replication;
use crate::error::ArmError;
use crate::store::key_of;
use crate::util::{is_guid, rfc3339};

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Authorization",
    type_name: "roleAssignments",
    full_type: "Microsoft.Authorization/roleAssignments",
    scopes: &[
        ScopeKind::ManagementGroup,
        ScopeKind::Subscription,
        ScopeKind::ResourceGroup,
        ScopeKind::Resource,
    ],
    api_versions: &["2022-04-01"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: super::no_default,
    put,
};

const PRINCIPAL_TYPES: &[&str] = &[
    "User",
    "Group",
    "ServicePrincipal",
    "ForeignGroup",
    "Device",
];

fn bad(code: &str, message: impl Into<String>) -> ArmError {
    ArmError::bad_request(code, message)
}

/// The GUID of a role definition ID in any scope's form.
pub fn role_guid(role_definition_id: &str) -> Option<String> {
    let segs: Vec<&str> = role_definition_id
        .trim_end_matches('/')
        .split('/')
        .collect();
    let n = segs.len();
    (n >= 5
        && segs[n - 2].eq_ignore_ascii_case("roleDefinitions")
        && segs[n - 3].eq_ignore_ascii_case("Microsoft.Authorization")
        && segs[n - 4].eq_ignore_ascii_case("providers")
        && is_guid(segs[n - 1]))
    .then(|| segs[n - 1].to_ascii_lowercase())
}

/// Validates and normalises a PUT body (everything that needs no other resource).
fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let name = &ctx.resource.name;
    if !is_guid(name) {
        return Err(bad(
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        ));
    }
    let props = ctx
        .body
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ArmError::InvalidRequestContent("The 'properties' property is required.".into())
        })?;
    let role_id = props
        .get("roleDefinitionId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let guid = role_guid(role_id).ok_or_else(|| {
        bad(
            "InvalidRoleDefinitionId",
            format!("The role definition ID '{role_id}' is not valid."),
        )
    })?;
    if !policy_definitions::role_exists(&guid) {
        return Err(bad(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{guid}' does not exist."),
        ));
    }
    let principal = props
        .get("principalId")
        .and_then(Value::as_str)
        .filter(|p| is_guid(p))
        .ok_or_else(|| {
            bad(
                "InvalidPrincipalId",
                "A valid principal ID must be provided for role assignment.",
            )
        })?
        .to_ascii_lowercase();
    let principal_type = match props.get("principalType") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            PRINCIPAL_TYPES
                .iter()
                .copied()
                .find(|t| t.eq_ignore_ascii_case(s))
                .ok_or_else(|| {
                    ArmError::InvalidRequestContent(format!(
                        "Error converting value \"{s}\" to type 'PrincipalType'. Allowed values: {}.",
                        PRINCIPAL_TYPES.join(", ")
                    ))
                })?,
        ),
        Some(other) => {
            return Err(ArmError::InvalidRequestContent(format!(
                "The value {other} of 'principalType' is not valid."
            )));
        }
    };
    let scope = canonical_scope(&ctx.resource.scope_id);
    if let Some(existing) = ctx.existing {
        let same = |k: &str, v: &str| {
            existing
                .pointer(&format!("/properties/{k}"))
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case(v))
        };
        let same_role = existing
            .pointer("/properties/roleDefinitionId")
            .and_then(Value::as_str)
            .and_then(role_guid)
            .is_some_and(|g| g == guid);
        if !(same_role && same("principalId", &principal) && same("scope", &scope)) {
            return Err(bad(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
    }
    let now = rfc3339(SystemTime::now());
    let mut out = Map::new();
    out.insert(
        "roleDefinitionId".to_owned(),
        json!(format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        )),
    );
    out.insert("principalId".to_owned(), json!(principal));
    // Filled from the directory by the handler when the request did not say.
    out.insert(
        "principalType".to_owned(),
        json!(principal_type.unwrap_or("User")),
    );
    out.insert("scope".to_owned(), json!(scope));
    for key in [
        "description",
        "condition",
        "conditionVersion",
        "delegatedManagedIdentityResourceId",
    ] {
        if let Some(v) = props.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    let created = ctx
        .existing
        .and_then(|e| e.pointer("/properties/createdOn"))
        .cloned()
        .unwrap_or_else(|| json!(now));
    out.insert("createdOn".to_owned(), created);
    out.insert("updatedOn".to_owned(), json!(now));
    Ok(PutOutcome {
        body: json!({
            "properties": out,
            "id": ctx.resource.id,
            "type": SPEC.full_type,
            "name": ctx.resource.name,
        }),
        status: ctx.write_status(),
    })
}

fn not_found(_: &ResourceRef) -> ArmError {
    ArmError::custom(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        "The role assignment does not exist.",
    )
}

/// The handler: every verb.
pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    match req.verb {
        Verb::List => scope_tree::list_in_tree(req, "principalId", "role assignments"),
        Verb::Get => scope_tree::get_stored_as(req, not_found, |body| body),
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            let declared_type = req
                .body
                .as_ref()
                .and_then(|b| b.pointer("/properties/principalType"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut outcome = scope_tree::run_put(req, resource, put)?;
            let principal = outcome.body["properties"]["principalId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let is_sp = declared_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("ServicePrincipal"));
            match policy_assignments::replication(req.state, &principal) {
                Replication::Replicating if !is_sp => {
                    return Err(bad(
                        "PrincipalNotFound",
                        format!(
                            "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.",
                            principal, req.state.tenant_id
                        ),
                    ));
                }
                Replication::Unknown => {}
                _ if declared_type.is_none() => {
                    outcome.body["properties"]["principalType"] = json!("ServicePrincipal");
                }
                _ => {}
            }
            check_duplicate(req, resource, &outcome.body)?;
            Ok(scope_tree::store_outcome(req, resource, outcome))
        }
        Verb::Delete => scope_tree::delete_stored_as(req, |body| Json(body).into_response()),
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

/// 409 when another name already grants this role to this principal at this scope.
fn check_duplicate(
    req: &Request<'_>,
    resource: &ResourceRef,
    body: &Value,
) -> Result<(), ArmError> {
    let field = |b: &Value, k: &str| {
        b.pointer(&format!("/properties/{k}"))
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let role = field(body, "roleDefinitionId").and_then(|r| role_guid(&r));
    let principal = field(body, "principalId");
    let collection = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        resource.scope_id
    );
    let duplicate = req
        .state
        .store
        .children(&collection)
        .into_iter()
        .any(|other| {
            key_of(&other.id) != key_of(&resource.id)
                && field(&other.body, "principalId") == principal
                && field(&other.body, "roleDefinitionId").and_then(|r| role_guid(&r)) == role
        });
    if duplicate {
        return Err(ArmError::custom(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const SUB: &str = "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2";
    const LAC: &str = "92aaf0da-9dab-42b6-94a3-d43ce8d16293";

    fn run(name: &str, body: Value, existing: Option<&Value>) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = ResourceRef {
            id: format!("{SUB}/providers/Microsoft.Authorization/roleAssignments/{name}"),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: SUB.to_owned(),
            subscription: None,
            resource_group: None,
        };
        put(&PutContext {
            resource: &r,
            api_version: "2022-04-01",
            body,
            existing,
            runtime: &runtime,
        })
    }

    #[test]
    fn role_ids_in_any_form() {
        for id in [
            format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}"),
            format!(
                "{SUB}/providers/microsoft.authorization/roleDefinitions/{}",
                LAC.to_uppercase()
            ),
            format!(
                "/providers/Microsoft.Management/managementGroups/m/providers/Microsoft.Authorization/roleDefinitions/{LAC}"
            ),
        ] {
            assert_eq!(role_guid(&id).as_deref(), Some(LAC), "{id}");
        }
        assert!(role_guid("/providers/Microsoft.Authorization/roleDefinitions/nope").is_none());
        assert!(role_guid(LAC).is_none());
    }

    #[test]
    fn create_answers_the_tenant_form_like_the_example() {
        let name = "05c5a614-a7d6-4502-b150-c2fb455033ff";
        let principal = "ce2ce14e-85d7-4629-bdbc-454d0519d987";
        let out = run(
            name,
            json!({"properties": {
                "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{LAC}"),
                "principalId": principal, "principalType": "serviceprincipal"}}),
            None,
        )
        .unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        let p = &out.body["properties"];
        assert_eq!(
            p["roleDefinitionId"],
            format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}")
        );
        assert_eq!(p["principalType"], "ServicePrincipal");
        assert_eq!(p["scope"], SUB);
        // Writing it again is fine; changing the principal is not.
        let again = run(
            name,
            json!({"properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}"),
                                  "principalId": principal}}),
            Some(&out.body),
        )
        .unwrap();
        assert_eq!(again.status, StatusCode::OK);
        let e = run(
            name,
            json!({"properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}"),
                                  "principalId": "11111111-1111-1111-1111-111111111111"}}),
            Some(&out.body),
        )
        .err().unwrap();
        assert_eq!(e.code(), "RoleAssignmentUpdateNotPermitted");
    }

    #[test]
    fn invalid_requests() {
        let role = format!("/providers/Microsoft.Authorization/roleDefinitions/{LAC}");
        let p = "ce2ce14e-85d7-4629-bdbc-454d0519d987";
        let cases = [
            (
                "not-a-guid",
                json!({"properties": {"roleDefinitionId": role, "principalId": p}}),
                "InvalidRoleAssignmentId",
            ),
            (
                "05c5a614-a7d6-4502-b150-c2fb455033ff",
                json!({"properties": {"roleDefinitionId": "x", "principalId": p}}),
                "InvalidRoleDefinitionId",
            ),
            (
                "05c5a614-a7d6-4502-b150-c2fb455033ff",
                json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000", "principalId": p}}),
                "RoleDefinitionDoesNotExist",
            ),
            (
                "05c5a614-a7d6-4502-b150-c2fb455033ff",
                json!({"properties": {"roleDefinitionId": role}}),
                "InvalidPrincipalId",
            ),
        ];
        for (name, body, code) in cases {
            assert_eq!(
                run(name, body.clone(), None).err().unwrap().code(),
                code,
                "{body}"
            );
        }
    }
}
