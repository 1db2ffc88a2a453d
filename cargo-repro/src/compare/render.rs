//! The human rendering of a [`FileComparison`]: compact, deterministic lines.

use super::{DifferenceKind, FileComparison, Format, MemberDifference, StringDifference};

impl FileComparison {
    /// One line per finding, each indented by `indent` spaces (members' own lines by two more):
    ///
    /// ```text
    /// ELF sections differ: .rodata, .debug_str
    /// build path: $WORKSPACE/app/src/main.rs (the checkout path of each run)
    /// timestamp: 1795306062 vs 1795306071 (seconds since the epoch)
    /// member lib.rmeta differs
    ///   …
    /// header fields differ: gzip mtime
    /// ```
    pub fn render_lines(&self, indent: usize) -> Vec<String> {
        let pad = " ".repeat(indent);
        if self.identical {
            return vec![format!("{pad}identical")];
        }
        let mut lines = Vec::new();
        if !self.sections.is_empty() {
            let what = if self.format == Format::Elf {
                "ELF sections"
            } else {
                "sections"
            };
            lines.push(format!("{pad}{what} differ: {}", self.sections.join(", ")));
        }
        if !self.header_fields.is_empty() {
            lines.push(format!(
                "{pad}header fields differ: {}",
                self.header_fields.join(", ")
            ));
        }
        lines.extend(
            self.strings
                .iter()
                .map(|s| format!("{pad}{}", string_line(s))),
        );
        if self.strings_left_out > 0 {
            lines.push(format!(
                "{pad}… and {} more differing strings",
                self.strings_left_out
            ));
        }
        for member in &self.members {
            let name = printable(&member.name);
            match &member.difference {
                MemberDifference::Differs(comparison) => {
                    lines.push(format!("{pad}member {name} differs"));
                    lines.extend(comparison.render_lines(indent + 2));
                }
                MemberDifference::OnlyInRun(run) => {
                    lines.push(format!("{pad}member {name} only in run {run}"));
                }
            }
        }
        lines.extend(
            self.notes
                .iter()
                .map(|n| format!("{pad}note: {}", printable(n))),
        );
        if lines.is_empty() {
            lines.push(format!(
                "{pad}{} contents differ; nothing recognisable in the differing bytes",
                self.format.name()
            ));
        }
        lines
    }
}

/// `timestamp: 1795306062 vs 1795306071 (seconds since the epoch)`; a path the same in both
/// runs once scrubbed is shown once.
fn string_line(difference: &StringDifference) -> String {
    let [a, b] = &difference.runs;
    let is_path = matches!(
        difference.kind,
        DifferenceKind::BuildPath
            | DifferenceKind::TargetDir
            | DifferenceKind::CargoHome
            | DifferenceKind::HomeDirectory
    );
    let evidence = if is_path && a == b {
        side(a)
    } else {
        format!("{} vs {}", side(a), side(b))
    };
    format!(
        "{}: {evidence} ({})",
        difference.kind.label(),
        difference.meaning
    )
}

/// One run's evidence: the strings separated by `, `, or by ` | ` when one holds a comma.
fn side(strings: &[String]) -> String {
    if strings.is_empty() {
        return "(absent)".to_string();
    }
    let shown: Vec<String> = strings.iter().map(|s| printable(s)).collect();
    let separator = if shown.iter().any(|s| s.contains(',')) {
        " | "
    } else {
        ", "
    };
    shown.join(separator)
}

/// The text on one line: control characters (newlines, tabs, escapes) written as escapes.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
