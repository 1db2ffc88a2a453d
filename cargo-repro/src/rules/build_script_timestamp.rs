//! `build-script-timestamp`: a build script reads the wall clock without honouring `SOURCE_DATE_EPOCH`.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::scan::{Code, build_time_sources, with_package};
use crate::workspace::{BuildTimeKind, BuildTimeSource, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-timestamp",
    default_level: Level::Warn,
    summary: "a build script reads the current time without honouring SOURCE_DATE_EPOCH",
    docs: r#"
### What it finds
Build scripts (of workspace members and of dependencies) that call a wall-clock function:
`SystemTime::now`, chrono's `Utc::now` / `Local::now`, time's `OffsetDateTime::now_utc` /
`now_local`, jiff's `Timestamp::now` / `Zoned::now`, when none of the build script's files
mentions `SOURCE_DATE_EPOCH`. Each call is reported.

### Why it breaks reproducibility
A build script usually reads the time to embed a build date (`cargo:rustc-env=BUILD_DATE=…`).
The date ends up in the binary, so two builds of the same source a second apart differ.
`SOURCE_DATE_EPOCH` is the convention (reproducible-builds.org) for fixing that time.

### Example
```rust
// build.rs
fn main() {
    let now = std::time::SystemTime::now();
    let secs = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    println!("cargo:rustc-env=BUILD_TIME={secs}");
}
```

### Fix
Use `SOURCE_DATE_EPOCH` when it is set, and tell cargo to rerun when it changes:
```rust
fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => epoch.parse::<u64>().expect("SOURCE_DATE_EPOCH is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    };
    println!("cargo:rustc-env=BUILD_TIME={secs}");
}
```
For a dependency, look for a newer version or a feature that turns the timestamp off.
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

/// Wall-clock reads, as path suffixes (matched on identifier boundaries).
const CLOCK_CALLS: &[&str] = &[
    "SystemTime::now",
    "Utc::now",
    "Local::now",
    "OffsetDateTime::now_utc",
    "OffsetDateTime::now_local",
    "Timestamp::now",
    "Zoned::now",
];

const HELP: &str = "use the time in `SOURCE_DATE_EPOCH` when it is set (falling back to the clock), \
                    and print `cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH`";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::BuildScript]) {
        if honours_source_date_epoch(source) {
            continue;
        }
        for file in &source.files {
            let code = Code::new(file);
            for (at, call) in clock_calls(&code) {
                let finding = Finding::new(
                    RULE.id,
                    format!(
                        "the build script of `{}` reads the current time with `{call}`",
                        package.name
                    ),
                    code.location(at..at + call.len()),
                )
                .help(HELP)
                .note("a time embedded at build time makes every build differ");
                out.push(with_package(finding, package));
            }
        }
    }
}

/// True when any file of the build script mentions `SOURCE_DATE_EPOCH` (usually in a string).
fn honours_source_date_epoch(source: &BuildTimeSource) -> bool {
    source
        .files
        .iter()
        .any(|file| file.text.contains("SOURCE_DATE_EPOCH"))
}

/// Every wall-clock call in code (not in comments or strings), with the name matched.
fn clock_calls(code: &Code) -> Vec<(usize, &'static str)> {
    let mut calls: Vec<_> = CLOCK_CALLS
        .iter()
        .flat_map(|call| code.find_word(call).into_iter().map(move |at| (at, *call)))
        .collect();
    calls.sort_unstable();
    calls
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::SourceFile;

    fn calls(text: &str) -> Vec<&'static str> {
        let file = SourceFile::new("build.rs".into(), "build.rs".into(), text.into());
        clock_calls(&Code::new(&file))
            .into_iter()
            .map(|(_, call)| call)
            .collect()
    }

    #[test]
    fn finds_clock_reads_of_common_crates() {
        let text = "fn main() {\n    let a = std::time::SystemTime::now();\n    \
                    let b = chrono::Utc::now();\n    let c = time::OffsetDateTime::now_utc();\n    \
                    let d = jiff::Zoned::now();\n}";
        assert_eq!(
            calls(text),
            [
                "SystemTime::now",
                "Utc::now",
                "OffsetDateTime::now_utc",
                "Zoned::now"
            ]
        );
    }

    #[test]
    fn ignores_comments_strings_and_monotonic_clocks() {
        let text = "// SystemTime::now()\nfn main() { let s = \"Utc::now\"; let t = Instant::now(); \
                    let u = MyUtc::now(); }";
        assert!(calls(text).is_empty());
    }
}
