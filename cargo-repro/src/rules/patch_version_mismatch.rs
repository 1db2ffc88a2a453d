//! `patch-version-mismatch`: the vendored crate's version disagrees with the ledger or with
//! `Cargo.lock`.

use crate::diag::{Finding, Level};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "patch-version-mismatch",
    default_level: Level::Deny,
    summary: "a vendored [patch] crate's version differs from the ledger or from Cargo.lock",
    docs: r#"
### What it finds
A `[patch]` path entry whose vendored `Cargo.toml` declares a `package.version` different from
the `version` recorded for it in `vendor/patches.toml`, or different from the version at which
`Cargo.lock` locks that path package.

### Why it breaks reproducibility
The ledger's diff, hashes and pristine release all refer to the recorded version: a copy that
claims another version was re-vendored or edited without being recorded, and the diff no
longer describes it. A lockfile that locks another version than the vendored one is stale:
the next build rewrites it (or, with `--locked`, refuses to start), so the committed state does
not describe the build.

### Example
```toml
# vendor/i18n-embed-fl/Cargo.toml says version = "0.9.5"
# vendor/patches.toml
[i18n-embed-fl]
version = "0.9.4"
```

### Fix
If the crate was re-vendored from another release, record it with
`cargo repro patch refresh CRATE`; otherwise restore the version in the vendored `Cargo.toml`.
For the lockfile, run `cargo update -p CRATE` and commit `Cargo.lock`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for patch in &workspace.patches {
        let Some(vendored) = &patch.version else {
            continue;
        };
        let crate_name = &patch.package;
        if let Some(entry) = workspace.ledger_entry(patch)
            && entry.version != *vendored
        {
            out.push(
                Finding::new(
                    RULE.id,
                    format!(
                        "the vendored {crate_name} at {} is version {vendored} but {LEDGER_PATH} \
                         records {}",
                        patch.display_dir, entry.version
                    ),
                    patch.location.clone(),
                )
                .package(crate_name, vendored)
                .note("the ledger's diff and hashes describe the recorded version")
                .help(format!(
                    "if the crate was re-vendored from {crate_name} {vendored}, record it with \
                     `cargo repro patch refresh {crate_name}`; otherwise restore the version in \
                     {}/Cargo.toml",
                    patch.display_dir
                )),
            );
        }
        let Some(lockfile) = &workspace.lockfile else {
            continue;
        };
        let is_member = |name: &str, version: &str| {
            workspace
                .members
                .iter()
                .any(|m| m.name == name && m.version == version)
        };
        let locked: Vec<_> = lockfile
            .packages
            .iter()
            .filter(|p| p.name == *crate_name && p.source.is_none())
            .filter(|p| !is_member(&p.name, &p.version))
            .collect();
        if locked.is_empty() || locked.iter().any(|p| p.version == *vendored) {
            // Nothing locked from the path at all is `patch-unused`'s business.
            continue;
        }
        for package in locked {
            out.push(
                Finding::new(
                    RULE.id,
                    format!(
                        "the vendored {crate_name} at {} is version {vendored} but Cargo.lock \
                         locks it at {}",
                        patch.display_dir, package.version
                    ),
                    lockfile.package_location(package),
                )
                .package(crate_name, vendored)
                .note("a build without `--locked` rewrites Cargo.lock; with `--locked` it fails")
                .help(format!(
                    "run `cargo update -p {crate_name}` and commit Cargo.lock"
                )),
            );
        }
    }
}
