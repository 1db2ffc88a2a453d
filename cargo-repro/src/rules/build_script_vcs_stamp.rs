//! `build-script-vcs-stamp`: a workspace build script stamps the build with the commit or ref.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::{build_time_sources, finding_for};
use crate::workspace::{BuildTimeKind, Source, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-vcs-stamp",
    default_level: Level::Warn,
    summary: "a build script stamps the build with version-control state",
    docs: r#"
### What it finds
Build scripts of workspace members that read version-control state (they run `git`, for
example `git rev-parse HEAD`, `git describe` or `git log`; open the repository with git2 or
gix; or read a CI variable naming the commit or ref, such as `GITHUB_SHA`, `GITHUB_REF_NAME`,
`CI_COMMIT_SHA`) **and pass it to the build**: a `cargo:` instruction
(`cargo:rustc-env=GIT_HASH=…`), a generated file, a compiler's arguments. The code is read as
it is compiled and the value followed through the crate's functions; running git only to
print `cargo:rerun-if-changed` is not reported. Where the tool loses the value, the finding is
a note.

### Why it breaks reproducibility
The stamp depends on how the source was obtained, not on the source: a rebuild from the
release's source archive (no `.git`), a shallow clone (`git describe` fails or says
something else), a dispatched ref, a dirty tree or another CI system all give other bytes
for the same commit, so an independent rebuild does not match the release.

### Example
```rust
// build.rs
fn main() {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .unwrap();
    let hash = String::from_utf8(out.stdout).unwrap();
    println!("cargo:rustc-env=GIT_HASH={}", hash.trim());
}
```

### Fix
Take the value from a committed file (a version file the release process updates) or from an
environment variable the release recipe sets explicitly and documents, with a fixed default:
```rust
println!("cargo:rerun-if-env-changed=RELEASE_COMMIT");
let hash = std::env::var("RELEASE_COMMIT").unwrap_or_else(|_| "unknown".into());
println!("cargo:rustc-env=GIT_HASH={hash}");
```
`cargo repro build` records the commit in the release's provenance, so the binary need not
carry it.
"#,
    heuristic: true,
    uses_graph: false,
    pre_commit: false,
    check,
};

const HELP: &str = "take the value from a committed file or from an environment variable the release \
                    recipe sets (with a fixed default); `cargo repro build` records the commit in \
                    the provenance";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::BuildScript]) {
        if package.source != Source::Workspace {
            continue;
        }
        for fact in &source.code.facts.vcs_stamps {
            let message = format!("the build script of `{}` {}", package.name, fact.what);
            if let Some(finding) =
                finding_for(RULE.id, fact, message, "the value", "the build's output")
            {
                out.push(finding.help(HELP));
            }
        }
    }
}
