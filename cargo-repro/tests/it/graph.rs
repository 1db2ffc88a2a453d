//! The package graph when `cargo metadata` cannot run as it is: a pinned toolchain that is not
//! installed (read with an installed one instead), and a workspace without `Cargo.lock`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{copy_tree, json, outside_dir, stdout, workspace_fixture, write_files};

/// The directory of the `rustup` on PATH, where its `cargo` proxy is too.
fn rustup_dir() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("rustup").is_file() && dir.join("cargo").is_file())
        .expect("these tests need rustup and its cargo proxy on PATH")
}

/// `rustup toolchain list`.
fn installed_toolchains() -> String {
    let out = std::process::Command::new(rustup_dir().join("rustup"))
        .args(["toolchain", "list"])
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `cargo-repro repro check --offline ARGS` in `dir` the way a user's shell would: `cargo`
/// is rustup's proxy (no `$CARGO`, no `RUSTUP_TOOLCHAIN`, so the toolchain file decides), with a
/// private `CARGO_HOME`, and rustup unable to download anything (`auto_install` says whether it
/// may try: it then fails on a dist server nothing listens on).
fn check_through_rustup(dir: &Path, auto_install: bool, args: &[&str]) -> Output {
    let proxies = rustup_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(proxies).chain(std::env::split_paths(&path))).unwrap();
    let cargo_home = dir.with_file_name("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["repro", "check", "--offline"])
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTFLAGS")
        .env("CARGO_HOME", &cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env("RUSTUP_AUTO_INSTALL", if auto_install { "1" } else { "0" })
        .env("RUSTUP_DIST_SERVER", "http://127.0.0.1:9")
        .env("RUSTUP_UPDATE_ROOT", "http://127.0.0.1:9/rustup")
        .output()
        .unwrap()
}

/// The findings of `rule` as `path:line`.
fn found_at(report: &serde_json::Value, rule: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect()
}

#[test]
fn a_missing_pinned_toolchain_is_replaced_by_an_installed_one_for_the_graph() {
    assert!(
        !installed_toolchains().contains("1.20.0"),
        "the fixture pins 1.20.0 because it is not installed; uninstall it to run this test"
    );
    let dir = outside_dir("toolchain-missing").join("ws");
    copy_tree(&workspace_fixture("toolchain-missing"), &dir);

    // Without automatic installs rustup says the toolchain is not installed; with them it tries
    // to download it and cannot.
    let mut used = String::new();
    for auto_install in [false, true] {
        let out = check_through_rustup(&dir, auto_install, &["--format", "json"]);
        let report = json(&out);
        let summary = &report["summary"];
        assert!(
            summary.get("limited").is_none(),
            "auto_install={auto_install}: the graph should be the full one: {report:#}"
        );
        let fallback = &summary["toolchain_fallback"];
        assert_eq!(fallback["missing"], "1.20.0-x86_64-unknown-linux-gnu");
        used = fallback["used"].as_str().unwrap().to_string();
        assert!(
            installed_toolchains()
                .lines()
                .any(|l| l.split_whitespace().next() == Some(used.as_str())),
            "{used} is not an installed toolchain"
        );
        // Only the resolved graph knows the build script of `helper`, a path dependency that is
        // not a member, and that `devhelper` is a dev-dependency only.
        assert_eq!(
            found_at(&report, "build-script-timestamp"),
            ["helper/build.rs:2"],
            "{report:#}"
        );
    }

    let human = check_through_rustup(&dir, false, &[]);
    let text = stdout(&human);
    assert!(
        text.contains(&format!(
            "note: rustup could not provide the pinned toolchain `1.20.0-x86_64-unknown-linux-gnu` \
             (not installed, and not installable here), so `cargo metadata` read the package \
             graph with the installed `{used}` (it needs no particular compiler)"
        )),
        "{text}"
    );
    assert!(!text.contains("could not be had"), "{text}");
    let base = dir.parent().unwrap().to_str().unwrap().to_string();
    assert!(
        !text.contains(&base),
        "an absolute path in the output:\n{text}"
    );
    assert!(
        !dir.join("target").exists(),
        "the check wrote into the workspace"
    );
}

#[test]
fn without_cargo_lock_the_note_says_there_is_none() {
    let dir = outside_dir("no-lockfile");
    write_files(
        &dir,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
            ),
            ("src/lib.rs", "//! Tiny.\n"),
        ],
    );
    let out = crate::support::check(&dir, &["--offline", "--format", "json"]);
    let report = json(&out);
    assert_eq!(
        report["summary"]["limited"]["reason"],
        "there is no Cargo.lock, and cargo metadata --locked does not create one",
        "{report:#}"
    );
    assert_eq!(found_at(&report, "lockfile-missing"), ["Cargo.lock:null"]);
    assert!(
        found_at(&report, "lockfile-stale").is_empty(),
        "a missing lockfile is not a stale one: {report:#}"
    );
    assert!(
        !dir.join("Cargo.lock").exists(),
        "the check created Cargo.lock"
    );

    let human = stdout(&crate::support::check(&dir, &["--offline"]));
    assert!(
        human.contains(
            "note: the resolved package graph could not be had (there is no Cargo.lock, and cargo \
             metadata --locked does not create one)"
        ),
        "{human}"
    );
}
