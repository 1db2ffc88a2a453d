//! `cargo repro build`: the release build in a normalised environment.

use std::io::Write;
use std::path::Path;

use crate::build::env::BuildEnv;
use crate::build::release;
use crate::build::runner::{self, BuildOptions};
use crate::build::signer::{Signer, SigningKey};
use crate::cli::BuildArgs;
use crate::exit_code;
use crate::workspace::{LoadOptions, Workspace};

/// Builds, then names each binary with its sha256; with `--release-artifacts`, packages (and
/// with `--sign`, signs) the release.
pub fn run(args: &BuildArgs, err: &mut dyn Write) -> anyhow::Result<u8> {
    // The key is checked first, so a missing signer or key fails before a long build.
    let signer = match &args.sign {
        Some(spec) => Some(Signer::resolve(SigningKey::parse(spec, Path::is_file)?)?),
        None => None,
    };
    let selection = &args.selection;
    let root = crate::workspace::locate_root(selection.env.manifest_path.as_deref())?;
    if let Some(message) = crate::transaction::recover_workspace(&root, false)? {
        writeln!(err, "{message}")?;
    }
    let workspace = Workspace::load(&LoadOptions {
        manifest_path: selection.env.manifest_path.clone(),
        offline: selection.offline,
        lockfile_only: false,
    })?;
    let env = BuildEnv::for_workspace(&workspace, &super::env::env_options(&selection.env))?;
    for warning in &env.warnings {
        writeln!(err, "warning: {warning}")?;
    }
    writeln!(
        err,
        "    Building in a normalised environment (SOURCE_DATE_EPOCH={}; `cargo repro env` prints it)",
        env.vars
            .get("SOURCE_DATE_EPOCH")
            .map(String::as_str)
            .unwrap_or("?")
    )?;
    let options = BuildOptions {
        package: selection.package.clone(),
        bins: selection.bin.clone(),
        target: selection.env.target.clone(),
        features: selection.features.clone(),
        all_features: selection.all_features,
        no_default_features: selection.no_default_features,
        offline: selection.offline,
        allow_unpinned: args.allow_unpinned,
    };
    if args.release_artifacts {
        let packages: Vec<String> = selection.package.iter().cloned().collect();
        let found = release::preflight(&workspace, &env.triple, &packages, !args.no_deb)?;
        for warning in &found.warnings {
            writeln!(err, "warning: {warning}")?;
        }
        for note in &found.notes {
            writeln!(err, "note: {note}")?;
        }
    }
    let outcome = runner::build(&workspace, &options, &env, err)?;
    if let Some(log) = &args.message_log {
        std::fs::write(log, &outcome.messages).map_err(|e| {
            anyhow::anyhow!(
                "cannot write {}: {}",
                log.display(),
                crate::workspace::source_file::io_reason(&e)
            )
        })?;
    }
    if outcome.binaries.is_empty() {
        anyhow::bail!(
            "the build produced no binary; pass -p PKG for a package with a [[bin]] target"
        );
    }
    for binary in &outcome.binaries {
        let bytes = std::fs::read(&binary.path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {}",
                binary.display,
                crate::workspace::source_file::io_reason(&e)
            )
        })?;
        writeln!(
            err,
            "       Built {} (sha256 {})",
            binary.display,
            crate::patch::tree::sha256_hex(&bytes)
        )?;
    }
    if args.release_artifacts {
        let out_dir = match &args.out_dir {
            Some(dir) => std::path::absolute(dir)?,
            None => workspace.root.join("target").join("repro-artifacts"),
        };
        let cargo_flags = runner::cargo_args(&options);
        // Two releases into one out dir never interleave.
        let _lock = crate::guard::lock::lock_out_dir(
            &workspace.root,
            &out_dir,
            &crate::workspace::display_path(&workspace.root, &out_dir),
        )?;
        let written = release::write_release(
            &workspace,
            &env,
            &outcome,
            &cargo_flags,
            signer.as_ref(),
            &out_dir,
            !args.no_deb,
            err,
        )?;
        let shown = crate::workspace::display_path(&workspace.root, &out_dir);
        for name in written {
            writeln!(err, "       Wrote {shown}/{name}")?;
        }
    }
    Ok(exit_code::SUCCESS)
}
