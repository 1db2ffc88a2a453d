//! Bounded, typed reads: a file is opened without blocking (a FIFO does not hang the tool), must
//! be a regular file once symlinks are followed (not a FIFO, device, socket or directory), and is
//! read up to a size limit (a symlink to `/dev/zero` or a huge file does not exhaust memory).

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// The largest file read by default: far above any real manifest, lockfile or workflow.
pub const LIMIT: u64 = 64 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing is at the path (not even a dangling symlink).
    Absent,
    /// Something is there but cannot be read as a regular file; the text says why.
    Refused(String),
}

impl ReadError {
    /// The reason as a clause ("is a FIFO, not a regular file").
    pub fn reason(&self) -> &str {
        match self {
            ReadError::Absent => "does not exist",
            ReadError::Refused(reason) => reason,
        }
    }
}

/// True when something is at `path`, a dangling or looping symlink included: such a path is
/// present but unreadable, never silently absent.
pub fn present(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Reads a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path, limit)?;
    let mut bytes = Vec::new();
    // The size can change after the check (or be reported as 0, as in /proc): read one byte
    // past the limit to tell.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Refused(format!("cannot be read: {}", io_reason(&e))))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// Checks that `path` is a regular file of at most `limit` bytes, without reading it: for
/// files a child process (cargo, rustc) will read, so that it cannot hang on them.
pub fn check_regular(path: &Path, limit: u64) -> Result<(), ReadError> {
    open_regular(path, limit).map(drop)
}

fn open_regular(path: &Path, limit: u64) -> Result<std::fs::File, ReadError> {
    if !present(path) {
        return Err(ReadError::Absent);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| ReadError::Refused(format!("cannot be opened: {}", io_reason(&e))))?;
    let meta = file
        .metadata()
        .map_err(|e| ReadError::Refused(format!("cannot be read: {}", io_reason(&e))))?;
    if !meta.is_file() {
        return Err(ReadError::Refused(format!(
            "is {}, not a regular file",
            kind_of(&meta.file_type())
        )));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    Ok(file)
}

fn too_large(limit: u64) -> ReadError {
    ReadError::Refused(format!("is larger than {} MiB", limit >> 20))
}

fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// An I/O error as a short reason without the path (the caller names the file).
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            "it does not exist (or a symlink on the way is dangling)".into()
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if error.raw_os_error() == Some(libc::ELOOP) => "a symlink loop".into(),
        _ => {
            let text = error.to_string();
            // std appends " (os error N)".
            match text.find(" (os error") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("repro-guard-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = scratch("special");
        let fifo = dir.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_bytes(&fifo, LIMIT).unwrap_err();
        assert_eq!(err.reason(), "is a FIFO, not a regular file");
        std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
        let err = read_bytes(&dir.join("zero"), LIMIT).unwrap_err();
        assert_eq!(err.reason(), "is a character device, not a regular file");
        assert_eq!(
            read_bytes(&dir, LIMIT).unwrap_err().reason(),
            "is a directory, not a regular file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dangling_and_looping_symlinks_are_present_but_refused() {
        let dir = scratch("links");
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("dangling")).unwrap();
        std::os::unix::fs::symlink(dir.join("b"), dir.join("a")).unwrap();
        std::os::unix::fs::symlink(dir.join("a"), dir.join("b")).unwrap();
        assert!(present(&dir.join("dangling")));
        assert!(!present(&dir.join("absent")));
        assert!(matches!(
            read_bytes(&dir.join("absent"), LIMIT),
            Err(ReadError::Absent)
        ));
        let dangling = read_bytes(&dir.join("dangling"), LIMIT).unwrap_err();
        assert!(
            dangling.reason().contains("dangling"),
            "{}",
            dangling.reason()
        );
        let looping = read_bytes(&dir.join("a"), LIMIT).unwrap_err();
        assert!(
            looping.reason().contains("symlink loop"),
            "{}",
            looping.reason()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_over_the_limit_are_refused_and_others_read() {
        let dir = scratch("limit");
        std::fs::write(dir.join("big"), vec![b'x'; 3 << 20]).unwrap();
        let err = read_bytes(&dir.join("big"), 2 << 20).unwrap_err();
        assert_eq!(err.reason(), "is larger than 2 MiB");
        assert_eq!(read_bytes(&dir.join("big"), LIMIT).unwrap().len(), 3 << 20);
        assert!(check_regular(&dir.join("big"), LIMIT).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
