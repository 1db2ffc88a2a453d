//! The compilation units of one run, read from cargo's JSON messages, with the sha256 of every
//! file each produced: libraries (rlib, rmeta, proc-macro `.so`), executables, build-script
//! executables, and the files a build script wrote into its `OUT_DIR`.
//!
//! Units of two runs are paired by [`UnitKey`], which holds nothing that depends on where the
//! run happened: no absolute path, no metadata hash. Files are labelled the same way (the
//! `-HASH` suffix cargo adds to file names is dropped).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cargo_metadata::{Message, TargetKind};
use serde::Serialize;

use crate::patch::tree::sha256_hex;
use crate::workspace::source_file::io_reason;

/// What a unit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// Compiling the build script.
    BuildScript,
    /// Running the build script (its `OUT_DIR` and its output to cargo).
    BuildScriptRun,
    /// A library, including a proc-macro library.
    Lib,
    /// A binary.
    Bin,
    /// Anything else cargo compiled (examples, tests): compared, never a culprit of a release.
    Other,
}

impl UnitKind {
    /// Position within one package: a unit's inputs come before it.
    fn stage(self) -> u8 {
        match self {
            UnitKind::BuildScript => 0,
            UnitKind::BuildScriptRun => 1,
            UnitKind::Lib => 2,
            UnitKind::Bin | UnitKind::Other => 3,
        }
    }

    /// How the unit is named in reports.
    pub fn describe(self) -> &'static str {
        match self {
            UnitKind::BuildScript => "build script",
            UnitKind::BuildScriptRun => "build script output",
            UnitKind::Lib => "lib",
            UnitKind::Bin => "bin",
            UnitKind::Other => "other target",
        }
    }
}

/// Identifies a unit across runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct UnitKey {
    pub package: String,
    pub version: String,
    pub kind: UnitKind,
    /// The target's name (the package name for build-script runs).
    pub target: String,
    /// The directory under the target dir, e.g. `release` or `x86_64-unknown-linux-musl/release`.
    pub profile_dir: String,
}

impl UnitKey {
    /// Whether `self` is built before `other` within the same package.
    pub fn precedes_in_package(&self, other: &UnitKey) -> bool {
        self.package == other.package
            && self.version == other.version
            && self.kind.stage() < other.kind.stage()
    }
}

/// One file a unit produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFile {
    pub path: PathBuf,
    pub sha256: String,
}

/// The files of one unit, by label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unit {
    pub files: BTreeMap<String, UnitFile>,
}

/// The paths of a run that may appear in a build script's text output and mean nothing:
/// replaced by placeholders before hashing text files of `OUT_DIR`.
#[derive(Clone, Debug)]
pub struct RunPrefixes {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub cargo_home: PathBuf,
}

impl RunPrefixes {
    fn normalise(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (path, placeholder) in [
            (&self.target_dir, "$TARGET"),
            (&self.root, "$WORKSPACE"),
            (&self.cargo_home, "$CARGO_HOME"),
        ] {
            let shown = path.display().to_string();
            if !shown.is_empty() {
                text = text.replace(&shown, placeholder);
            }
        }
        text
    }
}

/// Reads the units from cargo's messages and hashes their files.
pub fn read_units(
    messages: &[u8],
    prefixes: &RunPrefixes,
) -> anyhow::Result<BTreeMap<UnitKey, Unit>> {
    let target_dir = &prefixes.target_dir;
    let mut units: BTreeMap<UnitKey, Unit> = BTreeMap::new();
    for message in Message::parse_stream(messages).filter_map(Result::ok) {
        match message {
            Message::CompilerArtifact(artifact) => {
                let Some((package, version)) = package_of(&artifact.package_id.repr) else {
                    continue;
                };
                let Some(first) = artifact.filenames.first() else {
                    continue;
                };
                let kind = if artifact.target.is_kind(TargetKind::CustomBuild) {
                    UnitKind::BuildScript
                } else if artifact.target.is_kind(TargetKind::Bin) {
                    UnitKind::Bin
                } else if artifact.target.is_lib() || artifact.target.is_kind(TargetKind::ProcMacro)
                {
                    UnitKind::Lib
                } else {
                    UnitKind::Other
                };
                let key = UnitKey {
                    package,
                    version,
                    kind,
                    target: artifact.target.name.clone(),
                    profile_dir: profile_dir(first.as_std_path(), target_dir),
                };
                let unit = units.entry(key).or_default();
                for file in &artifact.filenames {
                    let path = file.as_std_path();
                    unit.files.insert(label(path), hash_file(path, None)?);
                }
            }
            Message::BuildScriptExecuted(script) => {
                let Some((package, version)) = package_of(&script.package_id.repr) else {
                    continue;
                };
                let out_dir = script.out_dir.as_std_path();
                let key = UnitKey {
                    target: package.clone(),
                    package,
                    version,
                    kind: UnitKind::BuildScriptRun,
                    profile_dir: profile_dir(out_dir, target_dir),
                };
                let unit = units.entry(key).or_default();
                for path in files_under(out_dir)? {
                    let relative = path.strip_prefix(out_dir).unwrap_or(&path);
                    let label = format!("OUT_DIR/{}", relative.to_string_lossy());
                    unit.files.insert(label, hash_file(&path, Some(prefixes))?);
                }
                if let Some(output) = out_dir.parent().map(|p| p.join("output"))
                    && output.is_file()
                {
                    unit.files
                        .insert("output".to_string(), hash_file(&output, Some(prefixes))?);
                }
            }
            _ => {}
        }
    }
    Ok(units)
}

/// `(name, version)` from a package id: `registry+…#name@1.0.0`, `path+file:///x/name#1.0.0`
/// (the name is the last path segment when it is left out).
pub fn package_of(id: &str) -> Option<(String, String)> {
    let (url, fragment) = id.rsplit_once('#')?;
    if let Some((name, version)) = fragment.split_once('@') {
        return Some((name.to_string(), version.to_string()));
    }
    let name = url.trim_end_matches('/').rsplit('/').next()?;
    let name = name.split('?').next().unwrap_or(name);
    Some((name.to_string(), fragment.to_string()))
}

/// The directories between the target dir and `deps`/`build`/the file: `release`,
/// `x86_64-unknown-linux-musl/release`.
fn profile_dir(path: &Path, target_dir: &Path) -> String {
    let relative = path.strip_prefix(target_dir).unwrap_or(path);
    let components: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let end = components
        .iter()
        .position(|c| c == "deps" || c == "build")
        .unwrap_or(components.len().saturating_sub(1));
    components[..end].join("/")
}

/// A file's name without cargo's `-HASH` metadata suffix: `libfoo-0123456789abcdef.rlib` is
/// `libfoo.rlib`.
pub fn label(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, extension) = match name.split_once('.') {
        Some((stem, extension)) => (stem.to_string(), format!(".{extension}")),
        None => (name.clone(), String::new()),
    };
    match stem.rsplit_once('-') {
        Some((base, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{base}{extension}")
        }
        _ => name,
    }
}

/// Every file under `dir`, sorted (none when it does not exist).
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let entries = crate::workspace::read_dir_sorted(dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {}", dir.display(), io_reason(&e)))?;
    for path in entries {
        if path.is_dir() {
            out.extend(files_under(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

/// The file's sha256; with `prefixes`, a text file is hashed with the run's paths replaced.
fn hash_file(path: &Path, prefixes: Option<&RunPrefixes>) -> anyhow::Result<UnitFile> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), io_reason(&e)))?;
    let sha256 = match (prefixes, std::str::from_utf8(&bytes)) {
        (Some(prefixes), Ok(text)) => sha256_hex(prefixes.normalise(text).as_bytes()),
        _ => sha256_hex(&bytes),
    };
    Ok(UnitFile {
        path: path.to_path_buf(),
        sha256,
    })
}

/// Reads a text file of a build-script run with the run's paths replaced (for explanations).
pub fn normalised_bytes(path: &Path, prefixes: &RunPrefixes) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), io_reason(&e)))?;
    Ok(match std::str::from_utf8(&bytes) {
        Ok(text) => prefixes.normalise(text).into_bytes(),
        Err(_) => bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_of_every_source() {
        assert_eq!(
            package_of("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.219"),
            Some(("serde".into(), "1.0.219".into()))
        );
        assert_eq!(
            package_of("path+file:///w/checkout/app#0.1.0"),
            Some(("app".into(), "0.1.0".into()))
        );
        assert_eq!(
            package_of("path+file:///w/checkout/crates/x#macros@0.2.0"),
            Some(("macros".into(), "0.2.0".into()))
        );
        assert_eq!(package_of("no fragment"), None);
    }

    #[test]
    fn labels_drop_the_metadata_hash_only() {
        assert_eq!(
            label(Path::new("/t/libfoo-0123456789abcdef.rlib")),
            "libfoo.rlib"
        );
        assert_eq!(label(Path::new("/t/libm-0123456789abcdef.so")), "libm.so");
        assert_eq!(
            label(Path::new("/t/build-script-build")),
            "build-script-build"
        );
        assert_eq!(label(Path::new("/t/my-app")), "my-app");
        assert_eq!(
            label(Path::new("/t/app-0123456789abcdeg")),
            "app-0123456789abcdeg"
        );
    }

    #[test]
    fn profile_dirs_hold_no_hash_and_no_absolute_path() {
        let t = Path::new("/w/target");
        assert_eq!(
            profile_dir(Path::new("/w/target/release/deps/liba-1.rlib"), t),
            "release"
        );
        assert_eq!(
            profile_dir(Path::new("/w/target/release/app"), t),
            "release"
        );
        assert_eq!(
            profile_dir(
                Path::new("/w/target/x86_64-unknown-linux-musl/release/build/a-1/out"),
                t
            ),
            "x86_64-unknown-linux-musl/release"
        );
    }

    #[test]
    fn units_of_one_package_are_ordered_by_stage() {
        let key = |kind| UnitKey {
            package: "a".into(),
            version: "1.0.0".into(),
            kind,
            target: "a".into(),
            profile_dir: "release".into(),
        };
        assert!(key(UnitKind::BuildScriptRun).precedes_in_package(&key(UnitKind::Lib)));
        assert!(key(UnitKind::Lib).precedes_in_package(&key(UnitKind::Bin)));
        assert!(!key(UnitKind::Bin).precedes_in_package(&key(UnitKind::Lib)));
    }
}
