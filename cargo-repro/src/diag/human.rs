//! rustc-style output: `level[rule-id]: message`, `--> path:line:col`, the line, and `help:`.

use annotate_snippets::{AnnotationKind, Group, Level as SnippetLevel, Origin, Renderer, Snippet};

use super::{Finding, Level, Report};

/// Renders a report as text; `color` adds ANSI styles.
pub fn render(report: &Report, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&renderer.render(&[group(finding)]));
        out.push_str("\n\n");
    }
    for note in report.summary.notes() {
        let note = SnippetLevel::NOTE.primary_title(note);
        out.push_str(&renderer.render(&[Group::with_title(note)]));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// `summary: 1 error, 2 warnings, 0 notes`.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "summary: {}, {}, {}",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note")
    )
}

fn snippet_level(level: Level) -> SnippetLevel<'static> {
    match level {
        Level::Deny => SnippetLevel::ERROR,
        Level::Warn => SnippetLevel::WARNING,
        Level::Note | Level::Allow => SnippetLevel::NOTE,
    }
}

fn group(finding: &Finding) -> Group<'_> {
    let title = snippet_level(finding.level)
        .primary_title(finding.message.as_str())
        .id(finding.rule);
    let location = &finding.location;
    let mut group = match (&location.source_line, location.line) {
        (Some(source), Some(line)) => {
            let start_char = location.column.unwrap_or(1) - 1;
            let start = byte_offset(source, start_char);
            let end = byte_offset(source, start_char + location.width.max(1));
            title.element(
                Snippet::source(source.as_str())
                    .line_start(line)
                    .path(location.path.as_str())
                    .annotation(AnnotationKind::Primary.span(start..end.max(start))),
            )
        }
        _ => {
            let mut origin = Origin::path(location.path.as_str());
            if let Some(line) = location.line {
                origin = origin.line(line);
            }
            title.element(origin)
        }
    };
    if let Some(package) = &finding.package {
        group = group.element(SnippetLevel::NOTE.message(format!("package: {package}")));
    }
    for note in &finding.notes {
        group = group.element(SnippetLevel::NOTE.message(note.as_str()));
    }
    if let Some(help) = &finding.help {
        group = group.element(SnippetLevel::HELP.message(help.as_str()));
    }
    group
}

/// The byte offset of the `chars`-th character (clamped to the end).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}
