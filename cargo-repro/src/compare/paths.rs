//! Recognises each run's absolute paths (target directory, checkout, `CARGO_HOME`, home) in a
//! string and replaces them with `$TARGET`, `$WORKSPACE`, `$CARGO_HOME` and `~`.

use std::borrow::Cow;
use std::path::Path;

use super::{DifferenceKind, RunPaths};

/// One path to recognise and what it stands for.
#[derive(Clone, Debug)]
struct Prefix {
    text: String,
    placeholder: &'static str,
    kind: DifferenceKind,
}

/// The paths of both runs, longest first, so a target directory inside the checkout, or a
/// `CARGO_HOME` inside the home directory, is recognised as the more specific one.
#[derive(Clone, Debug)]
pub(super) struct Scrubber {
    /// Per run: its own paths, then the other run's (so neither run's paths ever leak).
    per_run: [Vec<Prefix>; 2],
}

/// A string with the run's paths replaced, and where each placeholder went.
pub(super) struct Scrubbed<'a> {
    pub(super) text: Cow<'a, str>,
    /// The byte offset in `text` of each placeholder put in, and the kind of path it replaced.
    pub(super) placeholders: Vec<(usize, DifferenceKind)>,
}

impl Scrubbed<'_> {
    /// The kind of the first path found, if any.
    pub(super) fn first_kind(&self) -> Option<DifferenceKind> {
        self.placeholders.first().map(|(_, kind)| *kind)
    }

    /// Each scrubbed path (`$WORKSPACE/app/src/main.rs`): from a placeholder to the first
    /// character that cannot be part of a path here (space, quote, `:` before a line number, …),
    /// at most [`MAX_PATH_CHARS`] characters.
    pub(super) fn paths(&self) -> Vec<(DifferenceKind, &str)> {
        self.placeholders
            .iter()
            .map(|&(at, kind)| {
                let rest = &self.text[at..];
                let end = rest
                    .char_indices()
                    .enumerate()
                    .find(|&(count, (_, c))| count == MAX_PATH_CHARS || ends_path(c))
                    .map_or(rest.len(), |(_, (i, _))| i);
                (kind, &rest[..end])
            })
            .collect()
    }
}

/// The longest scrubbed path kept as evidence.
const MAX_PATH_CHARS: usize = 160;

fn ends_path(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '"' | '\'' | '`' | ',' | ';' | ':' | '=' | '(' | ')' | '<' | '>' | '[' | ']' | '|'
        )
}

impl Scrubber {
    /// Reads each path as given and, when it exists, canonicalized.
    pub(super) fn new(runs: &[RunPaths; 2]) -> Scrubber {
        let own: Vec<Vec<Prefix>> = runs.iter().map(prefixes_of).collect();
        let per_run = [0, 1].map(|run| {
            let mut prefixes: Vec<Prefix> = own[run].iter().chain(&own[1 - run]).cloned().collect();
            // Stable: at equal length the run's own paths stay first.
            prefixes.sort_by_key(|p| std::cmp::Reverse(p.text.len()));
            prefixes
        });
        Scrubber { per_run }
    }

    /// `text` from run `run` (0 or 1) with every recognised path replaced by its placeholder.
    pub(super) fn scrub<'a>(&self, run: usize, text: &'a str) -> Scrubbed<'a> {
        let prefixes = &self.per_run[run];
        let mut out = String::new();
        let mut placeholders = Vec::new();
        let mut copied = 0;
        loop {
            let earliest = prefixes
                .iter()
                .filter_map(|p| find_path(text, &p.text, copied).map(|at| (at, p)))
                // Earliest position; at equal positions the first (longest) prefix.
                .min_by_key(|(at, _)| *at);
            let Some((at, prefix)) = earliest else { break };
            out.push_str(&text[copied..at]);
            placeholders.push((out.len(), prefix.kind));
            out.push_str(prefix.placeholder);
            copied = at + prefix.text.len();
        }
        if placeholders.is_empty() {
            return Scrubbed {
                text: Cow::Borrowed(text),
                placeholders,
            };
        }
        out.push_str(&text[copied..]);
        Scrubbed {
            text: Cow::Owned(out),
            placeholders,
        }
    }
}

/// The placeholder a kind of path is shown as.
pub(super) fn placeholder(kind: DifferenceKind) -> Option<&'static str> {
    match kind {
        DifferenceKind::TargetDir => Some("$TARGET"),
        DifferenceKind::BuildPath => Some("$WORKSPACE"),
        DifferenceKind::CargoHome => Some("$CARGO_HOME"),
        DifferenceKind::HomeDirectory => Some("~"),
        _ => None,
    }
}

/// What a kind of path means, for the evidence.
pub(super) fn meaning(kind: DifferenceKind) -> &'static str {
    match kind {
        DifferenceKind::TargetDir => "the target directory of each run",
        DifferenceKind::BuildPath => "the checkout path of each run",
        DifferenceKind::CargoHome => "the CARGO_HOME of each run",
        DifferenceKind::HomeDirectory => "the home directory of each run",
        _ => "not a path",
    }
}

fn prefixes_of(run: &RunPaths) -> Vec<Prefix> {
    let paths = [
        (DifferenceKind::TargetDir, Some(&run.target_dir)),
        (DifferenceKind::BuildPath, Some(&run.root)),
        (DifferenceKind::CargoHome, Some(&run.cargo_home)),
        (DifferenceKind::HomeDirectory, run.home.as_ref()),
    ];
    let mut prefixes = Vec::new();
    for (kind, path) in paths {
        let Some(path) = path else { continue };
        let canonical = std::fs::canonicalize(path).ok();
        for form in std::iter::once(path.as_path()).chain(canonical.as_deref()) {
            if let Some(text) = usable_prefix(form)
                && !prefixes
                    .iter()
                    .any(|p: &Prefix| p.text == text && p.kind == kind)
            {
                prefixes.push(Prefix {
                    text,
                    placeholder: placeholder(kind).unwrap_or_default(),
                    kind,
                });
            }
        }
    }
    prefixes
}

/// The path as text without a trailing separator; `None` for a relative path or the root
/// directory, which would match far too much.
fn usable_prefix(path: &Path) -> Option<String> {
    if !path.is_absolute() {
        return None;
    }
    let text = path.to_string_lossy();
    let text = text.trim_end_matches(['/', '\\']);
    (text.len() > 1).then(|| text.to_string())
}

/// The first occurrence of `needle` in `hay` at or after `from` that is a whole path prefix:
/// not followed by more of a name (`/tmp/run1` does not match `/tmp/run10`) and not the tail of a
/// longer path (`/x/tmp/run1`). A name character right before it is allowed when no `/` comes
/// before that name: binary formats put a length byte before a path (`X/tmp/run1` in an rmeta).
fn find_path(hay: &str, needle: &str, from: usize) -> Option<usize> {
    let step = needle.chars().next().map_or(1, char::len_utf8);
    let mut start = from;
    while let Some(offset) = hay.get(start..)?.find(needle) {
        let at = start + offset;
        let end = at + needle.len();
        let before = &hay[..at];
        let inside_longer_path = before.ends_with(is_name_char)
            && before.trim_end_matches(is_name_char).ends_with(['/', '\\']);
        let continues_a_name = hay[end..].starts_with(is_name_char);
        if !inside_longer_path && !continues_a_name {
            return Some(at);
        }
        start = at + step;
    }
    None
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::test_support::runs_under;

    fn scrubber() -> Scrubber {
        Scrubber::new(&runs_under("/nonexistent/compare"))
    }

    #[test]
    fn the_checkout_path_becomes_workspace() {
        let scrubber = scrubber();
        let scrubbed = scrubber.scrub(1, "at /nonexistent/compare/run2/app/src/main.rs:3");
        assert_eq!(scrubbed.text, "at $WORKSPACE/app/src/main.rs:3");
        assert_eq!(scrubbed.first_kind(), Some(DifferenceKind::BuildPath));
        assert_eq!(
            scrubbed.paths(),
            [(DifferenceKind::BuildPath, "$WORKSPACE/app/src/main.rs")]
        );
    }

    #[test]
    fn the_target_dir_wins_over_the_root_it_is_in() {
        let scrubber = scrubber();
        let scrubbed = scrubber.scrub(0, "/nonexistent/compare/run1/target/release/build/x/out");
        assert_eq!(scrubbed.text, "$TARGET/release/build/x/out");
        assert_eq!(scrubbed.first_kind(), Some(DifferenceKind::TargetDir));
    }

    #[test]
    fn cargo_home_wins_over_the_home_it_is_in_and_home_is_tilde() {
        let scrubber = scrubber();
        let text = "/nonexistent/compare/home1/.cargo/registry/src/x/lib.rs and /nonexistent/compare/home1/.config";
        let scrubbed = scrubber.scrub(0, text);
        assert_eq!(
            scrubbed.text,
            "$CARGO_HOME/registry/src/x/lib.rs and ~/.config"
        );
        assert_eq!(scrubbed.first_kind(), Some(DifferenceKind::CargoHome));
        let home = scrubber.scrub(0, "HOME=/nonexistent/compare/home1");
        assert_eq!(home.first_kind(), Some(DifferenceKind::HomeDirectory));
        assert_eq!(home.text, "HOME=~");
    }

    #[test]
    fn only_whole_path_components_match() {
        let scrubber = scrubber();
        for text in [
            "/nonexistent/compare/run10/src",
            "/x/nonexistent/compare/run1/src",
            "/nonexistent/compare/run1.bak",
            "C:\\x/nonexistent/compare/run1/src",
        ] {
            let scrubbed = scrubber.scrub(0, text);
            assert_eq!(scrubbed.text, text);
            assert_eq!(scrubbed.first_kind(), None);
        }
    }

    #[test]
    fn a_length_byte_or_a_url_before_the_path_is_allowed() {
        let scrubber = scrubber();
        for (text, scrubbed) in [
            ("X/nonexistent/compare/run1/src", "X$WORKSPACE/src"),
            (
                "file:///nonexistent/compare/run1/src",
                "file://$WORKSPACE/src",
            ),
        ] {
            assert_eq!(scrubber.scrub(0, text).text, scrubbed);
        }
    }

    #[test]
    fn the_other_runs_paths_never_leak_either() {
        let scrubber = scrubber();
        let scrubbed = scrubber.scrub(0, "/nonexistent/compare/run2/src/lib.rs");
        assert_eq!(scrubbed.text, "$WORKSPACE/src/lib.rs");
    }

    #[cfg(unix)]
    #[test]
    fn a_canonical_form_is_recognised_too() {
        let scratch = crate::artifacts::test_support::ScratchDir::new("compare-canonical");
        let real = scratch.path().join("real");
        std::fs::create_dir_all(real.join("src")).unwrap();
        let link = scratch.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut runs = runs_under("/nonexistent/compare");
        runs[0].root = link;
        let scrubber = Scrubber::new(&runs);
        let canonical = std::fs::canonicalize(&real).unwrap();
        let text = format!("{}/src/main.rs", canonical.display());
        assert_eq!(scrubber.scrub(0, &text).text, "$WORKSPACE/src/main.rs");
    }

    #[test]
    fn the_root_directory_and_relative_paths_are_ignored() {
        let mut runs = runs_under("/nonexistent/compare");
        runs[0].home = Some("/".into());
        runs[1].home = Some("relative".into());
        let scrubber = Scrubber::new(&runs);
        assert_eq!(
            scrubber.scrub(0, "/usr/lib relative/x").text,
            "/usr/lib relative/x"
        );
    }
}
