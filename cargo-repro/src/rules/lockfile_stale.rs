//! `lockfile-stale`: `Cargo.lock` does not satisfy the manifests, so `--locked` builds fail.

use cargo_metadata::semver::{Version, VersionReq};

use crate::diag::{Finding, Level, Location};
use crate::rules::Rule;
use crate::workspace::toml_file::dependency_tables;
use crate::workspace::{Lockfile, Workspace};

pub static RULE: Rule = Rule {
    id: "lockfile-stale",
    default_level: Level::Deny,
    summary: "Cargo.lock does not satisfy the manifests",
    docs: r#"
### What it finds
A `Cargo.lock` that cargo would have to rewrite: a dependency added to a manifest but not to
the lockfile, a version requirement the locked version does not meet, or a member whose
version changed. With the resolved graph, cargo's own `--locked` verdict is used; without it
(pre-commit mode, offline), the manifests are compared with the lockfile directly.

### Why it breaks reproducibility
A `--locked` build refuses to start, and a build without `--locked` silently resolves new
versions, so the released binary is not built from the committed dependency set.

### Example
```toml
[dependencies]
newdep = "1"   # added, but `cargo update` was never run
```

### Fix
Run `cargo update --workspace` (or any cargo build without `--locked`) and commit `Cargo.lock`.
"#,
    heuristic: false,
    uses_graph: true,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let Some(lockfile) = &workspace.lockfile else {
        return;
    };
    let help = "run `cargo update --workspace` and commit Cargo.lock";
    if let Some(message) = &workspace.lockfile_stale {
        out.push(
            Finding::new(
                RULE.id,
                "Cargo.lock does not satisfy the manifests: a `--locked` build fails",
                Location::file("Cargo.lock"),
            )
            .note(format!("cargo says: {message}"))
            .help(help),
        );
        return;
    }
    if workspace.graph.resolved {
        return;
    }
    // Without cargo: every member and each of its registry dependencies must be locked.
    for member in &workspace.members {
        if !member.name.is_empty() && lockfile.find(&member.name, &member.version).is_none() {
            out.push(
                Finding::new(
                    RULE.id,
                    format!(
                        "workspace member `{}` {} is not in Cargo.lock",
                        member.name, member.version
                    ),
                    member.manifest.entry_location(
                        member
                            .manifest
                            .root()
                            .get("package")
                            .and_then(|p| p.as_table())
                            .unwrap_or(member.manifest.root()),
                        "version",
                    ),
                )
                .help(help),
            );
        }
        for (table_name, table) in dependency_tables(member.manifest.root()) {
            for (name, item) in table.iter() {
                let package = item.get("package").and_then(|p| p.as_str()).unwrap_or(name);
                if item.get("path").is_some()
                    || item.get("git").is_some()
                    || item.get("workspace").is_some()
                {
                    continue;
                }
                let requirement = item
                    .as_str()
                    .or_else(|| item.get("version").and_then(|v| v.as_str()));
                if let Some(problem) = unsatisfied(lockfile, package, requirement) {
                    out.push(
                        Finding::new(
                            RULE.id,
                            format!("{problem} (from [{table_name}] `{name}`)"),
                            member.manifest.entry_location(table, name),
                        )
                        .help(help),
                    );
                }
            }
        }
    }
}

/// What is wrong when `Cargo.lock` has no version of `package` matching `requirement`.
fn unsatisfied(lockfile: &Lockfile, package: &str, requirement: Option<&str>) -> Option<String> {
    let locked: Vec<&str> = lockfile
        .packages
        .iter()
        .filter(|p| p.name == package)
        .map(|p| p.version.as_str())
        .collect();
    if locked.is_empty() {
        return Some(format!("dependency `{package}` is not in Cargo.lock"));
    }
    let requirement = VersionReq::parse(requirement?).ok()?;
    let satisfied = locked
        .iter()
        .filter_map(|v| Version::parse(v).ok())
        .any(|v| requirement.matches(&v));
    (!satisfied).then(|| {
        format!(
            "Cargo.lock has `{package}` {} but the manifest requires `{requirement}`",
            locked.join(", ")
        )
    })
}
