//! Advisory locks (`flock`, through `File::try_lock`) that keep two writers apart: one per workspace, around every
//! command that changes it, and one per release out dir. A second run waits a while for the
//! first, then says which process holds the lock.

use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a run waits for another to finish before giving up.
pub const WAIT: Duration = Duration::from_secs(30);

/// A held lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// The lock file of a workspace: in `target/cargo-repro/`, which cargo's own ignore rules
/// already keep out of commits.
pub fn workspace_lock_path(root: &Path) -> PathBuf {
    root.join("target").join("cargo-repro").join("lock")
}

/// The lock file of a release out dir: next to the workspace's lock, named by a hash of the
/// out dir's absolute path, so the out dir itself holds only artifacts.
pub fn out_dir_lock_path(root: &Path, out_dir: &Path) -> PathBuf {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(out_dir.as_os_str().as_encoded_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    root.join("target")
        .join("cargo-repro")
        .join(format!("out-{hex}.lock"))
}

/// Takes the lock of the workspace at `root`, for a command that changes it.
pub fn lock_workspace(root: &Path) -> anyhow::Result<Lock> {
    acquire(&workspace_lock_path(root), "target/cargo-repro/lock", WAIT)
}

/// Takes the lock of a release out dir of the workspace at `root` (`shown` names the out dir).
pub fn lock_out_dir(root: &Path, out_dir: &Path, shown: &str) -> anyhow::Result<Lock> {
    acquire(
        &out_dir_lock_path(root, out_dir),
        &format!("the lock of {shown} in target/cargo-repro/"),
        WAIT,
    )
}

/// Takes the lock at `path` (`shown` names it in messages), waiting up to `wait` for another
/// holder.
pub fn acquire(path: &Path, shown: &str, wait: Duration) -> anyhow::Result<Lock> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the directory of {shown}: {}",
                super::read::io_reason(&e)
            )
        })?;
    }
    // Never through a symlink, never truncating what another holder wrote.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {shown}: {}", super::read::io_reason(&e)))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(error)) => {
                anyhow::bail!("cannot lock {shown}: {}", super::read::io_reason(&error));
            }
        }
        if start.elapsed() >= wait {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.chars().all(|c| c.is_ascii_digit()) && !holder.is_empty() {
                format!("another cargo-repro (process {holder})")
            } else {
                "another cargo-repro".to_string()
            };
            anyhow::bail!(
                "{who} is changing this (it holds {shown}); wait for it to finish, or stop it, and run the command again"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // The holder's process id, for the message a waiting run gives.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_names_the_first() {
        let dir = std::env::temp_dir().join(format!("repro-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = workspace_lock_path(&dir);
        let first = acquire(&path, "target/cargo-repro/lock", WAIT).unwrap();
        // flock locks belong to the open file: a second open in this process conflicts too.
        let err =
            acquire(&path, "target/cargo-repro/lock", Duration::from_millis(120)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "another cargo-repro (process {}) is changing this (it holds target/cargo-repro/lock); wait for it to finish, or stop it, and run the command again",
                std::process::id()
            )
        );
        drop(first);
        assert!(acquire(&path, "target/cargo-repro/lock", Duration::ZERO).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_at_the_lock_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("repro-lock-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("victim"), "keep").unwrap();
        std::os::unix::fs::symlink(dir.join("victim"), dir.join("lock")).unwrap();
        assert!(acquire(&dir.join("lock"), "lock", Duration::ZERO).is_err());
        assert_eq!(std::fs::read_to_string(dir.join("victim")).unwrap(), "keep");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
