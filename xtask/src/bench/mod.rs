//! `cargo xtask bench [check | build | package]`: benchmarks that run cargo-repro side by side
//! with what it replaces, alternating the two so that machine noise hits both, and print
//! medians and ratios as Markdown (see BENCHMARKS.md).
//!
//! - `check` (the default): `cargo repro check` against `cargo metadata --locked`.
//! - `build`: `cargo repro build` against the same `cargo build` run by hand with the same
//!   environment.
//! - `package`: the release-artifact writer against GNU `tar | gzip -9n` and `sha256sum`.
//! - `verify`: `cargo repro verify` against one `cargo repro build`, and the time to localise
//!   and explain a mismatch in a 100 MB binary.
//! - `scan`: the source heuristics' time against the size of a build script (linear).

mod build;
mod check;
mod package;
mod scan;
mod verify;

use std::time::{Duration, Instant};

/// Runs the benchmark named by the first argument (`check` when there is none).
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        Some("build") => build::run(&args[1..]),
        Some("package") => package::run(&args[1..]),
        Some("verify") => verify::run(&args[1..]),
        Some("scan") => scan::run(&args[1..]),
        Some("check") => check::run(&args[1..]),
        _ => check::run(args),
    }
}

/// Builds `cargo-repro` in release mode and returns the path of the binary.
fn release_tool() -> anyhow::Result<std::path::PathBuf> {
    let root = crate::project_root();
    crate::step("building cargo-repro (release)");
    duct::cmd(
        crate::cargo(),
        ["build", "--release", "--locked", "-q", "-p", "cargo-repro"],
    )
    .dir(&root)
    .run()?;
    Ok(root.join("target/release/cargo-repro"))
}

/// Writes the lockfile of the generated workspace at `dir` and commits it all, so that
/// `cargo repro build` runs its preflight audit and takes `SOURCE_DATE_EPOCH` from git as usual.
fn lock_and_commit(dir: &std::path::Path) -> anyhow::Result<()> {
    duct::cmd(crate::cargo(), ["generate-lockfile", "--offline", "-q"])
        .dir(dir)
        .run()?;
    let git = |args: &[&str]| {
        duct::cmd("git", args)
            .dir(dir)
            .env("GIT_AUTHOR_NAME", "bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.com")
            .env("GIT_COMMITTER_NAME", "bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.com")
            .stdout_null()
            .run()
    };
    git(&["init", "-q"])?;
    git(&["add", "."])?;
    git(&["commit", "-qm", "generated"])?;
    Ok(())
}

/// Parses `--NAME N` options into the given slots; any other argument is an error.
fn parse_numbers(args: &[String], slots: &mut [(&str, &mut usize)]) -> anyhow::Result<()> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let slot = slots
            .iter_mut()
            .find(|(name, _)| name == arg)
            .ok_or_else(|| anyhow::anyhow!("unknown bench option `{arg}`"))?;
        let value = iter
            .next()
            .ok_or_else(|| anyhow::anyhow!("{arg} needs a number"))?;
        *slot.1 = value
            .parse()
            .map_err(|_| anyhow::anyhow!("{arg}: `{value}` is not a number"))?;
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// Times `a` and `b` alternately, `runs` times each after one warm-up each; each closure
/// returns the duration of its own measured part (so untimed preparation can happen inside).
fn alternate(
    runs: usize,
    mut a: impl FnMut() -> anyhow::Result<Duration>,
    mut b: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    a()?;
    b()?;
    let (mut times_a, mut times_b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        times_a.push(a()?);
        times_b.push(b()?);
    }
    Ok((times_a, times_b))
}

/// Runs a command with stdout discarded and stderr captured; returns its wall time. Exit codes
/// other than those in `accepted` are failures.
fn time_command(
    command: duct::Expression,
    name: &str,
    accepted: &[i32],
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let output = command.stdout_null().stderr_capture().unchecked().run()?;
    let elapsed = start.elapsed();
    if !output
        .status
        .code()
        .is_some_and(|code| accepted.contains(&code))
    {
        anyhow::bail!("{name} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(elapsed)
}
