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
A profile that release builds use (in the root `Cargo.toml` or a `.cargo/config.toml`) that
leaves `codegen-units` unset (cargo's default is 16) or sets it above 1. The profiles are the
ones the release entry points build with: `--release` is `[profile.release]`, `--profile NAME`
follows NAME's `inherits` chain, `dist build` uses `[profile.dist]`; with no release entry
point, `[profile.release]`. When every release build of the profile sets
`CARGO_PROFILE_<NAME>_CODEGEN_UNITS=1` or `-C codegen-units=1` in RUSTFLAGS, the finding is a
note naming where. A workspace with no binary target and no release entry point (a library)
gets a note, and so does one whose CI workflows make no release (see "Roles").

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
    let library = !workspace.ships_binaries();
    for profile in workspace.release_profiles() {
        let mut finding = match workspace.profile_setting(&profile, "codegen-units") {
            Some(setting) if setting.item.as_integer() == Some(1) => None,
            Some(setting) => {
                let shown = setting
                    .item
                    .as_value()
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let what = if profile == "release" {
                    "release builds use".to_string()
                } else {
                    format!("release builds use profile `{profile}` with")
                };
                Some(
                    Finding::new(
                        RULE.id,
                        format!("{what} codegen-units = {}", shown.trim()),
                        setting.file.entry_location(setting.table, "codegen-units"),
                    )
                    .help(help),
                )
            }
            None => {
                let manifest = &workspace.root_manifest;
                let table = manifest
                    .get(&["profile", &profile])
                    .and_then(|t| t.as_table());
                let location = match table {
                    Some(table) => manifest.table_location(table),
                    None => crate::diag::Location::file(manifest.file.display_path.clone()),
                };
                let message = if profile == "release" {
                    "the release profile leaves codegen-units at cargo's default of 16".to_string()
                } else {
                    format!(
                        "profile `{profile}`, which release builds use, leaves codegen-units at cargo's default of 16"
                    )
                };
                Some(Finding::new(RULE.id, message, location).help(help))
            }
        };
        if let Some(setting) = workspace.env_profile_setting(&profile, "codegen-units")
            && let Some(found) = finding.take()
        {
            finding = Some(if setting.value == "1" {
                found.mitigated(format!(
                    "mitigated: every release build of this profile sets codegen-units=1 in its environment ({})",
                    setting.place
                ))
            } else {
                found.note(format!(
                    "release builds set codegen-units={} at {}",
                    setting.value, setting.place
                ))
            });
        }
        if let Some(mut found) = finding {
            if library {
                found = found.mitigated("this workspace has no binary target and no release entry point: nothing built with this profile is released");
            } else {
                found = workspace.about_release(found);
            }
            out.push(found);
        }
    }
}
