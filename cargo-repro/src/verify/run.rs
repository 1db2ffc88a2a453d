//! One run of `cargo repro verify`: copy the checkout as the run's [`RunSetup`] says, run
//! `cargo repro build` there as a child process with the run's environment, and record the
//! units, binaries and release artifacts it produced.
//!
//! The child is this very executable, so each run is exactly the export build of
//! `cargo repro build`, and the varied `CARGO_HOME`, `HOME` and locale reach every part of it
//! (the workspace loader, cargo, rustc and build scripts) the way they would on another machine.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::checkout::{copy_checkout, seed_target_dir};
use super::units::{RunPrefixes, Unit, UnitKey, UnitKind, read_units};
use super::variation::RunSetup;
use crate::patch::tree::sha256_hex;
use crate::workspace::source_file::io_reason;

/// What every run builds, and how.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The workspace root to copy.
    pub root: PathBuf,
    /// The manifest to build, relative to the root.
    pub manifest: PathBuf,
    /// `cargo repro build` options shared by all runs (`-p`, `--bin`, `--target`, …).
    pub build_args: Vec<String>,
    /// `SOURCE_DATE_EPOCH`, decided once so every run uses the same.
    pub source_date_epoch: u64,
    pub release_artifacts: bool,
    /// The caller's `CARGO_HOME` (what a varied run reaches through a symlink).
    pub cargo_home: PathBuf,
    /// Where rustup keeps toolchains, set explicitly so that a varied `HOME` still finds them.
    pub rustup_home: Option<PathBuf>,
    /// The scratch directory of this verification.
    pub verify_dir: PathBuf,
    /// A finished run's target directory to start from (`--bisect`), and the packages
    /// (`name@version`) to clean in it so that they, and what depends on them, are rebuilt.
    pub seed: Option<(PathBuf, Vec<String>)>,
}

/// A file an output of the run, with its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub sha256: String,
}

/// What one run produced.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub setup: RunSetup,
    /// The paths the build saw (to recognise them in its outputs).
    pub prefixes: RunPrefixes,
    /// `HOME` as the build saw it.
    pub home: Option<PathBuf>,
    /// The units, with their files where they are now.
    pub units: BTreeMap<UnitKey, Unit>,
    /// The final binaries by name.
    pub binaries: BTreeMap<String, Output>,
    /// The release artifacts by file name (empty without `--release-artifacts`).
    pub artifacts: BTreeMap<String, Output>,
}

/// Runs one build; its outputs end up in [`RunSetup::kept_at`].
pub fn run(
    request: &RunRequest,
    setup: &RunSetup,
    err: &mut dyn Write,
) -> anyhow::Result<RunRecord> {
    let location = &setup.location;
    copy_checkout(
        &request.root,
        location,
        setup.umask,
        setup.reverse_file_order,
    )?;
    if setup.cargo_home != request.cargo_home {
        symlink_dir(&request.cargo_home, &setup.cargo_home)?;
    }
    if let Some(home) = &setup.home {
        std::fs::create_dir_all(home)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {}", home.display(), io_reason(&e)))?;
    }
    let target_dir = location.join("target");
    if let Some((seed, packages)) = &request.seed {
        seed_target_dir(seed, &target_dir, setup.umask)?;
        clean_packages(packages, location, &target_dir, setup)?;
    }
    let message_log = request
        .verify_dir
        .join(format!("messages-{}.jsonl", setup.index));
    let mut args: Vec<std::ffi::OsString> = vec![
        "-c".into(),
        format!("umask {:03o} && exec \"$0\" \"$@\"", setup.umask).into(),
        std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find this executable: {}", io_reason(&e)))?
            .into(),
        "repro".into(),
        "build".into(),
        "--manifest-path".into(),
        location.join(&request.manifest).into(),
        "--source-date-epoch".into(),
        request.source_date_epoch.to_string().into(),
        "--message-log".into(),
        message_log.clone().into(),
    ];
    args.extend(request.build_args.iter().map(Into::into));
    if request.release_artifacts {
        args.push("--release-artifacts".into());
    }
    let mut command = duct::cmd("sh", args)
        .dir(location)
        .env("CARGO_HOME", &setup.cargo_home)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdout_to_stderr()
        .unchecked();
    if let Some(rustup_home) = &request.rustup_home {
        command = command.env("RUSTUP_HOME", rustup_home);
    }
    if let Some(home) = &setup.home {
        command = command.env("HOME", home);
    }
    if let Some(tz) = setup.tz {
        command = command.env("TZ", tz);
    }
    if let Some(lang) = setup.lang {
        command = command.env("LANG", lang).env("LC_ALL", lang);
    }
    command = match setup.jobs {
        Some(jobs) => command.env("CARGO_BUILD_JOBS", jobs.to_string()),
        None => command.env_remove("CARGO_BUILD_JOBS"),
    };
    err.flush()?;
    let output = command.run().map_err(|e| {
        anyhow::anyhow!(
            "cannot run the build of run {}: {}",
            setup.index,
            io_reason(&e)
        )
    })?;
    if !output.status.success() {
        anyhow::bail!(
            "the build of run {} failed ({}); its messages are above",
            setup.index,
            output.status.code().map_or_else(
                || "killed by a signal".to_string(),
                |c| format!("exit code {c}")
            )
        );
    }
    let messages = std::fs::read(&message_log).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the messages of run {}: {}",
            setup.index,
            io_reason(&e)
        )
    })?;
    let prefixes = RunPrefixes {
        root: location.clone(),
        target_dir: target_dir.clone(),
        cargo_home: setup.cargo_home.clone(),
    };
    let units = read_units(&messages, &prefixes)?;
    let artifacts = if request.release_artifacts {
        hash_dir(&target_dir.join("repro-artifacts"))?
    } else {
        BTreeMap::new()
    };

    // Free the location for the next run, and point every record at where the files are now.
    let kept = setup.kept_at(&request.verify_dir);
    std::fs::rename(location, &kept)
        .map_err(|e| anyhow::anyhow!("cannot move {}: {}", location.display(), io_reason(&e)))?;
    let relocate = |path: &Path| match path.strip_prefix(location) {
        Ok(rest) => kept.join(rest),
        Err(_) => path.to_path_buf(),
    };
    let units: BTreeMap<UnitKey, Unit> = units
        .into_iter()
        .map(|(key, mut unit)| {
            for file in unit.files.values_mut() {
                file.path = relocate(&file.path);
            }
            (key, unit)
        })
        .collect();
    let binaries = units
        .iter()
        .filter(|(key, _)| key.kind == UnitKind::Bin)
        .filter_map(|(key, unit)| {
            let (_, file) = unit.files.iter().next()?;
            Some((
                key.target.clone(),
                Output {
                    path: file.path.clone(),
                    sha256: file.sha256.clone(),
                },
            ))
        })
        .collect();
    let artifacts = artifacts
        .into_iter()
        .map(|(name, output)| {
            (
                name,
                Output {
                    path: relocate(&output.path),
                    sha256: output.sha256,
                },
            )
        })
        .collect();
    Ok(RunRecord {
        setup: setup.clone(),
        prefixes,
        home: setup
            .home
            .clone()
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from)),
        units,
        binaries,
        artifacts,
    })
}

/// The sha256 of every file directly in `dir`, by name.
fn hash_dir(dir: &Path) -> anyhow::Result<BTreeMap<String, Output>> {
    let mut out = BTreeMap::new();
    let entries = crate::workspace::read_dir_sorted(dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {}", dir.display(), io_reason(&e)))?;
    for path in entries.into_iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), io_reason(&e)))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(
            name,
            Output {
                sha256: sha256_hex(&bytes),
                path,
            },
        );
    }
    Ok(out)
}

#[cfg(unix)]
fn symlink_dir(original: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(original, link)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {}", link.display(), io_reason(&e)))
}

#[cfg(not(unix))]
fn symlink_dir(original: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::windows::fs::symlink_dir(original, link)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {}", link.display(), io_reason(&e)))
}

/// `cargo clean --release -p SPEC…` in the run's checkout and environment.
fn clean_packages(
    packages: &[String],
    location: &Path,
    target_dir: &Path,
    setup: &RunSetup,
) -> anyhow::Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args: Vec<String> = vec!["clean".into(), "--release".into(), "--offline".into()];
    for package in packages {
        args.extend(["-p".to_string(), package.clone()]);
    }
    let output = duct::cmd(cargo, args)
        .dir(location)
        .env("CARGO_HOME", &setup.cargo_home)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run cargo clean: {}", io_reason(&e)))?;
    if !output.status.success() {
        anyhow::bail!(
            "cargo clean of {} failed: {}",
            packages.join(", "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
