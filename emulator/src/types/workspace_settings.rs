//! `Microsoft.Security/workspaceSettings`, api-version 2017-08-01-preview only (arm-api.md 0,
//! 3; examples `Microsoft.Security/2017-08-01-preview/*WorkspaceSetting*`).
//!
//! - Subscription scope; the only name is `default` (azurerm quotes the service: "Invalid
//!   workspace settings name 'kttest' , only default is allowed").
//! - Not a singleton: GET answers 404 until a PUT (the subscription then uses Defender for
//!   Cloud's default workspaces).
//! - PUT needs `properties.workspaceId` (a Log Analytics workspace ID) and
//!   `properties.scope` (the subscription or one of its resource groups), both required in the
//!   swagger; answers 200 with the resource (the only code of the create example). The
//!   workspace must exist: 404 `ResourceNotFound` for it otherwise.
//! - DELETE answers 204 (the delete example's only code).
//! - PATCH (the update example) is not served.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::log_analytics_workspaces::{as_workspace_id, bad_request, require_named_workspace};
use super::{
    HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb, envelope, no_default,
    scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.Security",
    type_name: "workspaceSettings",
    full_type: "Microsoft.Security/workspaceSettings",
    scopes: &[ScopeKind::Subscription],
    api_versions: &["2017-08-01-preview"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Patch, Verb::Delete],
    singleton_names: &[],
    default_body: no_default,
    put,
};

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let r = ctx.resource;
    if !r.name.eq_ignore_ascii_case("default") {
        return Err(bad_request(format!(
            "Invalid workspace settings name '{}' , only default is allowed ",
            r.name
        )));
    }
    let prop = |k: &str| ctx.body.pointer(&format!("/properties/{k}"));
    let workspace_id = match prop("workspaceId") {
        Some(Value::String(w)) if as_workspace_id(w).is_some() => w.clone(),
        Some(other) => {
            return Err(bad_request(format!(
                "The workspace ID {other} is not a Log Analytics workspace resource ID."
            )));
        }
        None => {
            return Err(bad_request(
                "The 'properties.workspaceId' property is required.",
            ));
        }
    };
    let sub = r.subscription.as_deref().unwrap_or_default();
    let scope = match prop("scope") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(bad_request("The 'properties.scope' property is required.")),
    };
    let segs: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    let scope_ok = match segs.as_slice() {
        [s, id] => s.eq_ignore_ascii_case("subscriptions") && id.eq_ignore_ascii_case(sub),
        [s, id, rg, _] => {
            s.eq_ignore_ascii_case("subscriptions")
                && id.eq_ignore_ascii_case(sub)
                && rg.eq_ignore_ascii_case("resourceGroups")
        }
        _ => false,
    };
    if !scope_ok {
        return Err(bad_request(format!(
            "The scope '{scope}' is not the subscription '{sub}' or one of its resource groups."
        )));
    }
    Ok(PutOutcome {
        body: envelope(r, json!({ "workspaceId": workspace_id, "scope": scope })),
        status: StatusCode::OK,
    })
}

pub fn handle(req: Request<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { answer(&req) })
}

fn answer(req: &Request<'_>) -> Result<Response, ArmError> {
    match req.verb {
        Verb::List => scope_tree::list_children(req),
        Verb::Get => scope_tree::get_stored(req),
        Verb::Put => {
            let resource = scope_tree::resource(req)?;
            let outcome = scope_tree::run_put(req, resource, put)?;
            require_named_workspace(req.state, &outcome.body, "/properties/workspaceId")?;
            Ok(scope_tree::store_outcome(req, resource, outcome))
        }
        Verb::Delete => {
            let resource = scope_tree::resource(req)?;
            scope_tree::remove(req, resource);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        // Update (arm-api.md §3): the same two properties, checked as a PUT's.
        Verb::Patch => scope_tree::patch_stored(
            req,
            scope_tree::not_found,
            &["/properties/workspaceId", "/properties/scope"],
            put,
            |body, _| require_named_workspace(req.state, body, "/properties/workspaceId"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    const SUB: &str = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

    fn run(name: &str, body: Value) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = ResourceRef {
            id: format!(
                "/subscriptions/{SUB}/providers/Microsoft.Security/workspaceSettings/{name}"
            ),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: format!("/subscriptions/{SUB}"),
            subscription: Some(SUB.to_owned()),
            resource_group: None,
        };
        put(&PutContext {
            resource: &r,
            api_version: "2017-08-01-preview",
            body,
            existing: None,
            runtime: &runtime,
        })
    }

    fn ws() -> String {
        format!(
            "/subscriptions/{SUB}/resourceGroups/myRg/providers/Microsoft.OperationalInsights/workspaces/myWorkspace"
        )
    }

    #[test]
    fn the_create_example_round_trips() {
        // CreateWorkspaceSetting_example.json: request properties come back as sent.
        let out = run(
            "default",
            json!({"properties": {"workspaceId": ws(), "scope": format!("/subscriptions/{SUB}")}}),
        )
        .unwrap();
        assert_eq!(out.status, StatusCode::OK);
        assert_eq!(
            out.body,
            json!({
                "id": format!("/subscriptions/{SUB}/providers/Microsoft.Security/workspaceSettings/default"),
                "name": "default",
                "type": "Microsoft.Security/workspaceSettings",
                "properties": {"workspaceId": ws(), "scope": format!("/subscriptions/{SUB}")}
            })
        );
    }

    #[test]
    fn refuses_other_names_bad_workspaces_and_foreign_scopes() {
        let good =
            json!({"properties": {"workspaceId": ws(), "scope": format!("/subscriptions/{SUB}")}});
        let e = run("kttest", good).err().unwrap();
        assert!(e.to_string().contains("only default is allowed"), "{e}");
        for props in [
            json!({"scope": format!("/subscriptions/{SUB}")}),
            json!({"workspaceId": "/subscriptions/x/resourceGroups/rg", "scope": format!("/subscriptions/{SUB}")}),
            json!({"workspaceId": ws()}),
            json!({"workspaceId": ws(), "scope": "/subscriptions/00000000-0000-0000-0000-000000000001"}),
            json!({"workspaceId": format!("{}/dataSources/x", ws()), "scope": format!("/subscriptions/{SUB}")}),
        ] {
            assert!(
                run("default", json!({"properties": props})).is_err(),
                "{props}"
            );
        }
        assert!(
            run(
                "default",
                json!({"properties": {"workspaceId": ws(), "scope": format!("/subscriptions/{SUB}/resourceGroups/rg1")}})
            )
            .is_ok()
        );
    }
}
