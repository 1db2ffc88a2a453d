//! `cargo xtask bench verify`: the wall time of `cargo repro verify` against one
//! `cargo repro build` of the same workspace (each from empty target directories, alternately),
//! and the time verify takes to localise and explain a mismatch in a 100 MB binary.
//!
//! The first workspace is the build benchmark's generator with N library crates (default 110)
//! and one binary. The second holds one binary that embeds 100 MB of data (`include_bytes!`)
//! and `env!("CARGO_MANIFEST_DIR")`, so it differs under the path variation; the time from
//! verify's "Localising" line to its exit is the localisation and explanation.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use super::{alternate, median, ms, parse_numbers, time_command};
use crate::{project_root, step};

/// Runs the benchmark and prints a Markdown table.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let (mut crates, mut functions, mut runs, mut big_runs) = (110, 2, 3, 5);
    parse_numbers(
        args,
        &mut [
            ("--crates", &mut crates),
            ("--functions", &mut functions),
            ("--runs", &mut runs),
            ("--big-runs", &mut big_runs),
        ],
    )?;
    let root = project_root();
    let tool = super::release_tool()?;

    let dir = root.join("target/bench/verify");
    super::build::generate(&dir, crates, functions)?;
    let repro = |args: &[&str]| {
        duct::cmd(&tool, args)
            .dir(&dir)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
    };
    let build = repro(&["repro", "build", "--offline"]);
    let verify = repro(&["repro", "verify", "--offline"]);
    let target = dir.join("target");
    step(&format!(
        "measuring {} crates: {runs} clean `cargo repro build` and `cargo repro verify` each, alternating",
        crates + 1
    ));
    let (builds, verifies) = alternate(
        runs,
        || {
            let _ = std::fs::remove_dir_all(&target);
            time_command(build.clone(), "cargo repro build", &[0])
        },
        || time_command(verify.clone(), "cargo repro verify", &[0]),
    )?;
    step(&format!("build (s): {}", list(&builds)));
    step(&format!("verify (s): {}", list(&verifies)));

    let big = root.join("target/bench/verify-100mb");
    generate_big(&big)?;
    step(&format!(
        "measuring localisation and explanation of a 100 MB binary: {big_runs} runs"
    ));
    let mut explain_times = Vec::new();
    for _ in 0..big_runs {
        explain_times.push(localise_time(&tool, &big)?);
    }
    step(&format!("localise + explain (s): {}", list(&explain_times)));

    let (b, v) = (ms(median(&builds)), ms(median(&verifies)));
    let table = format!(
        "| workspace | cargo repro build, clean (median) | cargo repro verify, 2 runs (median) | ratio | localise + explain, 100 MB binary (median) |\n| --- | ---: | ---: | ---: | ---: |\n| {} crates | {:.1} s | {:.1} s | {:.2} | {:.2} s |\n",
        crates + 1,
        b / 1000.0,
        v / 1000.0,
        v / b,
        median(&explain_times).as_secs_f64(),
    );
    use std::io::Write as _;
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}

fn list(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.2}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `verify --vary path` on the 100 MB workspace and returns the time from its
/// "Localising" line to its exit (it must report the difference: exit code 1).
fn localise_time(tool: &Path, dir: &Path) -> anyhow::Result<Duration> {
    let mut child = std::process::Command::new(tool)
        .args(["repro", "verify", "--offline", "--vary", "path"])
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let mut started = None;
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if started.is_none() && line.contains("Localising the difference") {
            started = Some(Instant::now());
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = child.wait()?;
    let end = Instant::now();
    if status.code() != Some(1) {
        anyhow::bail!("verify of the 100 MB workspace should report a difference:\n{seen}");
    }
    let started = started.ok_or_else(|| anyhow::anyhow!("verify did not localise:\n{seen}"))?;
    Ok(end - started)
}

/// One binary embedding 100 MB of pseudo-random data and its checkout path.
fn generate_big(dir: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"big\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[profile.release]\ncodegen-units = 1\nincremental = false\n",
    )?;
    std::fs::write(
        dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.95.0\"\n",
    )?;
    std::fs::write(dir.join(".gitignore"), "/target\n")?;
    let mut data = vec![0u8; 100 * 1024 * 1024];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    std::fs::write(dir.join("src/data.bin"), &data)?;
    std::fs::write(
        dir.join("src/main.rs"),
        "//! Generated for the verify benchmark.\n\nstatic DATA: &[u8] = include_bytes!(\"data.bin\");\n\nfn main() {\n    let sum: u64 = DATA.iter().map(|&b| u64::from(b)).sum();\n    println!(\"{sum} {}\", env!(\"CARGO_MANIFEST_DIR\"));\n}\n",
    )?;
    super::lock_and_commit(dir)
}
