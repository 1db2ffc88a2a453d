//! `rustflags-override`: an entry point's `RUSTFLAGS` silently replaces the cargo config's rustflags.

use crate::diag::{Finding, Level, Location};
use crate::rules::Rule;
use crate::workspace::entry_points::cargo::cargo_call;
use crate::workspace::entry_points::in_job;
use crate::workspace::{TomlFile, Workspace};

pub static RULE: Rule = Rule {
    id: "rustflags-override",
    default_level: Level::Warn,
    summary: "an entry point sets RUSTFLAGS, which replaces the rustflags of the cargo config",
    docs: r#"
### What it finds
A cargo build in an entry point (Dockerfile, CI workflow, justfile, Makefile, script) that
runs with `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS` set (on the command, earlier in the
script, or in the job's environment) while a `.cargo/config.toml` of the workspace sets
rustflags that apply to that build: `[build] rustflags`, or `[target.<triple>]` /
`[target.'cfg(…)']` rustflags matching the build's target (its `--target`, else the runner's
host; `cfg(…)` keys are evaluated for the target). Rustflags for other targets (a Windows
table on a Linux build) are not overridden by it and are not reported. Builds in development
jobs are notes.

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
    let config_flags: Vec<ConfigFlags> = workspace
        .cargo_configs
        .iter()
        .filter(|config| is_in_workspace(&config.file.display_path))
        .flat_map(config_rustflags)
        .collect();
    if config_flags.is_empty() {
        return;
    }
    let mut reported = std::collections::BTreeSet::new();
    for entry in &workspace.entry_points {
        for (job, command) in entry.commands() {
            let Some(call) = cargo_call(command).filter(|c| c.builds()) else {
                continue;
            };
            let target = call
                .target()
                .map(str::to_string)
                .or_else(|| job.host_target.clone());
            let applying: Vec<&ConfigFlags> = config_flags
                .iter()
                .filter(|flags| flags.applies_to(target.as_deref()))
                .collect();
            let Some(first) = applying.first() else {
                continue;
            };
            for variable in OVERRIDING_VARIABLES {
                let Some(var) = command.env_value(variable) else {
                    continue;
                };
                if !reported.insert((entry.file.display_path.clone(), var.name_span.start)) {
                    continue;
                }
                let mut finding = Finding::new(
                    RULE.id,
                    format!(
                        "setting `{variable}` makes cargo ignore the rustflags of {}: they are replaced, not merged",
                        first.location.path
                    ),
                    entry.location(&var.name_span),
                )
                .help("keep all rustflags in one place: move these flags into the cargo config, or repeat the config's flags here");
                for flags in &applying {
                    finding = finding.note(format!(
                        "{} is set at {}:{}{}",
                        flags.place,
                        flags.location.path,
                        flags.location.line.unwrap_or(1),
                        match &target {
                            Some(t) if flags.key.is_some() =>
                                format!(" and applies to this build's target {t}"),
                            _ => String::new(),
                        }
                    ));
                }
                out.push(in_job(finding, job));
            }
        }
    }
}

/// Rustflags set in a config: `[build]` (`key` is `None`) or `[target.KEY]`.
struct ConfigFlags {
    place: String,
    key: Option<String>,
    location: Location,
}

impl ConfigFlags {
    /// Whether cargo uses these flags when building for `target` (`None`: unknown, so any).
    fn applies_to(&self, target: Option<&str>) -> bool {
        let (Some(key), Some(target)) = (&self.key, target) else {
            return true;
        };
        if !key.starts_with("cfg(") {
            return key == target;
        }
        // An expression or a target the tool cannot read may apply.
        let Ok(expression) = cfg_expr::Expression::parse(key) else {
            return true;
        };
        let Some(info) = cfg_expr::targets::get_builtin_target_by_triple(target) else {
            return true;
        };
        expression.eval(|predicate| match predicate {
            cfg_expr::Predicate::Target(tp) => tp.matches(info),
            _ => false,
        })
    }
}

/// True for configs inside the workspace (not a parent directory's or `$CARGO_HOME`'s).
fn is_in_workspace(display_path: &str) -> bool {
    !display_path.starts_with("..") && !display_path.starts_with('$')
}

/// `[build] rustflags` and `[target.*] rustflags` of a config, with where each is set.
fn config_rustflags(config: &TomlFile) -> Vec<ConfigFlags> {
    let mut out = Vec::new();
    if let Some(build) = config.get(&["build"]).and_then(|b| b.as_table_like())
        && build.contains_key("rustflags")
    {
        out.push(ConfigFlags {
            place: "`[build] rustflags`".to_string(),
            key: None,
            location: config.entry_location(build, "rustflags"),
        });
    }
    let targets = config.get(&["target"]).and_then(|t| t.as_table_like());
    for (target, table) in targets.into_iter().flat_map(|t| t.iter()) {
        if let Some(table) = table.as_table_like()
            && table.contains_key("rustflags")
        {
            out.push(ConfigFlags {
                place: format!("`[target.{target}] rustflags`"),
                key: Some(target.to_string()),
                location: config.entry_location(table, "rustflags"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(key: Option<&str>) -> ConfigFlags {
        ConfigFlags {
            place: String::new(),
            key: key.map(str::to_string),
            location: Location::file(".cargo/config.toml"),
        }
    }

    #[test]
    fn target_tables_apply_to_their_targets_only() {
        let linux = Some("x86_64-unknown-linux-gnu");
        assert!(flags(None).applies_to(linux));
        assert!(flags(Some("x86_64-unknown-linux-gnu")).applies_to(linux));
        assert!(!flags(Some("x86_64-pc-windows-msvc")).applies_to(linux));
        assert!(flags(Some("cfg(unix)")).applies_to(linux));
        assert!(!flags(Some("cfg(windows)")).applies_to(linux));
        assert!(
            flags(Some(
                "cfg(all(target_os = \"linux\", target_env = \"gnu\"))"
            ))
            .applies_to(linux)
        );
        assert!(
            flags(Some("x86_64-pc-windows-msvc")).applies_to(None),
            "unknown target: may apply"
        );
        assert!(
            flags(Some("cfg(not-valid")).applies_to(linux),
            "unreadable: may apply"
        );
    }
}
