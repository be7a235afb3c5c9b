//! Markdown for a pull-request comment (GitHub flavour): a heading with a hidden marker (so a
//! workflow can edit its own comment), the summary, the matrix, then the findings folded in a
//! `<details>` block. GitHub comments hold 65,536 characters: the findings table is cut with a
//! note past 50,000.

use super::{COLUMNS, Status, matrix, summary_line};
use crate::audit::model::AuditReport;
use crate::audit::rules::Severity;

/// Characters of findings kept before the table is cut.
const MAX_FINDINGS_CHARS: usize = 50_000;

/// Table cells: no pipes, newlines or HTML (a comment renders HTML).
fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Ok => "✅",
        Status::Partial => "⚠️",
        Status::Missing => "❌",
        Status::NotApplicable => "➖",
    }
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🟥 critical",
        Severity::High => "🟧 high",
        Severity::Medium => "🟨 medium",
        Severity::Low => "🟦 low",
    }
}

pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    out.push_str("<!-- defender-audit -->\n### Defender for Cloud coverage\n\n");
    let worst = report.worst();
    out.push_str(&format!(
        "{} {}\n\n",
        match worst {
            None => "✅",
            Some(Severity::Low) => "ℹ️",
            Some(_) => "❌",
        },
        summary_line(report)
    ));

    // The matrix.
    out.push_str("| Subscription |");
    for c in COLUMNS {
        out.push_str(&format!(" {} |", c.label));
    }
    out.push_str("\n|---|");
    for _ in COLUMNS {
        out.push_str(":---:|");
    }
    out.push('\n');
    for s in &report.subscriptions {
        out.push_str(&format!("| `{}` |", s.subscription_id));
        for c in matrix(s) {
            out.push_str(&format!(" {} {} |", icon(c.status), cell(&c.text)));
        }
        out.push('\n');
    }
    out.push_str("\n✅ on · ⚠️ partial · ❌ missing · ➖ not applicable\n");

    if report.summary.findings > 0 {
        out.push_str(&format!(
            "\n<details><summary>{} finding{}</summary>\n\n",
            report.summary.findings,
            if report.summary.findings == 1 {
                ""
            } else {
                "s"
            }
        ));
        out.push_str(
            "| Severity | Subscription | Rule | Public rules | Finding |\n|---|---|---|---|---|\n",
        );
        let mut findings: Vec<_> = report.findings().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let mut written = 0usize;
        let total = findings.len();
        for (i, f) in findings.into_iter().enumerate() {
            let public = if f.public_rules.is_empty() {
                "—".to_owned()
            } else {
                f.public_rules
                    .iter()
                    .map(|p| {
                        format!(
                            "`{}`{}",
                            p.id,
                            if p.verified { "" } else { " (unverified)" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let line = format!(
                "| {} | `{}` | `{}` | {} | {} |\n",
                severity_icon(f.severity),
                f.subscription_id,
                f.rule_id,
                public,
                cell(&f.message)
            );
            if written + line.len() > MAX_FINDINGS_CHARS {
                out.push_str(&format!(
                    "\n_{} more findings not shown: run the audit with `--format table` or \
                     `--format json`._\n",
                    total - i
                ));
                break;
            }
            written += line.len();
            out.push_str(&line);
        }
        out.push_str("\n</details>\n");
    }
    out
}
