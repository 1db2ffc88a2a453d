//! `cargo repro hook install`: the git pre-commit hook that runs `check --pre-commit`.

use std::io::Write;

use crate::cli::{HookCommand, HookInstallArgs};
use crate::exit_code;
use crate::transaction::write_atomically;
use crate::workspace::{LoadOptions, Workspace, source_file::io_reason};

/// The line that marks a hook as ours.
pub const MARKER: &str = "# installed by cargo-repro";

/// Runs a `hook` subcommand.
pub fn run(command: &HookCommand, err: &mut dyn Write) -> anyhow::Result<u8> {
    match command {
        HookCommand::Install(args) => install(args, err),
    }
}

fn install(args: &HookInstallArgs, err: &mut dyn Write) -> anyhow::Result<u8> {
    let workspace = Workspace::load(&LoadOptions {
        manifest_path: args.manifest_path.clone(),
        offline: true,
        lockfile_only: true,
    })?;
    let hooks = duct::cmd!("git", "rev-parse", "--git-path", "hooks")
        .dir(&workspace.root)
        .stderr_null()
        .unchecked()
        .stdout_capture()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run git: {}", io_reason(&e)))?;
    if !hooks.status.success() {
        anyhow::bail!("the workspace is not in a git repository; run `git init` first");
    }
    let hooks_dir = workspace
        .root
        .join(String::from_utf8_lossy(&hooks.stdout).trim());
    let hook = hooks_dir.join("pre-commit");
    let shown = ".git/hooks/pre-commit";
    // Anything there that is not a readable hook of ours (another hook, a symlink elsewhere, a
    // special file) is kept unless --force says otherwise.
    if crate::guard::read::present(&hook) && !args.force {
        let ours = crate::guard::read::read_bytes(&hook, crate::guard::read::LIMIT)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(MARKER));
        let link = std::fs::symlink_metadata(&hook).is_ok_and(|m| m.file_type().is_symlink());
        if !ours || link {
            anyhow::bail!(
                "{shown} exists and was not written by cargo-repro; pass --force to replace it"
            );
        }
    }
    std::fs::create_dir_all(&hooks_dir)
        .map_err(|e| anyhow::anyhow!("cannot create the git hooks directory: {}", io_reason(&e)))?;
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find this program's path: {}", io_reason(&e)))?;
    let script = format!(
        "#!/bin/sh\n{MARKER}: refuses a commit that leaves Cargo.lock stale or a vendored patch drifted.\n\
         # Reinstall with `cargo repro hook install`; bypass once with `git commit --no-verify`.\n\
         if command -v cargo-repro >/dev/null 2>&1; then\n    exec cargo-repro repro check --pre-commit\nfi\n\
         exec '{}' repro check --pre-commit\n",
        exe.display().to_string().replace('\'', "'\\''")
    );
    write_atomically(&hook, shown, script.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| anyhow::anyhow!("cannot make {shown} executable: {}", io_reason(&e)))?;
    }
    writeln!(
        err,
        "    Installed {shown}: commits now run `cargo repro check --pre-commit`"
    )?;
    Ok(exit_code::SUCCESS)
}
