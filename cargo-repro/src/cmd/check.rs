//! `cargo repro check`: load the workspace, run the rules, render the findings.

use std::io::IsTerminal as _;

use crate::cli::{CheckArgs, ColorChoice, Format};
use crate::config::{CliOverrides, Config};
use crate::diag::{Report, human, json, sarif};
use crate::rules::{self, Selection};
use crate::workspace::{LoadOptions, Workspace, git};
use crate::{exit_code, fix};

/// Runs the audit and prints the report; exit 1 when something is at deny level.
pub fn run(
    args: &CheckArgs,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> anyhow::Result<u8> {
    let selection = if args.pre_commit {
        Selection::PreCommit
    } else {
        Selection::All
    };
    run_selected(args, selection, out, err)
}

/// [`run`] with an explicit rule selection (`patch check` runs the patch rules).
pub fn run_selected(
    args: &CheckArgs,
    selection: Selection,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> anyhow::Result<u8> {
    let options = LoadOptions {
        manifest_path: args.manifest_path.clone(),
        offline: args.offline,
        lockfile_only: args.pre_commit,
    };
    let overrides = CliOverrides {
        deny: args.levels.deny.clone(),
        warn: args.levels.warn.clone(),
        allow: args.levels.allow.clone(),
        only: args.only.clone(),
    };
    // `--fix` changes the workspace: its lock is held from before it is read. A change a killed
    // command left half done is finished first, so what is checked is a whole state.
    let root = crate::workspace::locate_root(args.manifest_path.as_deref())?;
    let _lock = match args.fix {
        true => Some(crate::guard::lock::lock_workspace(&root)?),
        false => None,
    };
    if let Some(message) = crate::transaction::recover_workspace(&root, args.fix)? {
        writeln!(err, "{message}")?;
    }
    let workspace = Workspace::load(&options)?;
    let mut report = audit_workspace(&workspace, &overrides, selection)?;
    if args.fix {
        if !args.allow_dirty && git::is_dirty(&workspace.root)? {
            anyhow::bail!(
                "the git working tree has uncommitted changes; commit or stash them first, or pass --allow-dirty"
            );
        }
        let edits = fix::plan(&workspace, &report)?;
        fix::apply(&workspace.root, &edits)?;
        for edit in &edits {
            for change in &edit.changes {
                writeln!(err, "fixed {}: {change}", edit.display_path)?;
            }
        }
        if !edits.is_empty() {
            report = audit(&options, &overrides, selection)?;
        }
    }

    let text = match args.output.format {
        Format::Human => human::render(&report, use_color(args.output.color)),
        Format::Json => json::render(&report),
        Format::Sarif => sarif::render(&report),
    };
    out.write_all(text.as_bytes())?;
    Ok(if report.passed() {
        exit_code::SUCCESS
    } else {
        exit_code::DENIED
    })
}

/// Loads the workspace and its configuration, and runs the rules.
pub fn audit(
    options: &LoadOptions,
    overrides: &CliOverrides,
    selection: Selection,
) -> anyhow::Result<Report> {
    audit_workspace(&Workspace::load(options)?, overrides, selection)
}

/// Runs the rules on a loaded workspace with its configuration.
pub fn audit_workspace(
    workspace: &Workspace,
    overrides: &CliOverrides,
    selection: Selection,
) -> anyhow::Result<Report> {
    let config = Config::load(workspace, overrides)?;
    Ok(rules::run(workspace, &config, selection))
}

/// `--color`, then `CARGO_TERM_COLOR`, then `NO_COLOR`, then whether stdout is a terminal.
fn use_color(choice: Option<ColorChoice>) -> bool {
    let from_env = || match std::env::var("CARGO_TERM_COLOR").ok().as_deref() {
        Some("always") => Some(ColorChoice::Always),
        Some("never") => Some(ColorChoice::Never),
        Some("auto") => Some(ColorChoice::Auto),
        _ => None,
    };
    match choice.or_else(from_env) {
        Some(ColorChoice::Always) => true,
        Some(ColorChoice::Never) => false,
        _ => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && std::io::stdout().is_terminal()
        }
    }
}
