//! The workspace's own tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - `ci`: exactly what CI runs (fmt, clippy with warnings denied, tests, docs, codegen check,
//!   self-audit).
//! - `codegen [--check]`: regenerate `docs/rules.md` from the rule registry.
//! - `dist [--verify]`: cargo-repro's own reproducible release, built by itself.
//! - `bench [check] [--packages N] [--runs N]`: `cargo repro check` against `cargo metadata`
//!   on a generated workspace, side by side; `bench build [--crates N] [--functions N]
//!   [--runs N]`: `cargo repro build` against the same `cargo build` by hand; `bench package
//!   [--runs N]`: the release-artifact writer against GNU `tar | gzip -9n` and `sha256sum`.

mod bench;
mod ci;
mod codegen;
mod dist;

use std::path::{Path, PathBuf};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("codegen") => codegen::run(args.iter().any(|a| a == "--check")),
        Some("bench") => bench::run(&args[1..]),
        Some("dist") => dist::run(&args[1..]),
        _ => Err(anyhow::anyhow!(
            "usage: cargo xtask <ci | codegen [--check] | bench [check | build | package | verify | scan] [--OPTION N]… | dist [--verify]>"
        )),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln_safe(&format!("xtask: {error:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of this crate's directory).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The cargo that runs us (so the pinned toolchain is used throughout).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Prints a progress line to stderr.
fn step(text: &str) {
    eprintln_safe(&format!("==> {text}"));
}

fn eprintln_safe(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}
