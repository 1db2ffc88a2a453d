//! `entry-point-unlocked`: build entry points run cargo without `--locked` or `--frozen`.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::entry_points::Command;
use crate::workspace::{EntryPoint, Workspace};

pub static RULE: Rule = Rule {
    id: "entry-point-unlocked",
    default_level: Level::Warn,
    summary: "a build entry point runs cargo without --locked",
    docs: r#"
### What it finds
`cargo build`, `cargo install`, `cargo run`, `cargo rustc` (and `cargo auditable build`,
`cargo zigbuild`, `cross build`) in a Dockerfile, CI workflow, justfile, Makefile or
`scripts/*.sh` without `--locked` or `--frozen`. Environment prefixes
(`RUSTFLAGS=… cargo build`), `+toolchain` arguments, `&&` chains and `\` continuations are
understood. `--offline` alone does not count: it only forbids the network.

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

/// What a cargo invocation does, as far as this rule cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Invocation {
    /// Builds (or runs) the workspace.
    Build,
    /// `cargo install --path …`: installs from local sources.
    InstallLocal,
    /// `cargo install <crate>` or `--git`: resolves a crate that is not in the workspace.
    InstallRemote,
}

/// Options of cargo (and of `cargo install`) that take a separate value.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "--config",
    "-Z",
    "-C",
    "--version",
    "--vers",
    "--root",
    "--target",
    "--target-dir",
    "--features",
    "-F",
    "--bin",
    "--example",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--registry",
    "--index",
    "--path",
    "--profile",
    "-j",
    "--jobs",
    "-p",
    "--package",
    "--manifest-path",
];

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &workspace.entry_points {
        for command in entry.commands() {
            if let Some(finding) = unlocked_invocation(entry, &command) {
                out.push(finding);
            }
        }
    }
}

/// A finding for a cargo build or install without `--locked`/`--frozen`.
fn unlocked_invocation(entry: &EntryPoint, command: &Command) -> Option<Finding> {
    let args = cargo_args(command)?;
    let (subcommand, words) = subcommand(args)?;
    let invocation = classify(subcommand, &words)?;
    let own_args = before_double_dash(args);
    if own_args.iter().any(|a| a == "--locked" || a == "--frozen") {
        return None;
    }
    let shown = shown_command(command, &words);
    let location = entry.arg_location(command, 0, command.program());
    let mut finding = match invocation {
        Invocation::Build | Invocation::InstallLocal => Finding::new(
            RULE.id,
            format!(
                "`{shown}` runs without --locked: cargo may update Cargo.lock instead of failing"
            ),
            location,
        )
        .help("add `--locked` so the build fails when Cargo.lock does not match the manifests"),
        Invocation::InstallRemote => {
            let krate = install_target(&words).unwrap_or("the crate");
            Finding::new(
                RULE.id,
                format!("`{shown}` runs without --locked: {krate} is built with the newest compatible versions of its dependencies, not the ones in its Cargo.lock"),
                location,
            )
            .help(format!("add `--locked` and pin the version: `cargo install {}@<version> --locked`", bare_crate(krate)))
        }
    };
    if invocation != Invocation::InstallLocal && subcommand == "install" {
        finding = finding.note(
            "`cargo install` without `--path` ignores the workspace's [patch] section \
             (rust-lang/cargo#12855)",
        );
    }
    if own_args.iter().any(|a| a == "--offline") {
        finding = finding.note(
            "`--offline` does not lock: cargo may still resolve afresh from its local cache and \
             rewrite Cargo.lock",
        );
    }
    Some(finding)
}

/// The arguments after the cargo-like program, or `None` when the command is not cargo.
///
/// Plugins run directly (`cargo-zigbuild build`, `cargo-auditable auditable build`) count too.
fn cargo_args(command: &Command) -> Option<&[String]> {
    let is_cargo = matches!(
        command.program_name(),
        "cargo"
            | "cargo.exe"
            | "cross"
            | "$(CARGO)"
            | "${CARGO}"
            | "$CARGO"
            | "cargo-zigbuild"
            | "cargo-auditable"
    );
    is_cargo.then(|| &command.args()[1..])
}

/// The subcommand and the words that follow the program, with `+toolchain` and global
/// options skipped (`cargo +1.80 --locked build`).
fn subcommand(args: &[String]) -> Option<(&str, Vec<&str>)> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut index = 0;
    while let Some(word) = words.get(index) {
        if word.starts_with('+') {
            index += 1;
        } else if word.starts_with('-') {
            index += if OPTIONS_WITH_VALUE.contains(word) {
                2
            } else {
                1
            };
        } else {
            break;
        }
    }
    let mut subcommand = *words.get(index)?;
    // Wrappers whose next word is the real subcommand.
    if matches!(subcommand, "auditable" | "zigbuild") {
        match words.get(index + 1) {
            Some(&next) if !next.starts_with('-') && subcommand == "auditable" => {
                subcommand = next;
                index += 1;
            }
            _ if subcommand == "zigbuild" => subcommand = "build",
            _ => return None,
        }
    }
    Some((subcommand, words[index + 1..].to_vec()))
}

/// Whether the subcommand builds something this rule cares about.
fn classify(subcommand: &str, words: &[&str]) -> Option<Invocation> {
    match subcommand {
        "build" | "b" | "run" | "r" | "rustc" => Some(Invocation::Build),
        "install"
            if words.contains(&"--path") || words.iter().any(|w| w.starts_with("--path=")) =>
        {
            Some(Invocation::InstallLocal)
        }
        "install" => Some(Invocation::InstallRemote),
        _ => None,
    }
}

/// The crate `cargo install` installs: the first word that is neither an option nor its value.
fn install_target<'a>(words: &[&'a str]) -> Option<&'a str> {
    let mut index = 0;
    while let Some(&word) = words.get(index) {
        if word == "--" {
            return None;
        }
        if word == "--git" {
            return words.get(index + 1).copied();
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

/// The arguments that cargo itself reads (those after `--` go to the program).
fn before_double_dash(args: &[String]) -> &[String] {
    match args.iter().position(|a| a == "--") {
        Some(at) => &args[..at],
        None => args,
    }
}

/// `cargo install ripgrep`: the program and subcommand, plus the crate for installs.
fn shown_command(command: &Command, words: &[&str]) -> String {
    let args = command.args();
    let program = command.program_name();
    let subcommand_end = args.len() - words.len();
    let mut shown: Vec<&str> = args[..subcommand_end]
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-') && !w.starts_with('+'))
        .collect();
    if shown.is_empty() {
        shown.push(program);
    } else {
        shown[0] = program;
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
            .iter()
            .filter_map(|c| unlocked_invocation(&entry, c))
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
            "- run: sudo cargo build\n",
            "\t@$(CARGO) build --release\n",
            "rustup run 1.80 cargo build\n",
            "cargo-zigbuild build --release\n",
        ] {
            assert_eq!(findings(EntryKind::Makefile, text).len(), 1, "{text}");
        }
        let arg_after_dash = findings(EntryKind::Script, "cargo run -- --locked\n");
        assert_eq!(arg_after_dash.len(), 1);
    }

    #[test]
    fn offline_alone_is_noted() {
        let found = findings(EntryKind::Script, "cargo build --offline\n");
        assert!(found[0].notes.iter().any(|n| n.contains("--offline")));
        let local = findings(EntryKind::Script, "cargo install --path .\n");
        assert!(local[0].notes.is_empty());
    }
}
