//! `cargo xtask codegen [--check]`: generated files, with a check mode for CI.

use crate::{project_root, step};

/// Writes (or, with `check`, verifies) every generated file.
pub(crate) fn run(check: bool) -> anyhow::Result<()> {
    let path = project_root().join("docs/rules.md");
    let generated = cargo_repro::cmd::rules::rules_markdown();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == generated {
        step("docs/rules.md is up to date");
        return Ok(());
    }
    if check {
        anyhow::bail!("docs/rules.md is stale: run `cargo xtask codegen` and commit the result");
    }
    std::fs::create_dir_all(path.parent().expect("docs/ has a parent"))?;
    std::fs::write(&path, generated)?;
    step("wrote docs/rules.md");
    Ok(())
}
