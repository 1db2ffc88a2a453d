//! `toolchain-mismatch`: an entry point selects a different toolchain than the toolchain file.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::workspace::Workspace;
use crate::workspace::entry_points::{EntryKind, EntryPoint, shell_words};

pub static RULE: Rule = Rule {
    id: "toolchain-mismatch",
    default_level: Level::Warn,
    summary: "a build entry point selects a different toolchain than rust-toolchain.toml",
    docs: r#"
### What it finds
A build entry point that names a Rust toolchain other than the channel of
`rust-toolchain.toml`: a Dockerfile `FROM rust:<version>` image, `RUSTUP_TOOLCHAIN=…`,
`cargo +<toolchain> …`, `rustup default|toolchain install <toolchain>`, or a workflow's
`dtolnay/rust-toolchain@<toolchain>` / `toolchain: <toolchain>` input.

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
    for entry in &workspace.entry_points {
        for (line, toolchain, source) in selected_toolchains(entry) {
            if same_toolchain(&toolchain, &pinned) {
                continue;
            }
            let location = entry.file.find_on_line(line, &toolchain);
            out.push(
                Finding::new(
                    RULE.id,
                    format!("{source} selects toolchain `{toolchain}` but rust-toolchain.toml pins `{pinned}`"),
                    location,
                )
                .help(format!("use `{pinned}` here too, so every entry point builds with the pinned compiler")),
            );
        }
    }
}

/// The channel of the toolchain file, without a host suffix.
fn pinned_channel(workspace: &Workspace) -> Option<String> {
    let toolchain = workspace.toolchain.as_ref()?;
    let channel = match &toolchain.toml {
        Some(toml) => toml.get(&["toolchain", "channel"])?.as_str()?.to_string(),
        None => toolchain.file.text.trim().to_string(),
    };
    Some(channel)
}

/// Equal up to a host suffix (`1.95.0-x86_64-unknown-linux-gnu`).
fn same_toolchain(selected: &str, pinned: &str) -> bool {
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

/// `(line, toolchain, what selects it)` for every toolchain an entry point names.
fn selected_toolchains(entry: &EntryPoint) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    for logical in entry.logical_lines() {
        let words = shell_words(&logical.text);
        let line_of = |needle: &str| entry.line_containing(logical.line, needle);
        if entry.kind == EntryKind::Dockerfile
            && words
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
            && let Some(image) = words.iter().skip(1).find(|w| !w.starts_with("--"))
            && let Some(version) = rust_image_version(image)
        {
            let shown = image.split('@').next().unwrap_or(image);
            found.push((line_of(&version), version, format!("image `{shown}`")));
        }
        for (index, word) in words.iter().enumerate() {
            if let Some(value) = word.strip_prefix("RUSTUP_TOOLCHAIN=") {
                found.push((
                    line_of(word),
                    value.to_string(),
                    "RUSTUP_TOOLCHAIN".to_string(),
                ));
            }
            if word == "cargo"
                && let Some(plus) = words.get(index + 1).and_then(|w| w.strip_prefix('+'))
            {
                found.push((
                    line_of(&format!("+{plus}")),
                    plus.to_string(),
                    format!("`cargo +{plus}`"),
                ));
            }
            if word == "rustup" {
                let rest: Vec<&str> = words[index + 1..].iter().map(String::as_str).collect();
                let toolchain = match rest.as_slice() {
                    ["default", t, ..] => Some(*t),
                    ["toolchain", "install", t, ..] => Some(*t),
                    _ => None,
                };
                if let Some(t) = toolchain.filter(|t| !t.starts_with('-')) {
                    found.push((line_of(t), t.to_string(), format!("`rustup {}`", rest[0])));
                }
            }
            if let Some(action) = word.strip_prefix("dtolnay/rust-toolchain@") {
                found.push((line_of(word), action.to_string(), format!("`{word}`")));
            }
        }
        if entry.kind == EntryKind::Workflow
            && let Some(value) = logical.text.trim().strip_prefix("toolchain:")
        {
            let value = value.trim().trim_matches(['"', '\'']);
            if !value.is_empty() && !value.contains("${{") {
                found.push((
                    logical.line,
                    value.to_string(),
                    "the workflow's `toolchain:` input".to_string(),
                ));
            }
        }
    }
    found
}

/// `1.95.0` from `rust:1.95.0-slim`, `docker.io/library/rust:1.95@sha256:…`; `None` for other images
/// or tags without a version.
fn rust_image_version(image: &str) -> Option<String> {
    let image = image.split('@').next()?;
    let (name, tag) = image.rsplit_once(':')?;
    let name = name.rsplit('/').next()?;
    if name != "rust" {
        return None;
    }
    let version: String = tag
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.').to_string();
    (!version.is_empty()).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_versions() {
        assert_eq!(
            rust_image_version("rust:1.95.0-slim-bookworm").as_deref(),
            Some("1.95.0")
        );
        assert_eq!(
            rust_image_version("docker.io/library/rust:1.94@sha256:abc").as_deref(),
            Some("1.94")
        );
        assert_eq!(rust_image_version("rust:latest"), None);
        assert_eq!(rust_image_version("debian:12"), None);
    }

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
