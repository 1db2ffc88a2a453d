//! The Rust toolchains entry points select: `rust:` images, `RUSTUP_TOOLCHAIN`, `cargo +X`,
//! `rustup default|toolchain install|run X`, and toolchain actions with their inputs.

use std::ops::Range;

use super::cargo::cargo_call;
use super::{EntryPoint, Job};

/// One place where an entry point picks a toolchain.
#[derive(Clone, Debug)]
pub struct ToolchainChoice<'a> {
    pub job: &'a Job,
    /// The toolchain as written (`1.95.0`, `stable`, `nightly-2026-05-01`).
    pub toolchain: String,
    /// What selects it, for messages: "image `rust:1.94-slim`", "`cargo +nightly`".
    pub source: String,
    pub span: Range<usize>,
    /// The workflow step, so one step gives one finding.
    pub step: Option<usize>,
}

/// Actions that install a toolchain named by their `toolchain` input.
const TOOLCHAIN_ACTIONS: &[&str] = &[
    "dtolnay/rust-toolchain",
    "actions-rs/toolchain",
    "actions-rust-lang/setup-rust-toolchain",
];

/// True for a full commit SHA.
pub fn is_commit_sha(reference: &str) -> bool {
    reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit())
}

/// Every toolchain the entry point selects, in file order.
pub fn choices(entry: &EntryPoint) -> Vec<ToolchainChoice<'_>> {
    let mut out = Vec::new();
    for job in &entry.jobs {
        let mut push =
            |toolchain: &str, source: String, span: Range<usize>, step: Option<usize>| {
                if !toolchain.is_empty() && !super::shell::is_dynamic(toolchain) {
                    out.push(ToolchainChoice {
                        job,
                        toolchain: toolchain.to_string(),
                        source,
                        span,
                        step,
                    });
                }
            };
        for image in &job.images {
            if let Some((version, at)) = rust_image_version(&image.image.text) {
                let shown = image.image.text.split('@').next().unwrap_or_default();
                let start = image.image.span.start + at;
                push(
                    &version,
                    format!("image `{shown}`"),
                    start..start + version.len(),
                    None,
                );
            }
        }
        for var in &job.env {
            if var.name == "RUSTUP_TOOLCHAIN" {
                push(
                    &var.value.text,
                    "RUSTUP_TOOLCHAIN".to_string(),
                    var.value.span.clone(),
                    None,
                );
            }
        }
        for command in &job.commands {
            for word in &command.assignments {
                if let Some(("RUSTUP_TOOLCHAIN", value)) = word.assignment() {
                    let start = word.span.end - value.len();
                    push(
                        value,
                        "RUSTUP_TOOLCHAIN".to_string(),
                        start..word.span.end,
                        command.step,
                    );
                }
            }
            if let Some(call) = cargo_call(command)
                && let Some(plus) = call.toolchain
            {
                let name = &plus.text[1..];
                push(
                    name,
                    format!("`{} +{name}`", call.program),
                    plus.span.start + 1..plus.span.end,
                    command.step,
                );
            }
            let prefix: Vec<&str> = command.prefix.iter().map(|w| w.text.as_str()).collect();
            if let Some(at) = prefix.windows(2).position(|w| w == ["rustup", "run"])
                && let Some(word) = command.prefix.get(at + 2)
            {
                push(
                    &word.text,
                    "`rustup run`".to_string(),
                    word.span.clone(),
                    command.step,
                );
            }
            if command.program_name() == "rustup" {
                let args = command.args();
                let texts: Vec<&str> = args.iter().map(|w| w.text.as_str()).collect();
                let chosen = match texts.as_slice() {
                    ["default", t, ..] if !t.starts_with('-') => Some((&args[1], "default")),
                    ["toolchain", "install", t, ..] if !t.starts_with('-') => {
                        Some((&args[2], "toolchain"))
                    }
                    ["override", "set", t, ..] if !t.starts_with('-') => {
                        Some((&args[2], "override"))
                    }
                    _ => None,
                };
                if let Some((word, verb)) = chosen {
                    push(
                        &word.text,
                        format!("`rustup {verb}`"),
                        word.span.clone(),
                        command.step,
                    );
                }
            }
        }
        for action in &job.actions {
            let (name, reference) = action.name_and_ref();
            if !TOOLCHAIN_ACTIONS.contains(&name) {
                continue;
            }
            if let Some(input) = action.input("toolchain") {
                push(
                    &input.text,
                    format!("the `toolchain:` input of `{name}`"),
                    input.span.clone(),
                    action.step,
                );
                continue;
            }
            let Some(reference) = reference else { continue };
            if name != "dtolnay/rust-toolchain" {
                continue;
            }
            if is_commit_sha(reference) {
                // Pinned by commit: the toolchain is in the version comment (`# 1.95.0`).
                let version = action.comment.as_deref().and_then(|c| {
                    c.split_whitespace().find(|w| {
                        w.starts_with(|ch: char| ch.is_ascii_digit())
                            || matches!(*w, "stable" | "beta" | "nightly")
                    })
                });
                if let Some(version) = version {
                    push(
                        version,
                        format!("`{name}` (pinned by commit, `# {version}`)"),
                        action.uses.span.clone(),
                        action.step,
                    );
                }
            } else if !matches!(reference, "master" | "main" | "v1") {
                let start = action.uses.span.end - reference.len();
                push(
                    reference,
                    format!("`{}`", action.uses.text),
                    start..action.uses.span.end,
                    action.step,
                );
            }
        }
    }
    out
}

/// `1.95.0` from `rust:1.95.0-slim`, `docker.io/library/rust:1.95@sha256:…`, with its offset in
/// the reference; `None` for other images or tags without a version.
pub fn rust_image_version(image: &str) -> Option<(String, usize)> {
    let without_digest = image.split('@').next()?;
    let (name, tag) = without_digest.rsplit_once(':')?;
    // `rust`, and images whose tag is the Rust version: StageX's `pallet-rust`, `muslrust`.
    let base = name.rsplit('/').next()?;
    if !(base == "rust" || base.ends_with("-rust") || base == "muslrust") {
        return None;
    }
    let version: String = tag
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.').to_string();
    (!version.is_empty()).then(|| (version, name.len() + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::EntryKind;

    #[test]
    fn image_versions() {
        assert_eq!(
            rust_image_version("rust:1.95.0-slim-bookworm").unwrap().0,
            "1.95.0"
        );
        assert_eq!(
            rust_image_version("docker.io/library/rust:1.94@sha256:abc").unwrap(),
            ("1.94".to_string(), 23)
        );
        assert_eq!(rust_image_version("rust:latest"), None);
        assert_eq!(
            rust_image_version("stagex/pallet-rust:1.91.1@sha256:40").unwrap(),
            ("1.91.1".to_string(), 19)
        );
        assert_eq!(rust_image_version("debian:12"), None);
    }

    #[test]
    fn actions_pinned_by_commit_use_their_comment_or_input() {
        let entry = EntryPoint::from_text(
            EntryKind::Workflow,
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n\
             \x20     - uses: dtolnay/rust-toolchain@4305c38b25d97ef35a8ad1f985ccf2d2242004f2 # 1.94.0\n\
             \x20     - uses: dtolnay/rust-toolchain@1f3ef8ebdfae0e0d9e1af2f11a8e3f2f0bf8e1b2\n        with:\n          toolchain: nightly-2026-01-01\n\
             \x20     - uses: dtolnay/rust-toolchain@stable\n\
             \x20     - run: cargo +$(cat rust-toolchain) build && rustup run 1.90.0 cargo test\n",
        );
        let found: Vec<_> = choices(&entry)
            .into_iter()
            .map(|c| (c.toolchain, c.step))
            .collect();
        assert_eq!(
            found,
            [
                ("1.90.0".to_string(), Some(3)),
                ("1.94.0".to_string(), Some(0)),
                ("nightly-2026-01-01".to_string(), Some(1)),
                ("stable".to_string(), Some(2)),
            ]
        );
    }
}
