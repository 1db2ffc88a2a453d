//! Crash safety: each command that changes files is killed at every file-changing step (the
//! debug build's `CARGO_REPRO_FAULT_AT=N` aborts at the Nth, as SIGKILL would), then the next
//! command runs; the workspace must then be exactly as before or exactly as after.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::registry::i18n_workspace;
use crate::support::{copy_tree, outside_dir, state, tiny_workspace};

fn run(dir: &Path, args: &[&str], fault_at: Option<usize>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-repro"));
    command
        .arg("repro")
        .args(args)
        .current_dir(dir)
        .env("CARGO_HOME", crate::registry::cargo_home(dir))
        .env("CARGO_TERM_COLOR", "never");
    if let Some(n) = fault_at {
        command.env("CARGO_REPRO_FAULT_AT", n.to_string());
    }
    command.output().unwrap()
}

/// Kills `args` at each step in turn on a fresh copy of `template`, runs `next`, and checks the
/// state is the one before or the one after. Returns how many steps were tried.
fn kill_at_every_step(template: &Path, args: &[&str], next: &[&str]) -> usize {
    let before = state(template);
    let finished = template.with_extension("finished");
    let _ = std::fs::remove_dir_all(&finished);
    copy_tree(template, &finished);
    let out = run(&finished, args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = state(&finished);
    assert_ne!(before, after, "{args:?} changes something");
    let copy = template.with_extension("killed");
    for step in 1.. {
        let _ = std::fs::remove_dir_all(&copy);
        copy_tree(template, &copy);
        let out = run(&copy, args, Some(step));
        if out.status.signal().is_none() {
            // Past the last step: the command ran to the end.
            assert_eq!(out.status.code(), Some(0), "{args:?} at step {step}");
            assert_eq!(state(&copy), after);
            std::fs::remove_dir_all(&copy).unwrap();
            std::fs::remove_dir_all(&finished).unwrap();
            return step - 1;
        }
        let recovered = run(&copy, next, None);
        let stderr = String::from_utf8_lossy(&recovered.stderr);
        assert_ne!(
            recovered.status.code(),
            Some(2),
            "{next:?} after step {step}: {stderr}"
        );
        let now = state(&copy);
        assert!(
            now == before || now == after,
            "{args:?} killed at step {step}, then {next:?} ({stderr}): neither before nor after; differs from before in {:?}",
            now.iter()
                .filter(|f| !before.contains(f))
                .map(|f| &f.0)
                .collect::<Vec<_>>()
        );
        assert!(
            !copy.join("target/cargo-repro/journal").exists(),
            "the journal is gone after step {step}"
        );
    }
    unreachable!()
}

#[test]
fn patch_commands_killed_at_any_step_leave_before_or_after() {
    let base = outside_dir("crash-patch");
    let template = base.join("ws");
    std::fs::create_dir_all(&template).unwrap();
    i18n_workspace(&template);
    let next: &[&str] = &["patch", "list", "--offline"];
    let steps = kill_at_every_step(
        &template,
        &["patch", "add", "i18n-embed-fl", "--offline"],
        next,
    );
    assert!(steps > 10, "patch add has {steps} steps");

    // The other commands start from a recorded patch, with a local edit for refresh.
    let out = run(
        &template,
        &["patch", "add", "i18n-embed-fl", "--offline"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    kill_at_every_step(
        &template,
        &["patch", "remove", "i18n-embed-fl", "--offline"],
        next,
    );
    let lib = template.join("vendor/i18n-embed-fl/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, text.replace("HashMap", "BTreeMap")).unwrap();
    kill_at_every_step(
        &template,
        &["patch", "refresh", "i18n-embed-fl", "--offline"],
        next,
    );
    std::fs::remove_file(template.join("vendor/patches.toml")).unwrap();
    std::fs::remove_file(template.join("vendor/i18n-embed-fl.patch")).unwrap();
    kill_at_every_step(
        &template,
        &["patch", "adopt", "i18n-embed-fl", "--offline"],
        next,
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn check_fix_killed_at_any_step_leaves_before_or_after() {
    let base = outside_dir("crash-fix");
    let template = base.join("ws");
    // Two fixes: codegen-units in Cargo.toml and a new rust-toolchain.toml.
    tiny_workspace(&template, "", &[]);
    let steps = kill_at_every_step(
        &template,
        &[
            "check",
            "--fix",
            "--allow-dirty",
            "--offline",
            "--only",
            "codegen-units",
            "--only",
            "toolchain-unpinned",
        ],
        &["check", "--offline", "--only", "codegen-units"],
    );
    assert!(steps > 4, "check --fix has {steps} steps");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_release_killed_at_any_step_never_shows_sums_that_do_not_verify() {
    use crate::support::{CLEAN_RELEASE, build_in, files, outside_checkout};
    let (base, dir) = outside_checkout("crash-release");
    let out_dir = dir.join("target/repro-artifacts");
    let args = ["--release-artifacts", "--allow-unpinned"];
    let out = build_in(&dir, &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let release = files(&out_dir);
    let names: Vec<_> = release.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, CLEAN_RELEASE);
    for step in 1.. {
        let _ = std::fs::remove_dir_all(&out_dir);
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-repro"));
        command
            .args(["repro", "build", "--offline"])
            .args(args)
            .current_dir(&dir)
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_REPRO_FAULT_AT", step.to_string())
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR");
        let out = command.output().unwrap();
        if out.status.signal().is_none() {
            assert_eq!(out.status.code(), Some(0), "step {step}");
            assert_eq!(files(&out_dir), release);
            assert!(step > 10, "the release has {} steps", step - 1);
            break;
        }
        // Killed: sums present must verify; the next build rolls back and writes it whole.
        if out_dir.join("SHA256SUMS").exists() {
            let check = Command::new("sha256sum")
                .args(["--check", "--strict", "SHA256SUMS"])
                .current_dir(&out_dir)
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "step {step}: SHA256SUMS does not verify"
            );
        }
        let next = build_in(&dir, &args, &[]);
        assert_eq!(next.status.code(), Some(0), "after step {step}");
        assert_eq!(files(&out_dir), release, "after step {step}");
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn two_releases_into_one_out_dir_at_once_both_land_whole() {
    use crate::support::{build_in, files, outside_checkout};
    let (base, dir) = outside_checkout("concurrent-release");
    let out_dir = dir.join("target/repro-artifacts");
    let args = ["--release-artifacts", "--allow-unpinned"];
    let out = build_in(&dir, &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let release = files(&out_dir);
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
            .args(["repro", "build", "--offline"])
            .args(args)
            .current_dir(&dir)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The out dir's lock makes one wait for the other; neither undoes the other's files.
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(files(&out_dir), release);
    std::fs::remove_dir_all(&base).unwrap();
}
