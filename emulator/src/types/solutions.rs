//! `Microsoft.OperationsManagement/solutions`, api-version 2015-11-01-preview (arm-api.md
//! 11.3): gallery solutions of a Log Analytics workspace (`Security(ws)`,
//! `SecurityCenterFree(ws)`, `SecurityInsights(ws)`, …).
//!
//! - Resource group scope. PUT needs `location` (ARM's `LocationRequired`), `plan` with
//!   `name`, `publisher` and `product`, and `properties.workspaceResourceId`; the workspace
//!   must exist (404 `ResourceNotFound` for it otherwise).
//! - Gallery solutions are named `{solution}({workspace})` with product
//!   `OMSGallery/{solution}` (policy-catalog.md 12): a name that does not match its plan and
//!   workspace is a 400 (code UNVERIFIED).
//! - PUT answers 201/200 synchronously with `provisioningState: Succeeded` (whether the service
//!   runs it as a long-running operation is UNVERIFIED); DELETE 200/204.

use axum::response::Response;
use serde_json::{Value, json};

use super::log_analytics_workspaces::{as_workspace_id, bad_request, require_named_workspace};
use super::{
    HandlerFuture, PutContext, PutOutcome, Request, TypeSpec, Verb, no_default, scope_tree,
};
use crate::arm::path::ScopeKind;
use crate::error::ArmError;

pub static SPEC: TypeSpec = TypeSpec {
    namespace: "Microsoft.OperationsManagement",
    type_name: "solutions",
    full_type: "Microsoft.OperationsManagement/solutions",
    scopes: &[ScopeKind::ResourceGroup],
    api_versions: &["2015-11-01-preview"],
    verbs: &[Verb::Get, Verb::List, Verb::Put, Verb::Delete],
    singleton_names: &[],
    default_body: no_default,
    put,
};

fn put(ctx: &PutContext<'_>) -> Result<PutOutcome, ArmError> {
    let r = ctx.resource;
    let location = match ctx.body.get("location") {
        Some(Value::String(l)) if !l.trim().is_empty() => l.clone(),
        _ => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
    };
    let plan = ctx.body.get("plan").cloned().unwrap_or(Value::Null);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(plan_name), Some(publisher), Some(product)) = (
        text(&plan, "name"),
        text(&plan, "publisher"),
        text(&plan, "product"),
    ) else {
        return Err(bad_request(
            "The 'plan' property with 'name', 'publisher' and 'product' is required.",
        ));
    };
    let workspace_id = ctx
        .body
        .pointer("/properties/workspaceResourceId")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request("The 'properties.workspaceResourceId' property is required."))?;
    let ws = as_workspace_id(workspace_id).ok_or_else(|| {
        bad_request(format!(
            "'{workspace_id}' is not a Log Analytics workspace resource ID."
        ))
    })?;
    let ws_name = ws.rsplit('/').next().unwrap_or_default();
    if let Some(gallery) = product
        .split_once('/')
        .filter(|(g, _)| g.eq_ignore_ascii_case("OMSGallery"))
        .map(|(_, s)| s)
    {
        let expected = format!("{gallery}({ws_name})");
        if !r.name.eq_ignore_ascii_case(&expected) || !plan_name.eq_ignore_ascii_case(&expected) {
            return Err(bad_request(format!(
                "The solution name '{}' (plan name '{plan_name}') does not match product \
                 '{product}' on workspace '{ws_name}'; expected '{expected}'.",
                r.name
            )));
        }
    }
    Ok(PutOutcome {
        body: json!({
            "id": r.id,
            "name": r.name,
            "type": SPEC.full_type,
            "location": location,
            "plan": {
                "name": plan_name,
                "publisher": publisher,
                "product": product,
                "promotionCode": text(&plan, "promotionCode").unwrap_or_default(),
            },
            "properties": {
                "workspaceResourceId": workspace_id,
                "provisioningState": "Succeeded",
            },
        }),
        status: ctx.write_status(),
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
            require_named_workspace(req.state, &outcome.body, "/properties/workspaceResourceId")?;
            Ok(scope_tree::store_outcome(req, resource, outcome))
        }
        Verb::Delete => scope_tree::delete_stored(req),
        Verb::Patch => Err(scope_tree::patch_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::config::Config;
    use crate::types::ResourceRef;

    fn run(name: &str, body: Value) -> Result<PutOutcome, ArmError> {
        let runtime = Config::default().runtime();
        let r = ResourceRef {
            id: format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationsManagement/solutions/{name}"
            ),
            name: name.to_owned(),
            resource_type: SPEC.full_type,
            scope_id: "/subscriptions/s/resourceGroups/rg".to_owned(),
            subscription: Some("s".to_owned()),
            resource_group: Some("rg".to_owned()),
        };
        put(&PutContext {
            resource: &r,
            api_version: "2015-11-01-preview",
            body,
            existing: None,
            runtime: &runtime,
        })
    }

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law1";

    fn body(name: &str, product: &str) -> Value {
        json!({
            "location": "westeurope",
            "plan": {"name": name, "publisher": "Microsoft", "product": product},
            "properties": {"workspaceResourceId": WS}
        })
    }

    #[test]
    fn the_security_solution_of_arm_api_11_3() {
        let out = run(
            "Security(law1)",
            body("Security(law1)", "OMSGallery/Security"),
        )
        .unwrap();
        assert_eq!(out.status, StatusCode::CREATED);
        assert_eq!(out.body["plan"]["promotionCode"], "");
        assert_eq!(out.body["properties"]["provisioningState"], "Succeeded");
        assert_eq!(out.body["properties"]["workspaceResourceId"], WS);
    }

    #[test]
    fn names_must_match_the_plan_and_workspace() {
        assert!(
            run(
                "Security(other)",
                body("Security(other)", "OMSGallery/Security")
            )
            .is_err()
        );
        assert!(
            run(
                "Security(law1)",
                body("Security(law1)", "OMSGallery/SecurityCenterFree")
            )
            .is_err()
        );
        let e = run("Security(law1)", json!({"plan": {}})).err().unwrap();
        assert_eq!(e.code(), "LocationRequired");
        assert!(run("Security(law1)", json!({"location": "westeurope", "plan": {"name": "Security(law1)", "publisher": "Microsoft", "product": "OMSGallery/Security"}})).is_err());
    }
}
