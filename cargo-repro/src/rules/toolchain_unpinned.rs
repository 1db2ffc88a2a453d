//! `toolchain-unpinned`: no toolchain file, or a channel that floats.

use crate::diag::{Finding, Level, Location};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::cargo::cargo_call;
use crate::workspace::entry_points::toolchains::choices;

pub static RULE: Rule = Rule {
    id: "toolchain-unpinned",
    default_level: Level::Deny,
    summary: "the Rust toolchain is not pinned to an exact version",
    docs: r#"
### What it finds
A workspace with no `rust-toolchain.toml` (or legacy `rust-toolchain`) file, or one whose
channel is `stable`, `beta`, `nightly` or a version without a patch number (`1.95`).

### Why it breaks reproducibility
rustc, LLVM, the standard library and the bundled linker all change from one release to the
next, and `.comment` records the compiler version. A floating channel means a rebuild a month
later uses a different compiler and produces different bytes.

### Example
```toml
[toolchain]
channel = "stable"
```

When the file floats while release entry points pin an exact version (a `rust:1.95.0`
image, `RUSTUP_TOOLCHAIN=1.95.0`), the finding names them: the file should say the same, so
that local and CI builds use the release's compiler. When every release build selects an
exact toolchain itself, the finding is a note: the file does not change the release's bytes.
When the workspace has CI workflows and none of its entry points makes a release, the finding
is a development note (see "Roles"); `cargo repro build` still refuses to build with a floating
toolchain.

### Fix
Pin an exact release (`channel = "1.95.0"`) or a dated nightly (`nightly-2026-05-01`).
`cargo repro check --fix` pins the channel to the installed version.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

/// True for `1.95.0`, `nightly-2026-05-01`, `beta-2026-05-01` (with an optional host suffix).
pub fn is_exact(channel: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let parts: Vec<&str> = channel.split('-').collect();
    match parts.as_slice() {
        [version, ..]
            if version.split('.').count() == 3
                && version
                    .split('.')
                    .all(|p| digits(p, p.len()) && !p.is_empty()) =>
        {
            true
        }
        [name, year, month, day, ..] if matches!(*name, "nightly" | "beta" | "stable") => {
            digits(year, 4) && digits(month, 2) && digits(day, 2)
        }
        _ => false,
    }
}

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let mut found = Vec::new();
    check_file(workspace, &mut found);
    let pins = release_pins(workspace);
    let all_pinned = every_release_build_pinned(workspace);
    for mut finding in found {
        if all_pinned {
            finding = finding.mitigated(
                "every release build selects an exact toolchain itself, so the file does not \
                 change the release's bytes; local and CI builds still float",
            );
        }
        if let Some((version, _)) = pins.first() {
            let places: Vec<String> = pins
                .iter()
                .map(|(v, at)| format!("`{v}` at {at}"))
                .collect();
            finding = finding
                .note(format!(
                    "the release entry points do pin a version: {}; the toolchain file should say the same",
                    places.join(", ")
                ))
                .help(format!(
                    "pin the file to the release's compiler: `channel = \"{version}\"`, so local, CI and release builds use one compiler"
                ));
        }
        out.push(workspace.about_release(finding));
    }
}

/// True when there are release builds and each runs in a job that selects an exact toolchain.
fn every_release_build_pinned(workspace: &Workspace) -> bool {
    let mut builds = 0;
    for entry in &workspace.entry_points {
        let choices = choices(entry);
        for job in entry.jobs.iter().filter(|j| j.role.is_release()) {
            let job_builds = job.commands.iter().any(|c| {
                cargo_call(c).is_some_and(|call| call.builds() && !call.installs_remote())
            });
            if !job_builds {
                continue;
            }
            builds += 1;
            let pinned = choices
                .iter()
                .any(|c| std::ptr::eq(c.job, job) && is_exact(&c.toolchain));
            if !pinned {
                return false;
            }
        }
    }
    builds > 0
}

/// Exact toolchains that release jobs select, with where (`Dockerfile:3`).
fn release_pins(workspace: &Workspace) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in &workspace.entry_points {
        for choice in choices(entry) {
            if choice.job.role.is_release() && is_exact(&choice.toolchain) {
                let line = entry.file.line_of(choice.span.start);
                out.push((
                    choice.toolchain,
                    format!("{}:{line}", entry.file.display_path),
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn check_file(workspace: &Workspace, out: &mut Vec<Finding>) {
    let help = "pin an exact version, for example `channel = \"1.95.0\"`; `cargo repro check --fix` pins the installed one";
    let Some(toolchain) = &workspace.toolchain else {
        out.push(
            Finding::new(RULE.id, "no rust-toolchain.toml: builds use whatever toolchain is installed", Location::file("rust-toolchain.toml"))
                .help("create rust-toolchain.toml with `[toolchain]` and `channel = \"1.95.0\"`; `cargo repro check --fix` writes it"),
        );
        return;
    };
    match &toolchain.toml {
        None => {
            let channel = toolchain.file.text.trim();
            if !is_exact(channel) {
                let line = (1..=toolchain.file.line_count())
                    .find(|&l| !toolchain.file.line_text(l).trim().is_empty())
                    .unwrap_or(1);
                out.push(
                    Finding::new(
                        RULE.id,
                        format!("toolchain channel `{channel}` floats"),
                        toolchain.file.line_location(line),
                    )
                    .help(help),
                );
            }
        }
        Some(toml) => {
            let table = toml.root().get("toolchain").and_then(|t| t.as_table());
            let channel = table.and_then(|t| t.get("channel"));
            match (table, channel) {
                (Some(_), Some(item)) => {
                    let text = item.as_str().unwrap_or_default();
                    if !is_exact(text) {
                        out.push(
                            Finding::new(
                                RULE.id,
                                format!("toolchain channel `{text}` floats"),
                                toml.item_location(item),
                            )
                            .help(help),
                        );
                    }
                }
                (Some(table), None) if table.contains_key("path") => {}
                (Some(table), None) => out.push(
                    Finding::new(
                        RULE.id,
                        "the toolchain file sets no channel",
                        toml.table_location(table),
                    )
                    .help(help),
                ),
                (None, _) => out.push(
                    Finding::new(
                        RULE.id,
                        "the toolchain file has no [toolchain] table",
                        Location::file(toml.file.display_path.clone()),
                    )
                    .help(help),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact_channels() {
        for ok in [
            "1.95.0",
            "nightly-2026-05-01",
            "1.95.0-x86_64-unknown-linux-gnu",
            "beta-2026-01-02",
        ] {
            assert!(super::is_exact(ok), "{ok}");
        }
        for floating in [
            "stable",
            "beta",
            "nightly",
            "1.95",
            "stable-x86_64-unknown-linux-gnu",
            "",
        ] {
            assert!(!super::is_exact(floating), "{floating}");
        }
    }
}
