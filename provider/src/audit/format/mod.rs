//! Writing an [`AuditReport`]: a terminal table, JSON, markdown for pull-request comments,
//! SARIF 2.1.0 for code-scanning dashboards, and a self-contained HTML page. All of them show
//! the same subscriptions × protections matrix ([`matrix`]) and the same findings.

mod html;
mod markdown;
mod sarif;
mod table;

use super::model::{AuditReport, SubscriptionCoverage};
use super::rules::{self, Rule};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Sarif,
    Html,
}

/// The report in a format (always ends with a newline).
pub fn render(report: &AuditReport, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
                // Serialising plain structs cannot fail; keep the output JSON anyway.
                format!("{{\"error\": {:?}}}", e.to_string())
            });
            s.push('\n');
            s
        }
        Format::Markdown => markdown::render(report),
        Format::Sarif => {
            let mut s = serde_json::to_string_pretty(&sarif::log(report))
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            s.push('\n');
            s
        }
        Format::Html => html::render(report),
    }
}

/// How a protection stands in one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// In place.
    Ok,
    /// Partly in place (e.g. a contact without a phone, an identity lacking one role).
    Partial,
    /// Missing.
    Missing,
    /// Does not apply (e.g. no assignment to check roles of) or could not be read.
    NotApplicable,
}

impl Status {
    /// A symbol that reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Ok => "✔",
            Status::Partial => "◐",
            Status::Missing => "✘",
            Status::NotApplicable => "–",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Partial => "partial",
            Status::Missing => "missing",
            Status::NotApplicable => "n/a",
        }
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub status: Status,
    /// A short text: `P2`, `Free`, `no phone`, `1 role missing`.
    pub text: String,
}

/// A column of the matrix.
pub struct Column {
    pub label: &'static str,
    /// What the column covers, for tooltips and the legend.
    pub title: &'static str,
    cell: fn(&SubscriptionCoverage) -> Cell,
}

fn plan_cell(cov: &SubscriptionCoverage, plan: &str) -> Cell {
    if cov.plans.is_empty() {
        return Cell {
            status: Status::NotApplicable,
            text: "unread".into(),
        };
    }
    match cov.plan(plan) {
        // Short sub-plans (P1, P2) say more than "On"; long ones (PerKeyVault) do not fit.
        Some(p) if p.is_on() => Cell {
            status: Status::Ok,
            text: p
                .subplan
                .clone()
                .filter(|s| s.len() <= 3)
                .unwrap_or_else(|| "On".into()),
        },
        Some(p) => Cell {
            status: Status::Missing,
            text: p.tier.clone(),
        },
        None => Cell {
            status: Status::Missing,
            text: "absent".into(),
        },
    }
}

fn has(cov: &SubscriptionCoverage, rule: &Rule) -> bool {
    cov.findings.iter().any(|f| f.rule_id == rule.id)
}

macro_rules! plan_column {
    ($label:expr, $plan:expr, $title:expr) => {
        Column {
            label: $label,
            title: $title,
            cell: |c| plan_cell(c, $plan),
        }
    };
}

fn contact_cell(cov: &SubscriptionCoverage) -> Cell {
    let Some(c) = &cov.contact else {
        let unread = cov.errors.iter().any(|e| e.contains("securityContacts"));
        return Cell {
            status: if unread {
                Status::NotApplicable
            } else {
                Status::Missing
            },
            text: if unread { "unread" } else { "none" }.into(),
        };
    };
    let gaps: Vec<&str> = [
        (!c.enabled, "disabled"),
        (c.emails.is_empty(), "no email"),
        (c.phone.is_none(), "no phone"),
        (has(cov, &rules::CONTACT_ALERTS), "no alerts"),
        (has(cov, &rules::CONTACT_OWNERS), "no owners"),
        (
            c.attack_path_minimal_risk_level.is_none(),
            "no attack paths",
        ),
    ]
    .into_iter()
    .filter(|(gap, _)| *gap)
    .map(|(_, t)| t)
    .collect();
    if gaps.is_empty() {
        Cell {
            status: Status::Ok,
            text: "set".into(),
        }
    } else {
        Cell {
            status: if has(cov, &rules::CONTACT_DISABLED) || has(cov, &rules::CONTACT_EMAIL) {
                Status::Missing
            } else {
                Status::Partial
            },
            text: gaps.join(", "),
        }
    }
}

fn setting_cell(cov: &SubscriptionCoverage, name: &str) -> Cell {
    if cov.settings.is_empty() {
        return Cell {
            status: Status::NotApplicable,
            text: "unread".into(),
        };
    }
    let on = cov
        .settings
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(name) && *v);
    Cell {
        status: if on { Status::Ok } else { Status::Missing },
        text: if on { "On" } else { "Off" }.into(),
    }
}

fn provisioning_cell(cov: &SubscriptionCoverage) -> Cell {
    let n = cov.assignments.iter().filter(|a| a.deploys).count();
    if has(cov, &rules::AUTO_PROVISIONING) {
        return Cell {
            status: Status::Missing,
            text: "none".into(),
        };
    }
    if n == 0 {
        let legacy = cov
            .auto_provision
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("On"));
        return Cell {
            status: if legacy {
                Status::Partial
            } else {
                Status::NotApplicable
            },
            text: if legacy { "legacy MMA only" } else { "unread" }.into(),
        };
    }
    Cell {
        status: Status::Ok,
        text: format!("{n} polic{}", if n == 1 { "y" } else { "ies" }),
    }
}

fn roles_cell(cov: &SubscriptionCoverage) -> Cell {
    let deploying: Vec<_> = cov.assignments.iter().filter(|a| a.deploys).collect();
    if deploying.is_empty() {
        return Cell {
            status: Status::NotApplicable,
            text: "no assignment".into(),
        };
    }
    let missing: usize = deploying
        .iter()
        .map(|a| a.roles.iter().filter(|r| !r.held).count())
        .sum();
    let no_identity = deploying
        .iter()
        .filter(|a| a.principal_id.is_none())
        .count();
    if missing == 0 && no_identity == 0 {
        return Cell {
            status: Status::Ok,
            text: "complete".into(),
        };
    }
    let mut parts = Vec::new();
    if missing > 0 {
        parts.push(format!(
            "{missing} role{} missing",
            if missing == 1 { "" } else { "s" }
        ));
    }
    if no_identity > 0 {
        parts.push(format!("{no_identity} without identity"));
    }
    Cell {
        status: Status::Missing,
        text: parts.join(", "),
    }
}

fn remediation_cell(cov: &SubscriptionCoverage) -> Cell {
    let states: Vec<&str> = cov
        .assignments
        .iter()
        .filter_map(|a| a.remediation.as_ref())
        .map(|r| r.state.as_str())
        .collect();
    if states.is_empty() {
        return Cell {
            status: Status::NotApplicable,
            text: "none run".into(),
        };
    }
    let failed = states
        .iter()
        .filter(|s| s.eq_ignore_ascii_case("Failed"))
        .count();
    if failed > 0 {
        Cell {
            status: Status::Missing,
            text: format!("{failed} failed"),
        }
    } else {
        Cell {
            status: Status::Ok,
            text: if states.len() == 1 {
                states[0].to_owned()
            } else {
                format!("{} ok", states.len())
            },
        }
    }
}

/// The matrix's columns: the current plans, then contact, integrations, auto provisioning,
/// identity roles and remediation.
pub static COLUMNS: &[Column] = &[
    plan_column!(
        "Servers",
        "VirtualMachines",
        "Defender for Servers (VirtualMachines)"
    ),
    plan_column!("CSPM", "CloudPosture", "Defender CSPM (CloudPosture)"),
    plan_column!("Containers", "Containers", "Defender for Containers"),
    plan_column!(
        "Storage",
        "StorageAccounts",
        "Defender for Storage (StorageAccounts)"
    ),
    plan_column!("SQL", "SqlServers", "Defender for Azure SQL (SqlServers)"),
    plan_column!(
        "SQL VMs",
        "SqlServerVirtualMachines",
        "Defender for SQL servers on machines"
    ),
    plan_column!(
        "OSS DBs",
        "OpenSourceRelationalDatabases",
        "Defender for open-source relational databases"
    ),
    plan_column!("Cosmos DB", "CosmosDbs", "Defender for Azure Cosmos DB"),
    plan_column!("Key Vault", "KeyVaults", "Defender for Key Vault"),
    plan_column!("App Service", "AppServices", "Defender for App Service"),
    plan_column!("ARM", "Arm", "Defender for Resource Manager"),
    plan_column!("APIs", "Api", "Defender for APIs"),
    plan_column!("AI", "AI", "Defender for AI services"),
    Column {
        label: "Contact",
        title: "Security contact: emails, phone, alert and owner notifications",
        cell: contact_cell,
    },
    Column {
        label: "Endpoint",
        title: "Defender for Endpoint integration (setting WDATP)",
        cell: |c| setting_cell(c, "WDATP"),
    },
    Column {
        label: "Cloud Apps",
        title: "Defender for Cloud Apps integration (setting MCAS)",
        cell: |c| setting_cell(c, "MCAS"),
    },
    Column {
        label: "Auto-prov.",
        title: "Auto-provisioning policy assignments at or above the subscription",
        cell: provisioning_cell,
    },
    Column {
        label: "Roles",
        title: "Whether each assignment's identity holds every role its policy needs",
        cell: roles_cell,
    },
    Column {
        label: "Remediation",
        title: "The latest remediation of each assignment",
        cell: remediation_cell,
    },
];

/// The cells of one subscription, in [`COLUMNS`] order.
pub fn matrix(cov: &SubscriptionCoverage) -> Vec<Cell> {
    COLUMNS.iter().map(|c| (c.cell)(cov)).collect()
}

/// `3 findings (1 high, 2 medium) in 2 subscriptions`.
pub fn summary_line(report: &AuditReport) -> String {
    let s = &report.summary;
    let subs = format!(
        "{} subscription{}",
        s.subscriptions,
        if s.subscriptions == 1 { "" } else { "s" }
    );
    if s.findings == 0 {
        return format!("No findings in {subs}.");
    }
    let parts: Vec<String> = [
        (s.critical, "critical"),
        (s.high, "high"),
        (s.medium, "medium"),
        (s.low, "low"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    format!(
        "{} finding{} ({}) in {subs}.",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests;
