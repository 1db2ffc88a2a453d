//! `entry-point-unlocked`: build entry points run cargo without `--locked` or `--frozen`.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::cargo::{
    CargoCall, OPTIONS_WITH_VALUE, cargo_call, program_values, unknown_cargo_call,
};
use crate::workspace::entry_points::{Command, EntryPoint, Word, in_job};

pub static RULE: Rule = Rule {
    id: "entry-point-unlocked",
    default_level: Level::Warn,
    summary: "a build entry point runs cargo without --locked",
    docs: r#"
### What it finds
`cargo build`, `cargo install`, `cargo run`, `cargo rustc`, `cargo deb` (and
`cargo auditable build`, `cargo zigbuild`, `cross build`) in a Dockerfile, CI workflow,
justfile, Makefile or script without `--locked` or `--frozen`. Environment prefixes
(`RUSTFLAGS=… cargo build`), `+toolchain` arguments, `&&` chains, `\` continuations, `case`
arms and programs given as variables (`${{ env.CARGO }}`, `$CARGO`, `{{cargo}}`, a matrix
value, a just `if` expression whose arms are all cargo or tools that run it) are understood.
A program the tool cannot tell (`$BUILDER build`, set where it cannot read) is a note that
says so. `--offline` alone does not count: it only forbids the network. Development jobs
(tests, lints, fuzzing, MSRV, tool installs in CI) get notes.

### Why it breaks reproducibility
Without `--locked`, cargo may resolve dependencies afresh and rewrite `Cargo.lock` when it
does not match the manifests, so the build uses versions nobody reviewed. `cargo install
<crate>` is the worst case: without `--locked` it ignores the crate's published `Cargo.lock`
and picks the newest semver-compatible version of every dependency on the day it runs.

### Example
```dockerfile
RUN cargo build --release
RUN cargo install cargo-auditable
```

### Fix
```dockerfile
RUN cargo build --release --locked
RUN cargo install cargo-auditable@0.6.6 --locked
```
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &workspace.entry_points {
        for (job, command) in entry.commands() {
            if let Some(finding) = unlocked_invocation(entry, command) {
                out.push(in_job(finding, job));
            }
        }
    }
}

/// A finding for a cargo build or install without `--locked`/`--frozen`.
fn unlocked_invocation(entry: &EntryPoint, command: &Command) -> Option<Finding> {
    let (call, known) = match cargo_call(command) {
        Some(call) => (call, true),
        None => (unknown_cargo_call(command)?, false),
    };
    if !call.builds() || call.has("--locked") || call.has("--frozen") {
        return None;
    }
    let shown = shown_command(&call);
    let location = entry.location(&command.program().span);
    let mut finding = if call.installs_remote() {
        let krate = install_target(call.rest).unwrap_or("the crate");
        Finding::new(
            RULE.id,
            format!("`{shown}` runs without --locked: {krate} is built with the newest compatible versions of its dependencies, not the ones in its Cargo.lock"),
            location,
        )
        .help(format!("add `--locked` and pin the version: `cargo install {}@<version> --locked`", bare_crate(krate)))
        .note(
            "`cargo install` without `--path` ignores the workspace's [patch] section \
             (rust-lang/cargo#12855)",
        )
    } else {
        Finding::new(
            RULE.id,
            format!(
                "`{shown}` runs without --locked: cargo may update Cargo.lock instead of failing"
            ),
            location,
        )
        .help("add `--locked` so the build fails when Cargo.lock does not match the manifests")
    };
    if call.has("--offline") {
        finding = finding.note(
            "`--offline` does not lock: cargo may still resolve afresh from its local cache and \
             rewrite Cargo.lock",
        );
    }
    if let Some(values) = program_values(command) {
        if known {
            finding = finding.note(format!(
                "the program is given by a variable that is {values}: each runs this way"
            ));
        } else {
            return Some(finding.mitigated(format!(
                "the tool cannot tell which program `{}` is (it is one of {values}): if it is cargo or a tool that runs it, this build is not locked",
                command.program().text
            )));
        }
    } else if !known {
        return Some(finding.mitigated(format!(
            "the tool cannot tell which program `{}` is: if it is cargo or a tool that runs it, this build is not locked",
            command.program().text
        )));
    }
    Some(finding)
}

/// The crate `cargo install` installs: the first word that is neither an option nor its value.
fn install_target(words: &[Word]) -> Option<&str> {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let word = word.text.as_str();
        if word == "--" {
            return None;
        }
        if word == "--git" {
            return words.get(index + 1).map(|w| w.text.as_str());
        }
        if !word.starts_with('-') {
            return Some(word);
        }
        index += if OPTIONS_WITH_VALUE.contains(&word) {
            2
        } else {
            1
        };
    }
    None
}

/// `ripgrep` for `ripgrep@14.1.0`.
fn bare_crate(krate: &str) -> &str {
    krate.split('@').next().unwrap_or(krate)
}

/// `cargo build`, `cross build`, `cargo auditable build`: the program and subcommand words.
fn shown_command(call: &CargoCall<'_>) -> String {
    let before_rest = call.args.len() - call.rest.len();
    let mut shown = vec![call.program];
    shown.extend(
        call.args[..before_rest]
            .iter()
            .map(|w| w.text.as_str())
            .filter(|w| !w.starts_with('-') && !w.starts_with('+')),
    );
    if shown.len() == 1 {
        shown.push(call.subcommand);
    }
    shown.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::EntryKind;

    fn findings(kind: EntryKind, text: &str) -> Vec<Finding> {
        let entry = EntryPoint::from_text(kind, text);
        entry
            .commands()
            .filter_map(|(_, c)| unlocked_invocation(&entry, c))
            .collect()
    }

    #[test]
    fn flags_unlocked_builds_and_installs() {
        let found = findings(
            EntryKind::Dockerfile,
            "RUN cargo fetch --locked && \\\n    RUSTFLAGS=\"-C x\" cargo +1.80 build --release\n\
             RUN --mount=type=cache,target=/x cargo install ripgrep@14.1.0\n",
        );
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].location.line, Some(2));
        assert_eq!(found[0].location.column, Some(22));
        assert!(
            found[1].message.contains("ripgrep@14.1.0"),
            "{}",
            found[1].message
        );
        assert!(
            found[1]
                .help
                .as_deref()
                .unwrap()
                .contains("ripgrep@<version>")
        );
    }

    #[test]
    fn points_at_the_second_cargo_of_a_chain() {
        let found = findings(
            EntryKind::Script,
            "cargo build --locked && cargo build --release\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.column, Some(25));
    }

    #[test]
    fn locked_frozen_and_other_subcommands_pass() {
        for text in [
            "cargo --locked build\n",
            "cargo build --frozen\n",
            "cargo test\n",
            "cargo run --locked -- --help\n",
            "echo cargo build\n",
            "cargo fmt --check\n",
        ] {
            assert!(findings(EntryKind::Script, text).is_empty(), "{text}");
        }
    }

    #[test]
    fn plugins_and_wrappers() {
        for text in [
            "cargo auditable build --release\n",
            "cross build --target aarch64-unknown-linux-gnu\n",
            "cargo zigbuild --release\n",
            "sudo cargo build\n",
            "rustup run 1.80 cargo build\n",
            "cargo-zigbuild build --release\n",
        ] {
            assert_eq!(findings(EntryKind::Script, text).len(), 1, "{text}");
        }
        let make = findings(EntryKind::Makefile, "all:\n\t@$(CARGO) build --release\n");
        assert_eq!(make.len(), 1);
        let arg_after_dash = findings(EntryKind::Script, "cargo run -- --locked\n");
        assert_eq!(arg_after_dash.len(), 1);
    }

    #[test]
    fn cargo_deb_builds_unless_told_not_to() {
        assert_eq!(
            findings(
                EntryKind::Script,
                "cargo deb --target x86_64-unknown-linux-musl\n"
            )
            .len(),
            1
        );
        assert!(findings(EntryKind::Script, "cargo deb --locked\n").is_empty());
        assert!(findings(EntryKind::Script, "cargo deb --no-build\n").is_empty());
    }

    #[test]
    fn offline_alone_is_noted() {
        let found = findings(EntryKind::Script, "cargo build --offline\n");
        assert!(found[0].notes.iter().any(|n| n.contains("--offline")));
        let local = findings(EntryKind::Script, "cargo install --path .\n");
        assert!(local[0].notes.is_empty());
    }
}
