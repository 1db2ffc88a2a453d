//! `cargo xtask ci`: the whole gate, exactly as CI runs it.

use crate::{cargo, project_root, step};

/// A step: its name, cargo's arguments, and extra environment.
type Step<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);

/// Runs every check in order and stops at the first failure.
pub(crate) fn run() -> anyhow::Result<()> {
    let root = project_root();
    let cargo = cargo();
    let steps: [Step<'_>; 5] = [
        ("format", vec!["fmt", "--all", "--", "--check"], vec![]),
        (
            "clippy (warnings denied)",
            vec![
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            vec![],
        ),
        ("tests", vec!["test", "--workspace", "--locked"], vec![]),
        (
            "docs",
            vec!["doc", "--workspace", "--no-deps", "--locked"],
            vec![("RUSTDOCFLAGS", "-D warnings")],
        ),
        (
            "self-audit",
            vec![
                "run",
                "--locked",
                "-q",
                "-p",
                "cargo-repro",
                "--",
                "repro",
                "check",
                "--deny",
                "warnings",
            ],
            vec![],
        ),
    ];
    for (name, args, env) in steps {
        step(name);
        let mut command = duct::cmd(&cargo, &args).dir(&root);
        for (key, value) in env {
            command = command.env(key, value);
        }
        command
            .run()
            .map_err(|e| anyhow::anyhow!("{name} failed: {e}"))?;
    }
    crate::codegen::run(true)?;
    step("ci passed");
    Ok(())
}
