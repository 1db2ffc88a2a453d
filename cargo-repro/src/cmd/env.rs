//! `cargo repro env`: the exact environment and flags a `cargo repro build` uses.

use std::io::Write;

use crate::build::env::{BuildEnv, EnvOptions, SdePolicy};
use crate::cli::{EnvArgs, EnvFormat, EnvSelection};
use crate::exit_code;
use crate::workspace::{LoadOptions, Workspace};

/// Prints the environment as shell `export` lines or JSON; warnings go to stderr.
pub fn run(args: &EnvArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<u8> {
    let workspace = Workspace::load(&LoadOptions {
        manifest_path: args.env.manifest_path.clone(),
        offline: true,
        lockfile_only: true,
    })?;
    let env = BuildEnv::for_workspace(&workspace, &env_options(&args.env))?;
    for warning in &env.warnings {
        writeln!(err, "warning: {warning}")?;
    }
    let text = match args.format {
        EnvFormat::Shell => env.render_shell(),
        EnvFormat::Json => env.render_json(),
    };
    out.write_all(text.as_bytes())?;
    Ok(exit_code::SUCCESS)
}

/// The environment options from the command line.
pub fn env_options(selection: &EnvSelection) -> EnvOptions {
    EnvOptions {
        target: selection.target.clone(),
        source_date_epoch: selection
            .source_date_epoch
            .map_or(SdePolicy::LastCommit, SdePolicy::Fixed),
    }
}
