//! Reading a subscription's Defender for Cloud configuration: GETs only, in parallel, never
//! more than the semaphore allows at once.
//!
//! ARM throttles reads per subscription and principal with a token bucket of 250 that refills
//! 25 per second (arm-api.md §13.3); the client retries 429 honouring `Retry-After`. One audit
//! of a subscription is 6 lists plus 2 per auto-provisioning assignment, so the default of 8
//! reads in flight stays far below the bucket even for hundreds of subscriptions.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use super::model::{ContactState, PlanState, RemediationState, RoleCheck, WorkspaceState};
use crate::arm::{ArmClient, ArmError};
use crate::catalog::render::{
    POLICY_ASSIGNMENT_API_VERSION, REMEDIATION_API_VERSION, ROLE_ASSIGNMENT_API_VERSION,
};

/// api-versions of what the audit reads (the ones the provider's resources use).
pub const PRICINGS_API: &str = crate::resources::plan::API_VERSION;
pub const SETTINGS_API: &str = crate::resources::setting::API_VERSION;
pub const AUTO_PROVISIONING_API: &str = crate::resources::auto_provisioning::API_VERSION;
pub const CONTACTS_API: &str = crate::resources::security_contact::API_VERSION;
pub const WORKSPACE_SETTINGS_API: &str = crate::resources::workspace_setting::API_VERSION;

/// The ARM client behind a semaphore: every request waits for a permit.
#[derive(Clone)]
pub struct Reader {
    arm: ArmClient,
    permits: Arc<Semaphore>,
}

impl Reader {
    pub fn new(arm: ArmClient, concurrency: usize) -> Reader {
        Reader {
            arm,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// `GET` a collection (all pages).
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, ArmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ArmError::Cancelled)?;
        self.arm.list(path, api_version, query).await
    }
}

fn s(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A pricing list item.
pub fn plan_state(item: &Value) -> Option<PlanState> {
    let name = s(item, "/name")?;
    let extensions = item
        .pointer("/properties/extensions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    // A failed enablement answers isEnabled "True" with operationStatus Failed
                    // (PutPricingByNamePartialSuccess_example.json): that extension is off.
                    let failed = e
                        .pointer("/operationStatus/code")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c.eq_ignore_ascii_case("Failed"));
                    Some((s(e, "/name")?, truthy(e.get("isEnabled")) && !failed))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(PlanState {
        name,
        tier: s(item, "/properties/pricingTier").unwrap_or_else(|| "Free".into()),
        subplan: s(item, "/properties/subPlan"),
        extensions,
        deprecated: truthy(item.pointer("/properties/deprecated")),
    })
}

/// Settings list items → name → enabled.
pub fn settings_state(items: &[Value]) -> BTreeMap<String, bool> {
    items
        .iter()
        .filter_map(|i| Some((s(i, "/name")?, truthy(i.pointer("/properties/enabled")))))
        .collect()
}

/// The security contact from a 2023-12-01-preview list item.
///
/// Quirk (CreateSecurityContact_example.json, emulator security_contacts.rs): a creating PUT
/// answers `notificationsByRole` without `state` when roles are listed, so listed roles without
/// a state read as on.
pub fn contact_state(item: &Value) -> ContactState {
    let p = item.get("properties").cloned().unwrap_or(Value::Null);
    let emails = p
        .get("emails")
        .and_then(Value::as_str)
        .map(|e| {
            e.split(';')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let roles: Vec<String> = p
        .pointer("/notificationsByRole/roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let roles_on = match p
        .pointer("/notificationsByRole/state")
        .and_then(Value::as_str)
    {
        Some(state) => state.eq_ignore_ascii_case("On"),
        None => !roles.is_empty(),
    };
    let source = |ty: &str, field: &str| {
        p.get("notificationsSources")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter().find(|x| {
                    x.get("sourceType")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case(ty))
                })
            })
            .and_then(|x| x.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ContactState {
        emails,
        phone: p
            .get("phone")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        // isEnabled absent: the contact predates the property and is in force.
        enabled: p.get("isEnabled").and_then(Value::as_bool).unwrap_or(true),
        alert_minimal_severity: source("Alert", "minimalSeverity"),
        // One spec example misspells the type `AttachPath` (arm-api.md §4).
        attack_path_minimal_risk_level: source("AttackPath", "minimalRiskLevel")
            .or_else(|| source("AttachPath", "minimalRiskLevel")),
        notify_roles: if roles_on { roles } else { Vec::new() },
    }
}

/// A workspace setting list item.
pub fn workspace_state(item: &Value) -> Option<WorkspaceState> {
    Some(WorkspaceState {
        name: s(item, "/name")?,
        workspace_id: s(item, "/properties/workspaceId").unwrap_or_default(),
        scope: s(item, "/properties/scope").unwrap_or_default(),
    })
}

/// An assignment list item's parameters as plain values.
pub fn assignment_parameters(item: &Value) -> Map<String, Value> {
    crate::resources::policy_common::plain_parameters(
        item.pointer("/properties/parameters")
            .unwrap_or(&Value::Null),
    )
}

/// The role definition GUID of a role assignment (any scope's form).
pub fn role_guid(role_definition_id: &str) -> String {
    role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// True when `id` is `scope` or below it (ARM IDs compare case-insensitively).
pub fn is_within(id: &str, scope: &str) -> bool {
    let id = id.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    scope.is_empty() || id == scope || id.starts_with(&format!("{scope}/"))
}

/// Whether a role assignment (list item) grants `role` on `target`: same role, assigned at the
/// target or above it. A role assigned at a management group covers its subscriptions; the
/// audit cannot see the hierarchy, so an assignment whose scope is a management group counts
/// for every target (ARM only answers it for a principal when it applies).
pub fn grants(ra: &Value, role: &str, target: &str) -> bool {
    let Some(def) = ra
        .pointer("/properties/roleDefinitionId")
        .and_then(Value::as_str)
    else {
        return false;
    };
    if role_guid(def) != role.to_ascii_lowercase() {
        return false;
    }
    let scope = ra
        .pointer("/properties/scope")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // Without properties.scope, the ID's prefix is the scope.
            let id = ra.get("id").and_then(Value::as_str).unwrap_or_default();
            let lower = id.to_ascii_lowercase();
            match lower.rfind("/providers/microsoft.authorization/roleassignments/") {
                Some(i) => id[..i].to_owned(),
                None => id.to_owned(),
            }
        });
    let management_group = scope
        .to_ascii_lowercase()
        .starts_with("/providers/microsoft.management/managementgroups/");
    scope == "/" || management_group || is_within(target, &scope)
}

/// Checks each needed role against the principal's role assignments.
pub fn role_checks(targets: &[crate::catalog::RoleTarget], held: &[Value]) -> Vec<RoleCheck> {
    targets
        .iter()
        .map(|t| RoleCheck {
            role_definition_id: t.role_definition_id.clone(),
            role_name: super::rules::role_name(&t.role_definition_id).map(str::to_owned),
            scope: t.scope.clone(),
            held: held
                .iter()
                .any(|ra| grants(ra, &t.role_definition_id, &t.scope)),
        })
        .collect()
}

/// The latest of an assignment's remediation tasks (by `createdOn`, then `lastUpdatedOn`).
pub fn latest_remediation(items: &[Value]) -> Option<RemediationState> {
    let key = |v: &Value| {
        (
            s(v, "/properties/createdOn").unwrap_or_default(),
            s(v, "/properties/lastUpdatedOn").unwrap_or_default(),
        )
    };
    let latest = items.iter().max_by_key(|v| key(v))?;
    let status = crate::resources::policy_common::TaskStatus::of(latest);
    Some(RemediationState {
        id: s(latest, "/id").unwrap_or_default(),
        state: status.state,
        created_on: s(latest, "/properties/createdOn"),
        total: status.total,
        succeeded: status.succeeded,
        failed: status.failed,
    })
}

/// The list paths the audit reads for a subscription, with their api-versions.
pub fn subscription_paths(sub: &str) -> [(String, &'static str); 5] {
    let p = |t: &str| format!("/subscriptions/{sub}/providers/Microsoft.Security/{t}");
    [
        (p("pricings"), PRICINGS_API),
        (p("settings"), SETTINGS_API),
        (p("autoProvisioningSettings"), AUTO_PROVISIONING_API),
        (p("securityContacts"), CONTACTS_API),
        (p("workspaceSettings"), WORKSPACE_SETTINGS_API),
    ]
}

/// `{scope}/providers/Microsoft.Authorization/policyAssignments`, with `$filter=atScope()`:
/// the scope's assignments and those inherited from above (arm-api.md §7.1).
pub fn assignments_path(scope: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/policyAssignments",
        scope.trim_end_matches('/')
    )
}

pub const ASSIGNMENTS_API: &str = POLICY_ASSIGNMENT_API_VERSION;
pub const ROLE_ASSIGNMENTS_API: &str = ROLE_ASSIGNMENT_API_VERSION;
pub const REMEDIATIONS_API: &str = REMEDIATION_API_VERSION;

/// `{scope}/providers/Microsoft.Authorization/roleAssignments`.
pub fn role_assignments_path(scope: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        scope.trim_end_matches('/')
    )
}

/// `{scope}/providers/Microsoft.PolicyInsights/remediations`.
pub fn remediations_path(scope: &str) -> String {
    format!(
        "{}/providers/Microsoft.PolicyInsights/remediations",
        scope.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plans_parse_like_the_list_example() {
        let p = plan_state(&json!({"name": "VirtualMachines", "properties": {
            "pricingTier": "Standard", "subPlan": "P2",
            "extensions": [
                {"name": "AgentlessVmScanning", "isEnabled": "True"},
                {"name": "MdeDesignatedSubscription", "isEnabled": "false"},
                {"name": "FileIntegrityMonitoring", "isEnabled": "True",
                 "operationStatus": {"code": "Failed", "message": "no permission"}}]}}))
        .unwrap();
        assert!(p.is_on());
        assert_eq!(p.subplan.as_deref(), Some("P2"));
        assert_eq!(
            p.extensions,
            BTreeMap::from([
                ("AgentlessVmScanning".to_owned(), true),
                ("FileIntegrityMonitoring".to_owned(), false),
                ("MdeDesignatedSubscription".to_owned(), false),
            ])
        );
        let dns = plan_state(&json!({"name": "Dns", "properties": {"pricingTier": "Free",
            "deprecated": true, "replacedBy": ["VirtualMachines"]}}))
        .unwrap();
        assert!(!dns.is_on() && dns.deprecated);
    }

    #[test]
    fn contacts_read_roles_without_state_as_on() {
        let c = contact_state(
            &json!({"properties": {"emails": "a@contoso.com; b@contoso.com",
            "phone": "", "isEnabled": true,
            "notificationsByRole": {"roles": ["Owner"]},
            "notificationsSources": [{"sourceType": "Alert", "minimalSeverity": "Low"}]}}),
        );
        assert_eq!(c.emails, ["a@contoso.com", "b@contoso.com"]);
        assert_eq!(c.phone, None);
        assert_eq!(c.notify_roles, ["Owner"]);
        assert_eq!(c.alert_minimal_severity.as_deref(), Some("Low"));
        assert_eq!(c.attack_path_minimal_risk_level, None);
        let off = contact_state(&json!({"properties": {"emails": "",
            "notificationsByRole": {"state": "Off", "roles": ["Owner"]},
            "notificationsSources": [{"sourceType": "AttachPath", "minimalRiskLevel": "High"}]}}));
        assert!(off.emails.is_empty() && off.notify_roles.is_empty() && off.enabled);
        assert_eq!(off.attack_path_minimal_risk_level.as_deref(), Some("High"));
    }

    #[test]
    fn role_grants_follow_scope_and_role() {
        let sub = "/subscriptions/00000000-0000-0000-0000-000000000001";
        let contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
        let ra = json!({"id": format!("{sub}/providers/Microsoft.Authorization/roleAssignments/x"),
            "properties": {"roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{}", contributor.to_uppercase()),
            "principalId": "p"}});
        assert!(grants(&ra, contributor, sub));
        assert!(grants(
            &ra,
            contributor,
            &format!("{sub}/resourceGroups/rg")
        ));
        assert!(!grants(&ra, "fb1c8493-542b-48eb-b624-b4c8fea62acd", sub));
        assert!(!grants(
            &ra,
            contributor,
            "/subscriptions/00000000-0000-0000-0000-000000000002"
        ));
        let rg = json!({"properties": {"roleDefinitionId": contributor,
            "scope": format!("{sub}/resourceGroups/rg")}});
        assert!(
            !grants(&rg, contributor, sub),
            "below the target does not count"
        );
    }

    #[test]
    fn the_latest_remediation_wins() {
        let items = [
            json!({"id": "a", "properties": {"provisioningState": "Failed", "createdOn": "2026-01-01T00:00:00Z"}}),
            json!({"id": "b", "properties": {"provisioningState": "Succeeded", "createdOn": "2026-02-01T00:00:00Z",
                "deploymentStatus": {"totalDeployments": 3, "successfulDeployments": 3, "failedDeployments": 0}}}),
        ];
        let r = latest_remediation(&items).unwrap();
        assert_eq!(
            (r.id.as_str(), r.state.as_str(), r.total),
            ("b", "Succeeded", 3)
        );
        assert_eq!(latest_remediation(&[]), None);
    }
}
