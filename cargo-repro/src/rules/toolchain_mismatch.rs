//! `toolchain-mismatch`: an entry point selects a different toolchain than the toolchain file.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::toolchain_unpinned::is_exact;
use crate::workspace::Workspace;
use crate::workspace::entry_points::in_job;
use crate::workspace::entry_points::toolchains::choices;

pub static RULE: Rule = Rule {
    id: "toolchain-mismatch",
    default_level: Level::Warn,
    summary: "a build entry point selects a different toolchain than rust-toolchain.toml",
    docs: r#"
### What it finds
A build entry point that names a Rust toolchain other than the exact channel of the
toolchain file (`rust-toolchain.toml` or `rust-toolchain`): a `FROM rust:<version>` image,
`RUSTUP_TOOLCHAIN=…`, `cargo +<toolchain> …`, `rustup default|toolchain install|run
<toolchain>`, or a workflow's toolchain action: the `toolchain:` input of
`dtolnay/rust-toolchain`, `actions-rs/toolchain` or `actions-rust-lang/setup-rust-toolchain`,
else the ref of `dtolnay/rust-toolchain@<toolchain>`; an action pinned by commit SHA is read
from its version comment (`@<sha> # 1.95.0`), never from the SHA. One step gives one finding.

Not reported: values the tool cannot know (`+$(cat rust-toolchain)` reads the file itself),
a job on the `rust-version` of a manifest (an MSRV check), and every entry point while the
file itself floats: that is `toolchain-unpinned`'s finding, which names the release entry
points that do pin a version. Choices in development jobs are notes.

### Why it breaks reproducibility
The release is then built with a compiler nobody audited: `RUSTUP_TOOLCHAIN` and `+toolchain`
override the file, images without rustup ignore it entirely, and a `rust:1.94` image with a
`1.95.0` file makes rustup download another compiler during the build. Two entry points that
disagree produce two different binaries from the same commit.

### Example
```dockerfile
FROM rust:1.94.0-slim   # while rust-toolchain.toml says channel = "1.95.0"
```

### Fix
Keep one source of truth: use the toolchain file's exact version everywhere (image tag,
workflow inputs, `RUSTUP_TOOLCHAIN`), or drop the override.
"#,
    heuristic: false,
    uses_graph: false,
    pre_commit: false,
    check,
};

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let Some(pinned) = pinned_channel(workspace) else {
        return;
    };
    if !is_exact(&pinned) {
        // A floating file is `toolchain-unpinned`'s finding, which names the entry points
        // that pin a version: telling them to follow the file would make them float too.
        return;
    }
    let file_name = workspace
        .toolchain
        .as_ref()
        .map_or("rust-toolchain.toml", |t| t.file.display_path.as_str());
    let msrv = rust_versions(workspace);
    for entry in &workspace.entry_points {
        let mut steps_reported = std::collections::BTreeSet::new();
        for choice in choices(entry) {
            if same_toolchain(&choice.toolchain, &pinned) {
                continue;
            }
            if msrv
                .iter()
                .any(|v| same_toolchain(&choice.toolchain, v) || choice.toolchain == *v)
            {
                // A job on the `rust-version` of the manifest is an MSRV check.
                continue;
            }
            if let Some(step) = choice.step
                && !steps_reported.insert((choice.job.name.clone(), step))
            {
                continue;
            }
            let finding = Finding::new(
                RULE.id,
                format!(
                    "{} selects toolchain `{}` but {file_name} pins `{pinned}`",
                    choice.source, choice.toolchain
                ),
                entry.location(&choice.span),
            )
            .help(format!(
                "use `{pinned}` here too, so every entry point builds with the pinned compiler"
            ));
            out.push(in_job(finding, choice.job));
        }
    }
}

/// The `rust-version`s of the workspace and its members.
fn rust_versions(workspace: &Workspace) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let manifests = std::iter::once(&workspace.root_manifest)
        .chain(workspace.members.iter().map(|m| &m.manifest));
    for manifest in manifests {
        for path in [
            &["package", "rust-version"][..],
            &["workspace", "package", "rust-version"][..],
        ] {
            if let Some(version) = manifest.get(path).and_then(|v| v.as_str()) {
                out.push(version.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The channel of the toolchain file, without a host suffix.
pub fn pinned_channel(workspace: &Workspace) -> Option<String> {
    let toolchain = workspace.toolchain.as_ref()?;
    let channel = match &toolchain.toml {
        Some(toml) => toml.get(&["toolchain", "channel"])?.as_str()?.to_string(),
        None => toolchain.file.text.trim().to_string(),
    };
    Some(channel)
}

/// Equal up to a host suffix (`1.95.0-x86_64-unknown-linux-gnu`).
pub fn same_toolchain(selected: &str, pinned: &str) -> bool {
    let strip = |s: &str| -> String {
        let parts: Vec<&str> = s.split('-').collect();
        match parts.first() {
            Some(first) if first.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                first.to_string()
            }
            Some(name) if parts.len() >= 4 && parts[1].len() == 4 => {
                format!("{name}-{}-{}-{}", parts[1], parts[2], parts[3])
            }
            Some(name) => name.to_string(),
            None => String::new(),
        }
    };
    strip(selected) == strip(pinned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchains_compare_without_host() {
        assert!(same_toolchain("1.95.0", "1.95.0"));
        assert!(same_toolchain("1.95.0-x86_64-unknown-linux-gnu", "1.95.0"));
        assert!(!same_toolchain("1.95", "1.95.0"));
        assert!(!same_toolchain("stable", "1.95.0"));
        assert!(same_toolchain(
            "nightly-2026-05-01",
            "nightly-2026-05-01-x86_64-unknown-linux-gnu"
        ));
    }
}
