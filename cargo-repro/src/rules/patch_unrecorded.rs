//! `patch-unrecorded`: a `[patch]` path entry that the ledger `vendor/patches.toml` does not
//! record. Also holds the lookups between `[patch]` entries and ledger entries that the other
//! `patch-*` rules share.

use crate::diag::{Finding, Level, Location};
use crate::patch::ledger::{Entry, LEDGER_PATH};
use crate::rules::Rule;
use crate::workspace::{PatchedCrate, Workspace};

pub static RULE: Rule = Rule {
    id: "patch-unrecorded",
    default_level: Level::Warn,
    summary: "a vendored [patch] crate is not recorded in vendor/patches.toml",
    docs: r#"
### What it finds
A `[patch.<registry>]` entry of the root `Cargo.toml` that points at a path, when the ledger
`vendor/patches.toml` has no entry for the crate (or there is no ledger at all).

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
    for patch in &workspace.patches {
        if ledger_entry(workspace, patch).is_some() {
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

/// The ledger entry recording `patch`: keyed by the package name, or by the `[patch]` key.
pub fn ledger_entry<'a>(workspace: &'a Workspace, patch: &PatchedCrate) -> Option<&'a Entry> {
    let ledger = workspace.ledger.as_ref()?;
    ledger
        .entries
        .get(&patch.package)
        .or_else(|| ledger.entries.get(&patch.name))
}

/// The `[patch]` path entry that the ledger entry `name` records.
pub fn patch_for<'a>(workspace: &'a Workspace, name: &str) -> Option<&'a PatchedCrate> {
    workspace
        .patches
        .iter()
        .find(|p| p.package == name)
        .or_else(|| workspace.patches.iter().find(|p| p.name == name))
}

/// Where a ledger entry starts, or the ledger file.
pub fn ledger_location(entry: &Entry) -> Location {
    entry
        .location
        .clone()
        .unwrap_or_else(|| Location::file(LEDGER_PATH))
}
