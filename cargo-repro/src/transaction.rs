//! Changes to the workspace that happen completely or not at all.
//!
//! Every write goes through a temporary file renamed into place; every change is recorded, and
//! unless [`Transaction::commit`] is called, dropping the transaction undoes them all in
//! reverse order. Commands that edit several files (`--fix`, `cargo repro patch`) use one.

use std::path::{Path, PathBuf};

use crate::patch::tree::Tree;
use crate::workspace::source_file::io_reason;

enum Undo {
    /// Put back the old content (or remove the file when there was none).
    RestoreFile(PathBuf, Option<Vec<u8>>),
    /// Remove a directory the transaction created.
    RemoveDir(PathBuf),
    /// Move a directory back from where the transaction set it aside.
    RestoreDir { original: PathBuf, backup: PathBuf },
}

/// A set of changes that is undone unless committed.
#[derive(Default)]
pub struct Transaction {
    undo: Vec<Undo>,
    committed: bool,
}

impl Transaction {
    pub fn new() -> Transaction {
        Transaction::default()
    }

    /// Fails, changing nothing, when a file cannot be replaced (read-only).
    pub fn ensure_writable(path: &Path, display: &str) -> anyhow::Result<()> {
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().readonly()
        {
            anyhow::bail!(
                "{display}: file is read-only; make it writable and run the command again"
            );
        }
        Ok(())
    }

    /// Replaces (or creates) a file atomically, keeping its permissions.
    pub fn write_file(&mut self, path: &Path, display: &str, bytes: &[u8]) -> anyhow::Result<()> {
        Transaction::ensure_writable(path, display)?;
        let before = std::fs::read(path).ok();
        write_atomically(path, display, bytes)?;
        self.undo
            .push(Undo::RestoreFile(path.to_path_buf(), before));
        Ok(())
    }

    /// Records a file's current content, for a file another program (cargo) is about to rewrite.
    pub fn keep_copy(&mut self, path: &Path) {
        self.undo.push(Undo::RestoreFile(
            path.to_path_buf(),
            std::fs::read(path).ok(),
        ));
    }

    /// Removes a file.
    pub fn remove_file(&mut self, path: &Path, display: &str) -> anyhow::Result<()> {
        let Ok(before) = std::fs::read(path) else {
            return Ok(());
        };
        std::fs::remove_file(path)
            .map_err(|e| anyhow::anyhow!("cannot remove {display}: {}", io_reason(&e)))?;
        self.undo
            .push(Undo::RestoreFile(path.to_path_buf(), Some(before)));
        Ok(())
    }

    /// Writes a tree into a new directory.
    pub fn create_tree(&mut self, dir: &Path, display: &str, tree: &Tree) -> anyhow::Result<()> {
        tree.write_new(dir, display)?;
        self.undo.push(Undo::RemoveDir(dir.to_path_buf()));
        Ok(())
    }

    /// Sets a directory aside; it is deleted on commit and moved back on rollback.
    pub fn remove_tree(&mut self, dir: &Path, display: &str) -> anyhow::Result<()> {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("tree");
        let backup = dir.with_file_name(format!(".{name}.cargo-repro.removed"));
        let _ = std::fs::remove_dir_all(&backup);
        std::fs::rename(dir, &backup)
            .map_err(|e| anyhow::anyhow!("cannot remove {display}: {}", io_reason(&e)))?;
        self.undo.push(Undo::RestoreDir {
            original: dir.to_path_buf(),
            backup,
        });
        Ok(())
    }

    /// Keeps every change.
    pub fn commit(mut self) {
        for undo in &self.undo {
            if let Undo::RestoreDir { backup, .. } = undo {
                let _ = std::fs::remove_dir_all(backup);
            }
        }
        self.committed = true;
    }

    fn rollback(&mut self) {
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::RestoreFile(path, Some(bytes)) => {
                    let _ = std::fs::write(&path, bytes);
                }
                Undo::RestoreFile(path, None) => {
                    let _ = std::fs::remove_file(&path);
                }
                Undo::RemoveDir(dir) => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Undo::RestoreDir { original, backup } => {
                    let _ = std::fs::rename(&backup, &original);
                }
            }
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.committed {
            self.rollback();
        }
    }
}

/// Writes a temporary sibling file, then renames it over `path`.
pub fn write_atomically(path: &Path, display: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = path.with_file_name(format!(".{name}.cargo-repro.tmp"));
    let written = std::fs::write(&temp, bytes)
        .and_then(|()| match std::fs::metadata(path) {
            Ok(meta) => std::fs::set_permissions(&temp, meta.permissions()),
            Err(_) => Ok(()),
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        anyhow::bail!("cannot write {display}: {}", io_reason(&error));
    }
    Ok(())
}
