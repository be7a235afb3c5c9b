//! Resource actions: `POST {resource}/{action}` (e.g. a remediation's `cancel` and
//! `listDeployments`, arm-api.md 10). ARM routes them to the resource's type; the path's
//! last segment names the action. The generic checks (token, api-version of the resource's
//! type, scope) run first; an action a type does not have is a 404 like any unknown type.

use super::{HandlerFuture, ResourceRef, TypeSpec, policy_states, remediations};
use crate::state::EmulatorState;

/// What an action handler sees.
pub struct ActionRequest<'a> {
    pub state: &'a EmulatorState,
    pub spec: &'static TypeSpec,
    /// The action as registered (its canonical casing).
    pub action: &'static str,
    pub api_version: &'a str,
    pub query: &'a [(String, String)],
    /// The request path, for `nextLink`s.
    pub path: &'a str,
    /// The resource acted on.
    pub resource: ResourceRef,
    /// The request body; `Null` when empty.
    pub body: serde_json::Value,
}

/// An action's handling.
pub type ActionHandler = for<'a> fn(ActionRequest<'a>) -> HandlerFuture<'a>;

/// Every action served: the type, the action's name, the handler.
pub static ACTIONS: &[(&TypeSpec, &str, ActionHandler)] = &[
    (&remediations::SPEC, "cancel", remediations::cancel),
    (
        &remediations::SPEC,
        "listDeployments",
        remediations::list_deployments,
    ),
    (
        &policy_states::SPEC,
        "triggerEvaluation",
        policy_states::trigger_evaluation,
    ),
];

/// The action a `POST` path's provider part addresses: the type of all but the last type
/// segment, the last one naming the action (case-insensitive).
pub fn find(
    namespace: &str,
    types: &[String],
) -> Option<(&'static TypeSpec, &'static str, ActionHandler)> {
    let (action, parent) = types.split_last()?;
    if parent.is_empty() {
        return None;
    }
    let spec = super::find(namespace, parent)?;
    ACTIONS
        .iter()
        .find(|(t, name, _)| std::ptr::eq(*t, spec) && name.eq_ignore_ascii_case(action))
        .map(|(t, name, h)| (*t, *name, *h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_actions_by_parent_type() {
        let t = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let (spec, name, _) =
            find("microsoft.policyinsights", &t(&["REMEDIATIONS", "CANCEL"])).unwrap();
        assert_eq!(spec.full_type, "Microsoft.PolicyInsights/remediations");
        assert_eq!(name, "cancel");
        assert!(find("Microsoft.PolicyInsights", &t(&["remediations", "nope"])).is_none());
        assert!(find("Microsoft.PolicyInsights", &t(&["remediations"])).is_none());
    }
}
