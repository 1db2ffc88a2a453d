//! `git-dep-unpinned`: a git dependency without `rev`.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::toml_file::dependency_tables;
use crate::workspace::{TomlFile, Workspace};

pub static RULE: Rule = Rule {
    id: "git-dep-unpinned",
    default_level: Level::Warn,
    summary: "a git dependency is not pinned to a commit with `rev`",
    docs: r#"
### What it finds
A dependency, `[workspace.dependencies]` entry or `[patch]` entry with `git = …` and no
`rev = …` (following a branch, a tag or the default branch).

### Why it breaks reproducibility
`Cargo.lock` records the commit, but the manifest says "whatever the branch points to": the
next `cargo update`, or any build without `--locked`, moves to a different commit. Tags can be
moved too.

### Example
```toml
[dependencies]
foo = { git = "https://example.com/foo", branch = "main" }
```

### Fix
```toml
[dependencies]
foo = { git = "https://example.com/foo", rev = "0123456789abcdef0123456789abcdef01234567" }
```
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for manifest in workspace.manifests() {
        let root = manifest.root();
        let mut tables = dependency_tables(root);
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
        for (section, table) in tables {
            report_table(manifest, &section, table, out);
        }
    }
}

fn report_table(
    manifest: &TomlFile,
    section: &str,
    table: &dyn toml_edit::TableLike,
    out: &mut Vec<Finding>,
) {
    for (name, item) in table.iter() {
        let Some(git) = item.get("git") else { continue };
        if item.get("rev").is_some() {
            continue;
        }
        let selector = ["branch", "tag"]
            .into_iter()
            .find_map(|k| {
                item.get(k)
                    .and_then(|v| v.as_str())
                    .map(|v| format!("{k} `{v}`"))
            })
            .unwrap_or_else(|| "the default branch".to_string());
        let url = git.as_str().unwrap_or_default();
        out.push(
            Finding::new(
                RULE.id,
                format!("git dependency `{name}` in [{section}] follows {selector}, not a commit"),
                manifest.entry_location(table, name),
            )
            .note(format!("repository: {url}"))
            .help("pin it with `rev = \"<full commit hash>\"` (the one in Cargo.lock)"),
        );
    }
}
