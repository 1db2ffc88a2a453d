//! `cargo repro patch` on a workspace shaped like the i18n-embed-fl case, hermetically.

use std::path::Path;

use crate::registry::{cargo, i18n_workspace, pristine_lib, repro};
use crate::support::{git, outside_dir, stderr, stdout};

const RESOLVES: &str = "i18n-embed-fl-hashmap-args";

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn add(dir: &Path) {
    let out = repro(
        dir,
        &[
            "patch",
            "add",
            "i18n-embed-fl",
            "--offline",
            "--reason",
            "fl! emits arguments in HashMap order",
            "--upstream",
            "https://github.com/kellpossible/cargo-i18n/pull/151",
            "--resolves",
            RESOLVES,
            "--remove-when",
            "age 0.12 (depends on i18n-embed-fl 0.10)",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Every file of the workspace except caches, for "nothing changed" assertions.
fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    crate::support::state(dir)
}

#[test]
fn add_vendors_the_pristine_release_and_patches_it_in() {
    let dir = outside_dir("patch-add");
    i18n_workspace(&dir);
    let manifest_before = read(&dir, "Cargo.toml");
    add(&dir);
    assert_eq!(
        read(&dir, "vendor/i18n-embed-fl/src/lib.rs"),
        pristine_lib(&dir)
    );
    assert_eq!(
        read(&dir, "Cargo.toml"),
        format!(
            "{manifest_before}\n[patch.crates-io]\ni18n-embed-fl = {{ path = \"vendor/i18n-embed-fl\" }}\n"
        )
    );
    let lock = read(&dir, "Cargo.lock");
    let entry = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"i18n-embed-fl\""))
        .unwrap();
    assert!(
        !entry.contains("source ="),
        "the lockfile uses the vendored path:\n{entry}"
    );
    let ledger = read(&dir, "vendor/patches.toml");
    assert!(ledger.contains("[i18n-embed-fl]\nversion = \"0.9.4\"\npath = \"vendor/i18n-embed-fl\"\ndiff = \"vendor/i18n-embed-fl.patch\"\n"), "{ledger}");
    assert!(ledger.contains(&format!("resolves = [\"{RESOLVES}\"]")));
    assert_eq!(read(&dir, "vendor/i18n-embed-fl.patch"), "");
    let check = repro(&dir, &["patch", "check", "--offline"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    // The known-crates finding is now a note, not an error.
    let full = repro(
        &dir,
        &[
            "check",
            "--offline",
            "--only",
            "known-nondeterministic-crate",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert_eq!(report["findings"][0]["level"], "note", "{report:#}");
}

#[test]
fn edit_drifts_until_refreshed_and_diff_shows_it() {
    let dir = outside_dir("patch-refresh");
    i18n_workspace(&dir);
    add(&dir);
    let lib = "vendor/i18n-embed-fl/src/lib.rs";
    let fixed = read(&dir, lib).replace(
        "    let map: std::collections::HashMap<_, _> = args.iter().copied().collect();\n",
        "    let map: std::collections::BTreeMap<_, _> = args.iter().copied().collect();\n",
    );
    std::fs::write(dir.join(lib), &fixed).unwrap();

    let drifted = repro(&dir, &["patch", "check", "--offline", "--format", "json"]);
    assert_eq!(drifted.status.code(), Some(1));
    assert!(
        stdout(&drifted).contains("\"patch-drift\""),
        "{}",
        stdout(&drifted)
    );
    let precommit = repro(&dir, &["check", "--pre-commit"]);
    assert_eq!(
        precommit.status.code(),
        Some(1),
        "pre-commit refuses a drifted tree"
    );

    let diff = repro(&dir, &["patch", "diff", "i18n-embed-fl", "--offline"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let expected_diff = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -2,6 +2,6 @@\n \n pub fn fl(args: &[(&str, &str)]) -> String {\n     // upstream 0.9: arguments in HashMap order\n-    let map: std::collections::HashMap<_, _> = args.iter().copied().collect();\n+    let map: std::collections::BTreeMap<_, _> = args.iter().copied().collect();\n     map.iter().map(|(k, v)| format!(\"{k}={v}\")).collect::<Vec<_>>().join(\",\")\n }\n";
    assert_eq!(stdout(&diff), expected_diff);

    let refresh = repro(&dir, &["patch", "refresh", "i18n-embed-fl", "--offline"]);
    assert_eq!(refresh.status.code(), Some(0), "{}", stderr(&refresh));
    assert_eq!(read(&dir, "vendor/i18n-embed-fl.patch"), expected_diff);
    assert_eq!(
        repro(&dir, &["patch", "check", "--offline"]).status.code(),
        Some(0)
    );

    let list = repro(&dir, &["patch", "list", "--offline"]);
    assert_eq!(list.status.code(), Some(0));
    let text = stdout(&list);
    let row = text
        .lines()
        .find(|l| l.starts_with("i18n-embed-fl"))
        .unwrap();
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&columns[..3], ["i18n-embed-fl", "0.9.4", "1"], "{text}");
    assert!(
        row.ends_with("fl! emits arguments in HashMap order"),
        "{row}"
    );
}

#[test]
fn adopt_records_a_hand_made_vendored_patch() {
    let dir = outside_dir("patch-adopt");
    i18n_workspace(&dir);
    let fixed = pristine_lib(&dir).replace("HashMap<_, _>", "BTreeMap<_, _>");
    crate::support::write_files(
        &dir,
        &[
            (
                "vendor/i18n-embed-fl/Cargo.toml",
                "[package]\nname = \"i18n-embed-fl\"\nversion = \"0.9.4\"\nedition = \"2021\"\n\n[dependencies]\n",
            ),
            ("vendor/i18n-embed-fl/src/lib.rs", &fixed),
        ],
    );
    let manifest = read(&dir, "Cargo.toml")
        + "\n[patch.crates-io]\ni18n-embed-fl = { path = \"vendor/i18n-embed-fl\" }\n";
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    cargo(&dir, &["metadata", "--format-version", "1"]);

    let unrecorded = repro(&dir, &["patch", "check", "--offline", "--format", "json"]);
    assert!(
        stdout(&unrecorded).contains("\"patch-unrecorded\""),
        "{}",
        stdout(&unrecorded)
    );

    let out = repro(
        &dir,
        &[
            "patch",
            "adopt",
            "i18n-embed-fl",
            "--offline",
            "--reason",
            "backport of #151",
            "--upstream",
            "https://github.com/kellpossible/cargo-i18n/pull/151",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("Adopted i18n-embed-fl 0.9.4 from vendor/i18n-embed-fl: 1 file(s) differ"),
        "{}",
        stderr(&out)
    );
    let diff = read(&dir, "vendor/i18n-embed-fl.patch");
    assert!(
        diff.contains("-    let map: std::collections::HashMap<_, _>")
            && diff.contains("+    let map: std::collections::BTreeMap<_, _>"),
        "{diff}"
    );
    assert!(read(&dir, "vendor/patches.toml").contains("reason = \"backport of #151\""));
    let check = repro(&dir, &["patch", "check", "--offline"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
}

#[test]
fn remove_puts_everything_back() {
    let dir = outside_dir("patch-remove");
    i18n_workspace(&dir);
    let before = snapshot(&dir);
    add(&dir);
    let out = repro(&dir, &["patch", "remove", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let after = snapshot(&dir);
    let names =
        |s: &[(String, Option<Vec<u8>>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(&before));
    assert_eq!(
        after, before,
        "Cargo.toml and Cargo.lock are back byte for byte"
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let dir = outside_dir("patch-bad");
    i18n_workspace(&dir);
    let before = snapshot(&dir);
    let cases: [(&[&str], &str); 4] = [
        (
            &["patch", "add", "serde", "--offline"],
            "error: `serde` is not in Cargo.lock; `patch add` vendors a dependency the workspace already uses\n",
        ),
        (
            &["patch", "add", "i18n-embed-fl@0.9.3", "--offline"],
            "error: i18n-embed-fl@0.9.3 is not in Cargo.lock (locked: 0.9.4); pass one of those\n",
        ),
        (
            &["patch", "adopt", "i18n-embed-fl", "--offline"],
            "error: Cargo.toml has no [patch] path entry for `i18n-embed-fl`\n",
        ),
        (
            &[
                "patch",
                "add",
                "i18n-embed-fl",
                "--offline",
                "--resolves",
                "no-such-id",
            ],
            "error: --resolves no-such-id: no such entry in the known-crates database; see `cargo repro explain known-nondeterministic-crate`\n",
        ),
    ];
    for (args, expected) in cases {
        let out = repro(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), expected, "{args:?}");
        assert_eq!(snapshot(&dir), before, "{args:?} changed the workspace");
    }
}

#[test]
fn a_corrupted_crate_is_refused() {
    let dir = outside_dir("patch-corrupt");
    i18n_workspace(&dir);
    let crate_file = dir.join("registry/i18n-embed-fl-0.9.4.crate");
    let mut bytes = std::fs::read(&crate_file).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    std::fs::write(&crate_file, bytes).unwrap();
    let before = snapshot(&dir);
    let out = repro(&dir, &["patch", "add", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.starts_with("error: registry/i18n-embed-fl-0.9.4.crate: sha256 "),
        "{message}"
    );
    assert!(
        message.contains("does not match Cargo.lock's checksum"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_vendored_tree_outside_the_workspace_is_refused() {
    let dir = outside_dir("patch-outside");
    let ws = dir.join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    i18n_workspace(&ws);
    crate::support::write_files(
        &dir,
        &[
            (
                "elsewhere/Cargo.toml",
                "[package]\nname = \"i18n-embed-fl\"\nversion = \"0.9.4\"\nedition = \"2021\"\n",
            ),
            ("elsewhere/src/lib.rs", "//! x\n"),
        ],
    );
    let manifest = read(&ws, "Cargo.toml")
        + "\n[patch.crates-io]\ni18n-embed-fl = { path = \"../elsewhere\" }\n";
    std::fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    let out = repro(&ws, &["patch", "adopt", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: ../elsewhere: the vendored tree of `i18n-embed-fl` is outside the workspace; move it under vendor/ and update the [patch] entry\n"
    );
}

#[test]
fn a_malformed_ledger_is_named() {
    let dir = outside_dir("patch-ledger");
    i18n_workspace(&dir);
    crate::support::write_files(
        &dir,
        &[("vendor/patches.toml", "[i18n-embed-fl]\nversion = 0.9\n")],
    );
    for args in [
        &["patch", "list", "--offline"][..],
        &["check", "--offline"][..],
    ] {
        let out = repro(&dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: vendor/patches.toml:2: `version` in [i18n-embed-fl] must be a string\n"
        );
    }
}

#[test]
fn the_hook_refuses_a_commit_with_a_stale_lockfile() {
    let dir = outside_dir("patch-hook");
    i18n_workspace(&dir);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "init"]);
    let out = repro(&dir, &["hook", "install"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(read(&dir, ".git/hooks/pre-commit").contains("repro check --pre-commit"));

    let manifest =
        read(&dir, "Cargo.toml").replace("age = \"0.11\"", "age = \"0.11\"\nnewdep = \"1\"");
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let commit = std::process::Command::new("git")
        .args(["commit", "-qam", "add newdep"])
        .current_dir(&dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("CARGO_HOME", crate::registry::cargo_home(&dir))
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the commit must be refused");
    let said = String::from_utf8_lossy(&commit.stdout).into_owned()
        + &String::from_utf8_lossy(&commit.stderr);
    assert!(
        said.contains("error[lockfile-stale]") && said.contains("cargo update"),
        "{said}"
    );

    std::fs::write(dir.join(".git/hooks/pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    let refused = repro(&dir, &["hook", "install"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        stderr(&refused),
        "error: .git/hooks/pre-commit exists and was not written by cargo-repro; pass --force to replace it\n"
    );
    assert_eq!(
        repro(&dir, &["hook", "install", "--force"]).status.code(),
        Some(0)
    );
    // A hook that is a symlink (to a shared hook manager, say) or cannot be read is kept too.
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::remove_file(&hook).unwrap();
    std::fs::write(
        dir.join("shared-hook"),
        "#!/bin/sh
# installed by cargo-repro
",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("shared-hook"), &hook).unwrap();
    let refused = repro(&dir, &["hook", "install"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    std::fs::remove_file(&hook).unwrap();
    std::os::unix::fs::symlink(dir.join("nowhere"), &hook).unwrap();
    let refused = repro(&dir, &["hook", "install"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(
        read(&dir, "shared-hook"),
        "#!/bin/sh\n# installed by cargo-repro\n"
    );
}

/// Rewrites one key of the ledger's only entry.
fn set_ledger_key(dir: &Path, key: &str, value: &str) {
    let ledger = read(dir, "vendor/patches.toml");
    let text: String = ledger
        .lines()
        .map(|line| {
            if line.starts_with(&format!("{key} = ")) {
                format!("{key} = {value:?}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    std::fs::write(dir.join("vendor/patches.toml"), text).unwrap();
}

#[test]
fn crafted_ledger_paths_and_versions_touch_nothing_outside() {
    let base = outside_dir("patch-crafted");
    let dir = base.join("ws");
    std::fs::create_dir_all(&dir).unwrap();
    i18n_workspace(&dir);
    add(&dir);
    // What a crafted value would point at: it must survive every command.
    crate::support::write_files(
        &base,
        &[("victim/keep.txt", "keep\n"), ("victim.patch", "keep\n")],
    );
    let cases: [(&str, &str, &str); 3] = [
        (
            "version",
            "0/../../../victim",
            "error: vendor/patches.toml:5: `version` `0/../../../victim` is not a semver version (such as 1.2.3); fix it\n",
        ),
        (
            "diff",
            "../victim.patch",
            "error: vendor/patches.toml:7: `diff` `../victim.patch` must be a relative path inside the workspace, without `..`; fix it\n",
        ),
        (
            "path",
            "/tmp/victim",
            "error: vendor/patches.toml:6: `path` `/tmp/victim` must be a relative path inside the workspace, without `..`; fix it\n",
        ),
    ];
    let ledger = read(&dir, "vendor/patches.toml");
    for (key, value, expected) in cases {
        set_ledger_key(&dir, key, value);
        for args in [
            &["patch", "diff", "i18n-embed-fl", "--offline"][..],
            &["patch", "remove", "i18n-embed-fl", "--offline"][..],
            &["patch", "refresh", "i18n-embed-fl", "--offline"][..],
            &["check", "--pre-commit"][..],
        ] {
            let out = repro(&dir, args);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{key} {args:?}: {}",
                stderr(&out)
            );
            assert_eq!(stderr(&out), expected, "{key} {args:?}");
            assert_eq!(read(&base, "victim/keep.txt"), "keep\n");
            assert_eq!(read(&base, "victim.patch"), "keep\n");
        }
        std::fs::write(dir.join("vendor/patches.toml"), &ledger).unwrap();
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_vendored_tree_reached_through_a_symlink_is_refused_and_fails_pre_commit() {
    let base = outside_dir("patch-symlinked");
    let dir = base.join("ws");
    std::fs::create_dir_all(&dir).unwrap();
    i18n_workspace(&dir);
    add(&dir);
    // The tree moves outside; `vendor/i18n-embed-fl` becomes a link to it.
    std::fs::rename(dir.join("vendor/i18n-embed-fl"), base.join("outside-tree")).unwrap();
    std::os::unix::fs::symlink(base.join("outside-tree"), dir.join("vendor/i18n-embed-fl"))
        .unwrap();
    let out = repro(&dir, &["patch", "diff", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stdout(&out).is_empty(),
        "nothing of the outside tree is printed"
    );
    assert_eq!(
        stderr(&out),
        "error: vendor/i18n-embed-fl: the vendored tree of `i18n-embed-fl` is outside the workspace; move it under vendor/ and update the [patch] entry\n"
    );
    let out = repro(&dir, &["patch", "remove", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        base.join("outside-tree/src/lib.rs").is_file(),
        "the outside tree is kept"
    );
    let out = repro(&dir, &["check", "--pre-commit"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("error[patch-drift]: the vendored tree of i18n-embed-fl at vendor/i18n-embed-fl lies outside the workspace"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_vendored_file_name_with_a_newline_is_refused() {
    let dir = outside_dir("patch-newline");
    i18n_workspace(&dir);
    add(&dir);
    std::fs::write(dir.join("vendor/i18n-embed-fl/src/a\n+++ forged"), "x\n").unwrap();
    let diff_before = read(&dir, "vendor/i18n-embed-fl.patch");
    let out = repro(&dir, &["patch", "refresh", "i18n-embed-fl", "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: vendor/i18n-embed-fl/src/a\\n+++ forged: a file name holds a control character (a newline would forge lines of the .patch file); rename it\n"
    );
    assert_eq!(read(&dir, "vendor/i18n-embed-fl.patch"), diff_before);
}

#[test]
fn two_concurrent_adds_of_different_crates_both_land() {
    let dir = outside_dir("patch-concurrent");
    i18n_workspace(&dir);
    let spawn = |krate: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
            .args(["repro", "patch", "add", krate, "--offline"])
            .current_dir(&dir)
            .env("CARGO_HOME", crate::registry::cargo_home(&dir))
            .env("CARGO_TERM_COLOR", "never")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Started together: the workspace lock makes the second wait for the first.
    let first = spawn("age");
    let second = spawn("i18n-embed-fl");
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let ledger = read(&dir, "vendor/patches.toml");
    assert!(
        ledger.contains("[age]") && ledger.contains("[i18n-embed-fl]"),
        "{ledger}"
    );
    let manifest = read(&dir, "Cargo.toml");
    assert!(
        manifest.contains("age = { path = \"vendor/age\" }"),
        "{manifest}"
    );
    assert!(
        manifest.contains("i18n-embed-fl = { path = \"vendor/i18n-embed-fl\" }"),
        "{manifest}"
    );
    // The result is a workspace cargo can read, and one the pre-commit check passes.
    cargo(&dir, &["metadata", "--format-version", "1", "--locked"]);
    let out = repro(&dir, &["check", "--pre-commit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
