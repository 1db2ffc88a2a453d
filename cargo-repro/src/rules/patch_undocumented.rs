//! `patch-undocumented`: a ledger entry without a `reason` or an `upstream` link.

use crate::diag::{Finding, Level};
use crate::patch::ledger::LEDGER_PATH;
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::patches::ledger_location;

pub static RULE: Rule = Rule {
    id: "patch-undocumented",
    default_level: Level::Warn,
    summary: "a vendored patch has no reason or no upstream link in vendor/patches.toml",
    docs: r#"
### What it finds
An entry of `vendor/patches.toml` without a `reason` (why the vendored copy differs from the
published crate) or without an `upstream` link (the issue or pull request that carries the fix
upstream). Empty strings count as missing.

### Why it breaks reproducibility
A vendored patch is part of what the release is built from. When nobody can tell why it
exists or which upstream change it waits for, it is never removed, drifts from upstream, and
the next person to re-vendor the crate cannot rebuild the same tree.

### Example
```toml
# vendor/patches.toml
[i18n-embed-fl]
version = "0.9.4"
# … hashes, but no reason and no upstream
```

### Fix
Add `reason = "…"` and `upstream = "https://…"` to the crate's table in
`vendor/patches.toml` (and `remove-when` if the patch can go after an upgrade).
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: true,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let Some(ledger) = &workspace.ledger else {
        return;
    };
    for (name, entry) in &ledger.entries {
        let missing = match (&entry.reason, &entry.upstream) {
            (Some(_), Some(_)) => continue,
            (None, Some(_)) => "no `reason`",
            (Some(_), None) => "no `upstream` link",
            (None, None) => "no `reason` and no `upstream` link",
        };
        out.push(
            Finding::new(
                RULE.id,
                format!("the patch of {name} in {LEDGER_PATH} has {missing}"),
                ledger_location(entry),
            )
            .package(name, &entry.version)
            .help(format!(
                "add `reason = \"…\"` (why the vendored copy differs) and `upstream = \
                 \"https://…\"` (the upstream issue or pull request) to [{name}] in {LEDGER_PATH}"
            )),
        );
    }
}
