//! `build-script-randomness`: a build script or proc-macro draws random values at build time.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::{build_time_sources, finding_for, kind_name, with_package};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-randomness",
    default_level: Level::Warn,
    summary: "a build script or proc-macro uses randomness at build time",
    docs: r#"
### What it finds
Build scripts and proc-macro crates (members and dependencies) that use a source of
randomness (`rand::random`, `thread_rng`, `rand::rng`, `getrandom`, `fastrand::…`,
`Uuid::new_v4`, a fresh `RandomState::new()`, the `const_random!` macro) **and let the value
reach their output**: a proc-macro's tokens, or a build script's generated files, `cargo:`
instructions and compiler arguments. The code is read as it is compiled (module tree, `cfg`
for the enabled features, test code left out) and the value is followed through locals, calls
and accumulators of the same crate. A random temporary file name that never reaches the
output is not reported; where the tool loses the value, the finding is a note.

### Why it breaks reproducibility
Whatever is random at build time (a generated key, a seed, a unique id, a hasher state baked
into a constant) is different on every build, and ends up in the binary.

### Example
```rust
// build.rs
fn main() {
    let seed: u64 = rand::random();
    println!("cargo:rustc-env=HASH_SEED={seed}");
}
```

### Fix
Derive the value from the input (a hash of the sources, the package version), or read it from
an environment variable with a fixed default, and print `cargo:rerun-if-env-changed` for it.
For a dependency, look for a feature that turns the randomness off (for example ahash's
`compile-time-rng` pulls in `const-random`).
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

const HELP: &str = "derive the value from the input (a hash of the sources, the package version) \
                    or read it from an environment variable with a fixed default";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let kinds = [BuildTimeKind::BuildScript, BuildTimeKind::ProcMacro];
    for (package, source) in build_time_sources(workspace, &kinds) {
        let kind = kind_name(source.kind);
        for fact in &source.code.facts.random_draws {
            let message = format!("the {kind} of `{}` {}", package.name, fact.what);
            let output = match source.kind {
                BuildTimeKind::ProcMacro => "the expansion",
                BuildTimeKind::BuildScript => "the build's output",
            };
            if let Some(finding) = finding_for(RULE.id, fact, message, "the value", output) {
                out.push(with_package(finding.help(HELP), package));
            }
        }
    }
}
