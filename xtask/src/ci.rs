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
    prerequisites(&root)?;
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

/// What the tests need besides cargo: the musl target of the pinned toolchain (added here, as
/// `rustup target add` does nothing when it is there), and the real signers, named with the
/// command that installs them when missing, and securesystemslib, the independent DSSE verifier.
fn prerequisites(root: &std::path::Path) -> anyhow::Result<()> {
    step("prerequisites (musl target, gpg, ssh-keygen, dpkg-deb, lintian, securesystemslib)");
    // In the project root, rust-toolchain.toml selects the pinned toolchain, so the target is
    // added to that one.
    duct::cmd("rustup", ["target", "add", "x86_64-unknown-linux-musl"])
        .dir(root)
        .run()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot add the x86_64-unknown-linux-musl target ({e}); the static-musl release \
                 test needs it: install rustup (https://rustup.rs), then run \
                 `rustup target add x86_64-unknown-linux-musl` here"
            )
        })?;
    let missing: Vec<String> = [
        ("gpg", "gnupg"),
        ("ssh-keygen", "openssh-client"),
        ("dpkg-deb", "dpkg"),
        ("lintian", "lintian"),
    ]
    .into_iter()
    .filter(|(tool, _)| !on_path(tool))
    .map(|(tool, package)| format!("{tool} (install: `apt-get install -y {package}`)"))
    .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the tests run the real signers and Debian tools, and these are missing: {}",
            missing.join(", ")
        );
    }
    // The DSSE test verifies envelopes with securesystemslib (Python), independent of our code.
    let python = duct::cmd!("python3", "-c", "import securesystemslib, cryptography")
        .stdout_null()
        .stderr_null()
        .unchecked()
        .run();
    if !python.is_ok_and(|out| out.status.success()) {
        anyhow::bail!(
            "the DSSE signing test verifies with Python's securesystemslib, which is missing: \
             install python3 (`apt-get install -y python3 python3-pip`), then \
             `python3 -m pip install 'securesystemslib==1.*' cryptography`"
        );
    }
    Ok(())
}

/// True when `tool` is an executable file in a `$PATH` directory.
fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}
