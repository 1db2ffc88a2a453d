//! `cargo repro patch`: add, adopt, diff, refresh, list, check and remove vendored patches.
//!
//! Every command that changes the workspace does so in one [`Transaction`]: the vendored
//! tree, `Cargo.toml`, the ledger, the diff file and `Cargo.lock` change together or not at all.

use std::io::Write;
use std::path::Path;

use crate::cli::{CheckArgs, PatchCheckArgs, PatchCommand, PatchCommon, PatchNotes};
use crate::exit_code;
use crate::guard::paths::confine;
use crate::patch::diff::{changed_files, unified};
use crate::patch::ledger::{Entry, LEDGER_PATH, Ledger};
use crate::patch::manifest_edit::{add_patch, remove_patch};
use crate::patch::pristine::{self, Pristine, Sources};
use crate::patch::tree::Tree;
use crate::rules::Selection;
use crate::transaction::Transaction;
use crate::workspace::{LoadOptions, PatchedCrate, Workspace, scrub_paths, source_file::io_reason};

/// Runs a `patch` subcommand.
pub fn run(command: &PatchCommand, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    // The commands that change the workspace hold its lock from before they read it.
    let writes = match command {
        PatchCommand::Add(args) => Some(&args.common),
        PatchCommand::Adopt(args) => Some(&args.common),
        PatchCommand::Refresh(args) => Some(&args.common),
        PatchCommand::Remove(args) => Some(&args.common),
        PatchCommand::Diff(_) | PatchCommand::List(_) | PatchCommand::Check(_) => None,
    };
    let manifest_path = match command {
        PatchCommand::Add(args) => &args.common.manifest_path,
        PatchCommand::Adopt(args) => &args.common.manifest_path,
        PatchCommand::Refresh(args) => &args.common.manifest_path,
        PatchCommand::Remove(args) => &args.common.manifest_path,
        PatchCommand::Diff(args) => &args.common.manifest_path,
        PatchCommand::List(common) => &common.manifest_path,
        PatchCommand::Check(args) => &args.common.manifest_path,
    };
    let root = crate::workspace::locate_root(manifest_path.as_deref())?;
    let _lock = match writes {
        Some(_) => Some(crate::guard::lock::lock_workspace(&root)?),
        None => None,
    };
    // What a killed command left half done is finished before anything is read.
    if let Some(message) = crate::transaction::recover_workspace(&root, writes.is_some())? {
        writeln!(err, "{message}")?;
    }
    match command {
        PatchCommand::Add(args) => add(&args.krate, &args.notes, &args.common, err),
        PatchCommand::Adopt(args) => adopt(&args.krate, &args.notes, &args.common, err),
        PatchCommand::Diff(args) => diff(&args.krate, &args.common, out),
        PatchCommand::Refresh(args) => refresh(&args.krate, &args.notes, &args.common, err),
        PatchCommand::List(common) => list(common, out),
        PatchCommand::Check(args) => check(args, out, err),
        PatchCommand::Remove(args) => remove(&args.krate, &args.common, err),
    }
}

fn load(common: &PatchCommon) -> anyhow::Result<Workspace> {
    Workspace::load(&LoadOptions {
        manifest_path: common.manifest_path.clone(),
        offline: common.offline,
        lockfile_only: true,
    })
}

fn sources<'a>(workspace: &'a Workspace, common: &PatchCommon) -> Sources<'a> {
    Sources {
        root: &workspace.root,
        cargo_home: &workspace.cargo_home,
        cargo_configs: &workspace.cargo_configs,
        offline: common.offline,
    }
}

/// Starts the journaled transaction of a patch command (`what` names it for recovery).
fn begin(workspace: &Workspace, what: &str) -> anyhow::Result<Transaction> {
    Transaction::begin(
        &workspace.root,
        &crate::transaction::workspace_journal(&workspace.root),
        what,
    )
}

/// `vendor/patches.toml` as it is, or empty.
fn ledger_of(workspace: &Workspace) -> Ledger {
    workspace.ledger.clone().unwrap_or_default()
}

/// Where the diff of a vendored tree is kept: next to it, as `<dir>.patch`.
fn diff_path_for(tree_path: &str) -> String {
    format!("{}.patch", tree_path.trim_end_matches('/'))
}

fn add(
    spec: &str,
    notes: &PatchNotes,
    common: &PatchCommon,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let (name, wanted) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    let lockfile = workspace.lockfile.as_ref().ok_or_else(|| {
        anyhow::anyhow!("Cargo.lock is missing; run `cargo generate-lockfile` first")
    })?;
    let locked: Vec<_> = lockfile
        .packages
        .iter()
        .filter(|p| p.name == name && p.source.is_some())
        .collect();
    if locked.is_empty() {
        if lockfile.packages.iter().any(|p| p.name == name) {
            anyhow::bail!(
                "`{name}` is already a path package in Cargo.lock; use `cargo repro patch adopt {name}`"
            );
        }
        anyhow::bail!(
            "`{name}` is not in Cargo.lock; `patch add` vendors a dependency the workspace already uses"
        );
    }
    let versions: Vec<&str> = locked.iter().map(|p| p.version.as_str()).collect();
    let package = match wanted {
        Some(version) => locked
            .iter()
            .find(|p| p.version == version)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{name}@{version} is not in Cargo.lock (locked: {}); pass one of those",
                    versions.join(", ")
                )
            })?,
        None if locked.len() > 1 => {
            anyhow::bail!(
                "Cargo.lock has several versions of `{name}` ({}); say which with {name}@VERSION",
                versions.join(", ")
            )
        }
        None => locked[0],
    };
    ensure_not_recorded(&workspace, name)?;
    if workspace.patches.iter().any(|p| p.name == name) {
        anyhow::bail!("Cargo.toml already patches `{name}`; use `cargo repro patch adopt {name}`");
    }
    crate::guard::paths::segment(name, "crate name", "the command line")?;
    let tree_path = format!("vendor/{name}");
    let tree_dir = confine(
        &workspace.root,
        &tree_path,
        "the vendored tree",
        "the command line",
    )?;
    if crate::guard::read::present(&tree_dir) {
        anyhow::bail!(
            "{tree_path} already exists; remove it, or patch it in by hand and use `cargo repro patch adopt {name}`"
        );
    }
    ensure_manifest_and_lock_writable(&workspace)?;

    let pristine = pristine::obtain(
        &sources(&workspace, common),
        name,
        &package.version,
        package.checksum.as_deref(),
    )?;
    let entry = Entry {
        version: package.version.clone(),
        path: tree_path.clone(),
        diff: diff_path_for(&tree_path),
        upstream_sha256: pristine.sha256.clone(),
        tree_sha256: pristine.tree.hash(),
        ..Entry::default()
    };
    let entry = with_notes(entry, notes);

    let mut transaction = begin(&workspace, &format!("patch add {name}"))?;
    transaction.create_dir(&workspace.root.join("vendor"), "vendor/")?;
    transaction.create_tree(&tree_dir, &tree_path, &pristine.tree)?;
    let manifest = add_patch(
        &workspace.root_manifest.file.text,
        "Cargo.toml",
        name,
        &tree_path,
    )?;
    transaction.write_file(
        &workspace.root.join("Cargo.toml"),
        "Cargo.toml",
        manifest.as_bytes(),
    )?;
    write_records(&mut transaction, &workspace, name, entry, "")?;
    update_lockfile(&mut transaction, &workspace, common)?;
    let relocked = crate::workspace::Lockfile::from_toml(crate::workspace::TomlFile::read(
        &workspace.root.join("Cargo.lock"),
        "Cargo.lock".into(),
    )?)?;
    if !relocked
        .packages
        .iter()
        .any(|p| p.name == name && p.version == package.version && p.source.is_none())
    {
        anyhow::bail!(
            "cargo did not use the vendored {name} {}; nothing was changed",
            package.version
        );
    }
    transaction.commit();
    writeln!(
        err,
        "    Vendored {name} {} into {tree_path} (sha256 {} checked against Cargo.lock)",
        package.version,
        short(&pristine.sha256)
    )?;
    writeln!(
        err,
        "    Patched  [patch.crates-io] {name} = {{ path = \"{tree_path}\" }}; recorded in {LEDGER_PATH}"
    )?;
    writeln!(
        err,
        "note: edit {tree_path}, then run `cargo repro patch refresh {name}` to record the change"
    )?;
    Ok(exit_code::SUCCESS)
}

fn adopt(
    name: &str,
    notes: &PatchNotes,
    common: &PatchCommon,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let patched = patched_crate(&workspace, name)?;
    ensure_not_recorded(&workspace, name)?;
    let version = patched.version.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "{}/Cargo.toml: cannot read `package.version` of the vendored crate",
            patched.display_dir
        )
    })?;
    let pristine = pristine::obtain(
        &sources(&workspace, common),
        &patched.package,
        &version,
        None,
    )?;
    let tree = Tree::read(&patched.abs_dir, &patched.display_dir)?;
    let diff = unified(&pristine.tree, &tree);
    let entry = Entry {
        version: version.clone(),
        path: patched.display_dir.clone(),
        diff: diff_path_for(&patched.display_dir),
        upstream_sha256: pristine.sha256.clone(),
        tree_sha256: tree.hash(),
        ..Entry::default()
    };
    let entry = with_notes(entry, notes);
    let changed = changed_files(&pristine.tree, &tree);
    let mut transaction = begin(&workspace, &format!("patch adopt {name}"))?;
    write_records(&mut transaction, &workspace, name, entry, &diff)?;
    transaction.commit();
    writeln!(
        err,
        "    Adopted {name} {version} from {}: {} file(s) differ from the upstream release; diff in {}",
        patched.display_dir,
        changed.len(),
        diff_path_for(&patched.display_dir)
    )?;
    for file in changed {
        writeln!(err, "      {file}")?;
    }
    Ok(exit_code::SUCCESS)
}

fn diff(name: &str, common: &PatchCommon, out: &mut dyn Write) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let (pristine, tree) = pristine_and_tree(&workspace, name, common)?;
    out.write_all(unified(&pristine.tree, &tree).as_bytes())?;
    Ok(exit_code::SUCCESS)
}

fn refresh(
    name: &str,
    notes: &PatchNotes,
    common: &PatchCommon,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let ledger = ledger_of(&workspace);
    let Some(old) = ledger.entries.get(name) else {
        anyhow::bail!(
            "{LEDGER_PATH} does not record `{name}`; use `cargo repro patch adopt {name}` first"
        );
    };
    let (pristine, tree) = pristine_and_tree(&workspace, name, common)?;
    let diff = unified(&pristine.tree, &tree);
    let entry = with_notes(
        Entry {
            tree_sha256: tree.hash(),
            ..old.clone()
        },
        notes,
    );
    let unchanged = entry == *old;
    let mut transaction = begin(&workspace, &format!("patch refresh {name}"))?;
    write_records(&mut transaction, &workspace, name, entry, &diff)?;
    transaction.commit();
    let changed = changed_files(&pristine.tree, &tree).len();
    let what = if unchanged {
        "already up to date"
    } else {
        "recorded"
    };
    writeln!(
        err,
        "    Refreshed {name}: {what}; {changed} file(s) differ from {name} {}",
        old.version
    )?;
    Ok(exit_code::SUCCESS)
}

fn list(common: &PatchCommon, out: &mut dyn Write) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let report =
        crate::cmd::check::audit_workspace(&workspace, &Default::default(), Selection::Patch)?;
    let ledger = ledger_of(&workspace);
    let mut names: Vec<&str> = ledger.entries.keys().map(String::as_str).collect();
    names.extend(workspace.patches.iter().map(|p| p.name.as_str()));
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        writeln!(out, "no vendored patches")?;
        return Ok(exit_code::SUCCESS);
    }
    let mut rows = vec![["crate", "upstream", "files", "status", "reason"].map(str::to_string)];
    for name in names {
        let entry = ledger.entries.get(name);
        let patched = workspace.patches.iter().find(|p| p.name == name);
        let version = entry
            .map(|e| e.version.clone())
            .or_else(|| patched.and_then(|p| p.version.clone()))
            .unwrap_or_default();
        let files = entry
            .map(|e| files_in_diff(&workspace.root, &e.diff).to_string())
            .unwrap_or_else(|| "?".into());
        let mut status: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| finding_concerns(f, name))
            .filter_map(|f| match f.rule {
                "patch-drift" => Some("drifted"),
                "patch-unused" => Some("unused"),
                "patch-obsolete" => Some("obsolete"),
                "patch-unrecorded" => Some("unrecorded"),
                "patch-version-mismatch" => Some("version-mismatch"),
                _ => None,
            })
            .collect();
        status.sort_unstable();
        status.dedup();
        let status = if status.is_empty() {
            "ok".to_string()
        } else {
            status.join(",")
        };
        let reason = entry
            .and_then(|e| e.reason.clone())
            .unwrap_or_else(|| "-".into());
        rows.push([name.to_string(), version, files, status, reason]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (column, width) in widths.iter().enumerate() {
            line.push_str(&format!("{:width$}  ", row[column]));
        }
        line.push_str(&row[4]);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(exit_code::SUCCESS)
}

/// True when a patch finding is about `name` (by package, or by the vendored tree's path).
fn finding_concerns(finding: &crate::diag::Finding, name: &str) -> bool {
    finding
        .package
        .as_deref()
        .is_some_and(|p| p.split('@').next() == Some(name))
        || finding.message.contains(&format!("`{name}`"))
}

/// How many files a recorded diff touches.
fn files_in_diff(root: &Path, diff: &str) -> usize {
    let text = confine(root, diff, "`diff`", LEDGER_PATH)
        .ok()
        .and_then(|path| crate::guard::read::read_bytes(&path, crate::guard::read::LIMIT).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("+++ ") || l.starts_with("Binary files "))
        .count()
}

fn check(args: &PatchCheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let check_args = CheckArgs {
        manifest_path: args.common.manifest_path.clone(),
        output: args.output.clone(),
        levels: args.levels.clone(),
        only: Vec::new(),
        offline: args.common.offline,
        pre_commit: true,
        fix: false,
        allow_dirty: false,
    };
    crate::cmd::check::run_selected(&check_args, Selection::Patch, out, err)
}

fn remove(name: &str, common: &PatchCommon, err: &mut dyn Write) -> anyhow::Result<u8> {
    let workspace = load(common)?;
    let mut ledger = ledger_of(&workspace);
    let entry = ledger.entries.remove(name);
    let patched = workspace.patches.iter().find(|p| p.name == name);
    if entry.is_none() && patched.is_none() {
        anyhow::bail!("`{name}` is neither in {LEDGER_PATH} nor patched in Cargo.toml");
    }
    let tree_path = entry
        .as_ref()
        .map(|e| e.path.clone())
        .or_else(|| patched.map(|p| p.display_dir.clone()))
        .unwrap_or_default();
    let source = if entry.is_some() {
        LEDGER_PATH
    } else {
        "Cargo.toml"
    };
    let tree_dir = confine(&workspace.root, &tree_path, "the vendored tree", source)
        .map_err(|e| anyhow::anyhow!("{e:#}; or remove the [patch] entry by hand"))?;
    let diff_file = entry
        .as_ref()
        .map(|e| confine(&workspace.root, &e.diff, "`diff`", LEDGER_PATH))
        .transpose()?;
    ensure_manifest_and_lock_writable(&workspace)?;
    let mut transaction = begin(&workspace, &format!("patch remove {name}"))?;
    if std::fs::symlink_metadata(&tree_dir).is_ok_and(|m| m.is_dir()) {
        transaction.remove_tree(&tree_dir, &tree_path)?;
    }
    if let (Some(entry), Some(diff_file)) = (&entry, &diff_file) {
        transaction.remove_file(diff_file, &entry.diff)?;
    }
    if let Some(patched) = patched {
        let manifest = remove_patch(
            &workspace.root_manifest.file.text,
            "Cargo.toml",
            &patched.registry,
            name,
        )?;
        transaction.write_file(
            &workspace.root.join("Cargo.toml"),
            "Cargo.toml",
            manifest.as_bytes(),
        )?;
    }
    write_ledger(&mut transaction, &workspace, &ledger)?;
    transaction.remove_dir_if_empty(&workspace.root.join("vendor"), "vendor/")?;
    update_lockfile(&mut transaction, &workspace, common)?;
    transaction.commit();
    writeln!(
        err,
        "    Removed {name}: {tree_path}, its [patch] entry and its ledger entry; Cargo.lock updated"
    )?;
    Ok(exit_code::SUCCESS)
}

/// The `[patch]` path entry for `name`, which must lie inside the workspace.
fn patched_crate<'a>(workspace: &'a Workspace, name: &str) -> anyhow::Result<&'a PatchedCrate> {
    let patched = workspace
        .patches
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| anyhow::anyhow!("Cargo.toml has no [patch] path entry for `{name}`"))?;
    if !patched.inside_workspace {
        anyhow::bail!(
            "{}: the vendored tree of `{name}` is outside the workspace; move it under vendor/ and update the [patch] entry",
            patched.display_dir
        );
    }
    if !patched.abs_dir.is_dir() {
        anyhow::bail!(
            "{}: the vendored tree of `{name}` does not exist",
            patched.display_dir
        );
    }
    Ok(patched)
}

/// The pristine release recorded in the ledger (or named by the vendored manifest) and the tree.
fn pristine_and_tree(
    workspace: &Workspace,
    name: &str,
    common: &PatchCommon,
) -> anyhow::Result<(Pristine, Tree)> {
    let patched = patched_crate(workspace, name)?;
    let entry = workspace.ledger.as_ref().and_then(|l| l.entries.get(name));
    let version = match (entry, &patched.version) {
        (Some(entry), _) => entry.version.clone(),
        (None, Some(version)) => version.clone(),
        (None, None) => anyhow::bail!(
            "{}/Cargo.toml: cannot read the vendored version",
            patched.display_dir
        ),
    };
    let expected = entry.map(|e| e.upstream_sha256.as_str());
    let pristine = pristine::obtain(
        &sources(workspace, common),
        &patched.package,
        &version,
        expected,
    )?;
    let tree = Tree::read(&patched.abs_dir, &patched.display_dir)?;
    Ok((pristine, tree))
}

/// Refuses to record a patch the ledger already has.
fn ensure_not_recorded(workspace: &Workspace, name: &str) -> anyhow::Result<()> {
    if workspace
        .ledger
        .as_ref()
        .is_some_and(|l| l.entries.contains_key(name))
    {
        anyhow::bail!(
            "{LEDGER_PATH} already records `{name}`; use `cargo repro patch refresh {name}`"
        );
    }
    Ok(())
}

/// Refuses, before anything is written, when Cargo.toml or Cargo.lock cannot be replaced.
fn ensure_manifest_and_lock_writable(workspace: &Workspace) -> anyhow::Result<()> {
    for name in ["Cargo.toml", "Cargo.lock"] {
        Transaction::ensure_writable(&workspace.root.join(name), name)?;
    }
    Ok(())
}

fn with_notes(mut entry: Entry, notes: &PatchNotes) -> Entry {
    if let Some(reason) = &notes.reason {
        entry.reason = Some(reason.clone());
    }
    if let Some(upstream) = &notes.upstream {
        entry.upstream = Some(upstream.clone());
    }
    if !notes.resolves.is_empty() {
        entry.resolves = notes.resolves.clone();
        entry.resolves.sort();
        entry.resolves.dedup();
    }
    if let Some(when) = &notes.remove_when {
        entry.remove_when = Some(when.clone());
    }
    entry
}

/// Writes the diff file and the ledger with `entry` for `name`.
fn write_records(
    transaction: &mut Transaction,
    workspace: &Workspace,
    name: &str,
    entry: Entry,
    diff: &str,
) -> anyhow::Result<()> {
    for id in &entry.resolves {
        if crate::known_crates::database()
            .entries
            .iter()
            .all(|e| &e.id != id)
        {
            anyhow::bail!(
                "--resolves {id}: no such entry in the known-crates database; see `cargo repro explain known-nondeterministic-crate`"
            );
        }
    }
    let diff_file = confine(&workspace.root, &entry.diff, "`diff`", LEDGER_PATH)?;
    transaction.write_file(&diff_file, &entry.diff, diff.as_bytes())?;
    let mut ledger = ledger_of(workspace);
    ledger.entries.insert(
        name.to_string(),
        Entry {
            location: None,
            ..entry
        },
    );
    write_ledger(transaction, workspace, &ledger)
}

fn write_ledger(
    transaction: &mut Transaction,
    workspace: &Workspace,
    ledger: &Ledger,
) -> anyhow::Result<()> {
    let path = confine(&workspace.root, LEDGER_PATH, "the ledger", LEDGER_PATH)?;
    if ledger.entries.is_empty() {
        return transaction.remove_file(&path, LEDGER_PATH);
    }
    transaction.write_file(&path, LEDGER_PATH, ledger.render().as_bytes())
}

/// Lets cargo bring Cargo.lock up to date with the edited manifest (kept for rollback).
fn update_lockfile(
    transaction: &mut Transaction,
    workspace: &Workspace,
    common: &PatchCommon,
) -> anyhow::Result<()> {
    let lock = workspace.root.join("Cargo.lock");
    transaction.keep_copy(&lock, "Cargo.lock")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = workspace.root.join("Cargo.toml");
    let mut args: Vec<std::ffi::OsString> =
        vec!["metadata".into(), "--format-version".into(), "1".into()];
    if common.offline {
        args.push("--offline".into());
    }
    args.push("--manifest-path".into());
    args.push(manifest.into_os_string());
    crate::guard::fault::point();
    let output = duct::cmd(cargo, args)
        .dir(&workspace.root)
        .env("CARGO_TERM_COLOR", "never")
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run cargo: {}", io_reason(&e)))?;
    crate::guard::fault::point();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("cargo failed");
        let reason = scrub_paths(
            reason.trim_start_matches("error: "),
            &workspace.root,
            &workspace.cargo_home,
        );
        anyhow::bail!("cannot update Cargo.lock: {reason}; nothing was changed");
    }
    Ok(())
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
