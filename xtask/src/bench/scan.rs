//! `cargo xtask bench scan`: the source heuristics' time against the size of a build script,
//! to show it grows linearly (a 1 MB script must not take much more than ten 100 KB ones).
//!
//! For each shape of code and each size, a one-member workspace whose `build.rs` has that size
//! is checked with only the source-heuristic rules, alternating with the same workspace with
//! a one-line build script (the baseline: cargo metadata, loading, rendering); the difference
//! of the medians is the scanning time.

use std::path::Path;
use std::time::Duration;

use super::{alternate, median, ms, parse_numbers, release_tool, time_command};
use crate::{project_root, step};

/// Sizes of the generated build scripts, in bytes.
const SIZES: &[usize] = &[100_000, 250_000, 500_000, 1_000_000];

/// Makes about `size` bytes of build script.
type Generator = fn(usize) -> String;

/// The shapes: a name and a generator.
const SHAPES: &[(&str, Generator)] = &[
    ("functions that list, sort and write", functions),
    ("`read_dir` calls in one function", read_dirs),
    ("`fn(` repeated (does not parse)", broken),
];

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let mut runs = 9;
    parse_numbers(args, &mut [("--runs", &mut runs)])?;
    let binary = release_tool()?;
    let root = project_root().join("target/bench/scan");
    let baseline = root.join("baseline");
    write_workspace(&baseline, "fn main() {}\n")?;
    let mut table = String::from(
        "| build script | size | check (median) | baseline (median) | scanning | per 100 KB |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (index, (name, shape)) in SHAPES.iter().enumerate() {
        for &size in SIZES {
            let dir = root.join(format!("shape{index}-{size}"));
            write_workspace(&dir, &shape(size))?;
            step(&format!(
                "measuring {name}, {} KB ({runs} runs each)",
                size / 1000
            ));
            let time = |dir: &Path| -> anyhow::Result<Duration> {
                let manifest = dir.join("Cargo.toml");
                let command = duct::cmd(
                    &binary,
                    [
                        "repro".as_ref(),
                        "check".as_ref(),
                        "--offline".as_ref(),
                        "--format".as_ref(),
                        "json".as_ref(),
                        "--only".as_ref(),
                        "build-script-unsorted-readdir".as_ref(),
                        "--only".as_ref(),
                        "build-script-timestamp".as_ref(),
                        "--only".as_ref(),
                        "build-script-randomness".as_ref(),
                        "--only".as_ref(),
                        "target-cpu-native".as_ref(),
                        "--manifest-path".as_ref(),
                        manifest.as_os_str(),
                    ],
                );
                time_command(command, "cargo repro check", &[0, 1])
            };
            let (checks, baselines) = alternate(runs, || time(&dir), || time(&baseline))?;
            let (check, base) = (median(&checks), median(&baselines));
            let scanning = check.saturating_sub(base);
            table.push_str(&format!(
                "| {name} | {} KB | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms |\n",
                size / 1000,
                ms(check),
                ms(base),
                ms(scanning),
                ms(scanning) / (size as f64 / 100_000.0)
            ));
        }
    }
    use std::io::Write as _;
    std::io::stdout().write_all(table.as_bytes())?;
    Ok(())
}

/// A one-member workspace with this build script and its lockfile.
fn write_workspace(dir: &Path, build_script: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"scan-bench\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )?;
    std::fs::write(dir.join("src/lib.rs"), "")?;
    std::fs::write(dir.join("build.rs"), build_script)?;
    duct::cmd(crate::cargo(), ["generate-lockfile", "--offline", "-q"])
        .dir(dir)
        .run()?;
    Ok(())
}

/// Functions that each list a directory, sort the entries and write them, all called from
/// `main`: every one is a source the analysis follows to its end.
fn functions(size: usize) -> String {
    let mut out = String::new();
    let mut calls = String::new();
    let mut i = 0;
    while out.len() + calls.len() < size {
        out.push_str(&format!(
            "fn list_{i}(out: &std::path::Path) {{\n    let mut names: Vec<_> = std::fs::read_dir(\"assets/{i}\")\n        .unwrap()\n        .map(|e| e.unwrap().path())\n        .collect();\n    names.sort();\n    std::fs::write(out.join(\"list_{i}.rs\"), format!(\"{{names:?}}\")).unwrap();\n}}\n\n"
        ));
        calls.push_str(&format!("    list_{i}(&out);\n"));
        i += 1;
    }
    format!(
        "{out}fn main() {{\n    let out = std::path::PathBuf::from(std::env::var(\"OUT_DIR\").unwrap());\n{calls}}}\n"
    )
}

/// One `main` with `read_dir` calls, one per line.
fn read_dirs(size: usize) -> String {
    let line = "    let _ = std::fs::read_dir(\"d\");\n";
    let mut out = String::from("fn main() {\n");
    while out.len() + line.len() < size {
        out.push_str(line);
    }
    out.push_str("}\n");
    out
}

/// Text that is not Rust: the parser stops at the first error.
fn broken(size: usize) -> String {
    "fn(".repeat(size / 3)
}
