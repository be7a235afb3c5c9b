//! A plain-text table for terminals: the matrix (one line per subscription), then the findings.

use super::{COLUMNS, matrix, summary_line};
use crate::audit::model::AuditReport;

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == r.len() {
                    c.clone()
                } else {
                    pad(c, widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn render(report: &AuditReport) -> String {
    let mut out = String::new();
    out.push_str("Defender for Cloud coverage\n");
    out.push_str(&summary_line(report));
    out.push_str("\n\n");

    let mut rows = vec![{
        let mut h = vec!["SUBSCRIPTION".to_owned()];
        h.extend(COLUMNS.iter().map(|c| c.label.to_uppercase()));
        h
    }];
    for s in &report.subscriptions {
        let mut r = vec![s.subscription_id.clone()];
        r.extend(
            matrix(s)
                .into_iter()
                .map(|c| format!("{} {}", c.status.symbol(), c.text)),
        );
        rows.push(r);
    }
    out.push_str(&table(&rows));

    if report.summary.findings > 0 {
        // Findings as blocks: the public rule lists are too long for a column.
        out.push_str("\nFINDINGS\n");
        let mut findings: Vec<_> = report.findings().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in findings {
            out.push_str(&format!(
                "\n{:<8}  {}  {}\n          {}\n",
                f.severity.as_str().to_uppercase(),
                f.subscription_id,
                f.rule_id,
                f.message
            ));
            if !f.public_rules.is_empty() {
                out.push_str(&format!("          public rules: {}\n", f.public_ids()));
            }
        }
    }
    out.push_str("\nLegend: ✔ ok  ◐ partial  ✘ missing  – not applicable. Public rule IDs marked ? are unverified.\n");
    out
}
