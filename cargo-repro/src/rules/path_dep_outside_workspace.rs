//! `path-dep-outside-workspace`: a path dependency or patch outside the workspace root.

use std::path::Path;

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::toml_file::dependency_tables;
use crate::workspace::{Workspace, normalize};

pub static RULE: Rule = Rule {
    id: "path-dep-outside-workspace",
    default_level: Level::Warn,
    summary: "a path dependency or patch lies outside the workspace root",
    docs: r#"
### What it finds
A `path = …` dependency, `[workspace.dependencies]` entry or `[patch]`/`[replace]` entry whose
directory is outside the workspace root. Dev-dependencies are left out: they never reach a
release binary.

### Why it breaks reproducibility
Cargo hashes the package id of a path package into `-C metadata`, relative to the workspace
root for packages inside it but as an absolute path for packages outside it
(rust-lang/cargo#3611, #13586). The absolute path changes every symbol name, so two checkouts
at different paths produce different binaries.

### Example
```toml
[dependencies]
shared = { path = "../shared" }
```

### Fix
Move the crate into the workspace (or vendor it under `vendor/`), or make it a git or
registry dependency.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for manifest in workspace.manifests() {
        let dir = manifest.file.abs_path.parent().unwrap_or(Path::new("."));
        let root = manifest.root();
        let mut tables: Vec<(String, &dyn toml_edit::TableLike)> = dependency_tables(root)
            .into_iter()
            .filter(|(name, _)| !name.contains("dev"))
            .collect();
        if let Some(deps) = root
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.as_table_like())
        {
            tables.push(("workspace.dependencies".to_string(), deps));
        }
        if let Some(patches) = root.get("patch").and_then(|p| p.as_table_like()) {
            for (registry, item) in patches.iter() {
                if let Some(table) = item.as_table_like() {
                    tables.push((format!("patch.{registry}"), table));
                }
            }
        }
        if let Some(replace) = root.get("replace").and_then(|r| r.as_table_like()) {
            tables.push(("replace".to_string(), replace));
        }
        for (section, table) in tables {
            for (name, item) in table.iter() {
                let Some(path) = item.get("path").and_then(|p| p.as_str()) else {
                    continue;
                };
                let target = normalize(&dir.join(path));
                if workspace.contains(&target) {
                    continue;
                }
                out.push(
                    Finding::new(
                        RULE.id,
                        format!("`{name}` in [{section}] points outside the workspace: `{path}`"),
                        manifest.entry_location(table, name),
                    )
                    .note("cargo hashes the absolute path of such a package into every symbol name")
                    .help("move the crate inside the workspace root (for example under vendor/) or depend on a published version"),
                );
            }
        }
    }
    for config in &workspace.cargo_configs {
        if let Some(paths) = config.root().get("paths").and_then(|p| p.as_array()) {
            for value in paths.iter() {
                let Some(path) = value.as_str() else { continue };
                let base = config.cargo_config_base();
                if !workspace.contains(&normalize(&base.join(path))) {
                    let location = value
                        .span()
                        .map(|s| config.file.location(s))
                        .unwrap_or_else(|| {
                            crate::diag::Location::file(config.file.display_path.clone())
                        });
                    out.push(
                        Finding::new(
                            RULE.id,
                            format!("path override `{path}` lies outside the workspace"),
                            location,
                        )
                        .help("use a `[patch]` entry pointing inside the workspace instead"),
                    );
                }
            }
        }
    }
}
