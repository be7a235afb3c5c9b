//! A single self-contained HTML page: inline CSS, no scripts, fonts, images or other fetches.
//! The subscriptions × protections matrix comes first; every cell carries a symbol and a word
//! as well as its colour, so it reads in greyscale and with colour blindness. The findings
//! follow, worst first, with their public rule IDs.

use super::{COLUMNS, Status, matrix, summary_line};
use crate::audit::model::AuditReport;
use crate::audit::rules::Severity;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Finding text is written for Markdown (PR comments): its `code spans` become `<code>` here
/// instead of showing their backticks. An unpaired backtick stays as it is.
fn esc_text(s: &str) -> String {
    let escaped = esc(s);
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len() < 3 {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    let pairs = (parts.len() - 1) / 2;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            if i <= 2 * pairs {
                out.push_str(if i % 2 == 1 { "<code>" } else { "</code>" });
            } else {
                out.push('`');
            }
        }
        out.push_str(part);
    }
    out
}

fn class(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Partial => "partial",
        Status::Missing => "missing",
        Status::NotApplicable => "na",
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #59636e; margin: 0 0 16px; }
.cards { display: flex; gap: 12px; margin: 12px 0 20px; flex-wrap: wrap; }
.card { border: 1px solid #d1d9e0; border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.card.critical { border-left: 6px solid #82071e; } .card.high { border-left: 6px solid #cf222e; }
.card.medium { border-left: 6px solid #bf8700; } .card.low { border-left: 6px solid #0969da; }
table { border-collapse: collapse; }
.scroll { overflow-x: auto; }
table.matrix th, table.matrix td { border: 1px solid #d1d9e0; padding: 5px 6px; text-align: center; vertical-align: middle; }
table.matrix th { background: #f6f8fa; font-size: 12px; font-weight: 600; max-width: 90px; }
table.matrix td.id { text-align: left; font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: nowrap; }
table.matrix td.c { font-size: 11.5px; min-width: 60px; max-width: 78px; overflow-wrap: anywhere; }
td .sym { display: block; font-size: 17px; font-weight: 700; line-height: 1.1; }
td.ok { background: #dafbe1; color: #0f5323; }
td.partial { background: #fff8c5; color: #6b4d00; }
td.missing { background: #ffcecb; color: #82071e; font-weight: 600; }
td.na { background: #f6f8fa; color: #59636e; }
.legend { margin: 10px 0 0; font-size: 13px; display: flex; gap: 16px; flex-wrap: wrap; }
.legend span { padding: 2px 8px; border-radius: 4px; border: 1px solid #d1d9e0; }
.legend .ok { background: #dafbe1; color: #0f5323; } .legend .partial { background: #fff8c5; color: #6b4d00; }
.legend .missing { background: #ffcecb; color: #82071e; } .legend .na { background: #f6f8fa; color: #59636e; }
table.findings { width: 100%; }
table.findings th, table.findings td { border-bottom: 1px solid #d1d9e0; padding: 6px 8px; text-align: left; vertical-align: top; }
table.findings th { background: #f6f8fa; }
table.findings code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: nowrap; }
.sev { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.sev.critical { background: #82071e; } .sev.high { background: #cf222e; } .sev.medium { background: #9a6700; } .sev.low { background: #0969da; }
.pub { display: inline-block; margin: 1px 2px; padding: 0 5px; border: 1px solid #d1d9e0; border-radius: 4px; font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; }
.unverified { border-style: dashed; }
.count { font-weight: 600; }
footer { margin-top: 28px; color: #59636e; font-size: 12px; }
"#;

fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "‼",
        Severity::High => "▲",
        Severity::Medium => "◆",
        Severity::Low => "●",
    }
}

pub fn render(report: &AuditReport) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>Defender for Cloud coverage</title>\n<style>");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n");
    h.push_str("<h1>Defender for Cloud coverage</h1>\n");
    h.push_str(&format!(
        "<p class=\"sub\">{}{}</p>\n",
        esc(&summary_line(report)),
        report
            .management_group_id
            .as_deref()
            .map(|m| format!(" Assignments of management group {} included.", esc(m)))
            .unwrap_or_default()
    ));
    let s = &report.summary;
    h.push_str("<div class=\"cards\">");
    for (n, sev) in [
        (s.critical, Severity::Critical),
        (s.high, Severity::High),
        (s.medium, Severity::Medium),
        (s.low, Severity::Low),
    ] {
        h.push_str(&format!(
            "<div class=\"card {0}\"><b>{n}</b>{1} {0}</div>",
            sev.as_str(),
            severity_symbol(sev)
        ));
    }
    h.push_str("</div>\n");

    // The matrix.
    h.push_str("<h2>Subscriptions × protections</h2>\n<div class=\"scroll\"><table class=\"matrix\">\n<thead><tr><th>Subscription</th><th>Findings</th>");
    for c in COLUMNS {
        h.push_str(&format!(
            "<th title=\"{}\">{}</th>",
            esc(c.title),
            esc(c.label)
        ));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for sub in &report.subscriptions {
        let worst = sub.findings.iter().map(|f| f.severity).max();
        h.push_str(&format!(
            "<tr><td class=\"id\">{}</td>",
            esc(&sub.subscription_id)
        ));
        match worst {
            None => h.push_str("<td class=\"c ok\"><span class=\"sym\">✔</span>none</td>"),
            Some(w) => h.push_str(&format!(
                "<td class=\"c\"><span class=\"count\">{}</span> <span class=\"sev {}\">{} {}</span></td>",
                sub.findings.len(),
                w.as_str(),
                severity_symbol(w),
                w.as_str()
            )),
        }
        for (cell, col) in matrix(sub).into_iter().zip(COLUMNS) {
            h.push_str(&format!(
                "<td class=\"c {}\" title=\"{}: {}\"><span class=\"sym\">{}</span>{}</td>",
                class(cell.status),
                esc(col.title),
                cell.status.word(),
                cell.status.symbol(),
                esc(&cell.text)
            ));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n");
    h.push_str("<div class=\"legend\"><span class=\"ok\">✔ on</span><span class=\"partial\">◐ partial</span><span class=\"missing\">✘ missing</span><span class=\"na\">– not applicable / not read</span></div>\n");

    // Findings.
    h.push_str("<h2>Findings</h2>\n");
    if s.findings == 0 {
        h.push_str("<p>None: every protection the audit checks is in place.</p>\n");
    } else {
        h.push_str("<table class=\"findings\">\n<thead><tr><th>Severity</th><th>Subscription</th><th>Rule</th><th>Finding</th><th>Public rules</th></tr></thead>\n<tbody>\n");
        let mut findings: Vec<_> = report.findings().collect();
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in findings {
            let public: String = if f.public_rules.is_empty() {
                "—".into()
            } else {
                f.public_rules
                    .iter()
                    .map(|p| {
                        format!(
                            "<span class=\"pub{}\" title=\"{}{}\">{}{}</span>",
                            if p.verified { "" } else { " unverified" },
                            esc(p.tool.as_str()),
                            if p.verified { "" } else { " (unverified)" },
                            esc(p.id),
                            if p.verified { "" } else { "?" }
                        )
                    })
                    .collect()
            };
            h.push_str(&format!(
                "<tr><td><span class=\"sev {0}\">{1} {0}</span></td><td><code>{2}</code></td><td><code>{3}</code></td><td>{4}<br><small>{5}</small></td><td>{6}</td></tr>\n",
                f.severity.as_str(),
                severity_symbol(f.severity),
                esc(&f.subscription_id),
                esc(f.rule_id),
                esc_text(&f.message),
                esc_text(f.remediation),
                public
            ));
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str(&format!(
        "<footer>terraform-provider-defender {} audit. Read only: no setting was changed. Public rule IDs with a dashed border are unverified.</footer>\n</body>\n</html>\n",
        esc(report.version)
    ));
    h
}

#[cfg(test)]
mod code_span_tests {
    use super::esc_text;

    #[test]
    fn code_spans_become_code_elements_and_the_rest_is_escaped() {
        assert_eq!(
            esc_text("Set `tier = \"Standard\"` on <plan> or `x`"),
            "Set <code>tier = &quot;Standard&quot;</code> on &lt;plan&gt; or <code>x</code>"
        );
        assert_eq!(esc_text("no spans"), "no spans");
        assert_eq!(esc_text("one ` alone"), "one ` alone");
        assert_eq!(esc_text("`a` and ` b"), "<code>a</code> and ` b");
    }
}
