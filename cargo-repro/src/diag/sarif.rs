//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, with relative URIs and stable fingerprints.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Finding, Level, Report};
use crate::rules::RULES;

/// Renders a report as a SARIF 2.1.0 log.
pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "shortDescription": { "text": rule.summary },
                "fullDescription": { "text": rule.summary },
                "help": { "text": rule.docs.trim(), "markdown": rule.docs.trim() },
                "defaultConfiguration": { "level": sarif_level(rule.default_level) },
                "properties": { "heuristic": rule.heuristic },
            })
        })
        .collect();
    let results: Vec<Value> = report.findings.iter().map(result).collect();
    // What limited the check (the notes the other formats print after the findings).
    let notifications: Vec<Value> = report
        .summary
        .notes()
        .into_iter()
        .map(|text| json!({ "level": "note", "message": { "text": text } }))
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-repro",
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {
                "%SRCROOT%": { "description": { "text": "The root of the audited workspace" } },
                "CARGO_HOME": { "description": { "text": "Cargo's home directory ($CARGO_HOME)" } },
            },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("JSON values always serialize");
    text.push('\n');
    text
}

/// A relative path as a URI reference (RFC 3986): every byte but the unreserved characters and
/// `/` percent-encoded, so a file named `a b#c.rs` (or holding a newline) is one valid URI.
fn percent_encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Note | Level::Allow => "note",
    }
}

fn result(finding: &Finding) -> Value {
    let rule_index = RULES.iter().position(|r| r.id == finding.rule).unwrap_or(0);
    let (base, uri) = match finding.location.path.strip_prefix("$CARGO_HOME/") {
        Some(rest) => ("CARGO_HOME", rest.to_string()),
        None => ("%SRCROOT%", finding.location.path.clone()),
    };
    let uri = percent_encoded(&uri);
    let mut physical = json!({ "artifactLocation": { "uri": uri, "uriBaseId": base } });
    if let (Some(line), Some(column)) = (finding.location.line, finding.location.column) {
        physical["region"] = json!({
            "startLine": line,
            "startColumn": column,
            "endColumn": column + finding.location.width.max(1),
        });
    }
    let mut text = finding.message.clone();
    if let Some(help) = &finding.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let fingerprint = {
        let mut hasher = Sha256::new();
        for part in [finding.rule, &finding.location.path, &finding.message] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        digest
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": sarif_level(finding.level),
        "message": { "text": text },
        "locations": [{ "physicalLocation": physical }],
        "partialFingerprints": { "cargoRepro/v1": fingerprint },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(percent_encoded("src/main.rs"), "src/main.rs");
        assert_eq!(percent_encoded("a b#c%.rs"), "a%20b%23c%25.rs");
        assert_eq!(percent_encoded("x\ny/é"), "x%0Ay/%C3%A9");
    }
}
