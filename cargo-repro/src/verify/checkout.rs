//! A fresh copy of the checkout for one run: every file but the target directory, created in
//! the order and with the permissions the run's variations ask for.
//!
//! The git repository is not copied: the copy gets a `.git` file pointing at the original's
//! git directory (as submodules and worktrees do), so `git rev-parse HEAD` answers the same
//! and a large history costs nothing. Runs set `GIT_OPTIONAL_LOCKS=0`, so git never writes
//! to the original index.

use std::path::{Path, PathBuf};

use crate::workspace::source_file::io_reason;

/// Names never copied from the workspace root: build output, and git's directory.
const SKIPPED_AT_ROOT: &[&str] = &["target", ".git"];

/// Copies `root` to `to` (which must not exist), for a run with this umask and file order.
pub fn copy_checkout(
    root: &Path,
    to: &Path,
    umask: u32,
    reverse_file_order: bool,
) -> anyhow::Result<()> {
    if to.exists() {
        anyhow::bail!("{} already exists; remove it and run again", to.display());
    }
    copy_dir(root, to, umask, reverse_file_order, true)?;
    link_git_dir(root, to)
}

/// Copies a finished run's target directory into a new checkout, so that its build reuses
/// every unit cargo considers fresh (`--bisect` rebuilds only the culprits and what depends on
/// them). Copied after the sources, the outputs are newer than them, as cargo expects.
pub fn seed_target_dir(from: &Path, to: &Path, umask: u32) -> anyhow::Result<()> {
    copy_dir(from, to, umask, false, false)
}

fn copy_dir(
    from: &Path,
    to: &Path,
    umask: u32,
    reverse: bool,
    at_root: bool,
) -> anyhow::Result<()> {
    create_dir(to, umask)?;
    let mut entries = crate::workspace::read_dir_sorted(from)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {}", from.display(), io_reason(&e)))?;
    if reverse {
        entries.reverse();
    }
    for path in entries {
        let Some(name) = path.file_name() else {
            continue;
        };
        if at_root && SKIPPED_AT_ROOT.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(name);
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), io_reason(&e)))?;
        if meta.file_type().is_symlink() {
            copy_symlink(&path, &target)?;
        } else if meta.is_dir() {
            copy_dir(&path, &target, umask, reverse, false)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| {
                anyhow::anyhow!("cannot copy {}: {}", path.display(), io_reason(&e))
            })?;
            set_mode(&target, file_mode(&meta) & !umask)?;
        }
    }
    Ok(())
}

fn create_dir(dir: &Path, umask: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {}", dir.display(), io_reason(&e)))?;
    set_mode(dir, 0o777 & !umask)
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn file_mode(_meta: &std::fs::Metadata) -> u32 {
    0o644
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        anyhow::anyhow!(
            "cannot set the mode of {}: {}",
            path.display(),
            io_reason(&e)
        )
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn copy_symlink(from: &Path, to: &Path) -> anyhow::Result<()> {
    let target = std::fs::read_link(from)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", from.display(), io_reason(&e)))?;
    std::os::unix::fs::symlink(&target, to)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {}", to.display(), io_reason(&e)))
}

#[cfg(not(unix))]
fn copy_symlink(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("cannot copy {}: {}", from.display(), io_reason(&e)))
}

/// Points the copy at the original's git directory, when the root has one.
fn link_git_dir(root: &Path, to: &Path) -> anyhow::Result<()> {
    let Some(git_dir) = git_dir(root)? else {
        return Ok(());
    };
    let file = to.join(".git");
    std::fs::write(&file, format!("gitdir: {}\n", git_dir.display()))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", file.display(), io_reason(&e)))
}

/// The root's git directory: `.git` itself, or where a `.git` file points (made absolute).
fn git_dir(root: &Path) -> anyhow::Result<Option<PathBuf>> {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return Ok(Some(dot_git));
    }
    if !dot_git.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&dot_git)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", dot_git.display(), io_reason(&e)))?;
    let pointed = text
        .trim()
        .strip_prefix("gitdir:")
        .map(str::trim)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} is neither a git directory nor a `gitdir:` file",
                dot_git.display()
            )
        })?;
    Ok(Some(root.join(pointed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cargo-repro-checkout-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn copies_all_but_the_target_dir_with_the_umask_applied() {
        let dir = scratch("umask");
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/release")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]").unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::write(root.join("target/release/app"), "x").unwrap();
        set_mode(&root.join("src/main.rs"), 0o755).unwrap();

        let copy = dir.join("copy");
        copy_checkout(&root, &copy, 0o077, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(copy.join("src/main.rs")).unwrap(),
            "fn main() {}"
        );
        assert!(!copy.join("target").exists());
        let git = std::fs::read_to_string(copy.join(".git")).unwrap();
        assert_eq!(git, format!("gitdir: {}\n", root.join(".git").display()));
        #[cfg(unix)]
        {
            let mode = |p: &Path| file_mode(&std::fs::metadata(p).unwrap());
            assert_eq!(mode(&copy.join("src/main.rs")), 0o700);
            assert_eq!(mode(&copy.join("Cargo.toml")), 0o600);
            assert_eq!(mode(&copy.join("src")), 0o700);
        }
        assert!(copy_checkout(&root, &copy, 0o022, false).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
