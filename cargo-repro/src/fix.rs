//! `check --fix`: the mechanical fixes, applied through toml_edit and written atomically.
//!
//! Fixes: pin the toolchain channel to the installed exact version, and set
//! `codegen-units = 1` and `incremental = false` in the release profile. Every other byte of
//! an edited file stays as it was.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::diag::Report;
use crate::transaction::Transaction;
use crate::workspace::{Workspace, source_file::io_reason};

/// A file's new content.
#[derive(Debug)]
pub struct Edit {
    pub abs_path: PathBuf,
    pub display_path: String,
    pub new_text: String,
    /// What was changed, one line each.
    pub changes: Vec<String>,
}

/// Works out the edits that fix the report's mechanical findings (nothing is written).
pub fn plan(workspace: &Workspace, report: &Report) -> anyhow::Result<Vec<Edit>> {
    let mut edits: Vec<Edit> = Vec::new();
    let has = |rule: &str| report.findings.iter().find(|f| f.rule == rule);

    if let Some(finding) = has("toolchain-unpinned") {
        let version = installed_rustc_version(&workspace.root)?;
        let edit = match &workspace.toolchain {
            None => Edit {
                abs_path: workspace.root.join("rust-toolchain.toml"),
                display_path: "rust-toolchain.toml".into(),
                new_text: format!("[toolchain]\nchannel = \"{version}\"\n"),
                changes: vec![format!("created with channel = \"{version}\"")],
            },
            Some(file) if file.toml.is_none() => Edit {
                abs_path: file.file.abs_path.clone(),
                display_path: file.file.display_path.clone(),
                new_text: format!("{version}\n"),
                changes: vec![format!("pinned the channel to {version}")],
            },
            Some(file) => {
                let mut doc = parse_mut(&file.file.text, &file.file.display_path)?;
                let Some(toolchain) = doc.get_mut("toolchain").and_then(Item::as_table_like_mut)
                else {
                    anyhow::bail!(
                        "{}: no [toolchain] table to pin; add channel = \"{version}\"",
                        finding.location.path
                    )
                };
                replace_value(toolchain, "channel", value(version.clone()));
                Edit {
                    abs_path: file.file.abs_path.clone(),
                    display_path: file.file.display_path.clone(),
                    new_text: doc.to_string(),
                    changes: vec![format!("pinned channel = \"{version}\"")],
                }
            }
        };
        edits.push(edit);
    }

    let profile_fixes: Vec<(&str, &str, Item)> = [
        ("codegen-units", "codegen-units", value(1)),
        ("incremental-release", "incremental", value(false)),
    ]
    .into_iter()
    .filter(|(rule, _, _)| {
        report
            .findings
            .iter()
            .any(|f| f.rule == *rule && is_profile_file(workspace, &f.location.path))
    })
    .collect();
    if !profile_fixes.is_empty() {
        let manifest = &workspace.root_manifest.file;
        let mut doc = parse_mut(&manifest.text, &manifest.display_path)?;
        let mut changes = Vec::new();
        let release = release_profile(&mut doc, &manifest.display_path)?;
        for (_, key, new_value) in profile_fixes {
            changes.push(format!(
                "set [profile.release] {key} = {}",
                new_value.to_string().trim()
            ));
            replace_value(release, key, new_value);
        }
        edits.push(Edit {
            abs_path: manifest.abs_path.clone(),
            display_path: manifest.display_path.clone(),
            new_text: doc.to_string(),
            changes,
        });
    }
    Ok(edits)
}

/// True when a finding points at the root manifest (the fix edits its release profile).
fn is_profile_file(workspace: &Workspace, path: &str) -> bool {
    path == workspace.root_manifest.file.display_path
}

fn parse_mut(text: &str, display: &str) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>()
        .map_err(|e| anyhow::anyhow!("{display}: invalid TOML: {}", e.message()))
}

/// `[profile.release]`, created (after the existing tables) when missing.
fn release_profile<'a>(
    doc: &'a mut DocumentMut,
    display: &str,
) -> anyhow::Result<&'a mut dyn toml_edit::TableLike> {
    let profile = doc.entry("profile").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    let profile = profile
        .as_table_like_mut()
        .ok_or_else(|| anyhow::anyhow!("{display}: `profile` is not a table; fix it by hand"))?;
    let release = profile
        .entry("release")
        .or_insert(Item::Table(Table::new()));
    release.as_table_like_mut().ok_or_else(|| {
        anyhow::anyhow!("{display}: `profile.release` is not a table; fix it by hand")
    })
}

/// Sets `key`, keeping the key's layout and the old value's surrounding whitespace and comments.
fn replace_value(table: &mut dyn toml_edit::TableLike, key: &str, new_value: Item) {
    match table.get_mut(key) {
        Some(item) => {
            let decor = item.as_value().map(|v| v.decor().clone());
            *item = new_value;
            if let (Some(decor), Some(value)) = (decor, item.as_value_mut()) {
                *value.decor_mut() = decor;
            }
        }
        None => {
            table.insert(key, new_value);
        }
    }
}

/// `1.95.0` from `rustc --version`, run in the workspace (so rustup picks the same toolchain).
fn installed_rustc_version(root: &Path) -> anyhow::Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = duct::cmd(rustc, ["--version"])
        .dir(root)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run rustc to find the installed version: {}",
                io_reason(&e)
            )
        })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().nth(1).unwrap_or_default();
    if !output.status.success() || version.is_empty() {
        anyhow::bail!("cannot find the installed rustc version; pin rust-toolchain.toml by hand");
    }
    if version.contains('-') {
        anyhow::bail!(
            "the installed toolchain is {version}, not a stable release; pin rust-toolchain.toml by hand (for example nightly-YYYY-MM-DD)"
        );
    }
    Ok(version.to_string())
}

/// Writes every edit, or none: on any failure the files written so far are put back.
pub fn apply(root: &std::path::Path, edits: &[Edit]) -> anyhow::Result<()> {
    for edit in edits {
        // A toolchain file found in a parent directory, or a file linking outside, is not the
        // repository's to edit.
        if !edit.abs_path.starts_with(root) || !crate::guard::paths::inside(root, &edit.abs_path) {
            anyhow::bail!(
                "{}: lies outside the workspace (or links there); --fix edits only files inside it, so make this change by hand",
                edit.display_path
            );
        }
        Transaction::ensure_writable(&edit.abs_path, &edit.display_path)?;
    }
    let mut transaction = Transaction::begin(
        root,
        &crate::transaction::workspace_journal(root),
        "check --fix",
    )?;
    for edit in edits {
        transaction.write_file(&edit.abs_path, &edit.display_path, edit.new_text.as_bytes())?;
    }
    transaction.commit();
    Ok(())
}
