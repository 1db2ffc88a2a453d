//! `patch-obsolete`: a vendored patch that can go, because the dependents of the patched crate
//! allow (or a newer release of them requires) an upstream release that contains the fix.
//!
//! The facts come from `Cargo.lock` (who depends on the patched crate), the known-crates
//! database (which release contains the fix) and the local registry index loaded into
//! [`Workspace::registry_index`] (what each dependent requires, in which releases).

use cargo_metadata::semver::{Version, VersionReq};

use crate::diag::{Finding, Level};
use crate::known_crates::{self, release_version};
use crate::patch::index::{Release, lock_dependents};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::lockfile::LockedPackage;
use crate::workspace::{PatchedCrate, Workspace};

pub static RULE: Rule = Rule {
    id: "patch-obsolete",
    default_level: Level::Warn,
    summary: "a vendored patch is no longer needed: an upstream release with the fix can be used",
    docs: r#"
### What it finds
A vendored `[patch.crates-io]` crate whose fix is available upstream, when either
- every package that depends on it (from `Cargo.lock`) already allows an upstream release that
  contains the fix, or
- a newer release of a dependent depends on such a release: for `i18n-embed-fl` 0.9.4 pulled
  in by `age` 0.11, "upgrading age to 0.12.0 drops the patch", since `age` 0.12.0 depends on
  the fixed `i18n-embed-fl` 0.10.

The release that contains the fix is the `fixed` version of the known-crates database entries
listed in the ledger's `resolves` (or, without `resolves`, the entries matching the crate).
What the dependents require is read from the registry index cargo has locally: a directory
source or local registry replacing crates.io, or else the index cache cargo keeps for the
registry it uses (`$CARGO_HOME/registry/index/<registry>/.cache`, for crates.io's sparse or git
index or the registry replacing it), which any cargo command that resolves dependencies fills.
The network is never used. When the local index has no data for a dependent, nothing is
reported for that patch; when there is no local index at all, one note says so.

### Why it breaks reproducibility
Every vendored patch is a second copy of upstream code that must be kept, reviewed and hashed.
Patches that outlive their purpose drift, hide upstream fixes that came later, and make the
release depend on files only this repository has.

### Example
```toml
[dependencies]
age = "0.11"        # age 0.12.0 depends on i18n-embed-fl ^0.10, which has the fix

[patch.crates-io]
i18n-embed-fl = { path = "vendor/i18n-embed-fl" }
```

### Fix
Upgrade the dependent (raise the requirement in `Cargo.toml` and run `cargo update -p NAME`),
then remove the `[patch]` entry, the vendored tree and its entry in `vendor/patches.toml`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

/// What one dependent needs for the patch to go.
enum Verdict {
    /// It already allows a fixed release.
    Allows,
    /// Upgrading it to this release makes it allow one.
    Upgrade(Version),
    /// No local data, or no release that allows the fix.
    Keeps,
}

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let Some(first) = workspace.vendored_patches().next() else {
        return;
    };
    if !workspace.registry_index.available() {
        out.push(
            Finding::new(
                RULE.id,
                "the registry index could not be consulted, so vendored patches were not checked \
                 for obsolescence",
                first.location.clone(),
            )
            .mitigated(
                "no local copy of the crates.io index was found (no directory source or local \
                 registry replacing crates.io, and no index cache in \
                 $CARGO_HOME/registry/index/*/.cache); the network is never used",
            )
            .help("run any cargo command that reads the index once (for example `cargo update --dry-run`)"),
        );
        return;
    }
    let Some(lockfile) = &workspace.lockfile else {
        return;
    };
    for patch in workspace.vendored_patches() {
        if patch.registry != "crates-io" {
            continue;
        }
        let Some((fixed, ids)) = fixed_release(workspace, patch) else {
            continue;
        };
        let Some(locked) = lockfile.packages.iter().find(|p| {
            p.name == patch.package
                && p.source.is_none()
                && patch.version.as_deref().is_none_or(|v| v == p.version)
        }) else {
            continue;
        };
        let mut dependents: Vec<&LockedPackage> =
            lock_dependents(lockfile, &locked.name, &locked.version).collect();
        dependents.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        if dependents.is_empty() {
            continue;
        }
        let candidates = fixed_candidates(workspace, &patch.package, &fixed);
        let mut upgrades = Vec::new();
        let mut notes = Vec::new();
        let mut keeps = false;
        for dependent in &dependents {
            match verdict(workspace, dependent, &patch.package, &candidates) {
                (Verdict::Allows, reqs) => notes.push(format!(
                    "{} {} already allows it ({})",
                    dependent.name,
                    dependent.version,
                    requirement_text(&patch.package, &reqs)
                )),
                (Verdict::Upgrade(to), reqs) => {
                    notes.push(format!(
                        "{} {to} requires {}",
                        dependent.name,
                        requirement_text(&patch.package, &reqs)
                    ));
                    upgrades.push(format!("{} to {to}", dependent.name));
                }
                (Verdict::Keeps, _) => keeps = true,
            }
        }
        if keeps {
            continue;
        }
        let crate_name = &patch.package;
        let message = if upgrades.is_empty() {
            format!(
                "the vendored patch of {crate_name} is obsolete: every dependent already allows \
                 {crate_name} {fixed} or later, which contains the fix"
            )
        } else {
            format!(
                "the vendored patch of {crate_name} is obsolete: upgrading {} drops the patch",
                upgrades.join(" and ")
            )
        };
        let mut finding = Finding::new(RULE.id, message, patch.location.clone())
            .package(crate_name, &locked.version)
            .note(format!(
                "{crate_name} {fixed} contains the fix ({})",
                ids.join(", ")
            ));
        for note in notes {
            finding = finding.note(note);
        }
        if let Some(when) = workspace
            .ledger_entry(patch)
            .and_then(|e| e.remove_when.as_ref())
        {
            finding = finding.note(format!("{LEDGER_PATH} says: remove when {when}"));
        }
        if let Some(source) = &workspace.registry_index.source {
            finding = finding.note(format!(
                "dependencies read from the local index at {source}"
            ));
        }
        let removal = format!(
            "remove the [patch.crates-io] entry, the vendored tree at {} and [{crate_name}] in \
             {LEDGER_PATH}",
            patch.display_dir
        );
        let help = if upgrades.is_empty() {
            format!("{removal}, then run `cargo update -p {crate_name}`")
        } else {
            format!(
                "upgrade {} (raise the requirements in Cargo.toml and run `cargo update`), then \
                 {removal}",
                upgrades.join(" and ")
            )
        };
        out.push(finding.help(help));
    }
}

/// The first release containing every fix the patch stands for, with the database ids.
fn fixed_release(workspace: &Workspace, patch: &PatchedCrate) -> Option<(Version, Vec<String>)> {
    let database = known_crates::database();
    let resolves = workspace
        .ledger_entry(patch)
        .map(|e| e.resolves.clone())
        .unwrap_or_default();
    let entries: Vec<&known_crates::Entry> = if resolves.is_empty() {
        let version = patch.version.as_deref().and_then(release_version);
        database
            .entries
            .iter()
            .filter(|e| e.crate_names().any(|n| n == patch.package))
            .filter(|e| version.as_ref().is_none_or(|v| e.affected.matches(v)))
            .collect()
    } else {
        resolves
            .iter()
            .filter_map(|id| database.entries.iter().find(|e| e.id == *id))
            .collect()
    };
    let fixed = entries
        .iter()
        .map(|e| e.fixed.clone())
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()?;
    let ids = entries.iter().map(|e| e.id.clone()).collect();
    Some((fixed, ids))
}

/// Published releases of `name` that contain the fix; just `fixed` when the index lacks them.
fn fixed_candidates(workspace: &Workspace, name: &str, fixed: &Version) -> Vec<Version> {
    let published: Vec<Version> = workspace
        .registry_index
        .releases(name)
        .unwrap_or_default()
        .iter()
        .filter(|r| !r.yanked && r.version >= *fixed && r.version.pre.is_empty())
        .map(|r| r.version.clone())
        .collect();
    if published.is_empty() {
        vec![fixed.clone()]
    } else {
        published
    }
}

/// Whether `dependent` allows a fixed release now, after an upgrade, or not at all; with the
/// requirements that decide it.
fn verdict(
    workspace: &Workspace,
    dependent: &LockedPackage,
    name: &str,
    candidates: &[Version],
) -> (Verdict, Vec<VersionReq>) {
    let allows = |reqs: &[VersionReq]| reqs.iter().all(|r| candidates.iter().any(|v| r.matches(v)));
    if dependent.source.is_none() {
        // A workspace member: its own manifest says what it requires.
        let reqs = member_requirements(workspace, dependent, name);
        return match reqs {
            Some(reqs) if allows(&reqs) => (Verdict::Allows, reqs),
            _ => (Verdict::Keeps, Vec::new()),
        };
    }
    let Some(releases) = workspace.registry_index.releases(&dependent.name) else {
        return (Verdict::Keeps, Vec::new());
    };
    let Ok(current) = Version::parse(&dependent.version) else {
        return (Verdict::Keeps, Vec::new());
    };
    let requirements = |release: &Release| -> Vec<VersionReq> {
        release
            .requirements_on(name)
            .map(|d| d.req.clone())
            .collect()
    };
    let Some(locked) = releases.iter().find(|r| r.version == current) else {
        return (Verdict::Keeps, Vec::new());
    };
    let reqs = requirements(locked);
    if allows(&reqs) {
        return (Verdict::Allows, reqs);
    }
    releases
        .iter()
        .filter(|r| r.version > current && !r.yanked && r.version.pre.is_empty())
        .find(|r| allows(&requirements(r)))
        .map_or((Verdict::Keeps, Vec::new()), |r| {
            (Verdict::Upgrade(r.version.clone()), requirements(r))
        })
}

/// The requirements a workspace member's manifest puts on `name` (dev-dependencies left out).
fn member_requirements(
    workspace: &Workspace,
    dependent: &LockedPackage,
    name: &str,
) -> Option<Vec<VersionReq>> {
    let member = workspace
        .members
        .iter()
        .find(|m| m.name == dependent.name && m.version == dependent.version)?;
    let root = member.manifest.root();
    let mut owners: Vec<&dyn toml_edit::TableLike> = vec![root];
    if let Some(targets) = root.get("target").and_then(|t| t.as_table_like()) {
        owners.extend(targets.iter().filter_map(|(_, t)| t.as_table_like()));
    }
    let inherited = workspace
        .root_manifest
        .get(&["workspace", "dependencies"])
        .and_then(|d| d.as_table_like());
    let mut reqs = Vec::new();
    for owner in owners {
        for key in ["dependencies", "build-dependencies", "build_dependencies"] {
            let Some(table) = owner.get(key).and_then(|t| t.as_table_like()) else {
                continue;
            };
            for (dep, item) in table.iter() {
                let item = if item.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                    inherited.and_then(|w| w.get(dep)).unwrap_or(item)
                } else {
                    item
                };
                let package = item.get("package").and_then(|p| p.as_str()).unwrap_or(dep);
                if package != name {
                    continue;
                }
                let req = item
                    .as_str()
                    .or_else(|| item.get("version").and_then(|v| v.as_str()))
                    .unwrap_or("*");
                reqs.push(VersionReq::parse(req).ok()?);
            }
        }
    }
    Some(reqs)
}

/// `i18n-embed-fl ^0.10`, or `no i18n-embed-fl` when it no longer depends on it.
fn requirement_text(name: &str, reqs: &[VersionReq]) -> String {
    if reqs.is_empty() {
        return format!("no {name}");
    }
    let texts: Vec<String> = reqs.iter().map(ToString::to_string).collect();
    format!("{name} {}", texts.join(", "))
}
