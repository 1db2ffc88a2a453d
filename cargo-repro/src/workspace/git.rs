//! What git says about the files the audit cares about (tracked, ignored, dirty).

use std::path::Path;

/// Whether a file is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitStatus {
    /// The workspace is not in a git repository (or git is not installed).
    NoRepository,
    /// Tracked by git.
    Tracked,
    /// Not tracked, and not ignored.
    Untracked,
    /// Ignored by a pattern: `(file, line, pattern)` as `git check-ignore -v` reports it.
    Ignored {
        source: String,
        line: usize,
        pattern: String,
    },
}

/// Asks git whether `name` (relative to `root`) is tracked or ignored.
pub fn file_status(root: &Path, name: &str) -> GitStatus {
    let ls = duct::cmd!("git", "ls-files", "--error-unmatch", "--", name)
        .dir(root)
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run();
    let Ok(ls) = ls else {
        return GitStatus::NoRepository;
    };
    match ls.status.code() {
        Some(0) => return GitStatus::Tracked,
        Some(1) => {}
        _ => return GitStatus::NoRepository,
    }
    let ignore = duct::cmd!("git", "check-ignore", "-v", "--no-index", "--", name)
        .dir(root)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run();
    match ignore {
        Ok(out) if out.status.success() => {
            // Format: "<source>:<line>:<pattern>\t<path>"
            let text = String::from_utf8_lossy(&out.stdout);
            let head = text.split('\t').next().unwrap_or_default();
            let mut parts = head.splitn(3, ':');
            let source = parts.next().unwrap_or_default().to_string();
            let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
            let pattern = parts.next().unwrap_or_default().to_string();
            GitStatus::Ignored {
                source,
                line,
                pattern,
            }
        }
        _ => GitStatus::Untracked,
    }
}

/// True when the work tree at `root` has uncommitted changes (false outside a repository).
pub fn is_dirty(root: &Path) -> anyhow::Result<bool> {
    let out = duct::cmd!("git", "status", "--porcelain", "--untracked-files=no")
        .dir(root)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run();
    match out {
        Ok(out) if out.status.success() => Ok(!out.stdout.is_empty()),
        _ => Ok(false),
    }
}
