//! `build-script-timestamp`: a build script reads the wall clock without honouring `SOURCE_DATE_EPOCH`.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::{build_time_sources, finding_for, with_package};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-timestamp",
    default_level: Level::Warn,
    summary: "a build script reads the current time without honouring SOURCE_DATE_EPOCH",
    docs: r#"
### What it finds
Build scripts (of workspace members and of dependencies) that call a wall-clock function:
`SystemTime::now`, chrono's `Utc::now` / `Local::now`, time's `OffsetDateTime::now_utc` /
`now_local`, jiff's `Timestamp::now` / `Zoned::now`, when none of the build script's files
mentions `SOURCE_DATE_EPOCH`, and the time **reaches the build's output**: a `cargo:`
instruction (`cargo:rustc-env=BUILD_DATE=…`), a generated file, a compiler's arguments. The
code is read as it is compiled (module tree, `cfg`, test code left out) and the value is
followed through the crate's locals and functions; timing a step (`elapsed()` printed as a
warning) is not reported. Where the tool loses the value, the finding is a note.

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

const HELP: &str = "use the time in `SOURCE_DATE_EPOCH` when it is set (falling back to the clock), \
                    and print `cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH`";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::BuildScript]) {
        if source.code.facts.reads_source_date_epoch {
            continue;
        }
        for fact in &source.code.facts.clock_reads {
            let message = format!("the build script of `{}` {}", package.name, fact.what);
            if let Some(finding) =
                finding_for(RULE.id, fact, message, "the time", "the build's output")
            {
                out.push(with_package(finding.help(HELP), package));
            }
        }
    }
}
