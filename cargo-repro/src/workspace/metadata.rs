//! `cargo metadata --locked`, run once more with an installed toolchain when rustup cannot
//! provide the one the toolchain file pins (reading the graph needs cargo, not that compiler).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::source_file;

/// The toolchain rustup could not provide, and the installed one `cargo metadata` ran with
/// instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolchainFallback {
    /// The missing toolchain as rustup names it (`1.20.0-x86_64-unknown-linux-gnu`), when its
    /// message says.
    pub missing: Option<String>,
    /// The installed toolchain used instead (through `RUSTUP_TOOLCHAIN`): rustup's default when
    /// it has one, else the first it lists.
    pub used: String,
}

pub(super) enum MetadataError {
    CargoMissing(String),
    Stale(String),
    Failed(String),
}

/// What `cargo metadata` gave, and the toolchain it ran with when the pinned one was missing.
pub(super) struct Metadata {
    pub result: Result<MetadataJson, MetadataError>,
    pub toolchain_fallback: Option<ToolchainFallback>,
}

/// `cargo metadata`'s JSON, and why it is not that of `--all-features` when it is not.
pub(super) struct MetadataJson {
    pub json: String,
    /// cargo's first error line when `--all-features` failed and the graph holds only the
    /// default features' optional edges.
    pub default_features_only: Option<String>,
}

/// Runs `cargo metadata --locked`; when rustup fails for want of the pinned toolchain (not
/// installed, and not installable offline), runs it again with an installed one.
pub(super) fn run(root: &Path, offline: bool) -> Metadata {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (missing, message) = match cargo_metadata(&cargo, root, offline, None) {
        Err(Failure::ToolchainMissing { missing, message }) => (missing, message),
        other => {
            return Metadata {
                result: other.map_err(Failure::into_error),
                toolchain_fallback: None,
            };
        }
    };
    let Some(used) = installed_toolchain(&cargo, root, missing.as_deref()) else {
        return Metadata {
            result: Err(MetadataError::Failed(format!(
                "cargo metadata failed: {message} (and rustup lists no other toolchain)"
            ))),
            toolchain_fallback: None,
        };
    };
    Metadata {
        result: cargo_metadata(&cargo, root, offline, Some(&used)).map_err(Failure::into_error),
        toolchain_fallback: Some(ToolchainFallback { missing, used }),
    }
}

enum Failure {
    CargoMissing(String),
    Stale(String),
    Failed(String),
    /// rustup could not provide the toolchain in force (named when its message says which).
    ToolchainMissing {
        missing: Option<String>,
        message: String,
    },
}

impl Failure {
    fn into_error(self) -> MetadataError {
        match self {
            Failure::CargoMissing(reason) => MetadataError::CargoMissing(reason),
            Failure::Stale(message) => MetadataError::Stale(message),
            Failure::Failed(message) => MetadataError::Failed(message),
            Failure::ToolchainMissing { message, .. } => {
                MetadataError::Failed(format!("cargo metadata failed: {message}"))
            }
        }
    }
}

/// Runs `cargo metadata --locked` (never letting it rewrite the lockfile it is audited on), with
/// `RUSTUP_TOOLCHAIN` set when `toolchain` is given.
fn cargo_metadata(
    cargo: &OsString,
    root: &Path,
    offline: bool,
    toolchain: Option<&str>,
) -> Result<MetadataJson, Failure> {
    // With every feature when cargo has (or can get) all the optional packages; else the
    // default features' graph (offline, an optional dependency not in the cache).
    match cargo_metadata_with(cargo, root, offline, toolchain, true) {
        Err(Failure::Failed(reason)) => Ok(MetadataJson {
            json: cargo_metadata_with(cargo, root, offline, toolchain, false)?,
            default_features_only: Some(reason),
        }),
        other => other.map(|json| MetadataJson {
            json,
            default_features_only: None,
        }),
    }
}

fn cargo_metadata_with(
    cargo: &OsString,
    root: &Path,
    offline: bool,
    toolchain: Option<&str>,
    all_features: bool,
) -> Result<String, Failure> {
    let manifest = root.join("Cargo.toml");
    let mut args: Vec<OsString> = vec![
        "metadata".into(),
        "--format-version".into(),
        "1".into(),
        "--locked".into(),
    ];
    if all_features {
        // Every optional edge, so that the graph can resolve the features each release build
        // enables (guppy simulates cargo's resolver on it); without it, only the edges of the
        // default features are in the graph.
        args.push("--all-features".into());
    }
    if offline {
        args.push("--offline".into());
    }
    args.push("--manifest-path".into());
    args.push(manifest.into_os_string());
    let mut command = duct::cmd(cargo, &args)
        .dir(root)
        .env("CARGO_TERM_COLOR", "never")
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    if let Some(toolchain) = toolchain {
        command = command.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    let output = command
        .run()
        .map_err(|e| Failure::CargoMissing(source_file::io_reason(&e)))?;
    if output.status.success() {
        return String::from_utf8(output.stdout)
            .map_err(|_| Failure::Failed("cargo metadata printed invalid UTF-8".into()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first_error = first_error(&stderr);
    if is_rustup_toolchain_failure(&stderr) {
        // rustup's own text may name its download directory, which need not be under `~`.
        let missing = missing_toolchain(&stderr);
        let message = match &missing {
            Some(name) => {
                format!("toolchain '{name}' is not installed, and rustup did not install it")
            }
            None => first_error,
        };
        Err(Failure::ToolchainMissing { missing, message })
    } else if stderr.contains("--locked was passed") || stderr.contains("needs to be updated") {
        Err(Failure::Stale(first_error))
    } else {
        Err(Failure::Failed(format!(
            "cargo metadata failed: {first_error}"
        )))
    }
}

/// The first `error` line of cargo's (or rustup's) stderr, without the `error:` prefix.
fn first_error(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.trim_start().starts_with("error"))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("cargo metadata failed")
        .trim()
        .trim_start_matches("error:")
        .trim()
        .to_string()
}

/// True when rustup, not cargo, failed: the toolchain in force is not installed and could not be
/// installed (automatic installs off, or no network).
fn is_rustup_toolchain_failure(stderr: &str) -> bool {
    let not_installed = stderr.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("error:")
            && line.contains("toolchain '")
            && line.contains("is not installed")
    });
    not_installed
        || stderr.contains("specifies an uninstalled toolchain")
        || stderr.contains("info: syncing channel updates for")
        || stderr.contains("could not download file from")
}

/// The toolchain rustup's message names: `toolchain 'X' is not installed`, or
/// `syncing channel updates for X` (quoted by older rustups).
fn missing_toolchain(stderr: &str) -> Option<String> {
    for line in stderr.lines() {
        if let Some(at) = line.find("toolchain '")
            && line.contains("is not installed")
        {
            let rest = &line[at + "toolchain '".len()..];
            if let Some(end) = rest.find('\'') {
                return Some(rest[..end].to_string());
            }
        }
        if let Some((_, rest)) = line.split_once("syncing channel updates for ") {
            let name = rest.trim().trim_matches(|c| c == '\'' || c == '`');
            if !name.is_empty() {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// An installed toolchain other than `missing`, from `rustup toolchain list`.
fn installed_toolchain(cargo: &OsString, root: &Path, missing: Option<&str>) -> Option<String> {
    // rustup beside the cargo in use (`$CARGO` may be the proxy's full path), else on PATH (a
    // bare name: duct would take a `Path` as relative to the directory).
    let rustup: OsString = Path::new(cargo)
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join("rustup"))
        .filter(|p| p.is_file())
        .map_or_else(|| "rustup".into(), PathBuf::into_os_string);
    let output = duct::cmd(rustup, ["toolchain", "list"])
        .dir(root)
        .env_remove("RUSTUP_TOOLCHAIN")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    pick_installed(&String::from_utf8_lossy(&output.stdout), missing)
}

/// rustup's default toolchain from a `rustup toolchain list`, else the first one listed; never
/// `missing`.
fn pick_installed(list: &str, missing: Option<&str>) -> Option<String> {
    let toolchains: Vec<(&str, bool)> = list
        .lines()
        .filter(|line| !line.trim().is_empty() && line.trim() != "no installed toolchains")
        .filter_map(|line| {
            let (name, marks) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            Some((name, marks.contains("default"))).filter(|(n, _)| Some(*n) != missing)
        })
        .collect();
    toolchains
        .iter()
        .find(|(_, default)| *default)
        .or_else(|| toolchains.first())
        .map(|(name, _)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustup_failures_are_told_from_cargo_failures() {
        let not_installed = "error: toolchain '1.20.0-x86_64-unknown-linux-gnu' is not installed\n\
                             help: run `rustup toolchain install` to install it\n";
        assert!(is_rustup_toolchain_failure(not_installed));
        assert_eq!(
            missing_toolchain(not_installed).as_deref(),
            Some("1.20.0-x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            first_error(not_installed),
            "toolchain '1.20.0-x86_64-unknown-linux-gnu' is not installed"
        );

        let offline = "info: syncing channel updates for 1.20.0-x86_64-unknown-linux-gnu\n\
                       error: could not download file from 'http://127.0.0.1:9/dist/channel-rust-1.20.0.toml.sha256' to '/h/.rustup/tmp/x_file'\n";
        assert!(is_rustup_toolchain_failure(offline));
        assert_eq!(
            missing_toolchain(offline).as_deref(),
            Some("1.20.0-x86_64-unknown-linux-gnu")
        );
        let older = "info: syncing channel updates for '1.20.0-x86_64-unknown-linux-gnu'\n\
                     error: could not download file\n";
        assert_eq!(
            missing_toolchain(older).as_deref(),
            Some("1.20.0-x86_64-unknown-linux-gnu")
        );

        for cargo in [
            "error: cannot create the lock file $WORKSPACE/Cargo.lock because --locked was passed to prevent this\n",
            "error: failed to download from `https://static.crates.io/api/v1/crates/foo/1.0.0/download`\n",
            "error: no matching package named `foo` found\n",
        ] {
            assert!(!is_rustup_toolchain_failure(cargo), "{cargo}");
        }
    }

    #[test]
    fn the_default_toolchain_is_preferred() {
        let list = "stable-x86_64-unknown-linux-gnu (default)\n\
                    nightly-x86_64-unknown-linux-gnu\n\
                    1.95.0-x86_64-unknown-linux-gnu (active)\n";
        assert_eq!(
            pick_installed(list, Some("1.20.0-x86_64-unknown-linux-gnu")).as_deref(),
            Some("stable-x86_64-unknown-linux-gnu")
        );
        let newer =
            "nightly-x86_64-unknown-linux-gnu\n1.95.0-x86_64-unknown-linux-gnu (active, default)\n";
        assert_eq!(
            pick_installed(newer, None).as_deref(),
            Some("1.95.0-x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            pick_installed(
                "beta-x86_64-unknown-linux-gnu\nnightly-x86_64-unknown-linux-gnu\n",
                None
            )
            .as_deref(),
            Some("beta-x86_64-unknown-linux-gnu")
        );
        assert_eq!(pick_installed("no installed toolchains\n", None), None);
        assert_eq!(pick_installed("1.20.0 (default)\n", Some("1.20.0")), None);
    }
}
