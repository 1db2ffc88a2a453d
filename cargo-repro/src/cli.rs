//! The command-line interface: clap types only, no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Cargo's external-subcommand convention: `cargo repro …` runs `cargo-repro repro …`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap::builder::Styles::plain())]
pub enum CargoCli {
    Repro(ReproArgs),
}

/// Audit, build and verify bit-for-bit reproducible Rust releases.
#[derive(Debug, Args)]
#[command(version, about, after_help = crate::exit_code::HELP)]
pub struct ReproArgs {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the workspace for reasons its release build would not be reproducible.
    #[command(after_help = crate::exit_code::HELP)]
    Check(CheckArgs),
    /// List the rules with their default levels.
    Rules(RulesArgs),
    /// Print the documentation of a rule.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Path to the workspace's Cargo.toml (default: search from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Coloring of human output (also CARGO_TERM_COLOR and NO_COLOR).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
    /// Set a rule to deny; `--deny warnings` makes every warning fail the check.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Set a rule to warn.
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Turn a rule off.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
    /// Run only these rules (repeatable).
    #[arg(long, value_name = "RULE")]
    pub only: Vec<String>,
    /// Run cargo metadata without network access.
    #[arg(long)]
    pub offline: bool,
    /// Only the lockfile and patch hygiene rules, without running cargo (for git hooks).
    #[arg(long)]
    pub pre_commit: bool,
    /// Apply mechanical fixes (toolchain pin, codegen-units, incremental) to the files.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: edit files even when the git work tree has uncommitted changes.
    #[arg(long, requires = "fix")]
    pub allow_dirty: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, as shown in brackets in findings (for example `codegen-units`).
    pub rule: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::CargoCli::command().debug_assert();
    }
}
