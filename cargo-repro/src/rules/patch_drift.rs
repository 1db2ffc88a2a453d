//! `patch-drift`: a vendored `[patch]` tree no longer hashes to what the ledger recorded.

use crate::diag::{Finding, Level};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::patches::ledger_location;

pub static RULE: Rule = Rule {
    id: "patch-drift",
    default_level: Level::Deny,
    summary: "a vendored [patch] tree differs from the tree recorded in vendor/patches.toml",
    docs: r#"
### What it finds
A crate recorded in `vendor/patches.toml` whose vendored tree (the `[patch]` path) no longer
hashes to the recorded `tree-sha256`: a file was edited, added or removed (or its executable
bit changed) since the patch was recorded. A vendored tree that is missing or cannot be read is
reported too. Files that cargo or vendoring tools add (`.cargo-checksum.json`, `.cargo-ok`,
`.cargo_vcs_info.json`) do not count. A `[patch]` tree outside the workspace, or reached
through a symbolic link that leads outside it, is reported as well: a commit does not hold it,
so what is built cannot be checked against the ledger (this runs in `--pre-commit` mode, where
`path-dep-outside-workspace` does not).

### Why it breaks reproducibility
The vendored copy is compiled into the release instead of the published crate. An unrecorded
edit means the binary is built from sources that no reviewed diff describes, and two checkouts
that differ only in the vendored files build different binaries.

### Example
```toml
# vendor/patches.toml
[i18n-embed-fl]
tree-sha256 = "3f1c…"   # but vendor/i18n-embed-fl/src/lib.rs was edited afterwards
```

### Fix
Run `cargo repro patch diff CRATE` to see the change. If the edit is intended, record it with
`cargo repro patch refresh CRATE`; otherwise restore the vendored files (for example with
`git checkout -- vendor/CRATE`).
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for patch in &workspace.patches {
        // A tree outside the workspace is not hashed: what the commit does not hold cannot be
        // checked.
        if !patch.inside_workspace {
            if patch.member {
                continue;
            }
            out.push(
                Finding::new(
                    RULE.id,
                    format!(
                        "the vendored tree of {} at {} lies outside the workspace (or a symbolic \
                         link leads there): a commit does not hold it, so it cannot be checked \
                         against {LEDGER_PATH}",
                        patch.package, patch.display_dir
                    ),
                    patch.location.clone(),
                )
                .help(format!(
                    "move the tree under vendor/ as a real directory and run `cargo repro patch \
                     adopt {}`",
                    patch.package
                )),
            );
            continue;
        }
        let Some(entry) = workspace.ledger_entry(patch) else {
            continue;
        };
        let location = if patch.location.line.is_some() {
            patch.location.clone()
        } else {
            ledger_location(entry)
        };
        let crate_name = &patch.package;
        let help = format!(
            "run `cargo repro patch diff {crate_name}` to see the change and `cargo repro patch \
             refresh {crate_name}` to record an intended edit (or restore the files)"
        );
        let mut finding = match &patch.tree_sha256 {
            Some(current) if *current == entry.tree_sha256 => continue,
            Some(current) => Finding::new(
                RULE.id,
                format!(
                    "the vendored tree of {crate_name} at {} differs from the one recorded in \
                     {LEDGER_PATH}",
                    patch.display_dir
                ),
                location,
            )
            .note(format!("recorded tree-sha256: {}", entry.tree_sha256))
            .note(format!("current tree-sha256:  {current}")),
            None => Finding::new(
                RULE.id,
                format!(
                    "the vendored tree of {crate_name} at {} is missing or cannot be read",
                    patch.display_dir
                ),
                location,
            )
            .note(format!("recorded tree-sha256: {}", entry.tree_sha256)),
        };
        if entry.path != patch.path && entry.path != patch.display_dir {
            finding = finding.note(format!(
                "{LEDGER_PATH} records the path {} but [patch] points at {}",
                entry.path, patch.path
            ));
        }
        let version = patch.version.as_deref().unwrap_or(&entry.version);
        out.push(finding.package(crate_name, version).help(help));
    }
}
