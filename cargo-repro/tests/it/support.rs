//! Shared helpers: the binary, fixture paths, running checks, snapshot files.

use std::path::{Path, PathBuf};
use std::process::Output;

/// `tests/fixtures` at the repository root.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Runs `cargo-repro repro ARGS` in `dir`, with colour off and a stable environment.
pub(crate) fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_in_with_env(dir, args, &[])
}

/// [`run_in`] with extra environment variables.
pub(crate) fn run_in_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .arg("repro")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("NO_COLOR")
        .env_remove("RUSTFLAGS")
        .envs(env.iter().copied())
        .output()
        .expect("cargo-repro runs")
}

/// Runs `check` on the workspace at `dir` with extra arguments.
pub(crate) fn check(dir: &Path, args: &[&str]) -> Output {
    check_with_env(dir, args, &[])
}

/// Runs `check` on the workspace at `dir` with extra arguments and environment variables.
pub(crate) fn check_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let manifest = dir.join("Cargo.toml");
    let mut all = vec!["check", "--manifest-path", manifest.to_str().unwrap()];
    all.extend_from_slice(args);
    run_in_with_env(dir, &all, env)
}

/// Stdout as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Stderr as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Compares `actual` with the snapshot file (bless with `SNAPSHOTS=overwrite`).
pub(crate) fn assert_snapshot(path: &Path, actual: &str) {
    snapbox::Assert::new()
        .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
        .normalize_paths(false)
        .eq(actual.to_string(), snapbox::Data::read_from(path, None));
}

/// Parses JSON output.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "output is not JSON ({e}):\n{}\n{}",
            stdout(output),
            stderr(output)
        )
    })
}

/// The rule ids of the findings of a JSON report.
pub(crate) fn rules_found(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Copies a directory tree (for tests that change files or need their own git repository).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs git in `dir` with a fixed identity.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} failed");
}

/// A fresh directory outside the repository (so no parent `rust-toolchain.toml` or
/// `.cargo/config.toml` of this project applies), removed first if it exists.
pub(crate) fn outside_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cargo-repro-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes files (creating directories) into `dir`.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A minimal single-package workspace with a lockfile, plus extra files.
pub(crate) fn tiny_workspace(dir: &Path, manifest_extra: &str, files: &[(&str, &str)]) {
    let manifest = format!(
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n{manifest_extra}"
    );
    write_files(
        dir,
        &[("Cargo.toml", &manifest), ("src/lib.rs", "//! Tiny.\n")],
    );
    write_files(dir, files);
    let status = std::process::Command::new("cargo")
        .args(["generate-lockfile", "--offline", "-q"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The manifest of a fixture workspace under `tests/fixtures/workspaces`.
pub(crate) fn workspace_fixture(name: &str) -> PathBuf {
    fixtures().join("workspaces").join(name)
}

/// A committed copy of the clean fixture in `dir` (commit time 2026-01-01), for release builds.
pub(crate) fn checkout(dir: &Path) {
    committed_copy(&workspace_fixture("clean"), dir);
}

/// Copies `fixture` to `dir` and commits it (a fixed date, so `SOURCE_DATE_EPOCH` is stable).
pub(crate) fn committed_copy(fixture: &Path, dir: &Path) {
    copy_tree(fixture, dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    let status = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "release",
            "--date",
            "2026-01-01T00:00:00Z",
        ])
        .current_dir(dir)
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .status()
        .unwrap();
    assert!(status.success());
}

/// A fresh directory outside the repository (see [`outside_dir`]) holding a [`checkout`] in
/// `ws/`; returns both.
pub(crate) fn outside_checkout(name: &str) -> (PathBuf, PathBuf) {
    let base = outside_dir(name);
    let dir = base.join("ws");
    checkout(&dir);
    (base, dir)
}

/// Runs a real tool (sha256sum, tar, dpkg-deb, …) in `dir`; returns its stdout, panics on failure.
pub(crate) fn tool(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The files of a directory with their contents, sorted by name.
pub(crate) fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The files of the clean fixture's unsigned release (`checkout`, then `build --release-artifacts`).
pub(crate) const CLEAN_RELEASE: [&str; 6] = [
    "SHA256SUMS",
    "app-1.0.0-x86_64-unknown-linux-gnu.intoto.json",
    "app-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
    "app-1.0.0-x86_64-unknown-linux-gnu.tar.gz.sha256",
    "app_1.0.0-1_amd64.deb",
    "app_1.0.0-1_amd64.deb.sha256",
];

/// Extra environment variables for a run.
pub(crate) type Env<'a> = &'a [(&'a str, &'a Path)];

/// Runs `cargo-repro repro build --offline ARGS` in `dir` with extra environment variables;
/// stdin is not a terminal.
pub(crate) fn build_in(dir: &Path, args: &[&str], env: Env<'_>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"));
    command
        .args(["repro", "build", "--offline"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("SSH_AUTH_SOCK");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

/// Fails when `dir` holds anything (a missing directory holds nothing).
pub(crate) fn assert_no_files(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left in {}: {left:?}", dir.display());
}

/// Every file under `dir` but cargo's caches and outputs, with contents, sorted; directories
/// too, so an empty leftover directory counts.
pub(crate) fn state(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            let relative = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if ["cargo-home", "target", ".git"]
                .iter()
                .any(|p| relative == *p)
            {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                out.push((relative, None));
                stack.push(path);
            } else {
                out.push((relative, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    out.sort();
    out
}
