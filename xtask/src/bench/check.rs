//! `cargo xtask bench [check]`: `cargo repro check` against `cargo metadata --locked`, side by side.
//!
//! Generates a workspace of N member packages (a layered graph of path dependencies) plus one
//! member that depends on cargo-repro itself, so the graph also holds ~100 real crates.io
//! packages with build scripts and proc-macros from the warm cargo cache. Then, in one run,
//! it alternates the two commands and reports medians and their ratio, at several sizes, so
//! that both the ratio and the growth of the audit's own work can be read.

use std::path::{Path, PathBuf};

use super::{alternate, median, ms, parse_numbers, time_command};
use crate::{cargo, project_root, step};

struct Options {
    packages: usize,
    runs: usize,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        packages: 420,
        runs: 15,
    };
    parse_numbers(
        args,
        &mut [
            ("--packages", &mut options.packages),
            ("--runs", &mut options.runs),
        ],
    )?;
    Ok(options)
}

/// Runs the benchmark and prints a Markdown table.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = parse(args)?;
    let root = project_root();
    step("building cargo-repro (release)");
    duct::cmd(
        cargo(),
        ["build", "--release", "--locked", "-p", "cargo-repro"],
    )
    .dir(&root)
    .run()?;
    let binary = root.join("target/release/cargo-repro");

    let mut rows = Vec::new();
    for size in [options.packages / 4, options.packages / 2, options.packages] {
        let dir = root.join("target/bench").join(format!("workspace-{size}"));
        let total = generate(&dir, size, &root)?;
        step(&format!(
            "measuring {total} packages ({} runs each)",
            options.runs
        ));
        let manifest = dir.join("Cargo.toml");
        let manifest = manifest.to_str().expect("UTF-8 path");
        let metadata = [
            cargo(),
            "metadata".into(),
            "--format-version".into(),
            "1".into(),
            "--locked".into(),
            "--offline".into(),
            "--manifest-path".into(),
            manifest.into(),
        ];
        let check = [
            binary.display().to_string(),
            "repro".into(),
            "check".into(),
            "--offline".into(),
            "--format".into(),
            "json".into(),
            "--manifest-path".into(),
            manifest.into(),
        ];
        let (metadata_times, check_times) = alternate_commands(&metadata, &check, options.runs)?;
        let mut pre_commit = check.to_vec();
        pre_commit.insert(3, "--pre-commit".into());
        let (_, pre_commit_times) = alternate_commands(&metadata, &pre_commit, options.runs)?;
        rows.push((
            total,
            median(&metadata_times),
            median(&check_times),
            median(&pre_commit_times),
        ));
    }
    let mut table = String::from(
        "| packages | cargo metadata (median) | cargo repro check (median) | ratio | audit's own work | check --pre-commit (median) |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (total, metadata, check, pre_commit) in &rows {
        let own = check.saturating_sub(*metadata);
        table.push_str(&format!(
            "| {total} | {:.1} ms | {:.1} ms | {:.2} | {:.1} ms ({:.3} ms/package) | {:.1} ms |\n",
            ms(*metadata),
            ms(*check),
            ms(*check) / ms(*metadata),
            ms(own),
            ms(own) / *total as f64,
            ms(*pre_commit)
        ));
    }
    use std::io::Write as _;
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}

/// Alternates the two commands; `check` exits 1 when it finds deny-level problems, so that is
/// not a failure.
fn alternate_commands(
    a: &[String],
    b: &[String],
    runs: usize,
) -> anyhow::Result<(Vec<std::time::Duration>, Vec<std::time::Duration>)> {
    let time = |command: &[String]| {
        time_command(duct::cmd(&command[0], &command[1..]), &command[0], &[0, 1])
    };
    alternate(runs, || time(a), || time(b))
}

/// Writes the workspace (if not already there) and returns its package count.
fn generate(dir: &Path, members: usize, project: &Path) -> anyhow::Result<usize> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let mut names: Vec<String> = (0..members).map(|i| format!("member-{i:04}")).collect();
    names.push("uses-real-crates".to_string());
    let list = names
        .iter()
        .map(|n| format!("    \"crates/{n}\",\n"))
        .collect::<String>();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [\n{list}]\n\n[profile.release]\ncodegen-units = 1\n"
        ),
    )?;
    std::fs::write(
        dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.95.0\"\n",
    )?;
    for i in 0..members {
        let deps: String = [i / 2, i / 3, i.saturating_sub(1)]
            .into_iter()
            .filter(|&d| d < i)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|d| format!("member-{d:04} = {{ path = \"../member-{d:04}\" }}\n"))
            .collect();
        write_crate(dir, &format!("member-{i:04}"), &deps, i % 10 == 0)?;
    }
    let repro: PathBuf = project.join("cargo-repro");
    write_crate(
        dir,
        "uses-real-crates",
        &format!(
            "cargo-repro = {{ path = {:?} }}\n",
            repro.display().to_string()
        ),
        false,
    )?;
    write_entry_points(dir)?;
    // Reuse this project's lockfile so every registry package resolves from the local cache.
    std::fs::copy(project.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    duct::cmd(cargo(), ["metadata", "--format-version", "1", "--offline"])
        .dir(dir)
        .stdout_null()
        .run()?;
    let json = duct::cmd(
        cargo(),
        ["metadata", "--format-version", "1", "--locked", "--offline"],
    )
    .dir(dir)
    .read()?;
    Ok(json.matches("\"manifest_path\"").count())
}

/// Entry points as a real project has them, larger than most: a tag release workflow with a
/// matrix that builds through a Dockerfile in a subfolder and a script, a CI workflow with 24
/// jobs, a justfile; so `check` parses YAML, splits shell and gives roles as it does there.
fn write_entry_points(dir: &Path) -> anyhow::Result<()> {
    let workflows = dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows)?;
    std::fs::create_dir_all(dir.join("docker"))?;
    std::fs::create_dir_all(dir.join("ci"))?;
    std::fs::write(workflows.join("release.yml"), RELEASE_WORKFLOW)?;
    let mut ci = String::from(
        "name: ci\non: [push, pull_request]\nenv:\n  CARGO_TERM_COLOR: always\njobs:\n",
    );
    for i in 0..24 {
        ci.push_str(&format!(
            "  job-{i:02}:\n    runs-on: ${{{{ matrix.os }}}}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-latest, windows-latest]\n    steps:\n      - uses: actions/checkout@v4\n      - uses: dtolnay/rust-toolchain@stable\n      - name: test\n        run: |\n          set -euo pipefail\n          if [ \"${{{{ matrix.os }}}}\" = ubuntu-latest ]; then\n            cargo test --locked --workspace -- --test-threads 2\n          else\n            cargo test --workspace\n          fi\n          cargo clippy --all-targets -- -D warnings && cargo fmt --check\n"
        ));
    }
    std::fs::write(workflows.join("ci.yml"), ci)?;
    std::fs::write(
        dir.join("docker/Dockerfile.release"),
        "ARG RUST=1.95.0\nFROM rust:${RUST}-slim AS build\nWORKDIR /src\nCOPY . .\n\
         RUN --mount=type=cache,target=/usr/local/cargo/registry \\\n    cargo build --release --locked \\\n    && strip target/release/app\n\
         FROM scratch\nCOPY --from=build /src/target/release/app /app\nENTRYPOINT [\"/app\"]\n",
    )?;
    std::fs::write(
        dir.join("ci/package.sh"),
        "#!/bin/sh\nset -eu\ncase \"$1\" in\n  linux) tar --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner -cf - dist | gzip -9n > app.tar.gz ;;\n  *) zip -rX app.zip dist ;;\nesac\n",
    )?;
    std::fs::write(
        dir.join("justfile"),
        "release: build\n    ./ci/package.sh linux\n\nbuild:\n    cargo build --release --locked\n\ntest:\n    cargo test\n",
    )?;
    Ok(())
}

const RELEASE_WORKFLOW: &str = "name: release
on:
  push:
    tags: ['v*']
env:
  CARGO: cargo
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        include:
          - { target: x86_64-unknown-linux-gnu }
          - { target: aarch64-unknown-linux-gnu }
          - { target: x86_64-unknown-linux-musl }
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - run: ${{ env.CARGO }} build --release --locked --target ${{ matrix.target }}
      - run: ./ci/package.sh linux
      - run: docker build -f docker/Dockerfile.release -t app .
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          path: app.tar.gz
  publish:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - uses: softprops/action-gh-release@c95fe1489396fe8a9eb87c0abf8aa5b2ef267fda # v2.2.1
";

fn write_crate(root: &Path, name: &str, deps: &str, build_script: bool) -> anyhow::Result<()> {
    let dir = root.join("crates").join(name);
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
        ),
    )?;
    std::fs::write(dir.join("src/lib.rs"), "//! Generated for the benchmark.\n")?;
    if build_script {
        std::fs::write(
            dir.join("build.rs"),
            "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n}\n",
        )?;
    }
    Ok(())
}
