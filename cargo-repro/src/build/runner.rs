//! Runs the normalised `cargo build --release --locked` with a [`BuildEnv`], passes cargo's
//! stderr through line by line while scanning it, and reports the binaries produced.
//!
//! The umask is set to 022 by running cargo through `sh -c 'umask 022 && exec "$0" "$@"'`
//! on unix: the workspace forbids `unsafe`, which `CommandExt::pre_exec` would need. Cargo's
//! stdout (JSON messages, `--message-format=json-render-diagnostics`) is captured; cargo
//! itself renders rustc's diagnostics onto its stderr, which the user sees.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write};
use std::path::{Path, PathBuf};

use cargo_metadata::{Message, TargetKind};

use super::env::BuildEnv;
use super::native_flags::{scan_build_script_outputs, scan_native_flags};
use crate::config::CliOverrides;
use crate::diag::Level;
use crate::rules::Selection;
use crate::workspace::source_file::io_reason;
use crate::workspace::{Workspace, display_path};

/// The rules whose deny-level findings make [`preflight`] refuse to build.
pub const PREFLIGHT_RULES: &[&str] = &[
    "lockfile-missing",
    "lockfile-stale",
    "target-cpu-native",
    "toolchain-unpinned",
];

/// What to build, as `cargo repro build` takes it.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// `-p`.
    pub package: Option<String>,
    /// `--bin`, repeatable.
    pub bins: Vec<String>,
    /// `--target`; must match the [`BuildEnv`]'s. `None` takes the environment's (the target
    /// cargo would take from `CARGO_BUILD_TARGET` or `[build] target`), passed explicitly.
    pub target: Option<String>,
    /// `--features`, repeatable.
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    pub offline: bool,
    /// Build even when [`preflight`] would refuse.
    pub allow_unpinned: bool,
}

/// A binary the build produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binary {
    /// The `[[bin]]` target name.
    pub name: String,
    /// Absolute path of the executable.
    pub path: PathBuf,
    /// The path relative to the workspace root, for output.
    pub display: String,
}

/// The result of a successful build.
#[derive(Clone, Debug, Default)]
pub struct BuildOutcome {
    /// Sorted by name, then path.
    pub binaries: Vec<Binary>,
    /// Cargo's JSON messages, one per line, as cargo printed them.
    pub messages: Vec<u8>,
}

/// The arguments after `cargo`.
pub fn cargo_args(options: &BuildOptions) -> Vec<String> {
    let mut args: Vec<String> = ["build", "--release", "--locked"]
        .map(String::from)
        .to_vec();
    if options.offline {
        args.push("--offline".into());
    }
    if let Some(package) = &options.package {
        args.extend(["-p".into(), package.clone()]);
    }
    for bin in &options.bins {
        args.extend(["--bin".into(), bin.clone()]);
    }
    if let Some(target) = &options.target {
        args.extend(["--target".into(), target.clone()]);
    }
    for feature in &options.features {
        args.extend(["--features".into(), feature.clone()]);
    }
    if options.all_features {
        args.push("--all-features".into());
    }
    if options.no_default_features {
        args.push("--no-default-features".into());
    }
    args.push("--message-format=json-render-diagnostics".into());
    args.push("--verbose".into());
    args
}

/// Runs `cargo generate-lockfile` in `root`; cargo's reason, if it fails, is shown without
/// machine paths.
fn generate_lockfile(root: &Path, cargo_home: &Path, offline: bool) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut args = vec!["generate-lockfile", "--quiet"];
    if offline {
        args.push("--offline");
    }
    let output = duct::cmd(cargo, args)
        .dir(root)
        .stdout_null()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| anyhow::anyhow!("cannot run cargo: {}", io_reason(&e)))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("cargo failed");
        anyhow::bail!(
            "there is no Cargo.lock and cargo could not generate one: {}",
            crate::workspace::scrub_paths(reason.trim_start_matches("error: "), root, cargo_home)
        );
    }
    Ok(())
}

/// Refuses to build when `cargo repro check` reports, at deny level, a rule that makes the
/// build unrepeatable ([`PREFLIGHT_RULES`]).
pub fn preflight(workspace: &Workspace) -> anyhow::Result<()> {
    let overrides = CliOverrides {
        only: PREFLIGHT_RULES.iter().map(|r| r.to_string()).collect(),
        ..CliOverrides::default()
    };
    let report = crate::cmd::check::audit_workspace(workspace, &overrides, Selection::All)?;
    let denied: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| PREFLIGHT_RULES.contains(&f.rule))
        .filter(|f| {
            // A floating toolchain file is a note when the release entry points pin their own
            // compiler, or when no entry point makes a release; this build runs here, with the
            // file, so it still refuses.
            f.level == Level::Deny
                || (f.rule == crate::rules::toolchain_unpinned::RULE.id
                    && (f.mitigated || f.development))
        })
        .map(|f| f.rule)
        .collect();
    if denied.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = denied.into_iter().collect();
    anyhow::bail!(
        "refusing to build: `cargo repro check` reports {} at deny level; fix them (see `cargo repro check`) or pass --allow-unpinned",
        names.join(", ")
    )
}

/// Lines that cargo prints only because of `--verbose` (needed for the native-flag scan, but
/// noise for the user): the rustc and build-script command lines, `Fresh` units, and why a unit
/// is `Dirty`.
fn is_verbose_only(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.starts_with("Running `")
        || trimmed.starts_with("Fresh ")
        || trimmed.starts_with("Dirty ")
}

/// Runs the build: [`preflight`] (unless `allow_unpinned`), then cargo with `env`, passing
/// cargo's stderr to `err`. Fails when cargo fails or its output shows a CPU-native flag.
pub fn build(
    workspace: &Workspace,
    options: &BuildOptions,
    env: &BuildEnv,
    err: &mut dyn Write,
) -> anyhow::Result<BuildOutcome> {
    let options = &BuildOptions {
        target: options.target.clone().or_else(|| env.target.clone()),
        ..options.clone()
    };
    if options.target != env.target {
        anyhow::bail!(
            "the build environment was computed for target {}, but the build is for {}",
            env.target.as_deref().unwrap_or("host"),
            options.target.as_deref().unwrap_or("host")
        );
    }
    if !options.allow_unpinned {
        preflight(workspace)?;
    }
    // `--allow-unpinned` without a lockfile (a crate fresh from `cargo new`): the build is
    // still `--locked`, so the lockfile is resolved first, and the user is told to commit it.
    if !crate::guard::read::present(&workspace.root.join("Cargo.lock")) {
        generate_lockfile(&workspace.root, &workspace.cargo_home, options.offline)?;
        writeln!(
            err,
            "warning: there was no Cargo.lock: generated one (its hash is in the provenance); commit it, so that a rebuild resolves the same versions"
        )?;
    }
    let (log, messages, status) = run_cargo(&workspace.root, &cargo_args(options), env, err)?;
    let (root, cargo_home) = (&workspace.root, &workspace.cargo_home);
    let mut native = scan_native_flags(&log, root, cargo_home);
    native.extend(scan_build_script_outputs(&messages, root, cargo_home));
    if let Some(first) = native.first() {
        anyhow::bail!(
            "the build compiled code for the build machine's CPU ({} line{} in the output of cargo and build scripts); first: {first}; remove the native CPU flag (see `cargo repro explain target-cpu-native`)",
            native.len(),
            if native.len() == 1 { "" } else { "s" }
        );
    }
    if !status.success() {
        let code = status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| format!("exit code {c}"));
        anyhow::bail!("cargo build failed with {code}; cargo's messages are above");
    }
    Ok(BuildOutcome {
        binaries: binaries(&messages, &workspace.root),
        messages,
    })
}

/// The command: cargo under `umask 022` (unix), with the build's environment.
fn cargo_command(root: &Path, args: &[String], env: &BuildEnv) -> duct::Expression {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut expression = if cfg!(unix) {
        let mut sh_args: Vec<std::ffi::OsString> =
            vec!["-c".into(), r#"umask 022 && exec "$0" "$@""#.into(), cargo];
        sh_args.extend(args.iter().map(Into::into));
        duct::cmd("sh", sh_args)
    } else {
        duct::cmd(cargo, args)
    };
    for (name, value) in &env.vars {
        expression = expression.env(name, value);
    }
    expression.dir(root)
}

/// Runs cargo; returns its stderr (also copied to `err` line by line), its stdout and status.
fn run_cargo(
    root: &Path,
    args: &[String],
    env: &BuildEnv,
    err: &mut dyn Write,
) -> anyhow::Result<(String, Vec<u8>, std::process::ExitStatus)> {
    // Swapped: the reader gets cargo's stderr, the "stderr" capture holds its stdout.
    let handle = cargo_command(root, args, env)
        .stdout_stderr_swap()
        .stderr_capture()
        .unchecked()
        .reader()
        .map_err(|e| anyhow::anyhow!("cannot run cargo: {}", io_reason(&e)))?;
    let mut reader = BufReader::new(handle);
    let mut log = String::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| anyhow::anyhow!("cannot read cargo's output: {}", io_reason(&e)))?;
        if read == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if !is_verbose_only(&text) {
            err.write_all(&line)?;
        }
        log.push_str(&text);
    }
    err.flush()?;
    let handle = reader.into_inner();
    let output = handle
        .try_wait()
        .map_err(|e| anyhow::anyhow!("cannot wait for cargo: {}", io_reason(&e)))?
        .ok_or_else(|| anyhow::anyhow!("cargo closed its output but did not exit"))?;
    Ok((log, output.stderr.clone(), output.status))
}

/// The executables of `bin` targets in cargo's JSON messages.
fn binaries(messages: &[u8], root: &Path) -> Vec<Binary> {
    let mut out: Vec<Binary> = Message::parse_stream(messages)
        .filter_map(Result::ok)
        .filter_map(|message| match message {
            Message::CompilerArtifact(artifact) => Some(artifact),
            _ => None,
        })
        .filter(|artifact| artifact.target.is_kind(TargetKind::Bin))
        .filter_map(|artifact| {
            let path = artifact.executable?.into_std_path_buf();
            Some(Binary {
                name: artifact.target.name,
                display: display_path(root, &path),
                path,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_only_lines_are_recognised() {
        for line in [
            "     Running `rustc --crate-name app`",
            "       Fresh macros v0.1.0 (/w/macros)",
            "       Dirty app v0.1.0 (/w/app): info of dependency `stamp` changed",
        ] {
            assert!(is_verbose_only(line), "{line}");
        }
        for line in [
            "   Compiling app v0.1.0 (/w/app)",
            "    Finished `release` profile",
        ] {
            assert!(!is_verbose_only(line), "{line}");
        }
    }

    #[test]
    fn arguments_follow_the_options() {
        let options = BuildOptions {
            package: Some("app".into()),
            bins: vec!["a".into(), "b".into()],
            target: Some("x86_64-unknown-linux-musl".into()),
            features: vec!["x".into()],
            no_default_features: true,
            offline: true,
            ..BuildOptions::default()
        };
        assert_eq!(
            cargo_args(&options).join(" "),
            "build --release --locked --offline -p app --bin a --bin b \
             --target x86_64-unknown-linux-musl --features x --no-default-features \
             --message-format=json-render-diagnostics --verbose"
        );
    }

    #[test]
    fn binaries_come_from_artifact_messages() {
        let messages = br#"{"reason":"compiler-artifact","package_id":"path+file:///w#app@0.1.0","manifest_path":"/w/app/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"app","src_path":"/w/app/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/release/app"],"executable":"/w/target/release/app","fresh":false}
{"reason":"compiler-artifact","package_id":"path+file:///w#app@0.1.0","manifest_path":"/w/app/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"app","src_path":"/w/app/src/lib.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/release/libapp.rlib"],"executable":null,"fresh":false}
{"reason":"build-finished","success":true}
"#;
        let found = binaries(messages, Path::new("/w"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "app");
        assert_eq!(found[0].display, "target/release/app");
    }
}
