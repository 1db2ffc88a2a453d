//! `path-remap-missing`: a release build with plain cargo leaves the runner's paths in the binary.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::cargo::{cargo_call, program_values, unknown_cargo_call};
use crate::workspace::entry_points::helpers::helper_build;
use crate::workspace::entry_points::shell::is_dynamic;
use crate::workspace::entry_points::{Command, EntryPoint, EnvVar, Job, in_job};

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
reported, nor is `cargo run` (a helper, or the binary a `cargo build` made).

The rustflags are read with every value they can take: the values of a matrix key
(`${{ matrix.rustflags }}`, `${{ env.RUSTFLAGS || matrix.rustflags }}`), what earlier steps
write to `$GITHUB_ENV`, a just `if` expression, and for a script what the job that runs it
sets (`RUSTFLAGS="… $TARGET_RUSTFLAGS"`). When every value is known and one of them does not
remap, it is a warning naming the values; when they come from something the tool cannot read
(`${{ secrets.RUSTFLAGS }}`, `$(…)`), a note that says so. A program given by a variable is
judged through its values (`$BUILD_CMD` that is `cross` or `cargo`); one the tool cannot tell
(`$BUILDER build`) is a note.

A *helper* build is a note: one whose binary the job only runs to generate documentation or
completions (`./target/debug/app --man > app.1`, a make target run with `--gen-completions`)
and that nothing packages, copies or uploads; the released binary is built by another
command. Development jobs get notes.

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
        for job in &entry.jobs {
            for (index, command) in job.commands.iter().enumerate() {
                let Some(mut finding) = unremapped(entry, job, command) else {
                    continue;
                };
                if let Some(step) = command.step
                    && !reported_steps.insert((job.name.clone(), step))
                {
                    continue;
                }
                if !finding.mitigated
                    && let Some(why) = helper_build(entry, job, index)
                {
                    finding = finding.mitigated(why);
                }
                out.push(in_job(finding, job));
            }
        }
    }
}

/// A finding for a cargo build that keeps the runner's paths.
fn unremapped(entry: &EntryPoint, job: &Job, command: &Command) -> Option<Finding> {
    let (call, known) = match cargo_call(command) {
        Some(call) => (call, true),
        None => (unknown_cargo_call(command)?, false),
    };
    // `cargo run` runs a helper (man pages, completions, a config file) or the binary that a
    // `cargo build` of the same job made, which is where the finding belongs.
    if !call.builds() || call.installs_remote() || matches!(call.subcommand, "run" | "r") {
        return None;
    }
    let flags: Vec<&EnvVar> = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"]
        .iter()
        .filter_map(|name| job.env_value(command, name))
        .collect();
    let trims = call
        .own_args()
        .iter()
        .any(|w| w.text.contains("trim-paths"))
        || command.env.iter().any(|v| v.name.ends_with("_TRIM_PATHS"))
        || job
            .inherited
            .iter()
            .any(|v| v.name.ends_with("_TRIM_PATHS"));
    if trims {
        return None;
    }
    // What each variable can hold: every value remaps, some do, none does, or unknown.
    let mut unknown: Option<&EnvVar> = None;
    let mut partly: Option<(&EnvVar, Vec<&str>)> = None;
    let mut listed: Option<&EnvVar> = None;
    for var in &flags {
        if var.value.text.contains("remap-path-prefix") {
            // Written in the value itself (`--remap-path-prefix=$PWD=/build`).
            return None;
        }
        match var.value.possible() {
            Some(values) => {
                let missing: Vec<&str> = values
                    .iter()
                    .copied()
                    .filter(|v| !v.contains("remap-path-prefix"))
                    .collect();
                if missing.is_empty() {
                    return None;
                }
                if missing.len() < values.len() {
                    partly.get_or_insert((var, missing));
                } else if var.value.dynamic {
                    listed.get_or_insert(var);
                }
            }
            None => {
                unknown.get_or_insert(var);
            }
        }
    }
    let shown = if known {
        format!("{} {}", call.program, call.subcommand)
    } else {
        format!("{} {}", command.program().text, call.subcommand)
    };
    let mut finding = Finding::new(
        RULE.id,
        format!(
            "`{shown}` builds the release without remapping paths: the runner's checkout and CARGO_HOME paths end up in the binary"
        ),
        entry.location(&command.program().span),
    )
    .help("build with `cargo repro build`, or add `--remap-path-prefix=<checkout>=/build` (and one for CARGO_HOME) to RUSTFLAGS, or set `trim-paths` in the profile");
    if let Some(values) = program_values(command) {
        finding = finding.note(format!(
            "the program is given by a variable that is {values}: each builds this way"
        ));
    }
    if let Some((var, missing)) = &partly {
        finding = finding.note(format!(
            "`{}` remaps for some of its values only; not with {}",
            var.name,
            quoted(missing)
        ));
    } else if let Some(var) = listed {
        let values = quoted(
            &var.value
                .values
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        finding = finding.note(if is_dynamic(&var.value.text) {
            format!(
                "`{}` is `{}`, which is {values}: none remaps",
                var.name, var.value.text
            )
        } else {
            format!("`{}` can be {values}: none remaps", var.name)
        });
    }
    if !known {
        let values = match command.program().values.as_slice() {
            [] => String::new(),
            values => format!(
                " (it is one of {})",
                quoted(&values.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        };
        return Some(finding.mitigated(format!(
            "the tool cannot tell which program `{}` is{values}: if it is cargo or a tool that runs it, this build keeps the paths",
            command.program().text
        )));
    }
    Some(match (unknown, &partly) {
        // The flags come from an expression (`${{ matrix.rustflags }}`): they may remap.
        (Some(var), None) => finding.mitigated(format!(
            "`{}` is set from `{}`, which the tool cannot read: check that it holds --remap-path-prefix",
            var.name, var.value.text
        )),
        _ => finding,
    })
}

/// "`a`, `b`" (an empty value shown as `""`), at most four, then how many more.
fn quoted(values: &[&str]) -> String {
    let mut shown: Vec<String> = values
        .iter()
        .take(4)
        .map(|v| {
            if v.trim().is_empty() {
                "`\"\"`".to_string()
            } else {
                format!("`{}`", v.trim())
            }
        })
        .collect();
    if values.len() > 4 {
        shown.push(format!("and {} more", values.len() - 4));
    }
    shown.join(", ")
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
            .filter_map(|(j, c)| unremapped(&entry, j, c))
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
