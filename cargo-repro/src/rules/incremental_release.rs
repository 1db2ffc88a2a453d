//! `incremental-release`: incremental compilation in release builds.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::in_job;

pub static RULE: Rule = Rule {
    id: "incremental-release",
    default_level: Level::Deny,
    summary: "release builds use incremental compilation",
    docs: r#"
### What it finds
`incremental = true` in `[profile.release]` (root `Cargo.toml` or `.cargo/config.toml`),
`[build] incremental = true` in a cargo config, or `CARGO_INCREMENTAL=1` in a build entry
point (Dockerfile, CI workflow, justfile, Makefile, shell script).

### Why it breaks reproducibility
Incremental compilation partitions code by what changed since the last build, so the output
depends on the history of the target directory, not only on the sources.

### Example
```toml
[profile.release]
incremental = true
```

### Fix
Set `incremental = false` in `[profile.release]` and `CARGO_INCREMENTAL=0` in release entry
points. `cargo repro check --fix` edits the profile.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    if let Some(setting) = workspace.release_profile_setting("incremental")
        && setting.item.as_bool() == Some(true)
    {
        out.push(
            workspace.about_release(
                Finding::new(
                    RULE.id,
                    "the release profile turns incremental compilation on",
                    setting.file.entry_location(setting.table, "incremental"),
                )
                .help(
                    "set `incremental = false` in [profile.release]; `cargo repro check --fix` does it",
                ),
            ),
        );
    }
    for config in &workspace.cargo_configs {
        if let Some(build) = config.get(&["build"]).and_then(|b| b.as_table())
            && build.get("incremental").and_then(|i| i.as_bool()) == Some(true)
        {
            out.push(
                workspace.about_release(
                    Finding::new(
                        RULE.id,
                        "`[build] incremental = true` applies to release builds too",
                        config.entry_location(build, "incremental"),
                    )
                    .help(
                        "remove it, or set `incremental = false` in [profile.release] of the manifest",
                    ),
                ),
            );
        }
    }
    for entry in &workspace.entry_points {
        for (job, var) in entry.env_settings() {
            if var.name == "CARGO_INCREMENTAL" && var.value.text.trim() == "1" {
                let finding = Finding::new(
                    RULE.id,
                    "CARGO_INCREMENTAL=1 turns incremental compilation on for release builds",
                    entry.location(&var.name_span),
                )
                .help("use CARGO_INCREMENTAL=0 for release builds");
                out.push(in_job(finding, job));
            }
        }
    }
}
