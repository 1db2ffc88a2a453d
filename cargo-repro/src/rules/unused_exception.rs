//! `unused-exception`: an `[[allow]]` entry in the configuration that matched no finding.

use crate::config::Exception;
use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "unused-exception",
    default_level: Level::Warn,
    summary: "an exception in the configuration matches no finding",
    docs: r#"
### What it finds
An `[[allow]]` entry in `repro.toml` (or `[workspace.metadata.repro]`) whose rule ran but
reported nothing that the entry matches.

### Why it breaks reproducibility
It does not by itself; but a stale exception silently covers the next real finding of the
same kind. Keeping the list exact keeps reviews honest.

### Example
```toml
[[allow]]
rule = "known-nondeterministic-crate"
package = "const-random"
reason = "seeded in the Dockerfile"   # const-random is no longer a dependency
```

### Fix
Delete the entry, or narrow it to what it is meant to cover.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

/// The engine runs this rule itself, once every other rule has run.
fn check(_: &Workspace, _: &mut Vec<Finding>) {}

/// The finding for an exception that matched nothing.
pub fn finding(exception: &Exception) -> Finding {
    let mut what = format!("rule `{}`", exception.rule);
    if let Some(package) = &exception.package {
        what.push_str(&format!(", package `{package}`"));
    }
    if let Some(path) = &exception.path {
        what.push_str(&format!(", path `{path}`"));
    }
    Finding::new(
        RULE.id,
        format!("this exception matches no finding ({what})"),
        exception.location.clone(),
    )
    .help("remove the [[allow]] entry, or correct it")
}
