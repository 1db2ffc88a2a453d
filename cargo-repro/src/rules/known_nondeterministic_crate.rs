//! `known-nondeterministic-crate`: the release graph contains a crate version from the built-in
//! database of crates known to build nondeterministically.

use crate::diag::{Finding, Level, Location};
use cargo_metadata::semver::Version;

use crate::build::env::ALWAYS_SET_VARIABLES;
use crate::known_crates::{self, Entry, EnvMitigation, release_version};
use crate::rules::Rule;
use crate::workspace::entry_points::cargo::cargo_call;
use crate::workspace::{Package, Source, Workspace};

pub static RULE: Rule = Rule {
    id: "known-nondeterministic-crate",
    default_level: Level::Deny,
    summary: "the release graph contains a crate version known to build nondeterministically",
    docs: r#"
### What it finds
A package that can end up in a release build (registry, git, or a `[patch]` path replacing a
registry crate; dev-only packages are left out) whose name and version match an entry of the
built-in database: for example `i18n-embed-fl` below 0.10 (pulled in by `age` 0.11),
`rust-i18n` up to 3.1.2, `pest_generator` up to 2.1.1, `pest_consume_macros`,
`const-random`, `rust-embed` without deterministic timestamps (and `rust-embed-utils` below
7.2, which lists files in directory order), `include_dir` below 0.7, `tikv-jemalloc-sys`,
`openssl-src`, `randomx-rs` below 0.2.1 (later releases pass a `DARCH=native` define that
RandomX's CMake never reads, so they are not reported), the crates that stamp the build time
(`vergen` with its `build` feature, `built` with `chrono`, `shadow-rs`) and vergen's `si`
instructions, which record the build host. Each finding names the mechanism, the packages
that pull the crate in, the dependent upgrade that removes it when one is known, the upstream
links and the database id. Every entry records which published versions were read to
establish it.

An entry that needs a feature (vergen's `build`, `si` and `git`, built's `chrono`) is reported
only when the resolved graph enables it; without the graph (`cargo metadata` failed) it is a
note saying the features could not be checked.

Crates that record the checkout are notes: `git-testament`, vergen's git instructions
(`vergen` before 9 with `git`, `vergen-gix`, `vergen-git2`, `vergen-gitcl`), `built` (the CI
platform, `NUM_JOBS`, the commit and dirty state) and `shadow-rs` (branch, tag, dirty files,
`CARGO_MANIFEST_DIR`). What they record depends on how the release is checked out (a source
archive without `.git`, a shallow clone without tags, a modified tree), which the tool cannot
see: a clean clone of the same tag gives the same bytes.

A macro crate is judged by its call sites: `const-random` changes the bytes only where a
dependent's compiled code calls `const_random!`, so each dependent's library is read with `cfg`
evaluated for its enabled features (dlv-list 0.5 calls it only under
`cfg(not(feature = "std"))`; ahash only with `compile-time-rng`). When no call is compiled,
the finding is a note saying so; otherwise it names the calls.

A finding is reported as a note when the risk is already mitigated: the crate is replaced by a
vendored `[patch.crates-io]` path, a neutralising feature is enabled (rust-embed's
`deterministic-timestamps`), or the neutralising environment variables are set for release
builds: in an `[env]` table of a `.cargo/config.toml`, in a release entry point's environment,
or by `cargo repro build` in a release entry point (it sets `SOURCE_DATE_EPOCH`, `TZ`, `LC_ALL`
and `CARGO_INCREMENTAL`). A variable counts only for the versions that read it, judged on the
crate that reads it: `SOURCE_DATE_EPOCH` from rust-embed-utils 7.4.0 for rust-embed, vergen
7.4.2, built 0.7.4 and shadow-rs 0.6.7; `CONST_RANDOM_SEED` from const-random-macro 0.1.12;
`OPENSSL_NO_VENDOR` from openssl-sys 0.9.55; `JEMALLOC_SYS_WITH_LG_VADDR`,
`JEMALLOC_SYS_WITH_LG_PAGE` and `JEMALLOC_SYS_WITH_LG_HUGEPAGE` together. A variable set for
versions that ignore it, or only in development jobs, is named in a note and changes nothing.

### Why it breaks reproducibility
These crates put varying data into the binary: proc-macros that emit code in `HashMap` order
(a new random seed in every rustc process), compile-time random numbers, file timestamps, the
wall clock, directory order, or facts probed from the build host.

### Example
```toml
# Cargo.lock
[[package]]
name = "i18n-embed-fl"
version = "0.9.4"
```

### Fix
Upgrade to the fixed version (here through `age` 0.12, which depends on `i18n-embed-fl` 0.10),
set the neutralising environment variable for release builds (`[env] CONST_RANDOM_SEED = "0"`
in `.cargo/config.toml`, `SOURCE_DATE_EPOCH` in the release job, or build with
`cargo repro build`), enable the neutralising feature, or vendor a fixed copy through
`[patch.crates-io]`.
"#,
    heuristic: false,
    uses_graph: true,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for entry in &known_crates::database().entries {
        let affected = affected_packages(workspace, entry);
        let (reported, others): (Vec<&Package>, Vec<&Package>) =
            affected.iter().partition(|p| p.name == entry.crate_name);
        if reported.is_empty() {
            for package in others {
                out.push(finding(workspace, entry, package, &[]));
            }
        } else {
            for package in reported {
                out.push(finding(workspace, entry, package, &others));
            }
        }
    }
}

/// The release packages matched by `entry` that come from outside the workspace, leaving out
/// those that lack every feature the problem needs (when the graph knows the features).
fn affected_packages<'a>(workspace: &'a Workspace, entry: &Entry) -> Vec<&'a Package> {
    workspace
        .graph
        .release_packages()
        .filter(|p| is_third_party(workspace, p))
        .filter(|p| {
            release_version(&p.version).is_some_and(|v| {
                entry.matches(&p.name, &v)
                    && (!workspace.graph.resolved || has_required_feature(entry, p, &v))
            })
        })
        .collect()
}

/// True when `package` enables one of the features the entry needs at `version` (or none is
/// needed).
fn has_required_feature(entry: &Entry, package: &Package, version: &Version) -> bool {
    entry
        .required_features(version)
        .is_none_or(|features| features.iter().any(|f| package.features.contains(f)))
}

/// Registry and git packages, and path packages that replace a registry crate through `[patch]`.
fn is_third_party(workspace: &Workspace, package: &Package) -> bool {
    match package.source {
        Source::Registry(_) | Source::Git(_) => true,
        Source::Path => patches_crates_io(workspace, &package.name),
        Source::Workspace => false,
    }
}

/// True when the root manifest's `[patch.crates-io]` replaces `name` with a path.
fn patches_crates_io(workspace: &Workspace, name: &str) -> bool {
    let Some(patches) = workspace
        .root_manifest
        .get(&["patch", "crates-io"])
        .and_then(|p| p.as_table_like())
    else {
        return false;
    };
    patches.iter().any(|(key, item)| {
        let crate_name = item.get("package").and_then(|p| p.as_str()).unwrap_or(key);
        crate_name == name && item.get("path").is_some()
    })
}

fn finding(
    workspace: &Workspace,
    entry: &Entry,
    package: &Package,
    also_affected: &[&Package],
) -> Finding {
    let message = format!(
        "{} {} builds nondeterministically: {}",
        package.name, package.version, entry.mechanism
    );
    let mut finding = Finding::new(RULE.id, message, lockfile_location(workspace, package))
        .package(&package.name, &package.version)
        .help(help(workspace, entry, package));
    for note in notes(workspace, entry, package, also_affected) {
        finding = finding.note(note);
    }
    match mitigation(workspace, entry, package) {
        Some(why) => finding.mitigated(why),
        None => match cannot_tell(workspace, entry, package) {
            Some(why) => finding.uncertain(why),
            None => finding,
        },
    }
}

/// The package's `name = "…"` line in `Cargo.lock`, or the lockfile itself.
fn lockfile_location(workspace: &Workspace, package: &Package) -> Location {
    let Some(lockfile) = &workspace.lockfile else {
        return Location::file("Cargo.toml");
    };
    match lockfile.find(&package.name, &package.version) {
        Some(locked) => lockfile.package_location(locked),
        None => Location::file(lockfile.toml.file.display_path.clone()),
    }
}

fn help(workspace: &Workspace, entry: &Entry, package: &Package) -> String {
    let upgrades: Vec<String> = workspace
        .graph
        .dependents_of(package)
        .filter_map(|dependent| {
            let upgrade = entry.dependent_upgrade(&dependent.name, &dependent.version)?;
            let fixed_in = upgrade.fixed_in.as_ref()?;
            Some(format!("upgrade {} to {fixed_in} or later", dependent.name))
        })
        .collect();
    if upgrades.is_empty() {
        entry.mitigation.clone()
    } else {
        format!("{}; {}", upgrades.join(" and "), entry.mitigation)
    }
}

fn notes(
    workspace: &Workspace,
    entry: &Entry,
    package: &Package,
    also_affected: &[&Package],
) -> Vec<String> {
    let mut notes = Vec::new();
    let mut dependents: Vec<&Package> = workspace.graph.dependents_of(package).collect();
    dependents.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    if !dependents.is_empty() {
        notes.push(format!("pulled in by {}", package_list(&dependents)));
    }
    for dependent in &dependents {
        if let Some(upgrade) = entry.dependent_upgrade(&dependent.name, &dependent.version) {
            notes.push(format!(
                "{} {} pulls it in; {}",
                dependent.name, dependent.version, upgrade.note
            ));
        }
    }
    if !also_affected.is_empty() {
        notes.push(format!(
            "the same entry covers {}",
            package_list(also_affected)
        ));
    }
    if !entry.mitigating_features.is_empty() && !workspace.graph.resolved {
        notes.push(format!(
            "enabled features are unknown without `cargo metadata`, so {} could not be checked",
            quoted_list(&entry.mitigating_features)
        ));
    }
    notes.extend(env_notes(workspace, entry, package));
    notes.extend(macro_call_notes(workspace, entry));
    if !entry.verified {
        notes.push(format!(
            "this database entry is not fully verified: {}",
            entry.verification
        ));
    }
    if let Some(note) = ledger_note(workspace, entry, package) {
        notes.push(note);
    }
    notes.push(format!("upstream: {}", entry.upstream.join(", ")));
    notes.push(format!("database entry: {}", entry.id));
    notes
}

/// For a vendored patch: whether the ledger records it as resolving this database entry.
fn ledger_note(workspace: &Workspace, entry: &Entry, package: &Package) -> Option<String> {
    if package.source != Source::Path || !patches_crates_io(workspace, &package.name) {
        return None;
    }
    let recorded = workspace
        .ledger
        .as_ref()
        .and_then(|ledger| ledger.entries.get(&package.name));
    Some(match recorded {
        Some(recorded) if recorded.resolves.contains(&entry.id) => {
            format!("the ledger records this patch as resolving {}", entry.id)
        }
        Some(_) => format!(
            "the ledger does not list {} in `resolves` for this patch; add it with `cargo repro \
             patch refresh`",
            entry.id
        ),
        None => format!(
            "the ledger does not record this patch, so nothing says it resolves {}; record it \
             with `cargo repro patch adopt {}`",
            entry.id, package.name
        ),
    })
}

/// `a@1.0.0, b@2.0.0`.
fn package_list(packages: &[&Package]) -> String {
    let ids: Vec<String> = packages.iter().map(|p| p.id()).collect();
    ids.join(", ")
}

/// `` `a`, `b` ``.
fn quoted_list(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    quoted.join(", ")
}

/// Why the risk is already neutralised, if it is.
fn mitigation(workspace: &Workspace, entry: &Entry, package: &Package) -> Option<String> {
    vendored_patch(workspace, package)
        .or_else(|| enabled_feature(entry, package))
        .or_else(|| env_mitigation(workspace, entry, package))
        .or_else(|| no_macro_call(workspace, entry))
}

/// For a macro crate: that no dependent calls its macros in the code the release compiles.
fn no_macro_call(workspace: &Workspace, entry: &Entry) -> Option<String> {
    let calls = workspace.macro_calls.get(&entry.id)?;
    if calls.is_empty() || calls.iter().any(|(_, found)| !found.is_empty()) {
        return None;
    }
    let names: Vec<String> = calls
        .iter()
        .map(|(index, _)| workspace.graph.packages[*index].id())
        .collect();
    Some(format!(
        "mitigated: no dependent calls {} in the code the release compiles ({} read with `cfg` \
         evaluated for its enabled features)",
        macro_list(&entry.macros),
        names.join(", ")
    ))
}

/// For a macro crate: where dependents call its macros.
fn macro_call_notes(workspace: &Workspace, entry: &Entry) -> Vec<String> {
    let Some(calls) = workspace.macro_calls.get(&entry.id) else {
        return Vec::new();
    };
    calls
        .iter()
        .filter_map(|(index, found)| {
            let first = found.first()?;
            Some(format!(
                "{} calls {} at {} ({} call{} in the code the release compiles)",
                workspace.graph.packages[*index].id(),
                macro_list(&entry.macros),
                file_and_line(&first.path, first.line),
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            ))
        })
        .collect()
}

fn macro_list(macros: &[String]) -> String {
    let quoted: Vec<String> = macros.iter().map(|m| format!("`{m}!`")).collect();
    quoted.join(", ")
}

/// Why the tool cannot tell whether the release's bytes change, when it cannot: the features the
/// entry needs are unknown, or what varies depends on the checkout.
fn cannot_tell(workspace: &Workspace, entry: &Entry, package: &Package) -> Option<String> {
    features_unknown(workspace, entry, package).or_else(|| {
        entry
            .note_only
            .as_ref()
            .map(|why| format!("reported as a note: {why}"))
    })
}

/// Without the resolved graph, an entry that needs a feature cannot be judged.
fn features_unknown(workspace: &Workspace, entry: &Entry, package: &Package) -> Option<String> {
    if workspace.graph.resolved {
        return None;
    }
    let version = release_version(&package.version)?;
    let features = entry.required_features(&version)?;
    Some(format!(
        "reported as a note: enabled features are unknown without `cargo metadata`, and nothing \
         varies unless {} {} enabled",
        quoted_list(features),
        if features.len() == 1 {
            "is"
        } else {
            "one of them is"
        }
    ))
}

fn vendored_patch(workspace: &Workspace, package: &Package) -> Option<String> {
    if package.source != Source::Path {
        return None;
    }
    let shown = match &package.manifest_dir {
        Some(dir) => workspace.display(dir),
        None => "a [patch.crates-io] path".to_string(),
    };
    Some(format!(
        "replaced by the vendored patch at {shown}; `cargo repro patch` will track it"
    ))
}

fn enabled_feature(entry: &Entry, package: &Package) -> Option<String> {
    let feature = entry
        .mitigating_features
        .iter()
        .find(|f| package.features.contains(*f))?;
    Some(format!(
        "mitigated: the `{feature}` feature of {} is enabled",
        package.name
    ))
}

fn env_mitigation(workspace: &Workspace, entry: &Entry, package: &Package) -> Option<String> {
    entry
        .mitigating_env
        .iter()
        .filter(|m| honoured(workspace, m, package))
        .find_map(|mitigation| {
            let places = env_places(workspace, mitigation)?;
            Some(format!("mitigated: {}", places.join(", ")))
        })
}

/// When no variable set neutralises the entry: notes on those that are set but ignored by the
/// versions in use, or set only for development builds.
fn env_notes(workspace: &Workspace, entry: &Entry, package: &Package) -> Vec<String> {
    if env_mitigation(workspace, entry, package).is_some() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for mitigation in &entry.mitigating_env {
        if !honoured(workspace, mitigation, package) {
            let (Some(places), Some(versions)) =
                (env_places(workspace, mitigation), &mitigation.versions)
            else {
                continue;
            };
            let crate_name = mitigation.crate_name.as_deref().unwrap_or(&package.name);
            let in_use: Vec<String> = versions_of(workspace, crate_name, package)
                .iter()
                .map(ToString::to_string)
                .collect();
            let in_use = if in_use.is_empty() {
                "is not in the graph".to_string()
            } else {
                format!("{} ignores it", in_use.join(", "))
            };
            notes.push(format!(
                "{}, but {crate_name} {in_use} (the versions that read it: {versions})",
                places.join(", ")
            ));
        } else if let Some(places) = development_places(workspace, mitigation) {
            notes.push(format!(
                "{} only for development builds, which do not make the release",
                places.join(", ")
            ));
        }
    }
    notes
}

/// For a mitigation not in effect for release builds: where development jobs set the variables
/// release builds lack, when they set all of them.
fn development_places(workspace: &Workspace, mitigation: &EnvMitigation) -> Option<Vec<String>> {
    let missing: Vec<&String> = mitigation
        .vars
        .iter()
        .filter(|var| env_var_setting(workspace, var).is_none())
        .collect();
    if missing.is_empty() {
        return None;
    }
    missing
        .into_iter()
        .map(|var| {
            workspace.entry_points.iter().find_map(|entry| {
                let (_, setting) = entry
                    .env_settings()
                    .into_iter()
                    .find(|(job, v)| v.name == *var && !job.role.is_release())?;
                let line = entry.file.line_of(setting.name_span.start);
                Some(format!(
                    "{var} is set in {}",
                    file_and_line(&entry.file.display_path, Some(line))
                ))
            })
        })
        .collect()
}

/// Where each variable of `mitigation` is set, when all of them are.
fn env_places(workspace: &Workspace, mitigation: &EnvMitigation) -> Option<Vec<String>> {
    mitigation
        .vars
        .iter()
        .map(|var| env_var_setting(workspace, var).map(|at| format!("{var} is set {at}")))
        .collect()
}

/// True when the versions that read the variables honour them.
fn honoured(workspace: &Workspace, mitigation: &EnvMitigation, package: &Package) -> bool {
    let crate_name = mitigation.crate_name.as_deref().unwrap_or(&package.name);
    mitigation.honoured_by(&versions_of(workspace, crate_name, package))
}

/// The versions of `crate_name` in the release graph (just `package`'s when it is that crate).
fn versions_of(workspace: &Workspace, crate_name: &str, package: &Package) -> Vec<Version> {
    if crate_name == package.name {
        return release_version(&package.version).into_iter().collect();
    }
    workspace
        .graph
        .release_packages()
        .filter(|p| p.name == crate_name)
        .filter_map(|p| release_version(&p.version))
        .collect()
}

/// Where `var` is set for release builds: an `[env]` table of a cargo config, a release entry
/// point's environment, or a release entry point running `cargo repro build` (which sets
/// [`ALWAYS_SET_VARIABLES`]).
fn env_var_setting(workspace: &Workspace, var: &str) -> Option<String> {
    let in_config = workspace.cargo_configs.iter().find_map(|config| {
        let table = config.get(&["env"])?.as_table_like()?;
        table.get(var)?;
        let line = config.key_location(table, var).line;
        Some(format!(
            "in {}",
            file_and_line(&config.file.display_path, line)
        ))
    });
    let in_entry_point = || {
        workspace.entry_points.iter().find_map(|entry| {
            let (_, var) = entry
                .env_settings()
                .into_iter()
                .find(|(job, v)| v.name == var && job.role.is_release())?;
            let line = entry.file.line_of(var.name_span.start);
            Some(format!(
                "in {}",
                file_and_line(&entry.file.display_path, Some(line))
            ))
        })
    };
    let by_repro_build = || {
        if !ALWAYS_SET_VARIABLES.contains(&var) {
            return None;
        }
        workspace.entry_points.iter().find_map(|entry| {
            let command = entry
                .jobs
                .iter()
                .filter(|job| job.role.is_release())
                .flat_map(|job| &job.commands)
                .find(|command| {
                    cargo_call(command).is_some_and(|call| {
                        call.subcommand == "repro"
                            && call.rest.first().is_some_and(|w| w.text == "build")
                    })
                })?;
            let line = entry.file.line_of(command.program().span.start);
            Some(format!(
                "by `cargo repro build` in {}",
                file_and_line(&entry.file.display_path, Some(line))
            ))
        })
    };
    in_config.or_else(in_entry_point).or_else(by_repro_build)
}

fn file_and_line(path: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_string(),
    }
}
