//! The audit: is every subscription covered by Defender for Cloud?
//!
//! [`run`] reads, for each subscription and never writing (GET only): every Defender plan
//! (tier, sub-plan, extensions), the Microsoft.Security settings, the legacy auto-provisioning
//! switch, the security contact, the workspace settings, and the auto-provisioning policy
//! assignments (catalog entries) at or above the subscription (plus those of a management
//! group, when given), with whether each identity holds every role its policy needs and the
//! latest remediation. [`evaluate::findings`] turns that into findings carrying the IDs of the
//! public rules they correspond to ([`rules`]). The data source `defender_coverage` and the
//! command `terraform-provider-defender audit` ([`cli`]) both use it; [`format`] writes table,
//! JSON, markdown, SARIF and HTML.

pub mod cli;
pub mod collect;
pub mod evaluate;
pub mod format;
pub mod model;
pub mod rules;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::join_all;
use serde_json::Value;

use crate::arm::{ArmClient, ArmError};
use collect::Reader;
pub use model::*;
pub use rules::Severity;

/// What to audit.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    pub subscriptions: Vec<String>,
    /// A management group whose assignments (and those above it) apply to the subscriptions.
    pub management_group: Option<String>,
    /// Reads in flight at once.
    pub concurrency: usize,
}

impl AuditOptions {
    pub fn new(subscriptions: Vec<String>) -> AuditOptions {
        AuditOptions {
            subscriptions,
            management_group: None,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// Reads in flight by default (see `collect`'s note on ARM's read limits).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Progress of a long audit (the CLI draws a bar on stderr with it).
pub trait Progress: Send + Sync {
    /// `total` subscriptions are about to be read.
    fn start(&self, total: u64);
    /// One subscription's settings were read.
    fn advance(&self, subscription: &str);
    fn finish(&self);
}

/// Why no audit could be made at all.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no subscription to audit")]
    NoSubscription,
    #[error("{0:?} is not a subscription ID (a GUID such as 00000000-0000-0000-0000-000000000000)")]
    InvalidSubscription(String),
    #[error("{0:?} is not a management group ID")]
    InvalidManagementGroup(String),
    /// Every read failed (credentials, network): nothing was audited.
    #[error("nothing could be read: {0}")]
    Unreachable(String),
}

/// A management group given by name or by its ID.
pub fn management_group_scope(input: &str) -> Result<String, AuditError> {
    let name = input
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let ok = !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_().".contains(c));
    if !ok {
        return Err(AuditError::InvalidManagementGroup(input.to_owned()));
    }
    Ok(format!(
        "/providers/Microsoft.Management/managementGroups/{name}"
    ))
}

/// What one subscription's lists gave.
struct SubscriptionRead {
    plans: Vec<PlanState>,
    settings: BTreeMap<String, bool>,
    auto_provision: Option<String>,
    contact: Option<ContactState>,
    workspace_settings: Vec<WorkspaceState>,
    assignments: Vec<Value>,
    errors: Vec<String>,
    /// Reads that succeeded (0: the subscription was unreachable).
    ok: usize,
}

fn describe(path: &str, e: &ArmError) -> String {
    format!("listing {path}: {e}")
}

async fn read_subscription(reader: &Reader, sub: &str) -> SubscriptionRead {
    let paths = collect::subscription_paths(sub);
    let sub_scope = format!("/subscriptions/{sub}");
    let assignments_path = collect::assignments_path(&sub_scope);
    let filter = [("$filter", "atScope()")];
    let (lists, assignments) = tokio::join!(
        join_all(paths.iter().map(|(p, v)| reader.list(p, v, &[]))),
        reader.list(&assignments_path, collect::ASSIGNMENTS_API, &filter),
    );
    let mut out = SubscriptionRead {
        plans: Vec::new(),
        settings: BTreeMap::new(),
        auto_provision: None,
        contact: None,
        workspace_settings: Vec::new(),
        assignments: Vec::new(),
        errors: Vec::new(),
        ok: 0,
    };
    for (i, result) in lists.into_iter().enumerate() {
        let items = match result {
            Ok(items) => {
                out.ok += 1;
                items
            }
            Err(e) => {
                out.errors.push(describe(&paths[i].0, &e));
                continue;
            }
        };
        match i {
            0 => out.plans = items.iter().filter_map(collect::plan_state).collect(),
            1 => out.settings = collect::settings_state(&items),
            2 => {
                out.auto_provision = items
                    .iter()
                    .find(|i| {
                        i.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case("default"))
                    })
                    .or(items.first())
                    .and_then(|i| i.pointer("/properties/autoProvision"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }
            3 => out.contact = items.first().map(collect::contact_state),
            _ => {
                out.workspace_settings = items.iter().filter_map(collect::workspace_state).collect()
            }
        }
    }
    match assignments {
        Ok(items) => {
            out.ok += 1;
            out.assignments = items;
        }
        Err(e) => out.errors.push(describe(&assignments_path, &e)),
    }
    out
}

/// Roles and remediation of one catalog assignment (shared by every subscription it covers).
async fn assess_assignment(
    reader: &Reader,
    item: &Value,
) -> Option<(AssignmentState, Vec<String>)> {
    let id = item.get("id").and_then(Value::as_str)?.to_owned();
    let definition_id = item
        .pointer("/properties/policyDefinitionId")
        .and_then(Value::as_str)?;
    let entry = crate::catalog::by_definition_id(definition_id)?;
    let scope = item
        .pointer("/properties/scope")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let lower = id.to_ascii_lowercase();
            lower
                .rfind("/providers/microsoft.authorization/policyassignments/")
                .map_or_else(String::new, |i| id[..i].to_owned())
        });
    let params = collect::assignment_parameters(item);
    let deploys = entry.can_deploy() && !entry.remediation_targets(&params).is_empty();
    let identity_type = item
        .pointer("/identity/type")
        .and_then(Value::as_str)
        .unwrap_or("None")
        .to_owned();
    let principal_id = item
        .pointer("/identity/principalId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            item.pointer("/identity/userAssignedIdentities")
                .and_then(Value::as_object)
                .and_then(|m| m.values().next())
                .and_then(|v| v.get("principalId"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let mut errors = Vec::new();
    let targets = entry.role_assignment_targets(&scope, &params);
    let roles = match (&principal_id, deploys) {
        (Some(pid), true) => {
            // One list per distinct target scope: ARM answers the principal's assignments at,
            // above and below it (arm-api.md §9).
            let mut scopes: Vec<&str> = targets.iter().map(|t| t.scope.as_str()).collect();
            scopes.sort_by_key(|s| s.to_ascii_lowercase());
            scopes.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
            let filter = format!("principalId eq '{pid}'");
            let lists = join_all(scopes.iter().map(|s| {
                let path = collect::role_assignments_path(s);
                let filter = filter.clone();
                async move {
                    let r = reader
                        .list(
                            &path,
                            collect::ROLE_ASSIGNMENTS_API,
                            &[("$filter", &filter)],
                        )
                        .await;
                    (path, r)
                }
            }))
            .await;
            let mut held = Vec::new();
            for (path, r) in lists {
                match r {
                    Ok(items) => held.extend(items),
                    Err(e) => errors.push(describe(&path, &e)),
                }
            }
            collect::role_checks(&targets, &held)
        }
        _ => Vec::new(),
    };
    let remediation = if deploys {
        let path = collect::remediations_path(&scope);
        let filter = format!("PolicyAssignmentId eq '{id}'");
        match reader
            .list(&path, collect::REMEDIATIONS_API, &[("$filter", &filter)])
            .await
        {
            Ok(items) => collect::latest_remediation(&items),
            Err(e) => {
                errors.push(describe(&path, &e));
                None
            }
        }
    } else {
        None
    };
    let roles_complete =
        errors.is_empty() && principal_id.is_some() && roles.iter().all(|r| r.held);
    Some((
        AssignmentState {
            name: item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            id,
            scope,
            policy: entry.key.to_owned(),
            definition_id: entry.definition_id.clone(),
            display_name: item
                .pointer("/properties/displayName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            enforcement_mode: item
                .pointer("/properties/enforcementMode")
                .and_then(Value::as_str)
                .unwrap_or("Default")
                .to_owned(),
            deploys,
            identity_type,
            principal_id,
            roles,
            roles_complete,
            remediation,
        },
        errors,
    ))
}

/// Audits the subscriptions. Reads only; never writes.
pub async fn run(
    arm: &ArmClient,
    options: &AuditOptions,
    progress: Option<Arc<dyn Progress>>,
) -> Result<AuditReport, AuditError> {
    if options.subscriptions.is_empty() {
        return Err(AuditError::NoSubscription);
    }
    let mut subs: Vec<String> = Vec::new();
    for s in &options.subscriptions {
        let s = s
            .trim()
            .trim_start_matches("/subscriptions/")
            .trim_end_matches('/');
        if !crate::resources::common::is_guid(s) {
            return Err(AuditError::InvalidSubscription(s.to_owned()));
        }
        if !subs.iter().any(|x| x.eq_ignore_ascii_case(s)) {
            subs.push(s.to_ascii_lowercase());
        }
    }
    let mg_scope = options
        .management_group
        .as_deref()
        .map(management_group_scope)
        .transpose()?;
    let reader = Reader::new(arm.clone(), options.concurrency);
    if let Some(p) = &progress {
        p.start(subs.len() as u64);
    }

    let mg_read = async {
        match &mg_scope {
            None => Ok(Vec::new()),
            Some(scope) => {
                let path = collect::assignments_path(scope);
                reader
                    .list(&path, collect::ASSIGNMENTS_API, &[("$filter", "atScope()")])
                    .await
                    .map_err(|e| describe(&path, &e))
            }
        }
    };
    let subs_read = join_all(subs.iter().map(|sub| {
        let reader = &reader;
        let progress = progress.clone();
        async move {
            let r = read_subscription(reader, sub).await;
            if let Some(p) = &progress {
                p.advance(sub);
            }
            r
        }
    }));
    let (mg_assignments, reads) = tokio::join!(mg_read, subs_read);

    let mut unreachable: Option<String> = None;
    if reads.iter().all(|r| r.ok == 0) {
        unreachable = reads.iter().flat_map(|r| r.errors.first()).next().cloned();
    }
    if let Some(e) = unreachable {
        if let Some(p) = &progress {
            p.finish();
        }
        return Err(AuditError::Unreachable(e));
    }
    let (mg_items, mg_error) = match mg_assignments {
        Ok(items) => (items, None),
        Err(e) => (Vec::new(), Some(e)),
    };

    // Distinct catalog assignments over all subscriptions, each assessed once.
    let mut distinct: Vec<Value> = Vec::new();
    let mut per_sub: Vec<Vec<String>> = Vec::new();
    for r in &reads {
        let mut ids = Vec::new();
        for item in r.assignments.iter().chain(mg_items.iter()) {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            let catalogued = item
                .pointer("/properties/policyDefinitionId")
                .and_then(Value::as_str)
                .is_some_and(|d| crate::catalog::by_definition_id(d).is_some());
            if !catalogued || ids.iter().any(|x: &String| x.eq_ignore_ascii_case(id)) {
                continue;
            }
            ids.push(id.to_owned());
            if !distinct
                .iter()
                .any(|d| d["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id)))
            {
                distinct.push(item.clone());
            }
        }
        per_sub.push(ids);
    }
    let assessed: Vec<Option<(AssignmentState, Vec<String>)>> =
        join_all(distinct.iter().map(|item| assess_assignment(&reader, item))).await;
    let assessed: Vec<(AssignmentState, Vec<String>)> = assessed.into_iter().flatten().collect();

    let mut out = Vec::new();
    for ((sub, r), ids) in subs.iter().zip(reads).zip(per_sub) {
        let mut errors = r.errors;
        if let Some(e) = &mg_error {
            errors.push(e.clone());
        }
        let mut assignments = Vec::new();
        for id in &ids {
            if let Some((a, errs)) = assessed.iter().find(|(a, _)| a.id.eq_ignore_ascii_case(id)) {
                assignments.push(a.clone());
                errors.extend(errs.iter().cloned());
            }
        }
        let mut cov = SubscriptionCoverage {
            subscription_id: sub.clone(),
            plans: r.plans,
            settings: r.settings,
            auto_provision: r.auto_provision,
            contact: r.contact,
            workspace_settings: r.workspace_settings,
            assignments,
            errors,
            findings: Vec::new(),
        };
        cov.findings = evaluate::findings(&cov);
        out.push(cov);
    }
    if let Some(p) = &progress {
        p.finish();
    }
    Ok(AuditReport {
        tool: "terraform-provider-defender",
        version: crate::VERSION,
        management_group_id: mg_scope,
        summary: AuditReport::summarise(&out),
        subscriptions: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_groups_by_name_or_id() {
        assert_eq!(
            management_group_scope("platform").unwrap(),
            "/providers/Microsoft.Management/managementGroups/platform"
        );
        assert_eq!(
            management_group_scope("/providers/Microsoft.Management/managementGroups/mg-1/")
                .unwrap(),
            "/providers/Microsoft.Management/managementGroups/mg-1"
        );
        assert!(management_group_scope("a b").is_err());
        assert!(management_group_scope("").is_err());
    }
}
