//! `path-remap-missing`: a release build with plain cargo leaves the runner's paths in the binary.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::cargo::cargo_call;
use crate::workspace::entry_points::{Command, EntryPoint, in_job};

pub static RULE: Rule = Rule {
    id: "path-remap-missing",
    default_level: Level::Warn,
    summary: "a release build runs plain cargo without remapping the build paths",
    docs: r#"
### What it finds
A cargo build (`cargo build`, `cargo install`, `cross build`, …) in a release job with none of:
`--remap-path-prefix` in the rustflags it runs with (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`,
the workspace's `.cargo/config.toml` rustflags), `trim-paths` in the profile (or
`CARGO_PROFILE_<NAME>_TRIM_PATHS`, `-Ztrim-paths`), or a fixed build path (a Dockerfile, whose
`WORKDIR` is the same on every machine). `cargo repro build` remaps by itself and is never
reported, nor is `cargo run` (a helper, or the binary a `cargo build` made). When the
rustflags come from an expression the tool cannot read (`${{ matrix.rustflags }}`), the
finding is a note that says so. Development jobs get notes.

### Why it breaks reproducibility
Panic locations, `file!()`, debug info and some symbol names embed the absolute paths of the
checkout and of `$CARGO_HOME`: `/home/runner/work/app/app/src/main.rs` on one runner,
`/builds/app/src/main.rs` on another, so the same commit gives different bytes.

### Example
```yaml
- run: cargo build --release --locked
```

### Fix
Build with `cargo repro build`, or remap the paths yourself:
```yaml
- run: cargo build --release --locked
  env:
    RUSTFLAGS: --remap-path-prefix=${{ github.workspace }}=/build --remap-path-prefix=${{ env.CARGO_HOME }}=/cargo
```
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    if config_remaps(workspace) || profile_trims(workspace) {
        return;
    }
    for entry in &workspace.entry_points {
        if entry.kind == crate::workspace::entry_points::EntryKind::Dockerfile {
            continue;
        }
        let mut reported_steps = std::collections::BTreeSet::new();
        for (job, command) in entry.commands() {
            if let Some(finding) = unremapped(entry, command) {
                if let Some(step) = command.step
                    && !reported_steps.insert((job.name.clone(), step))
                {
                    continue;
                }
                out.push(in_job(finding, job));
            }
        }
    }
}

/// A finding for a cargo build that keeps the runner's paths.
fn unremapped(entry: &EntryPoint, command: &Command) -> Option<Finding> {
    let call = cargo_call(command)?;
    // `cargo run` runs a helper (man pages, completions, a config file) or the binary that a
    // `cargo build` of the same job made, which is where the finding belongs.
    if !call.builds() || call.installs_remote() || matches!(call.subcommand, "run" | "r") {
        return None;
    }
    let flags: Vec<_> = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"]
        .iter()
        .filter_map(|name| command.env_value(name))
        .collect();
    let remaps = flags
        .iter()
        .any(|v| v.value.text.contains("remap-path-prefix"));
    let trims = call
        .own_args()
        .iter()
        .any(|w| w.text.contains("trim-paths"))
        || command.env.iter().any(|v| v.name.ends_with("_TRIM_PATHS"));
    if remaps || trims {
        return None;
    }
    let finding = Finding::new(
        RULE.id,
        format!(
            "`{} {}` builds the release without remapping paths: the runner's checkout and CARGO_HOME paths end up in the binary",
            call.program, call.subcommand
        ),
        entry.location(&command.program().span),
    )
    .help("build with `cargo repro build`, or add `--remap-path-prefix=<checkout>=/build` (and one for CARGO_HOME) to RUSTFLAGS, or set `trim-paths` in the profile");
    Some(match flags.iter().find(|v| v.value.dynamic) {
        // The flags come from an expression (`${{ matrix.rustflags }}`): they may remap.
        Some(var) => finding.mitigated(format!(
            "`{}` is set from `{}`, which the tool cannot read: check that it holds --remap-path-prefix",
            var.name, var.value.text
        )),
        None => finding,
    })
}

/// True when a workspace cargo config passes `--remap-path-prefix` in its rustflags.
fn config_remaps(workspace: &Workspace) -> bool {
    workspace.cargo_configs.iter().any(|config| {
        !config.file.display_path.starts_with('$') && config.file.text.contains("remap-path-prefix")
    })
}

/// True when the manifest's profiles set `trim-paths`.
fn profile_trims(workspace: &Workspace) -> bool {
    workspace
        .root_manifest
        .get(&["profile"])
        .and_then(|p| p.as_table_like())
        .is_some_and(|profiles| {
            profiles.iter().any(|(_, table)| {
                table
                    .as_table_like()
                    .is_some_and(|t| t.contains_key("trim-paths"))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::EntryKind;

    fn found(text: &str) -> Vec<Finding> {
        let entry = EntryPoint::from_text(EntryKind::Script, text);
        entry
            .commands()
            .filter_map(|(_, c)| unremapped(&entry, c))
            .collect()
    }

    fn count(text: &str) -> usize {
        found(text).len()
    }

    #[test]
    fn flags_from_an_expression_are_a_note() {
        let dynamic = found("RUSTFLAGS=\"$EXTRA\" cargo build --release\n");
        assert_eq!(dynamic.len(), 1);
        assert!(dynamic[0].mitigated, "the tool cannot tell: a note");
        assert!(dynamic[0].notes[0].contains("`$EXTRA`"));
    }

    #[test]
    fn plain_builds_are_reported() {
        assert_eq!(count("cargo build --release --locked\n"), 1);
        assert_eq!(count("cross build --release --locked\n"), 1);
        assert_eq!(
            count("RUSTFLAGS=\"--remap-path-prefix=$PWD=/b\" cargo build --release\n"),
            0
        );
        assert_eq!(count("cargo repro build --release-artifacts\n"), 0);
        assert_eq!(count("cargo install cargo-deb --locked\n"), 0);
        assert_eq!(count("cargo test\n"), 0);
        assert_eq!(count("cargo run --release -- --generate man\n"), 0);
        assert_eq!(
            count("CARGO_PROFILE_RELEASE_TRIM_PATHS=all cargo build --release\n"),
            0
        );
    }
}
