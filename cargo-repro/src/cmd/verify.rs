//! `cargo repro verify`: build twice or more under varied conditions (or once, against published
//! hashes), print the report, exit 0 when reproducible and 1 when not.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::build::env::last_commit_time;
use crate::cli::{VerifyArgs, VerifyFormat};
use crate::exit_code;
use crate::verify::against::read_published;
use crate::verify::report::{ArtifactKind, ArtifactReport, VerifyReport};
use crate::verify::run::{self, RunRequest};
use crate::verify::{RunSetup, Variation, VerifyOptions, explain, scratch_dir, verify};
use crate::workspace::{LoadOptions, Workspace};

/// Verifies, renders the report on `out`, and returns the exit code.
pub fn run(args: &VerifyArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let selection = &args.selection;
    let workspace = Workspace::load(&LoadOptions {
        manifest_path: selection.env.manifest_path.clone(),
        offline: selection.offline,
        lockfile_only: false,
    })?;
    let published = match &args.against {
        Some(path) => {
            let shown = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            Some((read_published(path, &shown)?, shown, path.clone()))
        }
        None => None,
    };
    let recorded = published.as_ref().map(|(p, _, _)| p);
    let source_date_epoch = match (
        selection.env.source_date_epoch,
        recorded.and_then(|p| p.source_date_epoch),
    ) {
        (Some(seconds), _) | (None, Some(seconds)) => seconds,
        (None, None) => last_commit_time(&workspace.root)?,
    };
    let build_args = match recorded.and_then(|p| p.build_args.clone()) {
        Some(mut recorded_args) => {
            recorded_args.extend(common_args(args, false));
            recorded_args
        }
        None => common_args(args, true),
    };
    let manifest = match &selection.env.manifest_path {
        Some(path) => std::path::absolute(path)?
            .strip_prefix(&workspace.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from("Cargo.toml")),
        None => PathBuf::from("Cargo.toml"),
    };
    let verify_dir = scratch_dir(&workspace.root);
    if verify_dir.exists() {
        std::fs::remove_dir_all(&verify_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot remove the stale scratch directory {}: {}",
                verify_dir.display(),
                crate::workspace::source_file::io_reason(&e)
            )
        })?;
    }
    std::fs::create_dir_all(&verify_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create a scratch directory in the temporary directory: {}",
            crate::workspace::source_file::io_reason(&e)
        )
    })?;
    let request = RunRequest {
        root: workspace.root.clone(),
        manifest,
        build_args,
        source_date_epoch,
        release_artifacts: args.release_artifacts || published.is_some(),
        cargo_home: workspace.cargo_home.clone(),
        rustup_home: rustup_home(),
        verify_dir: verify_dir.clone(),
        seed: None,
    };
    let variations: BTreeSet<Variation> = if args.vary.is_empty() {
        Variation::ALL.into_iter().collect()
    } else {
        args.vary.iter().copied().collect()
    };
    let integrity = match &published {
        Some((published, shown, path)) => Some(crate::verify::integrity::check(
            path,
            shown,
            published,
            args.signer_key.as_deref(),
        )?),
        None => None,
    };
    let result = match (&published, integrity) {
        (Some((_, shown, _)), Some(integrity)) if !integrity.intact => Ok(
            VerifyReport::not_intact(shown, source_date_epoch, integrity),
        ),
        (Some((published, shown, path)), integrity) => {
            if let (Some(commit), Some(head)) =
                (&published.git_commit, head_commit(&workspace.root))
                && *commit != head
            {
                writeln!(
                    err,
                    "warning: {shown} records commit {commit}, but the checkout is at {head}; check out the released commit"
                )?;
            }
            against(&request, published, shown, path, err).map(|report| VerifyReport {
                published: integrity,
                ..report
            })
        }
        (None, _) => verify(
            &workspace,
            &VerifyOptions {
                request: request.clone(),
                variations,
                runs: args.runs,
                bisect: args.bisect,
            },
            err,
        ),
    };
    if args.keep {
        writeln!(
            err,
            "        Kept the runs' checkouts and target directories in {}",
            verify_dir.display()
        )?;
    } else {
        let _ = std::fs::remove_dir_all(&verify_dir);
    }
    let report = result?;
    match args.format {
        VerifyFormat::Human => out.write_all(report.render_human().as_bytes())?,
        VerifyFormat::Json => out.write_all(report.render_json()?.as_bytes())?,
    }
    Ok(if report.published_not_intact() {
        exit_code::NOT_INTACT
    } else if report.reproducible {
        exit_code::SUCCESS
    } else {
        exit_code::DIFFERS
    })
}

/// The `cargo repro build` options given to every run (with the selection unless it comes
/// from a provenance statement).
fn common_args(args: &VerifyArgs, with_selection: bool) -> Vec<String> {
    let selection = &args.selection;
    let mut out = Vec::new();
    if with_selection {
        if let Some(package) = &selection.package {
            out.extend(["-p".to_string(), package.clone()]);
        }
        for bin in &selection.bin {
            out.extend(["--bin".to_string(), bin.clone()]);
        }
        if let Some(target) = &selection.env.target {
            out.extend(["--target".to_string(), target.clone()]);
        }
        for feature in &selection.features {
            out.extend(["--features".to_string(), feature.clone()]);
        }
        if selection.all_features {
            out.push("--all-features".to_string());
        }
        if selection.no_default_features {
            out.push("--no-default-features".to_string());
        }
    }
    if selection.offline {
        out.push("--offline".to_string());
    }
    if args.allow_unpinned {
        out.push("--allow-unpinned".to_string());
    }
    out
}

/// One rebuild, compared with the published hashes.
fn against(
    request: &RunRequest,
    published: &crate::verify::against::Published,
    shown: &str,
    path: &Path,
    err: &mut dyn Write,
) -> anyhow::Result<VerifyReport> {
    let setup = RunSetup::new(
        1,
        &BTreeSet::new(),
        &request.verify_dir,
        &request.cargo_home,
        1,
    );
    writeln!(err, "   Rebuilding to compare with {shown}")?;
    let record = run::run(request, &setup, err)?;
    let published_dir = path.parent().unwrap_or(Path::new("."));
    let mut artifacts = Vec::new();
    for (name, hash) in &published.hashes {
        let ours = record.artifacts.get(name);
        let identical = ours.is_some_and(|o| o.sha256 == *hash);
        let mut differences = Vec::new();
        match ours {
            None => differences.push(format!("the rebuild did not produce {name}")),
            Some(ours) if !identical => {
                let theirs = published_dir.join(name);
                if theirs.is_file() {
                    differences =
                        explain::explain(name, &theirs, &ours.path, [&record, &record], false)?
                            .lines;
                } else {
                    differences.push(format!(
                        "put the published {name} next to {shown} to see how it differs"
                    ));
                }
            }
            Some(_) => {}
        }
        artifacts.push(ArtifactReport {
            name: name.clone(),
            kind: ArtifactKind::ReleaseArtifact,
            sha256: vec![Some(hash.clone()), ours.map(|o| o.sha256.clone())],
            identical,
            differences,
        });
    }
    Ok(VerifyReport {
        against: Some(shown.to_string()),
        ..VerifyReport::of_outputs(1, Vec::new(), request.source_date_epoch, artifacts)
    })
}

/// `RUSTUP_HOME`, or rustup's default under the caller's home, when it exists.
fn rustup_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("RUSTUP_HOME") {
        return Some(PathBuf::from(home));
    }
    let default = PathBuf::from(std::env::var_os("HOME")?).join(".rustup");
    default.is_dir().then_some(default)
}

fn head_commit(root: &Path) -> Option<String> {
    let output = duct::cmd("git", ["rev-parse", "HEAD"])
        .dir(root)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}
