//! A directory tree held in memory: sorted files, a deterministic hash, atomic writing.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::workspace::source_file::io_reason;

/// Files that cargo or vendoring tools add and that never count as part of a patch.
pub const IGNORED_FILES: &[&str] = &[".cargo-ok", ".cargo_vcs_info.json", ".cargo-checksum.json"];

/// One file of a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeFile {
    pub bytes: Vec<u8>,
    pub executable: bool,
}

/// Files by relative path (forward slashes), sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    pub files: BTreeMap<String, TreeFile>,
}

impl Tree {
    /// A tree of text files (for tests and examples).
    pub fn from_texts(files: &[(&str, &str)]) -> Tree {
        let files = files
            .iter()
            .map(|(path, text)| {
                (
                    path.to_string(),
                    TreeFile {
                        bytes: text.as_bytes().to_vec(),
                        executable: false,
                    },
                )
            })
            .collect();
        Tree { files }
    }

    /// Reads every file under `dir` (symlinks are refused, ignored files skipped).
    pub fn read(dir: &Path, display: &str) -> anyhow::Result<Tree> {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
            anyhow::bail!(
                "{display} is a symbolic link; a vendored tree must be a directory in the workspace"
            );
        }
        let mut tree = Tree::default();
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((current, prefix)) = stack.pop() {
            let entries = crate::workspace::read_dir_sorted(&current).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read directory {display}/{prefix}: {}",
                    io_reason(&e)
                )
            })?;
            for entry in entries {
                let name = entry.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                    anyhow::anyhow!("{display}/{prefix}: a file name is not UTF-8; rename it")
                })?;
                let relative = format!("{prefix}{name}");
                if !crate::guard::paths::printable(name) {
                    anyhow::bail!(
                        "{display}/{}: a file name holds a control character (a newline would forge lines of the .patch file); rename it",
                        crate::guard::paths::shown(&relative)
                    );
                }
                let meta = std::fs::symlink_metadata(&entry).map_err(|e| {
                    anyhow::anyhow!("cannot read {display}/{relative}: {}", io_reason(&e))
                })?;
                if meta.file_type().is_symlink() {
                    anyhow::bail!(
                        "{display}/{relative} is a symbolic link; vendored trees must hold plain files"
                    );
                }
                if meta.is_dir() {
                    stack.push((entry, format!("{relative}/")));
                } else if !IGNORED_FILES.contains(&relative.as_str()) {
                    let bytes = crate::guard::read::read_bytes(&entry, crate::guard::read::LIMIT)
                        .map_err(|e| {
                        anyhow::anyhow!("cannot read {display}/{relative}: it {}", e.reason())
                    })?;
                    tree.files.insert(
                        relative,
                        TreeFile {
                            bytes,
                            executable: is_executable(&meta),
                        },
                    );
                }
            }
        }
        Ok(tree)
    }

    /// `sha256:` over every (path, executable bit, length, content), in path order.
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (path, file) in &self.files {
            hasher.update(path.as_bytes());
            hasher.update([0, u8::from(file.executable)]);
            hasher.update((file.bytes.len() as u64).to_le_bytes());
            hasher.update(&file.bytes);
        }
        hex(&hasher.finalize())
    }

    /// Writes the tree into a new directory `dir` (which must not exist), through a temporary
    /// sibling directory renamed into place, so a failure leaves nothing behind.
    pub fn write_new(&self, dir: &Path, display: &str) -> anyhow::Result<()> {
        if dir.exists() {
            anyhow::bail!(
                "{display} already exists; move it away or use `cargo repro patch adopt`"
            );
        }
        let parent = dir
            .parent()
            .expect("a vendored tree has a parent directory");
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("tree");
        let temp = parent.join(format!(".{name}.cargo-repro.tmp"));
        let _ = std::fs::remove_dir_all(&temp);
        let result = self.write_into(&temp).and_then(|()| {
            crate::guard::fault::point();
            std::fs::rename(&temp, dir)
        });
        if let Err(error) = result {
            let _ = std::fs::remove_dir_all(&temp);
            anyhow::bail!("cannot write {display}: {}", io_reason(&error));
        }
        Ok(())
    }

    fn write_into(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (path, file) in &self.files {
            crate::guard::fault::point();
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, &file.bytes)?;
            set_executable(&target, file.executable)?;
        }
        Ok(())
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_executable(_: &Path, _: bool) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    #[test]
    fn hash_depends_on_paths_and_contents_only() {
        let a = tree(&[("a", "1"), ("b", "2")]);
        assert_eq!(a.hash(), tree(&[("b", "2"), ("a", "1")]).hash());
        assert_ne!(a.hash(), tree(&[("a", "12"), ("b", "")]).hash());
        assert_ne!(a.hash(), tree(&[("a", "1"), ("c", "2")]).hash());
        assert_eq!(a.hash().len(), 64);
    }
}
