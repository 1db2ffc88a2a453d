//! `manifest-dir-embedded`: workspace code keeps a build path (`env!("CARGO_MANIFEST_DIR")`) as a value.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::{Source, Workspace};

pub static RULE: Rule = Rule {
    id: "manifest-dir-embedded",
    default_level: Level::Warn,
    summary: "workspace code keeps a build path such as CARGO_MANIFEST_DIR in the binary",
    docs: r#"
### What it finds
Libraries and binaries of workspace members whose code, as it is compiled (module tree,
`cfg`, test code left out), uses `env!` or `option_env!` of a variable cargo sets to a path
of the build machine (`CARGO_MANIFEST_DIR`, `CARGO_MANIFEST_PATH`, `OUT_DIR`,
`CARGO_TARGET_TMPDIR`) as a value: in a `const` or `static`, through `concat!`, passed to
`Path::new`, printed. Members the release builds do not compile (outside their `-p`
selection, per the resolved graph) are left out. The path given to `include!`, `include_str!` or `include_bytes!` is read
at compile time and not kept, so it is not reported.

### Why it breaks reproducibility
`env!` expands to the absolute path of the checkout (or of `target/`) on the machine that
builds, and that string is stored in the binary. `--remap-path-prefix` and `trim-paths`
rewrite the paths rustc records (panic locations, debug info), not the values of environment
variables, so two builds in different directories differ even with path remapping.
`cargo repro verify` points here when it finds a build path in a binary.

### Example
```rust
static ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
```

### Fix
Embed the data instead of its path (`include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
"/assets/logo.png"))`), find files relative to the executable or a configured directory at
run time, or keep such code under `#[cfg(test)]`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

const HELP: &str = "embed the file's contents with include_bytes!/include_str! instead of its path, \
                    or find the file at run time relative to the executable or a configured \
                    directory";

/// True for a member with no library (nothing can depend on it) that no release build names,
/// when every release build names its packages (`-p`, `cargo install --path`; `cargo run` of a
/// generator does not ship what it runs): it is not in the release, which the tool can tell
/// even without the resolved graph.
fn outside_release_selection(workspace: &Workspace, member: &crate::workspace::Member) -> bool {
    let has_lib = workspace
        .graph
        .packages
        .iter()
        .any(|p| p.source == Source::Workspace && p.name == member.name && p.lib.is_some());
    if has_lib {
        return false;
    }
    // `cargo run` runs a tool during the release (a generator); its binary is not shipped.
    let shipped: Vec<_> = workspace
        .release_selections
        .iter()
        .filter(|b| !b.runs)
        .collect();
    !shipped.is_empty()
        && shipped
            .iter()
            .all(|b| !b.packages.is_empty() && !b.packages.contains(&member.name))
}

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let ships_binaries = workspace.ships_binaries();
    for (member, fact) in &workspace.embedded_paths {
        let Some(member) = workspace.members.get(*member) else {
            continue;
        };
        // A member the release builds do not compile (a developer tool outside `-p`).
        let unbuilt = workspace.graph.packages.iter().any(|p| {
            p.source == Source::Workspace
                && p.name == member.name
                && p.version == member.version
                && p.dev_only
        });
        if unbuilt || outside_release_selection(workspace, member) {
            continue;
        }
        let mut finding = Finding::new(
            RULE.id,
            format!(
                "`{}` {} as a value: the build machine's path ends up in the binary, and path \
                 remapping does not rewrite it",
                member.name, fact.what
            ),
            fact.location.clone(),
        )
        .help(HELP);
        if !ships_binaries {
            finding = finding.mitigated(
                "the workspace ships no binary (no binary target, no release entry point): the \
                 path reaches only the builds of those who depend on it",
            );
        }
        out.push(finding);
    }
}
