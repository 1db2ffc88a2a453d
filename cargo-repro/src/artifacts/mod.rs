//! Deterministic release artifacts: tarballs, Debian packages, checksums, provenance and its
//! DSSE envelope.
//!
//! Every writer here is a pure function from bytes in memory to bytes out: no wall-clock time,
//! no absolute path, no host lookup. The only time that reaches an artifact is
//! `SOURCE_DATE_EPOCH` ([`Normalisation::mtime`]); the order of everything is sorted.
//! Writing the results to disk is the caller's business (through a `Transaction`).

pub mod attestation;
pub mod base64;
pub mod bundle;
pub mod checksums;
pub mod deb;
pub mod dsse;
pub mod tarball;

/// One file that goes into an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactFile {
    /// Relative path inside the archive, `/`-separated, without the top directory.
    pub path_in_archive: String,
    pub bytes: Vec<u8>,
    /// The permission bits (`0o755`, `0o644`, `0o640`, …); setuid, setgid and sticky bits
    /// are refused by the writers.
    pub mode: u32,
}

impl ArtifactFile {
    /// A file archived as 0755 when `executable`, else 0644.
    pub fn new(
        path_in_archive: impl Into<String>,
        bytes: Vec<u8>,
        executable: bool,
    ) -> ArtifactFile {
        ArtifactFile {
            path_in_archive: path_in_archive.into(),
            bytes,
            mode: if executable { 0o755 } else { 0o644 },
        }
    }
}

/// What every archive entry is normalised to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Normalisation {
    /// `SOURCE_DATE_EPOCH`: the modification time of every entry, in seconds.
    pub mtime: u64,
}

/// Checks one value from metadata (package name, version, bin name, target triple) before a
/// path is built from it: not empty, no `/`, no `\`, not `.` or `..`, no `..` inside, no
/// control characters.
pub fn validate_name_segment(value: &str) -> anyhow::Result<()> {
    let problem = if value.is_empty() {
        Some("is empty")
    } else if value.contains('/') || value.contains('\\') {
        Some("contains a path separator")
    } else if value == "." || value.contains("..") {
        Some("contains `..` or is `.`")
    } else if value.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match problem {
        Some(problem) => anyhow::bail!(
            "{value:?} {problem}; artifact names come from package metadata (name, version, bin name, target), so fix it there"
        ),
        None => Ok(()),
    }
}

/// A licence document by its file name: `LICENSE*`, `LICENCE*` or `COPYING*`, any case.
pub fn is_licence_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING"]
        .iter()
        .any(|prefix| upper.starts_with(prefix))
}

/// Checks a relative `/`-separated path inside an archive, segment by segment.
pub fn validate_relative_path(path: &str) -> anyhow::Result<()> {
    if path.is_empty() {
        anyhow::bail!("an archive path is empty; give every artifact file a relative path");
    }
    for segment in path.split('/') {
        validate_name_segment(segment)
            .map_err(|e| anyhow::anyhow!("archive path {path:?}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A scratch directory per test, removed on drop; the normalisation the tests use.

    use std::path::{Path, PathBuf};

    use super::Normalisation;

    /// `SOURCE_DATE_EPOCH` 2023-11-14 22:13:20 UTC.
    pub(crate) const NORM: Normalisation = Normalisation {
        mtime: 1_700_000_000,
    };

    pub(crate) struct ScratchDir(PathBuf);

    impl ScratchDir {
        pub(crate) fn new(name: &str) -> ScratchDir {
            let dir = std::env::temp_dir().join(format!(
                "cargo-repro-artifacts-{}-{name}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            ScratchDir(dir)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs a real tool and returns its stdout; panics with its stderr on failure.
    pub(crate) fn run(program: &str, args: &[&str], dir: &Path) -> String {
        let output = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "cargo-repro",
            "0.1.0-rc.1+build.5",
            "x86_64-unknown-linux-gnu",
            "a_b",
        ] {
            assert!(validate_name_segment(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_names_that_could_escape_a_directory() {
        for name in [
            "", "a/b", "a\\b", "..", ".", "a..b", "x\ny", "tab\t", "nul\0",
        ] {
            let error = validate_name_segment(name).unwrap_err().to_string();
            assert!(error.contains(&format!("{name:?}")), "{error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn relative_paths_are_checked_per_segment() {
        assert!(validate_relative_path("doc/README.md").is_ok());
        for path in ["", "/etc/passwd", "a//b", "a/../b", "a/"] {
            assert!(validate_relative_path(path).is_err(), "{path}");
        }
    }
}
