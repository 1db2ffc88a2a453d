//! `cargo xtask dist [--verify]`: cargo-repro's own release, built through `cargo repro build
//! --release-artifacts` (the tool's main feature, dogfooded), into `target/dist/`.
//!
//! With `--verify`, the same commit is cloned to another path and built again there, with its
//! own target directory; the two `SHA256SUMS` must be identical.

use std::path::Path;

use crate::{cargo, project_root, step};

/// Builds the release (and, with `--verify`, a second one elsewhere) and compares.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let verify = args.iter().any(|a| a == "--verify");
    let root = project_root();
    let dirty = !duct::cmd!("git", "status", "--porcelain", "--untracked-files=no")
        .dir(&root)
        .read()?
        .is_empty();
    if dirty {
        step(
            "warning: the work tree has uncommitted changes; the release describes HEAD plus them",
        );
    }
    let first = build_release(&root)?;
    if !verify {
        return Ok(());
    }
    let other = root.join("target/dist-verify/elsewhere/cargo-repro");
    let _ = std::fs::remove_dir_all(root.join("target/dist-verify"));
    step("cloning HEAD to another path for the second build");
    duct::cmd!("git", "clone", "--quiet", &root, &other).run()?;
    let second = build_release(&other)?;
    if first == second {
        step("reproducible: both builds wrote the same SHA256SUMS");
        return Ok(());
    }
    anyhow::bail!(
        "not reproducible: the SHA256SUMS differ\n--- {}\n{first}--- {}\n{second}\nrun `cargo repro verify` (issue 5) or diffoscope on the two target/dist directories",
        root.display(),
        other.display()
    )
}

/// Builds the tool (in its own target directory), then lets it build and package itself;
/// returns `SHA256SUMS`.
fn build_release(checkout: &Path) -> anyhow::Result<String> {
    step(&format!("building the release in {}", checkout.display()));
    let tool_target = checkout.join("target/dist-tool");
    duct::cmd(
        cargo(),
        ["build", "--locked", "--release", "-q", "-p", "cargo-repro"],
    )
    .dir(checkout)
    .env("CARGO_TARGET_DIR", &tool_target)
    .run()?;
    let tool = tool_target.join("release/cargo-repro");
    let out = checkout.join("target/dist");
    duct::cmd(
        &tool,
        [
            "repro",
            "build",
            "-p",
            "cargo-repro",
            "--release-artifacts",
            "--out-dir",
        ],
    )
    .before_spawn(move |command| {
        command.arg(&out);
        Ok(())
    })
    .dir(checkout)
    .env_remove("CARGO_TARGET_DIR")
    .run()?;
    Ok(std::fs::read_to_string(
        checkout.join("target/dist/SHA256SUMS"),
    )?)
}
