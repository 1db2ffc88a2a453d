//! `check --fix`: mechanical fixes that keep every other byte, are atomic, and respect git.

use crate::support::*;

const MANIFEST: &str = "[package]\nname = \"tiny\"   # the name\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
[profile.release]\nopt-level = 3 # keep this comment\n   codegen-units = 16   # fast\nincremental = true # why not\n\n[features]\ndefault = []\n";

fn fixable(name: &str) -> std::path::PathBuf {
    let dir = outside_dir(name);
    write_files(
        &dir,
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", "//! Tiny.\n"),
            (
                "rust-toolchain.toml",
                "# pinned by policy\n[toolchain]\nchannel = \"stable\" # floating!\ncomponents = [\"clippy\"]\n",
            ),
        ],
    );
    let status = std::process::Command::new("cargo")
        .args(["generate-lockfile", "--offline", "-q"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "init"]);
    dir
}

fn installed_version() -> String {
    let out = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn fix_edits_only_what_it_must() {
    let dir = fixable("fix-edits");
    let out = check(
        &dir,
        &[
            "--offline",
            "--fix",
            "--only",
            "toolchain-unpinned",
            "--only",
            "codegen-units",
            "--only",
            "incremental-release",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let expected = MANIFEST
        .replace(
            "   codegen-units = 16   # fast\n",
            "   codegen-units = 1   # fast\n",
        )
        .replace(
            "incremental = true # why not",
            "incremental = false # why not",
        );
    assert_eq!(manifest, expected);
    let toolchain = std::fs::read_to_string(dir.join("rust-toolchain.toml")).unwrap();
    let version = installed_version();
    assert_eq!(
        toolchain,
        format!(
            "# pinned by policy\n[toolchain]\nchannel = \"{version}\" # floating!\ncomponents = [\"clippy\"]\n"
        )
    );
    assert!(
        stderr(&out).contains("fixed Cargo.toml: set [profile.release] codegen-units = 1"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "summary: 0 errors, 0 warnings, 0 notes\n");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn fix_creates_a_missing_profile_and_toolchain_file() {
    let dir = outside_dir("fix-create");
    tiny_workspace(&dir, "", &[]);
    git(&dir, &["init", "-q"]);
    let out = check(
        &dir,
        &[
            "--offline",
            "--fix",
            "--allow-dirty",
            "--only",
            "toolchain-unpinned",
            "--only",
            "codegen-units",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.ends_with("[workspace]\n\n[profile.release]\ncodegen-units = 1\n"),
        "{manifest}"
    );
    let toolchain = std::fs::read_to_string(dir.join("rust-toolchain.toml")).unwrap();
    assert_eq!(
        toolchain,
        format!("[toolchain]\nchannel = \"{}\"\n", installed_version())
    );
}

#[test]
fn fix_refuses_a_dirty_tree_unless_allowed() {
    let dir = fixable("fix-dirty");
    std::fs::write(dir.join("src/lib.rs"), "//! Changed.\n").unwrap();
    let before = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let out = check(&dir, &["--offline", "--fix"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: the git working tree has uncommitted changes; commit or stash them first, or pass --allow-dirty\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.toml")).unwrap(),
        before
    );
    let out = check(
        &dir,
        &[
            "--offline",
            "--fix",
            "--allow-dirty",
            "--only",
            "codegen-units",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn fix_on_a_read_only_file_changes_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = fixable("fix-readonly");
    let manifest = dir.join("Cargo.toml");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o444)).unwrap();
    let toolchain_before = std::fs::read_to_string(dir.join("rust-toolchain.toml")).unwrap();
    let out = check(&dir, &["--offline", "--fix"]);
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: Cargo.toml: file is read-only; make it writable and run the command again\n"
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), MANIFEST);
    assert_eq!(
        std::fs::read_to_string(dir.join("rust-toolchain.toml")).unwrap(),
        toolchain_before
    );
}

#[test]
fn fix_never_edits_a_file_outside_the_workspace() {
    // rust-toolchain.toml is a link to a file outside the repository.
    let dir = fixable("fix-outside");
    let elsewhere = outside_dir("fix-outside-elsewhere");
    let outside = elsewhere.join("rust-toolchain.toml");
    std::fs::rename(dir.join("rust-toolchain.toml"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("rust-toolchain.toml")).unwrap();
    let before = std::fs::read_to_string(&outside).unwrap();
    let out = check(&dir, &["--offline", "--fix", "--allow-dirty"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: rust-toolchain.toml: lies outside the workspace (or links there); --fix edits only files inside it, so make this change by hand\n"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.toml")).unwrap(),
        MANIFEST
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&elsewhere).unwrap();
}
