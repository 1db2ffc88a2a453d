//! `rustflags-override`: an entry point's `RUSTFLAGS` silently replaces the cargo config's rustflags.

use crate::diag::{Finding, Level, Location};
use crate::rules::Rule;
use crate::workspace::{TomlFile, Workspace};

pub static RULE: Rule = Rule {
    id: "rustflags-override",
    default_level: Level::Warn,
    summary: "an entry point sets RUSTFLAGS, which replaces the rustflags of the cargo config",
    docs: r#"
### What it finds
A build entry point (Dockerfile, CI workflow, justfile, Makefile, `scripts/*.sh`) that sets
`RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS` while a `.cargo/config.toml` of the workspace sets
`[build] rustflags` or `[target.<triple or cfg>] rustflags`.

### Why it breaks reproducibility
Cargo takes rustflags from exactly one place: `CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`,
else the config's `target.*.rustflags`, else `build.rustflags`. The sources are never merged,
so as soon as the environment sets `RUSTFLAGS` every flag of the config is dropped, including
determinism flags such as `--remap-path-prefix`. The local build and the release build then
use different flags without any warning.

### Example
```toml
# .cargo/config.toml
[build]
rustflags = ["--remap-path-prefix=/build=."]
```
```dockerfile
ENV RUSTFLAGS="-C strip=symbols"
```

### Fix
Keep all flags in one place: move the entry point's flags into the config's `rustflags`
(or pass them with `--config 'build.rustflags=[…]'`), or repeat the config's flags in
`RUSTFLAGS`.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

/// The environment variables that replace the config's rustflags.
const OVERRIDING_VARIABLES: &[&str] = &["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"];

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let config_flags: Vec<(String, Location)> = workspace
        .cargo_configs
        .iter()
        .filter(|config| is_in_workspace(&config.file.display_path))
        .flat_map(config_rustflags)
        .collect();
    let Some((_, first_location)) = config_flags.first() else {
        return;
    };
    for entry in &workspace.entry_points {
        for variable in OVERRIDING_VARIABLES {
            for assignment in entry.env_assignments(variable) {
                let mut finding = Finding::new(
                    RULE.id,
                    format!(
                        "setting `{variable}` makes cargo ignore the rustflags of {}: they are replaced, not merged",
                        first_location.path
                    ),
                    assignment.location,
                )
                .help("keep all rustflags in one place: move these flags into the cargo config, or repeat the config's flags here");
                for (place, location) in &config_flags {
                    finding = finding.note(format!(
                        "{place} is set at {}:{}",
                        location.path,
                        location.line.unwrap_or(1)
                    ));
                }
                out.push(finding);
            }
        }
    }
}

/// True for configs inside the workspace (not a parent directory's or `$CARGO_HOME`'s).
fn is_in_workspace(display_path: &str) -> bool {
    !display_path.starts_with("..") && !display_path.starts_with('$')
}

/// `[build] rustflags` and `[target.*] rustflags` of a config, with where each is set.
fn config_rustflags(config: &TomlFile) -> Vec<(String, Location)> {
    let mut out = Vec::new();
    if let Some(build) = config.get(&["build"]).and_then(|b| b.as_table_like())
        && build.contains_key("rustflags")
    {
        let location = config.entry_location(build, "rustflags");
        out.push(("`[build] rustflags`".to_string(), location));
    }
    let targets = config.get(&["target"]).and_then(|t| t.as_table_like());
    for (target, table) in targets.into_iter().flat_map(|t| t.iter()) {
        if let Some(table) = table.as_table_like()
            && table.contains_key("rustflags")
        {
            let location = config.entry_location(table, "rustflags");
            out.push((format!("`[target.{target}] rustflags`"), location));
        }
    }
    out
}
