//! Functions over the policy catalog: `provider::defender::policy_definition_id(key)` and
//! `provider::defender::role_definition_ids(key)`. Offline and pure, so their results are known
//! at plan time (e.g. in an `azurerm_policy_*` resource or a `for_each`).

use super::policy_definition_data::unknown_key_detail;
use crate::catalog::{self, CatalogEntry};
use crate::framework::{Function, FunctionError, Param, Signature, Type, Value};

fn key_param() -> Param {
    Param {
        name: "key",
        ty: Type::String,
        description: "A catalog key, e.g. `kubernetes-policy-addon`, `dependency-agent-linux` or \
                      `mde` (see the `defender_policy_definition` data source).",
        allow_null: false,
    }
}

fn entry(args: &[Value]) -> Result<&'static CatalogEntry, FunctionError> {
    let key = args
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| FunctionError {
            text: "expected a catalog key (a string)".into(),
            argument: Some(0),
        })?;
    catalog::lookup(key).ok_or_else(|| FunctionError {
        text: unknown_key_detail(key),
        argument: Some(0),
    })
}

/// `provider::defender::policy_definition_id(key)`.
pub struct PolicyDefinitionIdFunction;

impl Function for PolicyDefinitionIdFunction {
    const NAME: &'static str = "policy_definition_id";

    fn signature(&self) -> Signature {
        Signature {
            summary: "The ARM ID of a built-in policy definition or initiative, by catalog key",
            description: "Returns the ID of the built-in policy definition \
(`/providers/Microsoft.Authorization/policyDefinitions/{guid}`) or initiative \
(`/providers/Microsoft.Authorization/policySetDefinitions/{guid}`) that the catalog key names, \
e.g. `a8eff44f-8c92-45c3-a3fb-9880802d67a7` for `kubernetes-policy-addon`. Use it where a \
definition ID is needed, such as azurerm's policy assignment resources. An unknown key is an \
error naming the closest keys.",
            params: vec![key_param()],
            variadic: None,
            returns: Type::String,
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        Ok(Value::String(entry(&args)?.definition_id.clone()))
    }
}

/// `provider::defender::role_definition_ids(key)`.
pub struct RoleDefinitionIdsFunction;

impl Function for RoleDefinitionIdsFunction {
    const NAME: &'static str = "role_definition_ids";

    fn signature(&self) -> Signature {
        Signature {
            summary: "The roles a policy's managed identity needs, by catalog key",
            description: "Returns the GUIDs of the roles the managed identity of an assignment \
of the policy needs (the definition's `roleDefinitionIds`; for an initiative, those of every \
member, each once), e.g. `[\"ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8\", \
\"18ed5180-3e48-46fd-8541-4ea054d57064\"]` for `kubernetes-policy-addon`. A role's full ID is \
`/providers/Microsoft.Authorization/roleDefinitions/{guid}`. `defender_policy_assignment` \
assigns these itself; the function is for assignments made another way. An unknown key is an \
error naming the closest keys.",
            params: vec![key_param()],
            variadic: None,
            returns: Type::list(Type::String),
        }
    }

    fn call(&self, args: Vec<Value>) -> Result<Value, FunctionError> {
        Ok(Value::List(
            entry(&args)?
                .role_definition_ids
                .iter()
                .map(|g| Value::String(g.clone()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Vec<Value> {
        vec![Value::String(v.into())]
    }

    #[test]
    fn definition_ids() {
        assert_eq!(
            PolicyDefinitionIdFunction.call(s("mde")).unwrap(),
            Value::String(
                "/providers/Microsoft.Authorization/policySetDefinitions/e20d08c5-6d64-656d-6465-ce9e37fd0ebc"
                    .into()
            )
        );
        assert_eq!(
            PolicyDefinitionIdFunction.call(s("dependency-agent-windows")).unwrap(),
            Value::String(
                "/providers/Microsoft.Authorization/policyDefinitions/1c210e94-a481-4beb-95fa-1571b434fb04"
                    .into()
            )
        );
        let e = PolicyDefinitionIdFunction
            .call(s("mde-window"))
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("Did you mean mde-windows"), "{}", e.text);
        assert!(PolicyDefinitionIdFunction.call(vec![Value::Null]).is_err());
    }

    #[test]
    fn role_ids() {
        assert_eq!(
            RoleDefinitionIdsFunction
                .call(s("kubernetes-policy-addon"))
                .unwrap(),
            Value::List(vec![
                Value::String("ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8".into()),
                Value::String("18ed5180-3e48-46fd-8541-4ea054d57064".into()),
            ])
        );
        // An initiative: its members' roles, once each.
        let Value::List(roles) = RoleDefinitionIdsFunction.call(s("mde")).unwrap() else {
            panic!("a list")
        };
        assert_eq!(
            roles,
            vec![Value::String("b24988ac-6180-42a0-ab88-20f7382dd24c".into())]
        );
        assert!(RoleDefinitionIdsFunction.call(s("nope")).is_err());
    }
}
