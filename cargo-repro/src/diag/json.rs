//! `--format json`: one JSON document with `format_version`, sorted `findings` and a `summary`.

use serde_json::{Map, Value, json};

use super::{Finding, Report};

/// The wire format's version; bumped on incompatible changes.
pub const FORMAT_VERSION: u64 = 1;

/// Renders a report as a pretty-printed JSON document (keys sorted, trailing newline).
pub fn render(report: &Report) -> String {
    let findings: Vec<Value> = report.findings.iter().map(finding).collect();
    let mut summary = Map::new();
    summary.insert("errors".into(), json!(report.summary.errors));
    summary.insert("warnings".into(), json!(report.summary.warnings));
    summary.insert("notes".into(), json!(report.summary.notes));
    if let Some(fallback) = &report.summary.toolchain_fallback {
        summary.insert(
            "toolchain_fallback".into(),
            json!({ "missing": fallback.missing, "used": fallback.used }),
        );
    }
    if let Some(reason) = &report.summary.limited_reason {
        summary.insert(
            "limited".into(),
            json!({ "reason": reason, "rules": report.summary.limited_rules }),
        );
    }
    if let Some(reason) = &report.summary.default_features_only {
        summary.insert("default_features_only".into(), json!({ "reason": reason }));
    }
    if !report.summary.unread_sources.is_empty() {
        summary.insert(
            "unread_sources".into(),
            json!(report.summary.unread_sources),
        );
    }
    let document = json!({
        "format_version": FORMAT_VERSION,
        "findings": findings,
        "summary": summary,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON values always serialize");
    text.push('\n');
    text
}

fn finding(finding: &Finding) -> Value {
    let mut object = Map::new();
    object.insert("rule".into(), json!(finding.rule));
    object.insert("level".into(), json!(finding.level.as_str()));
    object.insert("message".into(), json!(finding.message));
    object.insert("path".into(), json!(finding.location.path));
    object.insert("line".into(), json!(finding.location.line));
    object.insert("column".into(), json!(finding.location.column));
    if let Some(package) = &finding.package {
        object.insert("package".into(), json!(package));
    }
    if let Some(help) = &finding.help {
        object.insert("help".into(), json!(help));
    }
    if !finding.notes.is_empty() {
        object.insert("notes".into(), json!(finding.notes));
    }
    Value::Object(object)
}
