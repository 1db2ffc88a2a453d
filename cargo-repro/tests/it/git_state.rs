//! Rules that depend on git and on the directories around the workspace.

use crate::support::*;

fn lockfile_findings(dir: &std::path::Path) -> serde_json::Value {
    json(&check(
        dir,
        &[
            "--offline",
            "--only",
            "lockfile-missing",
            "--format",
            "json",
        ],
    ))
}

#[test]
fn untracked_lockfile_is_reported() {
    let dir = outside_dir("git-untracked");
    tiny_workspace(&dir, "", &[]);
    git(&dir, &["init", "-q"]);
    let report = lockfile_findings(&dir);
    assert_eq!(rules_found(&report), ["lockfile-missing"]);
    assert_eq!(
        report["findings"][0]["message"],
        "Cargo.lock is not tracked by git"
    );
}

#[test]
fn ignored_lockfile_points_at_the_ignore_pattern() {
    let dir = outside_dir("git-ignored");
    tiny_workspace(&dir, "", &[(".gitignore", "/target\nCargo.lock\n")]);
    git(&dir, &["init", "-q"]);
    let report = lockfile_findings(&dir);
    let finding = &report["findings"][0];
    assert_eq!(finding["path"], ".gitignore");
    assert_eq!(finding["line"], 2);
    assert_eq!(
        finding["message"],
        "Cargo.lock is ignored by git (pattern `Cargo.lock`)"
    );
}

#[test]
fn committed_lockfile_passes() {
    let dir = outside_dir("git-committed");
    tiny_workspace(&dir, "", &[]);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "init"]);
    assert!(rules_found(&lockfile_findings(&dir)).is_empty());
}

#[test]
fn missing_toolchain_file_is_reported() {
    let dir = outside_dir("no-toolchain");
    tiny_workspace(&dir, "", &[]);
    let out = check(
        &dir,
        &[
            "--offline",
            "--only",
            "toolchain-unpinned",
            "--format",
            "json",
        ],
    );
    let report = json(&out);
    assert_eq!(report["findings"][0]["path"], "rust-toolchain.toml");
    assert_eq!(out.status.code(), Some(1));
}
