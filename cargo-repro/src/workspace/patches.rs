//! The workspace's `[patch]` path entries, their vendored trees, and the patch ledger.

use std::path::{Path, PathBuf};

use super::{Member, TomlFile, Workspace, display_path, normalize};
use crate::diag::Location;
use crate::patch::ledger::{LEDGER_PATH, Ledger};
use crate::patch::tree::Tree;

/// A `[patch.<registry>]` entry with a `path`.
#[derive(Clone, Debug)]
pub struct PatchedCrate {
    /// The registry key (`crates-io`, or a URL).
    pub registry: String,
    /// The key of the entry (the dependency name).
    pub name: String,
    /// The package it replaces (`package = …`, or the key).
    pub package: String,
    /// The path as written in Cargo.toml.
    pub path: String,
    pub abs_dir: PathBuf,
    /// The directory relative to the workspace root (with `..` when outside).
    pub display_dir: String,
    pub inside_workspace: bool,
    /// The path is a workspace member's directory: the project replaces a published crate with
    /// its own code, not with a vendored copy (see [`Workspace::vendored_patches`]).
    pub member: bool,
    /// The entry's line in the root manifest.
    pub location: Location,
    /// `package.version` of the vendored Cargo.toml, when readable.
    pub version: Option<String>,
    /// The tree's hash, when the directory can be read.
    pub tree_sha256: Option<String>,
}

/// Reads `vendor/patches.toml` when it exists.
pub fn load_ledger(root: &Path) -> anyhow::Result<Option<Ledger>> {
    let path = root.join(LEDGER_PATH);
    if !crate::guard::read::present(&path) {
        return Ok(None);
    }
    let file = super::SourceFile::read(&path, LEDGER_PATH.to_string())?;
    Ledger::parse(file).map(Some)
}

/// Every `[patch.*]` entry of the root manifest that has a `path`, sorted by registry and name.
pub fn path_patches(root: &Path, manifest: &TomlFile, members: &[Member]) -> Vec<PatchedCrate> {
    let mut out = Vec::new();
    let Some(registries) = manifest.root().get("patch").and_then(|p| p.as_table_like()) else {
        return out;
    };
    for (registry, table) in registries.iter() {
        let Some(table) = table.as_table_like() else {
            continue;
        };
        for (name, item) in table.iter() {
            let Some(path) = item.get("path").and_then(|p| p.as_str()) else {
                continue;
            };
            let abs_dir = normalize(&root.join(path));
            let package = item
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(name)
                .to_string();
            // Symlinks resolved: a link inside the workspace to a directory elsewhere is outside.
            let inside_workspace =
                abs_dir.starts_with(normalize(root)) && crate::guard::paths::inside(root, &abs_dir);
            let member = members.iter().any(|m| normalize(&m.dir) == abs_dir);
            let version = vendored_version(&abs_dir);
            let tree_sha256 = if inside_workspace && abs_dir.is_dir() {
                Tree::read(&abs_dir, &display_path(root, &abs_dir))
                    .ok()
                    .map(|t| t.hash())
            } else {
                None
            };
            out.push(PatchedCrate {
                registry: registry.to_string(),
                name: name.to_string(),
                package,
                path: path.to_string(),
                display_dir: display_path(root, &abs_dir),
                abs_dir,
                inside_workspace,
                member,
                location: manifest.entry_location(table, name),
                version,
                tree_sha256,
            });
        }
    }
    out.sort_by(|a, b| (&a.registry, &a.name).cmp(&(&b.registry, &b.name)));
    out
}

/// `package.version` from a vendored crate's Cargo.toml.
fn vendored_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let doc = text.parse::<toml_edit::Document<String>>().ok()?;
    doc.get("package")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

impl Workspace {
    /// The `[patch]` path entries that are vendored copies, which the `patch-*` rules audit:
    /// every one but those pointing at a workspace member, unless the ledger records that too.
    pub fn vendored_patches(&self) -> impl Iterator<Item = &PatchedCrate> {
        self.patches
            .iter()
            .filter(|p| !p.member || self.ledger_entry(p).is_some())
    }

    /// The ledger entry recording `patch`: keyed by the package name, or by the `[patch]` key.
    pub fn ledger_entry(&self, patch: &PatchedCrate) -> Option<&crate::patch::ledger::Entry> {
        let ledger = self.ledger.as_ref()?;
        ledger
            .entries
            .get(&patch.package)
            .or_else(|| ledger.entries.get(&patch.name))
    }

    /// The `[patch]` path entry that the ledger entry `name` records.
    pub fn patch_for(&self, name: &str) -> Option<&PatchedCrate> {
        self.patches
            .iter()
            .find(|p| p.package == name)
            .or_else(|| self.patches.iter().find(|p| p.name == name))
    }
}

/// Where a ledger entry starts, or the ledger file.
pub fn ledger_location(entry: &crate::patch::ledger::Entry) -> Location {
    entry
        .location
        .clone()
        .unwrap_or_else(|| Location::file(LEDGER_PATH))
}
