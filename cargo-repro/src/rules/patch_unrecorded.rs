//! `patch-unrecorded`: a `[patch]` path entry that the ledger `vendor/patches.toml` does not
//! record.

use crate::diag::{Finding, Level};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "patch-unrecorded",
    default_level: Level::Warn,
    summary: "a vendored [patch] crate is not recorded in vendor/patches.toml",
    docs: r#"
### What it finds
A `[patch.<registry>]` entry of the root `Cargo.toml` that points at a path, when the ledger
`vendor/patches.toml` has no entry for the crate (or there is no ledger at all). An entry that
points at a workspace member (the project replaces a published crate with its own member) is
not a vendored copy and is left alone.

### Why it breaks reproducibility
A vendored copy of a dependency replaces the published crate in every build. Without a ledger
entry nothing records which upstream release it was taken from, what was changed or what the
tree should hash to, so an accidental edit of the copy changes the release binary unnoticed
(`patch-drift` can only guard recorded trees).

### Example
```toml
[patch.crates-io]
i18n-embed-fl = { path = "vendor/i18n-embed-fl" }   # no [i18n-embed-fl] in vendor/patches.toml
```

### Fix
Run `cargo repro patch adopt CRATE`: it records the upstream version, the diff, the hashes and
asks for a reason and an upstream link.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for patch in workspace.vendored_patches() {
        if workspace.ledger_entry(patch).is_some() {
            continue;
        }
        let why = if workspace.ledger.is_some() {
            format!("{LEDGER_PATH} has no [{}] entry", patch.package)
        } else {
            format!("there is no {LEDGER_PATH}")
        };
        let mut finding = Finding::new(
            RULE.id,
            format!(
                "the vendored patch of {} at {} is not recorded: {why}",
                patch.package, patch.display_dir
            ),
            patch.location.clone(),
        )
        .note(
            "without a ledger entry, nothing records the upstream release, the changes or the \
             tree's hash, so edits to the copy go unnoticed",
        )
        .help(format!("run `cargo repro patch adopt {}`", patch.package));
        if let Some(version) = &patch.version {
            finding = finding.package(&patch.package, version);
        }
        out.push(finding);
    }
}
