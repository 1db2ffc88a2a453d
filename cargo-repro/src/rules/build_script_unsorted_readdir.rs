//! `build-script-unsorted-readdir`: a build script lists a directory and uses it in filesystem order.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::{build_time_sources, finding_for, with_package};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-unsorted-readdir",
    default_level: Level::Warn,
    summary: "a build script lists a directory without sorting the entries",
    docs: r#"
### What it finds
Build scripts (of members and dependencies) that list a directory (`fs::read_dir(…)`,
`path.read_dir()`, `WalkDir::new(…)`) and let the **order of the entries reach the build's
output**: a generated file (`fs::write`, `write!` into a created file), a `cargo:` instruction
(`cargo:rustc-link-lib`, `cargo:rustc-env`), or the arguments of a compiler or command
(`cc::Build::files`, `Command::args`). The code is read as it is compiled (module tree, `cfg`,
test code left out) and the entries are followed through locals, loops, accumulators and the
crate's functions. Sorting (`sort*`, walkdir's `sort_by_file_name`), a `BTreeMap`/`BTreeSet`,
counting, copying each file, printing `cargo:rerun-if-changed` and searching for one entry
(a tool in a directory) do not count; `glob` sorts its results. Where the tool loses the
entries, the finding is a note.

### Why it breaks reproducibility
Directories are listed in the order the filesystem keeps them, which depends on the filesystem
and on the order the files were created: a fresh checkout on another machine lists them
differently. Code generated from the listing (an `include!` of every file, a table of assets)
then comes out in another order, and the binary differs.

### Example
```rust
// build.rs
fn main() {
    let mut list = String::new();
    for entry in std::fs::read_dir("assets").unwrap() {
        let path = entry.unwrap().path();
        list.push_str(&format!("include_bytes!({:?}),\n", path));
    }
    std::fs::write(std::env::var("OUT_DIR").unwrap() + "/assets.rs", list).unwrap();
}
```

### Fix
Collect the entries and sort them before using them:
```rust
let mut paths: Vec<_> = std::fs::read_dir("assets")
    .unwrap()
    .map(|entry| entry.unwrap().path())
    .collect();
paths.sort();
```
With walkdir, call `WalkDir::new(dir).sort_by_file_name()`.
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

const HELP: &str = "collect the entries and sort them before using them (with walkdir, \
                    `WalkDir::new(dir).sort_by_file_name()`)";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::BuildScript]) {
        for fact in &source.code.facts.dir_listings {
            let message = format!(
                "the build script of `{}` {} and uses the entries in filesystem order",
                package.name, fact.what
            );
            if let Some(finding) =
                finding_for(RULE.id, fact, message, "the order", "the build's output")
            {
                out.push(with_package(finding.help(HELP), package));
            }
        }
    }
}
