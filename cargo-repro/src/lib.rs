//! cargo-repro: audit, build and verify bit-for-bit reproducible Rust releases.
//!
//! The architecture in one paragraph: [`workspace`] loads everything once (files, git state,
//! the package graph through guppy); [`rules`] turn it into [`diag::Finding`]s, which are plain
//! data; [`config`] decides their levels; [`diag`]'s renderers print them at the edge; [`cmd`]
//! holds one file per subcommand. See ARCHITECTURE.md.

pub mod artifacts;
pub mod build;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod config;
pub mod diag;
pub mod exit_code;
pub mod fix;
pub mod guard;
pub mod known_crates;
pub mod patch;
pub mod rules;
pub mod transaction;
pub mod verify;
pub mod workspace;

use std::ffi::OsString;
use std::io::Write as _;

use clap::Parser as _;

use cli::{CargoCli, Command};

/// Runs the program with these arguments and returns the exit code.
///
/// Accepts both `cargo-repro repro check` (as cargo runs it) and `cargo-repro check`.
pub fn main_with_args(mut args: Vec<OsString>) -> u8 {
    if args.get(1).is_none_or(|a| a != "repro") {
        args.insert(1.min(args.len()), "repro".into());
    }
    let cli = match CargoCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                exit_code::ERROR
            } else {
                exit_code::SUCCESS
            };
        }
    };
    let CargoCli::Repro(repro) = cli;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let result = match &repro.command {
        Command::Check(args) => cmd::check::run(args, &mut out, &mut err),
        Command::Rules(args) => cmd::rules::run(args, &mut out),
        Command::Explain(args) => cmd::explain::run(args, &mut out),
        Command::Patch(args) => cmd::patch::run(&args.command, &mut out, &mut err),
        Command::Hook(args) => cmd::hook::run(&args.command, &mut err),
        Command::Build(args) => cmd::build::run(args, &mut err),
        Command::Env(args) => cmd::env::run(args, &mut out, &mut err),
        Command::Verify(args) => cmd::verify::run(args, &mut out, &mut err),
    };
    let _ = out.flush();
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => exit_code::SUCCESS,
        Err(error) => {
            let _ = writeln!(err, "error: {}", error_line(&error));
            exit_code::ERROR
        }
    }
}

/// The error as one line on stderr, whatever it carries: control characters escaped (so a
/// crafted file name cannot forge lines of output), and machine paths shown as `$WORKSPACE`,
/// `$CARGO_HOME` and `~`, a last defence behind the messages' own relative paths.
fn error_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    let root = workspace::locate_root(None)
        .or_else(|_| std::env::current_dir())
        .unwrap_or_default();
    let text = workspace::scrub_paths(&text, &root, &workspace::cargo_home());
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_debug().to_string(),
            false => c.to_string(),
        })
        .collect()
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
