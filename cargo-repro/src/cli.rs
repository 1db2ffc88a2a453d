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
    /// Record, inspect and check vendored `[patch]` crates (ledger: vendor/patches.toml).
    Patch(PatchArgs),
    /// Install the git pre-commit hook that runs `check --pre-commit`.
    Hook(HookArgs),
    /// Build release binaries in a normalised environment (`cargo build --release --locked`).
    #[command(after_help = crate::exit_code::HELP)]
    Build(BuildArgs),
    /// Print exactly the environment and flags that `cargo repro build` uses.
    Env(EnvArgs),
    /// Build twice under varied conditions, compare every output, and name the crate that differs.
    #[command(after_help = crate::exit_code::VERIFY_HELP)]
    Verify(VerifyArgs),
}

/// The workspace, target and time a build environment is for (shared by `build` and `env`).
#[derive(Clone, Debug, Args)]
pub struct EnvSelection {
    /// Path to the workspace's Cargo.toml (default: search from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// The target triple (for example x86_64-unknown-linux-musl).
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// SOURCE_DATE_EPOCH to use (default: the time of the last commit).
    #[arg(long, value_name = "SECONDS")]
    pub source_date_epoch: Option<u64>,
}

/// What to build and how, shared by `build` (and later `verify`).
#[derive(Clone, Debug, Args)]
pub struct BuildSelection {
    #[command(flatten)]
    pub env: EnvSelection,
    /// The package to build.
    #[arg(short, long, value_name = "PKG")]
    pub package: Option<String>,
    /// Only these binaries (repeatable).
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Features to activate (repeatable, or comma-separated).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all features.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the default features.
    #[arg(long)]
    pub no_default_features: bool,
    /// Build without network access (the dependencies must be fetched).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub selection: BuildSelection,
    /// Build even when check reports an unpinned toolchain, a missing or stale lockfile, or native CPU flags.
    #[arg(long)]
    pub allow_unpinned: bool,
    /// Also write deterministic release artifacts: tar.gz, .deb (Linux), .sha256, SHA256SUMS, provenance.
    #[arg(long)]
    pub release_artifacts: bool,
    /// Where the release artifacts go (default: target/repro-artifacts).
    #[arg(long, value_name = "DIR", requires = "release_artifacts")]
    pub out_dir: Option<PathBuf>,
    /// Leave the .deb out of the release artifacts.
    #[arg(long, requires = "release_artifacts")]
    pub no_deb: bool,
    /// Sign the release: a detached signature of SHA256SUMS and a DSSE envelope of the
    /// provenance. KEY is `gpg:KEYID`, `ssh:PATH`, or a bare value (an ssh key when that file
    /// exists, a gpg key id otherwise). Nothing is written when signing fails.
    #[arg(long, value_name = "KEY", requires = "release_artifacts")]
    pub sign: Option<String>,
    /// Write cargo's JSON messages (one per line) to FILE; `cargo repro verify` reads the units
    /// of each run from it.
    #[arg(long, value_name = "FILE", hide = true)]
    pub message_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub selection: BuildSelection,
    /// Build even when check reports an unpinned toolchain, a missing or stale lockfile, or native CPU flags.
    #[arg(long)]
    pub allow_unpinned: bool,
    /// Also compare the release artifacts (tar.gz, .deb, SHA256SUMS, provenance) of each run.
    #[arg(long)]
    pub release_artifacts: bool,
    /// The variations of the second and later runs, comma-separated (default: all).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_enum)]
    pub vary: Vec<crate::verify::Variation>,
    /// How many builds to run and compare (at least 2).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(2..))]
    pub runs: u32,
    /// Keep the checkouts and target directories of the runs (in the temporary directory).
    #[arg(long)]
    pub keep: bool,
    /// When the runs differ, find which single variation causes the difference.
    #[arg(long, conflicts_with = "against")]
    pub bisect: bool,
    /// Rebuild once and compare with a published SHA256SUMS or *.intoto.json instead. First
    /// its signatures beside it (SHA256SUMS.asc, SHA256SUMS.sig, *.intoto.dsse.json) are
    /// checked and every listed file beside it is rehashed.
    #[arg(long, value_name = "FILE")]
    pub against: Option<PathBuf>,
    /// With --against: the publisher's ssh public key (.pub); SHA256SUMS.sig and the DSSE
    /// envelope must be signed by it. Without it, ssh signatures are checked but the key is
    /// not pinned (a note names it).
    #[arg(long, value_name = "FILE.pub", requires = "against")]
    pub signer_key: Option<PathBuf>,
    /// Output format of the report (on stdout).
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub env: EnvSelection,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EnvFormat::Shell)]
    pub format: EnvFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    Shell,
    Json,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    #[command(subcommand)]
    pub command: PatchCommand,
}

#[derive(Debug, Subcommand)]
pub enum PatchCommand {
    /// Vendor the pristine release of CRATE into vendor/CRATE and patch it in.
    Add(PatchAddArgs),
    /// Record an existing hand-made `[patch]` path entry in the ledger.
    Adopt(PatchAdoptArgs),
    /// Print the diff of the vendored tree against the pristine upstream release.
    Diff(PatchCrateArgs),
    /// Record an intended edit of the vendored tree (new diff and tree hash).
    Refresh(PatchRefreshArgs),
    /// One line per patch: crate, upstream version, files changed, status, reason.
    List(PatchCommon),
    /// Run the patch hygiene rules, with check's output formats and exit codes.
    #[command(after_help = crate::exit_code::HELP)]
    Check(PatchCheckArgs),
    /// Remove the vendored tree, its `[patch]` entry and its ledger entry.
    Remove(PatchCrateArgs),
}

/// Options every `patch` subcommand takes.
#[derive(Clone, Debug, Args)]
pub struct PatchCommon {
    /// Path to the workspace's Cargo.toml (default: search from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Do not access the network (the pristine crate must be in cargo's cache).
    #[arg(long)]
    pub offline: bool,
}

/// What the ledger says about a patch.
#[derive(Clone, Debug, Default, Args)]
pub struct PatchNotes {
    /// Why the crate is patched.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The upstream issue or pull request with the fix.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// A known-crates database id the patch resolves (repeatable; see `check`'s notes).
    #[arg(long, value_name = "ID")]
    pub resolves: Vec<String>,
    /// When the patch can be removed.
    #[arg(long, value_name = "TEXT")]
    pub remove_when: Option<String>,
}

#[derive(Debug, Args)]
pub struct PatchAddArgs {
    /// The crate to vendor, optionally with the locked version to take.
    #[arg(value_name = "CRATE[@VERSION]")]
    pub krate: String,
    #[command(flatten)]
    pub notes: PatchNotes,
    #[command(flatten)]
    pub common: PatchCommon,
}

#[derive(Debug, Args)]
pub struct PatchAdoptArgs {
    /// The crate of the existing `[patch]` entry.
    #[arg(value_name = "CRATE")]
    pub krate: String,
    #[command(flatten)]
    pub notes: PatchNotes,
    #[command(flatten)]
    pub common: PatchCommon,
}

#[derive(Debug, Args)]
pub struct PatchRefreshArgs {
    /// The patched crate.
    #[arg(value_name = "CRATE")]
    pub krate: String,
    #[command(flatten)]
    pub notes: PatchNotes,
    #[command(flatten)]
    pub common: PatchCommon,
}

#[derive(Debug, Args)]
pub struct PatchCrateArgs {
    /// The patched crate.
    #[arg(value_name = "CRATE")]
    pub krate: String,
    #[command(flatten)]
    pub common: PatchCommon,
}

#[derive(Debug, Args)]
pub struct PatchCheckArgs {
    #[command(flatten)]
    pub common: PatchCommon,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub levels: LevelArgs,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write .git/hooks/pre-commit running `cargo repro check --pre-commit`.
    Install(HookInstallArgs),
}

#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// Path to the workspace's Cargo.toml (default: search from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Replace a pre-commit hook that cargo-repro did not write.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Path to the workspace's Cargo.toml (default: search from the current directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub levels: LevelArgs,
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

/// How findings are printed.
#[derive(Clone, Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Coloring of human output (also CARGO_TERM_COLOR and NO_COLOR).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
}

/// Rule levels set on the command line.
#[derive(Clone, Debug, Default, Args)]
pub struct LevelArgs {
    /// Set a rule to deny; `--deny warnings` makes every warning fail.
    #[arg(long, value_name = "RULE")]
    pub deny: Vec<String>,
    /// Set a rule to warn.
    #[arg(long, value_name = "RULE")]
    pub warn: Vec<String>,
    /// Turn a rule off.
    #[arg(long, value_name = "RULE")]
    pub allow: Vec<String>,
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
