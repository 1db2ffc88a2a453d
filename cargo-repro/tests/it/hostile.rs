//! Hostile files in the repository: special files, links to devices, dangling links. Every
//! command gives a one-line error naming the file (exit 2) and never hangs or reads without end.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Runs `cargo-repro repro ARGS` in `dir`, failing the test if it is still running after a
/// minute (a FIFO read blocks forever): the bound is a hang detector, not a timing.
fn run_bounded(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .arg("repro")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo-repro runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("cargo-repro {args:?} hung in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(path);
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

fn link(target: &str, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(path);
    std::os::unix::fs::symlink(target, path).unwrap();
}

#[test]
fn special_files_the_tool_or_cargo_would_read_are_refused_by_name() {
    // (file, how it is made hostile, the command, the error's start)
    let fifo = |p: &Path| mkfifo(p);
    let zero = |p: &Path| link("/dev/zero", p);
    let dangling = |p: &Path| link("nowhere.toml", p);
    type Make = dyn Fn(&Path);
    let cases: [(&str, &Make, &[&str], &str); 10] = [
        (
            "Cargo.lock",
            &fifo,
            &["check", "--offline"],
            "error: cannot read Cargo.lock: it is a FIFO, not a regular file",
        ),
        (
            "Cargo.lock",
            &zero,
            &["check", "--offline"],
            "error: cannot read Cargo.lock: it is a character device, not a regular file",
        ),
        (
            "Cargo.lock",
            &fifo,
            &["check", "--pre-commit"],
            "error: cannot read Cargo.lock: it is a FIFO, not a regular file",
        ),
        (
            "member/Cargo.toml",
            &zero,
            &["check", "--offline"],
            "error: cannot read member/Cargo.toml: it is a character device, not a regular file",
        ),
        (
            "rust-toolchain.toml",
            &fifo,
            &["check", "--offline"],
            "error: cannot read rust-toolchain.toml: it is a FIFO, not a regular file",
        ),
        (
            ".cargo/config.toml",
            &fifo,
            &["check", "--offline"],
            "error: cannot read .cargo/config.toml: it is a FIFO, not a regular file",
        ),
        (
            "repro.toml",
            &dangling,
            &["check", "--offline"],
            "error: cannot read repro.toml: it cannot be opened: it does not exist (or a symlink on the way is dangling)",
        ),
        (
            "repro.toml",
            &fifo,
            &["check", "--offline"],
            "error: cannot read repro.toml: it is a FIFO, not a regular file",
        ),
        (
            "vendor/patches.toml",
            &fifo,
            &["patch", "list"],
            "error: cannot read vendor/patches.toml: it is a FIFO, not a regular file",
        ),
        (
            "vendor/patches.toml",
            &fifo,
            &["check", "--pre-commit"],
            "error: cannot read vendor/patches.toml: it is a FIFO, not a regular file",
        ),
    ];
    for (index, (file, make, args, expected)) in cases.into_iter().enumerate() {
        let dir = outside_dir(&format!("hostile-{index}"));
        tiny_workspace(
            &dir,
            "members = [\"member\"]\n",
            &[
                (
                    "member/Cargo.toml",
                    "[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                ),
                ("member/src/lib.rs", "//! Member.\n"),
                ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n"),
            ],
        );
        make(&dir.join(file));
        let (code, stdout, stderr) = run_bounded(&dir, args);
        assert_eq!(code, Some(2), "{file} {args:?}: {stdout}{stderr}");
        assert!(stderr.starts_with(expected), "{file} {args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            !stderr.contains(&*dir.to_string_lossy()),
            "no absolute path: {stderr}"
        );
        assert!(stdout.is_empty(), "{stdout}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_path_dependency_whose_manifest_is_a_fifo_is_refused_before_cargo_runs() {
    let base = outside_dir("hostile-path-dep");
    let dir = base.join("ws");
    tiny_workspace(&dir, "", &[]);
    write_files(
        &dir,
        &[(
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ndep = { path = \"../outside-dep\" }\n\n[workspace]\n",
        )],
    );
    let dep_manifest = base.join("outside-dep/Cargo.toml");
    mkfifo(&dep_manifest);
    let (code, _, stderr) = run_bounded(&dir, &["check", "--offline"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read ../outside-dep/Cargo.toml: it is a FIFO"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&base).unwrap();
}
