//! `thin-lto`: `lto = "thin"` in the release profile.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;

pub static RULE: Rule = Rule {
    id: "thin-lto",
    default_level: Level::Warn,
    summary: "the release profile uses thin LTO",
    docs: r#"
### What it finds
`lto = "thin"` in `[profile.release]` (root `Cargo.toml` or a `.cargo/config.toml`).

### Why it breaks reproducibility
The parallel ThinLTO backend has been reported to produce different output from run to run
(llvm/llvm-project#72206 on promoted local names; gominimal/pkgs#292).

### Example
```toml
[profile.release]
lto = "thin"
```

### Fix
Use `lto = "fat"` (or `lto = false`) together with `codegen-units = 1`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    if let Some(setting) = workspace.release_profile_setting("lto")
        && setting.item.as_str() == Some("thin")
    {
        out.push(
            workspace.about_release(
                Finding::new(
                    RULE.id,
                    "release builds use thin LTO, whose parallel backend is not deterministic",
                    setting.file.entry_location(setting.table, "lto"),
                )
                .help("use `lto = \"fat\"` (or `false`) with `codegen-units = 1`"),
            ),
        );
    }
}
