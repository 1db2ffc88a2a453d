//! Findings as data: what a rule found, where, and how bad it is; renderers live in submodules.

pub mod human;
pub mod json;
pub mod sarif;

use std::fmt;

/// How serious a finding is, after configuration has been applied.
///
/// Ordered from least to most severe, so that `max()` gives the worst level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Suppressed: the rule is turned off or the finding is excepted.
    Allow,
    /// Informational: a risk that is already mitigated (for example by a vendored patch).
    Note,
    /// Reported, but does not fail the check.
    Warn,
    /// Reported and fails the check (exit code 1).
    Deny,
}

impl Level {
    /// The name used in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    /// Parses a configurable level (`note` is set by rules, never by users).
    pub fn parse_configurable(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in a file, with the path relative to the workspace root (or `$CARGO_HOME/…`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Display path with forward slashes; never absolute.
    pub path: String,
    /// 1-based line, when the finding points into the file.
    pub line: Option<usize>,
    /// 1-based column (in characters) where the highlighted text starts.
    pub column: Option<usize>,
    /// Number of characters highlighted on that line (at least 1).
    pub width: usize,
    /// The text of that line, for renderers that show a snippet.
    pub source_line: Option<String>,
}

impl Location {
    /// A location naming a whole file (for example one that is missing).
    pub fn file(path: impl Into<String>) -> Location {
        Location {
            path: path.into(),
            line: None,
            column: None,
            width: 0,
            source_line: None,
        }
    }
}

/// One reason the release might not be reproducible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The stable kebab-case id of the rule that produced it.
    pub rule: &'static str,
    /// Effective level (set from configuration by the engine).
    pub level: Level,
    /// One sentence: what is wrong.
    pub message: String,
    /// Where it is.
    pub location: Location,
    /// The package concerned, as `name@version`, when there is one.
    pub package: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Further explanation: evidence, upstream links, heuristic caveats.
    pub notes: Vec<String>,
    /// True when the risk is already mitigated: the finding is reported as a note.
    pub mitigated: bool,
    /// True when the finding is in a development entry point (tests, lints, developer
    /// recipes): reported as a note unless the configuration holds those to the release
    /// standard.
    pub development: bool,
    /// True when a heuristic could not tell whether the risk is real: reported as a note.
    pub uncertain: bool,
}

impl Finding {
    /// A new finding for `rule`; the level is filled in by the engine.
    pub fn new(rule: &'static str, message: impl Into<String>, location: Location) -> Finding {
        Finding {
            rule,
            level: Level::Deny,
            message: message.into(),
            location,
            package: None,
            help: None,
            notes: Vec::new(),
            mitigated: false,
            development: false,
            uncertain: false,
        }
    }

    /// Sets the fix suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// Adds an explanatory note.
    pub fn note(mut self, note: impl Into<String>) -> Finding {
        self.notes.push(note.into());
        self
    }

    /// Names the package concerned.
    pub fn package(mut self, name: &str, version: &str) -> Finding {
        self.package = Some(format!("{name}@{version}"));
        self
    }

    /// Marks the finding as mitigated, so it is reported as a note.
    pub fn mitigated(mut self, why: impl Into<String>) -> Finding {
        self.mitigated = true;
        self.notes.push(why.into());
        self
    }

    /// Marks the finding as one a heuristic could not decide, so it is reported as a note;
    /// `why` says what the tool could not tell.
    pub fn uncertain(mut self, why: impl Into<String>) -> Finding {
        self.uncertain = true;
        self.notes.push(why.into());
        self
    }

    /// Marks the finding as one in a development entry point.
    pub fn development(mut self) -> Finding {
        self.development = true;
        self
    }

    /// The key findings are sorted by: file, line, column, rule, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            self.rule,
            &self.message,
            &self.package,
        )
    }
}

/// Sorts findings deterministically and removes exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
}

/// Counts by level, and what ran with less information.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Why the package graph could not be had, when it could not.
    pub limited_reason: Option<String>,
    /// Rules that ran with information from `Cargo.lock` and manifests only.
    pub limited_rules: Vec<&'static str>,
    /// The installed toolchain the package graph was read with, when rustup could not provide
    /// the pinned one (shown when a rule that uses the graph ran).
    pub toolchain_fallback: Option<crate::workspace::ToolchainFallback>,
    /// Why `cargo metadata --all-features` failed, when the graph the rules that use it saw
    /// holds only the default features' optional edges.
    pub default_features_only: Option<String>,
    /// Build-time files the source heuristics did not read, each with why (shown when one of
    /// them ran).
    pub unread_sources: Vec<String>,
}

impl Summary {
    /// Counts the visible findings.
    pub fn count(findings: &[Finding]) -> Summary {
        let mut summary = Summary::default();
        for finding in findings {
            match finding.level {
                Level::Deny => summary.errors += 1,
                Level::Warn => summary.warnings += 1,
                Level::Note => summary.notes += 1,
                Level::Allow => {}
            }
        }
        summary
    }

    /// What limited the check, one sentence each, in a fixed order: the notes every format
    /// shows after the findings.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(fallback) = &self.toolchain_fallback {
            notes.push(toolchain_fallback_note(fallback));
        }
        if let Some(reason) = &self.limited_reason {
            notes.push(format!(
                "the resolved package graph could not be had ({reason}); these rules ran with \
                 what Cargo.lock and the manifests say: {}",
                self.limited_rules.join(", ")
            ));
        }
        if let Some(reason) = &self.default_features_only {
            notes.push(format!(
                "`cargo metadata --all-features` failed ({reason}), so the graph holds only the \
                 optional dependencies the default features enable: a crate only a release \
                 feature pulls in is not judged (run once online, or `cargo fetch`, to fix this)"
            ));
        }
        if !self.unread_sources.is_empty() {
            notes.push(format!(
                "the source heuristics did not read {} build-time file(s), so what they hold is \
                 not judged: {}",
                self.unread_sources.len(),
                self.unread_sources.join("; ")
            ));
        }
        notes
    }
}

/// Why the package graph was read with another toolchain than the pinned one.
fn toolchain_fallback_note(fallback: &crate::workspace::ToolchainFallback) -> String {
    let missing = match &fallback.missing {
        Some(name) => format!("the pinned toolchain `{name}`"),
        None => "the pinned toolchain".to_string(),
    };
    format!(
        "rustup could not provide {missing} (not installed, and not installable here), so `cargo \
         metadata` read the package graph with the installed `{}` (it needs no particular \
         compiler)",
        fallback.used
    )
}

/// The result of a check: findings (sorted, allowed ones removed) and the summary.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

impl Report {
    /// True when nothing is at deny level.
    pub fn passed(&self) -> bool {
        self.summary.errors == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_notes_say_what_limited_the_check_in_a_fixed_order() {
        assert!(Summary::default().notes().is_empty());
        let summary = Summary {
            default_features_only: Some("failed to download `extra v1.0.0`".into()),
            unread_sources: vec!["build.rs:3: does not parse: expected `;`".into()],
            limited_reason: Some("Cargo.lock needs to be updated".into()),
            limited_rules: vec!["known-nondeterministic-crate"],
            ..Summary::default()
        };
        let notes = summary.notes();
        assert_eq!(notes.len(), 3);
        assert!(notes[0].contains("could not be had (Cargo.lock needs to be updated)"));
        assert!(notes[1].starts_with(
            "`cargo metadata --all-features` failed (failed to download `extra v1.0.0`)"
        ));
        assert!(notes[1].contains("a crate only a release feature pulls in is not judged"));
        assert!(notes[2].contains("did not read 1 build-time file(s)"));
        assert!(notes[2].ends_with("build.rs:3: does not parse: expected `;`"));
    }
}
