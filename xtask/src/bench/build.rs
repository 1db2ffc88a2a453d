//! `cargo xtask bench build`: the wall time of `cargo repro build` against the same
//! `cargo build --release --locked --offline` run by hand in the same environment (the
//! variables `cargo repro env` prints, from the same `BuildEnv`), alternately, each from an
//! empty target directory.
//!
//! The no-op builds that follow (everything fresh, alternately) measure the tool's own fixed
//! cost (workspace load, preflight audit, environment, output scans) with little noise: on a
//! shared machine, clean builds vary by more than that cost from one run to the next.
//!
//! The workspace is generated under `target/bench/build/`: N library crates of generated code
//! (each function with its own types, so each is real code generation work) and one binary
//! that uses them all, with a pinned toolchain, a lockfile and one commit, so that `cargo repro
//! build` runs its preflight audit and takes `SOURCE_DATE_EPOCH` from git as usual.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use cargo_repro::build::{BuildEnv, EnvOptions};
use cargo_repro::workspace::{LoadOptions, Workspace};

use super::{alternate, median, ms, parse_numbers, time_command};
use crate::{cargo, project_root, step};

/// Runs the benchmark and prints a Markdown table.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let (mut crates, mut functions, mut runs, mut warm_runs) = (8, 20, 7, 21);
    parse_numbers(
        args,
        &mut [
            ("--crates", &mut crates),
            ("--functions", &mut functions),
            ("--runs", &mut runs),
            ("--warm-runs", &mut warm_runs),
        ],
    )?;
    let root = project_root();
    let tool = super::release_tool()?;
    let dir = root.join("target/bench/build");
    generate(&dir, crates, functions)?;

    let workspace = Workspace::load(&LoadOptions {
        manifest_path: Some(dir.join("Cargo.toml")),
        offline: true,
        lockfile_only: false,
    })?;
    let env = BuildEnv::for_workspace(&workspace, &EnvOptions::default())?;
    let mut by_hand = duct::cmd(cargo(), ["build", "--release", "--locked", "--offline"])
        .dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS");
    for (name, value) in &env.vars {
        by_hand = by_hand.env(name, value);
    }
    let repro = duct::cmd(&tool, ["repro", "build", "--offline"])
        .dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS");

    step(&format!(
        "measuring {crates} crates of {functions} functions: {runs} clean builds each, alternating"
    ));
    let target = dir.join("target");
    let clean = || std::fs::remove_dir_all(&target).or_else(ignore_missing);
    let (clean_hand, clean_repro) = alternate(
        runs,
        || {
            clean()?;
            time_command(by_hand.clone(), "cargo build", &[0])
        },
        || {
            clean()?;
            time_command(repro.clone(), "cargo repro build", &[0])
        },
    )?;
    report_runs("clean", &clean_hand, &clean_repro);
    step(&format!(
        "measuring the fixed cost: {warm_runs} no-op builds each (everything fresh), alternating"
    ));
    let (warm_hand, warm_repro) = alternate(
        warm_runs,
        || time_command(by_hand.clone(), "cargo build", &[0]),
        || time_command(repro.clone(), "cargo repro build", &[0]),
    )?;
    report_runs("no-op", &warm_hand, &warm_repro);

    let (hand, repro) = (ms(median(&clean_hand)), ms(median(&clean_repro)));
    let fixed = ms(median(&warm_repro)) - ms(median(&warm_hand));
    let table = format!(
        "| workspace | clean build by hand, same env (median) | clean cargo repro build (median) | ratio | no-op by hand (median) | no-op cargo repro build (median) | tool's overhead | as a share of the clean build |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n| {crates} crates × {functions} functions + 1 binary | {:.1} s | {:.1} s | {:.3} | {:.0} ms | {:.0} ms | {fixed:+.0} ms | {:+.2}% |\n",
        hand / 1000.0,
        repro / 1000.0,
        repro / hand,
        ms(median(&warm_hand)),
        ms(median(&warm_repro)),
        fixed / hand * 100.0,
    );
    use std::io::Write as _;
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}

/// Prints every run, in order, for the reader to judge the noise.
fn report_runs(kind: &str, hand: &[Duration], repro: &[Duration]) {
    let list = |times: &[Duration]| {
        times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    step(&format!("{kind} by hand (s): {}", list(hand)));
    step(&format!("{kind} cargo repro build (s): {}", list(repro)));
}

fn ignore_missing(error: std::io::Error) -> std::io::Result<()> {
    match error.kind() {
        std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(error),
    }
}

/// Writes the workspace, its lockfile and one commit.
pub(super) fn generate(dir: &Path, crates: usize, functions: usize) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let names: Vec<String> = (0..crates).map(|i| format!("part-{i:03}")).collect();
    let mut members: String = names.iter().map(|n| format!("    \"{n}\",\n")).collect();
    members.push_str("    \"app\",\n");
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [\n{members}]\n\n[profile.release]\ncodegen-units = 1\nincremental = false\n"
        ),
    )?;
    write(
        &dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.95.0\"\n",
    )?;
    write(&dir.join(".gitignore"), "/target\n")?;
    for (i, name) in names.iter().enumerate() {
        write(&dir.join(name).join("Cargo.toml"), &manifest(name, ""))?;
        write(&dir.join(name).join("src/lib.rs"), &library(i, functions))?;
    }
    let deps: String = names
        .iter()
        .map(|n| format!("{n} = {{ path = \"../{n}\" }}\n"))
        .collect();
    write(&dir.join("app/Cargo.toml"), &manifest("app", &deps))?;
    let calls: String = names
        .iter()
        .map(|n| format!("    out.push_str(&{}::run(&input));\n", n.replace('-', "_")))
        .collect();
    write(
        &dir.join("app/src/main.rs"),
        &format!(
            "//! Generated for the build benchmark.\n\nfn main() {{\n    let input: Vec<u64> = std::env::args().map(|a| a.len() as u64).collect();\n    let mut out = String::new();\n{calls}    println!(\"{{}}\", out.len());\n}}\n"
        ),
    )?;
    super::lock_and_commit(dir)
}

fn manifest(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

/// A library whose functions each have their own record type, so that the generic code they
/// use (maps, sorting, formatting) is instantiated and optimised once per function.
fn library(index: usize, functions: usize) -> String {
    let mut code = String::from(
        "//! Generated for the build benchmark.\n\nuse std::collections::BTreeMap;\nuse std::fmt::Write as _;\n",
    );
    for k in 0..functions {
        let seed = index * 1000 + k;
        let _ = write!(
            code,
            r#"
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Record{k} {{
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub score: i64,
}}

pub fn step_{k}(input: &[u64]) -> String {{
    let mut groups: BTreeMap<u64, Vec<Record{k}>> = BTreeMap::new();
    for (i, value) in input.iter().enumerate() {{
        let record = Record{k} {{
            id: value.wrapping_mul({seed}),
            name: format!("r{{i}}-{{value}}"),
            tags: vec![format!("{{}}", value % {modulus})],
            score: *value as i64 - {seed},
        }};
        groups.entry(value % {modulus}).or_default().push(record);
    }}
    let mut out = String::new();
    for (key, records) in &groups {{
        let mut sorted = records.clone();
        sorted.sort();
        sorted.dedup_by(|a, b| a.name == b.name);
        let _ = write!(out, "{{key}}:{{:?}};", sorted.iter().map(|r| r.score).sum::<i64>());
        let _ = write!(out, "{{:?}}", sorted.first());
    }}
    out
}}
"#,
            modulus = k + 3,
        );
    }
    code.push_str("\npub fn run(input: &[u64]) -> String {\n    let mut out = String::new();\n");
    for k in 0..functions {
        let _ = writeln!(code, "    out.push_str(&step_{k}(input));");
    }
    code.push_str("    out\n}\n");
    code
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}
