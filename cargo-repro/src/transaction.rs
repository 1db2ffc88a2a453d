//! Changes to the workspace (or a release out dir) that happen completely or not at all, even
//! when the process is killed midway.
//!
//! A transaction keeps a write-ahead journal: before each change it records, in a journal
//! directory and synced to disk, what undoes it (the file's old bytes, or that it was absent;
//! a directory it creates; a directory it sets aside). Every write goes through a temporary file
//! renamed into place. Unless [`Transaction::commit`] is called, dropping the transaction undoes
//! the changes in reverse order. When the process dies instead (SIGKILL, power loss), the
//! journal stays, and the next command that finds it calls [`recover`], which undoes them (or,
//! when the commit mark was written, finishes the commit). Every path in a journal is relative
//! to its base and confined to it when read back, so a planted journal cannot reach outside.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::guard::paths;
use crate::patch::tree::Tree;
use crate::workspace::source_file::io_reason;

/// Where the journal of the workspace's own changes lives.
pub fn workspace_journal(root: &Path) -> PathBuf {
    root.join("target").join("cargo-repro").join("journal")
}

/// Where the journal of a release's writes lives: inside the out dir, removed when done.
pub fn out_dir_journal(out_dir: &Path) -> PathBuf {
    out_dir.join(".cargo-repro-journal")
}

const HEADER: &str = "cargo-repro journal 1";
const COMMITTED: &str = "committed";

/// One recorded change, with what undoes it (paths relative to the base).
#[derive(Debug, PartialEq)]
enum Undo {
    /// Put back the old content (kept in the journal as `backup`), or remove the file when
    /// there was none.
    RestoreFile {
        path: String,
        backup: Option<String>,
    },
    /// Remove a directory the transaction created (and its temporary sibling).
    RemoveDir(String),
    /// Remove a directory the transaction created to hold others, if it is empty again.
    RemoveEmptyDir(String),
    /// Create again an empty directory the transaction removed.
    RecreateDir(String),
    /// Move a directory back from where the transaction set it aside.
    RestoreDir { original: String, backup: String },
}

impl Undo {
    fn line(&self) -> String {
        match self {
            Undo::RestoreFile { path, backup } => {
                format!("file\t{path}\t{}", backup.as_deref().unwrap_or("-"))
            }
            Undo::RemoveDir(dir) => format!("created-dir\t{dir}"),
            Undo::RemoveEmptyDir(dir) => format!("created-parent\t{dir}"),
            Undo::RecreateDir(dir) => format!("removed-empty-dir\t{dir}"),
            Undo::RestoreDir { original, backup } => format!("set-aside\t{original}\t{backup}"),
        }
    }

    /// Parses a journal line; every path must be a plain relative path.
    fn parse(line: &str, shown: &str) -> anyhow::Result<Undo> {
        let fields: Vec<&str> = line.split('\t').collect();
        let rel = |value: &str| -> anyhow::Result<String> {
            paths::relative(value, "path", shown)?;
            Ok(value.to_string())
        };
        Ok(match fields.as_slice() {
            ["file", path, "-"] => Undo::RestoreFile {
                path: rel(path)?,
                backup: None,
            },
            ["file", path, backup] => {
                paths::segment(backup, "backup", shown)?;
                Undo::RestoreFile {
                    path: rel(path)?,
                    backup: Some(backup.to_string()),
                }
            }
            ["created-dir", dir] => Undo::RemoveDir(rel(dir)?),
            ["created-parent", dir] => Undo::RemoveEmptyDir(rel(dir)?),
            ["removed-empty-dir", dir] => Undo::RecreateDir(rel(dir)?),
            ["set-aside", original, backup] => Undo::RestoreDir {
                original: rel(original)?,
                backup: rel(backup)?,
            },
            _ => anyhow::bail!("{shown}: unknown journal line; remove the journal by hand"),
        })
    }
}

/// A set of changes under `base` that is undone unless committed.
pub struct Transaction {
    base: PathBuf,
    journal: PathBuf,
    undo: Vec<Undo>,
    committed: bool,
}

impl Transaction {
    /// Starts a transaction whose changes lie under `base`, journaled in `journal` (a directory
    /// this creates; an unfinished one must have been recovered first). `what` names the
    /// command in the journal, for the recovery message.
    pub fn begin(base: &Path, journal: &Path, what: &str) -> anyhow::Result<Transaction> {
        if paths_present(journal) {
            anyhow::bail!(
                "an unfinished change is still journaled in {}; run the command again to roll it back",
                journal_shown(journal)
            );
        }
        let cannot = |e: std::io::Error| {
            anyhow::anyhow!(
                "cannot create the journal {}: {}",
                journal_shown(journal),
                io_reason(&e)
            )
        };
        crate::guard::fault::point();
        std::fs::create_dir_all(journal).map_err(cannot)?;
        let mut log = std::fs::File::create(journal.join("log")).map_err(cannot)?;
        writeln!(log, "{HEADER}\t{}", what.replace(['\t', '\n'], " ")).map_err(cannot)?;
        log.sync_all().map_err(cannot)?;
        sync_dir(journal);
        if let Some(parent) = journal.parent() {
            sync_dir(parent);
        }
        Ok(Transaction {
            base: base.to_path_buf(),
            journal: journal.to_path_buf(),
            undo: Vec::new(),
            committed: false,
        })
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
        self.record_file(path, display)?;
        write_atomically(path, display, bytes)
    }

    /// Records a file's current content, for a file another program (cargo) is about to rewrite.
    pub fn keep_copy(&mut self, path: &Path, display: &str) -> anyhow::Result<()> {
        self.record_file(path, display)
    }

    /// Removes a file.
    pub fn remove_file(&mut self, path: &Path, display: &str) -> anyhow::Result<()> {
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(());
        }
        self.record_file(path, display)?;
        crate::guard::fault::point();
        std::fs::remove_file(path)
            .map_err(|e| anyhow::anyhow!("cannot remove {display}: {}", io_reason(&e)))
    }

    /// Creates a directory (one level) unless it exists; removed on rollback if empty again.
    pub fn create_dir(&mut self, dir: &Path, display: &str) -> anyhow::Result<()> {
        if paths_present(dir) {
            return Ok(());
        }
        let rel = self.relative(dir, display)?;
        self.record(Undo::RemoveEmptyDir(rel))?;
        crate::guard::fault::point();
        std::fs::create_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {display}: {}", io_reason(&e)))
    }

    /// Removes `dir` when it is an empty directory (what is left of `vendor/` once its last
    /// patch is gone); recreated on rollback.
    pub fn remove_dir_if_empty(&mut self, dir: &Path, display: &str) -> anyhow::Result<()> {
        let empty = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())
            && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
        if !empty {
            return Ok(());
        }
        let rel = self.relative(dir, display)?;
        self.record(Undo::RecreateDir(rel))?;
        crate::guard::fault::point();
        std::fs::remove_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot remove {display}: {}", io_reason(&e)))
    }

    /// Writes a tree into a new directory.
    pub fn create_tree(&mut self, dir: &Path, display: &str, tree: &Tree) -> anyhow::Result<()> {
        let rel = self.relative(dir, display)?;
        self.record(Undo::RemoveDir(rel))?;
        tree.write_new(dir, display)
    }

    /// Sets a directory aside, into the journal (so nothing is left beside it); it is deleted on
    /// commit and moved back on rollback.
    pub fn remove_tree(&mut self, dir: &Path, display: &str) -> anyhow::Result<()> {
        let backup = self.journal.join(format!("set-aside-{}", self.undo.len()));
        let original = self.relative(dir, display)?;
        let backup_rel = self.relative(&backup, display)?;
        self.record(Undo::RestoreDir {
            original,
            backup: backup_rel,
        })?;
        crate::guard::fault::point();
        std::fs::rename(dir, &backup)
            .map_err(|e| anyhow::anyhow!("cannot remove {display}: {}", io_reason(&e)))
    }

    /// Keeps every change: the commit mark is synced first, so a crash after it finishes the
    /// commit rather than undoing it.
    pub fn commit(mut self) {
        crate::guard::fault::point();
        let mark = std::fs::File::create(self.journal.join(COMMITTED)).and_then(|f| f.sync_all());
        if mark.is_err() {
            // Without the mark the changes cannot be kept safely: undo them.
            return;
        }
        sync_dir(&self.journal);
        self.committed = true;
        crate::guard::fault::point();
        finish_commit(&self.base, &self.undo);
        crate::guard::fault::point();
        let _ = std::fs::remove_dir_all(&self.journal);
    }

    fn record_file(&mut self, path: &Path, display: &str) -> anyhow::Result<()> {
        let rel = self.relative(path, display)?;
        let backup = match std::fs::symlink_metadata(path) {
            Ok(_) => {
                let bytes = crate::guard::read::read_bytes(path, crate::guard::read::LIMIT)
                    .map_err(|e| anyhow::anyhow!("cannot read {display}: it {}", e.reason()))?;
                let name = format!("backup-{}", self.undo.len());
                let file = self.journal.join(&name);
                crate::guard::fault::point();
                std::fs::write(&file, &bytes)
                    .and_then(|()| std::fs::File::open(&file)?.sync_all())
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot write the journal {}: {}",
                            journal_shown(&self.journal),
                            io_reason(&e)
                        )
                    })?;
                Some(name)
            }
            Err(_) => None,
        };
        self.record(Undo::RestoreFile { path: rel, backup })
    }

    /// Appends an undo step to the journal, synced, before the change it undoes is made.
    fn record(&mut self, undo: Undo) -> anyhow::Result<()> {
        let cannot = |e: std::io::Error| {
            anyhow::anyhow!(
                "cannot write the journal {}: {}",
                journal_shown(&self.journal),
                io_reason(&e)
            )
        };
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.journal.join("log"))
            .map_err(cannot)?;
        crate::guard::fault::point();
        writeln!(log, "{}", undo.line()).map_err(cannot)?;
        log.sync_all().map_err(cannot)?;
        sync_dir(&self.journal);
        self.undo.push(undo);
        Ok(())
    }

    fn relative(&self, path: &Path, display: &str) -> anyhow::Result<String> {
        path.strip_prefix(&self.base)
            .ok()
            .and_then(|p| p.to_str())
            .filter(|p| paths::relative(p, "path", display).is_ok())
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("{display}: lies outside what this change may touch"))
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.committed {
            roll_back(&self.base, &self.journal, &self.undo);
        }
    }
}

/// Undoes `undo` in reverse order under `base` (each step is idempotent, so a rollback cut
/// short is finished by the next), then removes the journal.
fn roll_back(base: &Path, journal: &Path, undo: &[Undo]) {
    for step in undo.iter().rev() {
        crate::guard::fault::point();
        match step {
            Undo::RestoreFile { path, backup } => {
                let target = base.join(path);
                match backup {
                    Some(backup) => {
                        if let Ok(bytes) = std::fs::read(journal.join(backup)) {
                            let _ = write_atomically(&target, path, &bytes);
                        }
                    }
                    None => {
                        let _ = std::fs::remove_file(&target);
                    }
                }
                let _ = std::fs::remove_file(temp_sibling(&target));
            }
            Undo::RemoveDir(dir) => {
                let target = base.join(dir);
                let _ = std::fs::remove_dir_all(&target);
                let _ = std::fs::remove_dir_all(temp_sibling(&target));
            }
            Undo::RemoveEmptyDir(dir) => {
                let _ = std::fs::remove_dir(base.join(dir));
            }
            Undo::RecreateDir(dir) => {
                let _ = std::fs::create_dir(base.join(dir));
            }
            Undo::RestoreDir { original, backup } => {
                let (original, backup) = (base.join(original), base.join(backup));
                if backup.exists() && !original.exists() {
                    let _ = std::fs::rename(&backup, &original);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(journal);
}

/// What a commit leaves to do: deleting the directories set aside.
fn finish_commit(base: &Path, undo: &[Undo]) {
    for step in undo {
        if let Undo::RestoreDir { backup, .. } = step {
            let _ = std::fs::remove_dir_all(base.join(backup));
        }
    }
}

/// Finishes what a killed command left in `journal` (changes under `base`): undoes it, or
/// completes it when it had committed. Returns the one-line report, `None` when there was no
/// journal. The caller holds the lock of `base`.
pub fn recover(base: &Path, journal: &Path) -> anyhow::Result<Option<String>> {
    if !paths_present(journal) {
        return Ok(None);
    }
    let shown = journal_shown(journal);
    let log = crate::guard::read::read_bytes(&journal.join("log"), crate::guard::read::LIMIT)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut lines = log.split_inclusive('\n');
    let what = match lines.next() {
        Some(first) if first.starts_with(HEADER) => first
            .trim_end()
            .split_once('\t')
            .map_or("a command", |(_, w)| w)
            .to_string(),
        // A journal cut before its header was synced recorded no change.
        _ => {
            let _ = std::fs::remove_dir_all(journal);
            return Ok(None);
        }
    };
    let mut undo = Vec::new();
    for line in lines {
        // A last line without its newline was being written: its change never started.
        let Some(line) = line.strip_suffix('\n') else {
            break;
        };
        undo.push(Undo::parse(line, &shown)?);
    }
    // Confined once more on disk: nothing outside `base` (symlinks resolved) is touched.
    for step in &undo {
        let rel = match step {
            Undo::RestoreFile { path, .. } => path,
            Undo::RemoveDir(dir) | Undo::RemoveEmptyDir(dir) | Undo::RecreateDir(dir) => dir,
            Undo::RestoreDir { original, .. } => original,
        };
        paths::confine(base, rel, "path", &shown)?;
    }
    if paths_present(&journal.join(COMMITTED)) {
        finish_commit(base, &undo);
        let _ = std::fs::remove_dir_all(journal);
        return Ok(Some(format!(
            "cargo-repro: finished an interrupted `{what}` that had committed"
        )));
    }
    let count = undo.len();
    roll_back(base, journal, &undo);
    Ok(Some(format!(
        "cargo-repro: rolled back an interrupted `{what}` ({count} change(s) undone)"
    )))
}

/// [`recover`] for the workspace's own journal, taking the workspace's lock unless the caller
/// already holds it (`locked`). Cheap when there is no journal.
pub fn recover_workspace(root: &Path, locked: bool) -> anyhow::Result<Option<String>> {
    let journal = workspace_journal(root);
    if !paths_present(&journal) {
        return Ok(None);
    }
    let _lock = match locked {
        true => None,
        false => Some(crate::guard::lock::lock_workspace(root)?),
    };
    recover(root, &journal)
}

fn paths_present(path: &Path) -> bool {
    crate::guard::read::present(path)
}

fn journal_shown(journal: &Path) -> String {
    let parts: Vec<_> = journal
        .components()
        .rev()
        .take(3)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// Syncs a directory, so that the entries created in it survive a power loss.
fn sync_dir(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

/// The temporary sibling [`write_atomically`] (and `Tree::write_new`) writes first.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".{name}.cargo-repro.tmp"))
}

/// Writes a temporary sibling file, synced, then renames it over `path`.
pub fn write_atomically(path: &Path, display: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let temp = temp_sibling(path);
    crate::guard::fault::point();
    let written = std::fs::write(&temp, bytes)
        .and_then(|()| match std::fs::metadata(path) {
            Ok(meta) => std::fs::set_permissions(&temp, meta.permissions()),
            Err(_) => Ok(()),
        })
        .and_then(|()| std::fs::File::open(&temp)?.sync_all())
        .and_then(|()| {
            crate::guard::fault::point();
            std::fs::rename(&temp, path)
        });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        anyhow::bail!("cannot write {display}: {}", io_reason(&error));
    }
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("repro-tx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_unfinished_journal_is_rolled_back_and_a_committed_one_finished() {
        let base = scratch("recover");
        std::fs::write(base.join("a"), "old a").unwrap();
        std::fs::create_dir_all(base.join("tree")).unwrap();
        let journal = base.join("journal");
        let mut tx = Transaction::begin(&base, &journal, "patch add x").unwrap();
        tx.write_file(&base.join("a"), "a", b"new a").unwrap();
        tx.write_file(&base.join("b"), "b", b"new b").unwrap();
        tx.remove_tree(&base.join("tree"), "tree").unwrap();
        // As if killed: the journal stays, nothing is undone in this process.
        std::mem::forget(tx);
        assert_eq!(std::fs::read_to_string(base.join("a")).unwrap(), "new a");
        let message = recover(&base, &journal).unwrap().unwrap();
        assert_eq!(
            message,
            "cargo-repro: rolled back an interrupted `patch add x` (3 change(s) undone)"
        );
        assert_eq!(std::fs::read_to_string(base.join("a")).unwrap(), "old a");
        assert!(!base.join("b").exists());
        assert!(base.join("tree").is_dir());
        assert!(!journal.exists());
        assert_eq!(recover(&base, &journal).unwrap(), None);

        let mut tx = Transaction::begin(&base, &journal, "patch remove x").unwrap();
        tx.remove_tree(&base.join("tree"), "tree").unwrap();
        std::fs::File::create(journal.join(COMMITTED)).unwrap();
        std::mem::forget(tx);
        let message = recover(&base, &journal).unwrap().unwrap();
        assert!(message.contains("finished an interrupted `patch remove x`"));
        assert!(!base.join("tree").exists());
        assert!(
            !journal.exists(),
            "the set-aside tree went with the journal"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_planted_journal_cannot_reach_outside_its_base() {
        let base = scratch("planted");
        let journal = base.join("journal");
        std::fs::create_dir_all(&journal).unwrap();
        std::fs::write(
            journal.join("log"),
            format!("{HEADER}\tx\nfile\t../victim\t-\n"),
        )
        .unwrap();
        std::fs::write(base.with_file_name("victim"), "keep").ok();
        assert!(recover(&base, &journal).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_half_written_last_line_is_a_change_that_never_started() {
        let base = scratch("torn");
        std::fs::write(base.join("a"), "a").unwrap();
        let journal = base.join("journal");
        std::fs::create_dir_all(&journal).unwrap();
        std::fs::write(journal.join("log"), format!("{HEADER}\tx\nfile\ta\t-")).unwrap();
        let message = recover(&base, &journal).unwrap().unwrap();
        assert!(message.contains("(0 change(s) undone)"), "{message}");
        assert_eq!(std::fs::read_to_string(base.join("a")).unwrap(), "a");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
