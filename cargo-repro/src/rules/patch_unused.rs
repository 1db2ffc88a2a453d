//! `patch-unused`: a `[patch]` path entry that `Cargo.lock` does not use, or a ledger entry
//! without a `[patch]` entry.

use crate::diag::{Finding, Level};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::patches::ledger_location;
use crate::workspace::{Lockfile, PatchedCrate, Workspace};

pub static RULE: Rule = Rule {
    id: "patch-unused",
    default_level: Level::Deny,
    summary: "a vendored [patch] crate is not used by the build, or a recorded patch has no [patch] entry",
    docs: r#"
### What it finds
- A `[patch]` path entry of the root `Cargo.toml` that `Cargo.lock` does not use: no path
  package of that name is locked, or the lockfile lists it under `[[patch.unused]]` (cargo
  does so when the vendored version does not satisfy what the dependents require). An entry
  that points at a workspace member is not a vendored copy and is left alone, unless the
  ledger records it.
- An entry of `vendor/patches.toml` for which the root `Cargo.toml` has no `[patch]` path
  entry at all.

### Why it breaks reproducibility
Cargo ignores an unused path patch silently (only a warning on some commands, see
[rust-lang/cargo#12464](https://github.com/rust-lang/cargo/issues/12464)): the release is then
built from the published crate, with the very bug the patch was meant to fix, while the
repository suggests otherwise. A ledger entry without a `[patch]` entry records a fix that is
not applied.

### Example
```toml
[patch.crates-io]
# the dependents require i18n-embed-fl ^0.9, but the vendored copy says version = "0.10.1"
i18n-embed-fl = { path = "vendor/i18n-embed-fl" }
```

### Fix
Make the vendored version satisfy the dependents' requirements (see
`cargo tree -i CRATE`), then run `cargo update -p CRATE`; or remove the `[patch]` entry, the
vendored tree and its ledger entry when the patch is no longer wanted. For a ledger entry
without `[patch]`, restore the `[patch]` entry or remove the ledger entry.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

const CARGO_ISSUE: &str = "cargo ignores an unused [patch] silently \
    (https://github.com/rust-lang/cargo/issues/12464): the build uses the published crate";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    if let Some(lockfile) = &workspace.lockfile {
        for patch in workspace.vendored_patches() {
            if let Some(why) = unused(workspace, lockfile, patch) {
                let mut finding = Finding::new(
                    RULE.id,
                    format!(
                        "the vendored patch of {} at {} is not used: {why}",
                        patch.package, patch.display_dir
                    ),
                    patch.location.clone(),
                )
                .note(CARGO_ISSUE)
                .help(format!(
                    "make the vendored version satisfy what the dependents require (see `cargo \
                     tree -i {0}`) and run `cargo update -p {0}`, or remove the [patch] entry",
                    patch.package
                ));
                if let Some(version) = &patch.version {
                    finding = finding.package(&patch.package, version);
                }
                out.push(finding);
            }
        }
    }
    if let Some(ledger) = &workspace.ledger {
        for (name, entry) in &ledger.entries {
            if workspace.patch_for(name).is_some() {
                continue;
            }
            out.push(
                Finding::new(
                    RULE.id,
                    format!("{LEDGER_PATH} records a patch of {name} but Cargo.toml has no [patch] entry for it"),
                    ledger_location(entry),
                )
                .package(name, &entry.version)
                .note("the recorded fix is not applied: the build uses the published crate")
                .help(format!(
                    "restore `{name} = {{ path = \"{}\" }}` under [patch.crates-io] in Cargo.toml, or remove [{name}] from {LEDGER_PATH} and the vendored tree",
                    entry.path
                )),
            );
        }
    }
}

/// Why `Cargo.lock` does not use the patch, if it does not.
fn unused(workspace: &Workspace, lockfile: &Lockfile, patch: &PatchedCrate) -> Option<String> {
    let listed_unused = lockfile
        .toml
        .get(&["patch", "unused"])
        .and_then(|u| u.as_array_of_tables())
        .is_some_and(|tables| {
            tables.iter().any(|t| {
                t.get("name").and_then(|n| n.as_str()) == Some(patch.package.as_str())
                    && patch.version.as_deref().is_none_or(|v| {
                        t.get("version")
                            .and_then(|n| n.as_str())
                            .is_none_or(|lv| lv == v)
                    })
            })
        });
    if listed_unused {
        return Some("Cargo.lock lists it under [[patch.unused]]".to_string());
    }
    let is_member = |name: &str, version: &str| {
        workspace
            .members
            .iter()
            .any(|m| m.name == name && m.version == version)
    };
    // A member of that name does not count, unless the patch points at that very member.
    let locked = lockfile.packages.iter().any(|p| {
        p.name == patch.package
            && p.source.is_none()
            && (patch.member || !is_member(&p.name, &p.version))
    });
    // A path package of that name at another version is `patch-version-mismatch`'s business.
    (!locked).then(|| format!("Cargo.lock locks no {} from a path", patch.package))
}
