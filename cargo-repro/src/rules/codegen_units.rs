//! `codegen-units`: the release profile leaves codegen-units unset or above 1.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "codegen-units",
    default_level: Level::Warn,
    summary: "the release profile does not set codegen-units = 1",
    docs: r#"
### What it finds
A `[profile.release]` (in the root `Cargo.toml` or a `.cargo/config.toml`) that leaves
`codegen-units` unset (cargo's default is 16) or sets it above 1.

### Why it breaks reproducibility
With several codegen units, how functions are partitioned and then merged by LLVM has been
seen to vary between runs (rust-lang/rust#128675, llvm/llvm-project#72206); one unit removes
that source of run-to-run variation.

### Example
```toml
[profile.release]
opt-level = 3
```

### Fix
```toml
[profile.release]
codegen-units = 1
```
`cargo repro check --fix` adds it.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let help = "set `codegen-units = 1` in [profile.release]; `cargo repro check --fix` does it";
    match workspace.release_profile_setting("codegen-units") {
        Some(setting) => {
            let units = setting.item.as_integer();
            if units != Some(1) {
                let shown = setting
                    .item
                    .as_value()
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                out.push(
                    Finding::new(
                        RULE.id,
                        format!("release builds use codegen-units = {}", shown.trim()),
                        setting.file.entry_location(setting.table, "codegen-units"),
                    )
                    .help(help),
                );
            }
        }
        None => {
            let manifest = &workspace.root_manifest;
            let location = match workspace.manifest_release_profile() {
                Some(table) => manifest.table_location(table),
                None => crate::diag::Location::file(manifest.file.display_path.clone()),
            };
            out.push(
                Finding::new(
                    RULE.id,
                    "the release profile leaves codegen-units at cargo's default of 16",
                    location,
                )
                .help(help),
            );
        }
    }
}
