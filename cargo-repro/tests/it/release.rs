//! `cargo repro build --release-artifacts`: reproducible across checkouts and environments,
//! every artifact format checked with the real tools, and failures leave nothing behind.

use std::path::{Path, PathBuf};

use crate::support::{
    CLEAN_RELEASE, assert_no_files, build_in, checkout, files, git, outside_checkout, outside_dir,
    stderr, tool,
};

/// Builds with a varied environment; returns the out dir.
fn release(dir: &Path, cargo_home: &Path, tz: &str, umask: &str) -> PathBuf {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask {umask}; exec \"$0\" repro build --offline --release-artifacts"
        ))
        .arg(env!("CARGO_BIN_EXE_cargo-repro"))
        .current_dir(dir)
        .env("CARGO_HOME", cargo_home)
        .env("TZ", tz)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir.join("target/repro-artifacts")
}

#[test]
fn release_artifacts_are_reproducible_and_valid() {
    let base = outside_dir("release");
    let (one, two) = (base.join("one"), base.join("elsewhere/two"));
    checkout(&one);
    checkout(&two);
    let first = release(&one, &base.join("cargo-home-a"), "UTC", "022");
    let second = release(&two, &base.join("home/b/.cargo"), "Asia/Tokyo", "077");
    let (a, b) = (files(&first), files(&second));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, CLEAN_RELEASE);
    assert_eq!(a, b, "artifacts differ between checkouts and environments");

    assert!(
        tool(&first, "sha256sum", &["-c", "SHA256SUMS"])
            .lines()
            .all(|l| l.ends_with(": OK"))
    );
    assert!(tool(&first, "sha256sum", &["-c", "app_1.0.0_amd64.deb.sha256"]).contains(": OK"));

    let listing = tool(
        &first,
        "tar",
        &[
            "--utc",
            "-tvzf",
            "app-1.0.0-x86_64-unknown-linux-gnu.tar.gz",
        ],
    );
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    for line in &lines {
        assert!(
            line.contains(" 0/0 ") && line.contains("2026-01-01 00:00"),
            "{line}"
        );
    }
    assert!(
        lines[3].starts_with("-rwxr-xr-x") && lines[3].ends_with("/app"),
        "{listing}"
    );
    let gz = std::fs::read(first.join("app-1.0.0-x86_64-unknown-linux-gnu.tar.gz")).unwrap();
    assert_eq!(
        &gz[..4],
        &[0x1f, 0x8b, 8, 0],
        "gzip header: deflate, no file name"
    );
    assert_eq!(&gz[4..8], &[0, 0, 0, 0], "gzip header: mtime 0");

    let info = tool(&first, "dpkg-deb", &["--info", "app_1.0.0_amd64.deb"]);
    for field in [
        "Package: app",
        "Version: 1.0.0",
        "Architecture: amd64",
        "Section: utils",
        "Maintainer: Release Team",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    let contents = tool(&first, "dpkg-deb", &["--contents", "app_1.0.0_amd64.deb"]);
    assert!(
        contents.contains("./usr/bin/app") && contents.contains("./usr/share/doc/app/LICENSE"),
        "{contents}"
    );

    let statement: serde_json::Value = serde_json::from_slice(
        &std::fs::read(first.join("app-1.0.0-x86_64-unknown-linux-gnu.intoto.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let subjects = statement["subject"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    let text = statement.to_string();
    for leaked in [one.to_str().unwrap(), "cargo-home-a", "/root/", "/home/"] {
        assert!(!text.contains(leaked), "the provenance contains {leaked}");
    }
}

#[test]
fn failures_leave_nothing_in_the_out_dir() {
    let (_, dir) = outside_checkout("release-fail");
    let out_dir = dir.join("target/repro-artifacts");
    // A package that cannot be described as a .deb: the build succeeds, packaging fails.
    let manifest = std::fs::read_to_string(dir.join("app/Cargo.toml")).unwrap();
    std::fs::write(
        dir.join("app/Cargo.toml"),
        manifest.replace(
            "description = \"A tiny binary for the release tests\"\n",
            "",
        ),
    )
    .unwrap();
    let out = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no description; add `description` to [package]"),
        "{}",
        stderr(&out)
    );
    assert_no_files(&out_dir);
}

#[test]
fn bad_build_input_fails_with_a_clear_error_and_no_artifacts() {
    let (base, dir) = outside_checkout("release-bad");
    let out_dir = dir.join("target/repro-artifacts");

    let unknown_package = build_in(&dir, &["-p", "nope", "--release-artifacts"], &[]);
    assert_ne!(unknown_package.status.code(), Some(0));
    assert!(
        stderr(&unknown_package).contains("nope"),
        "cargo's own error names the package: {}",
        stderr(&unknown_package)
    );

    let unknown_target = build_in(
        &dir,
        &["--target", "no-such-target", "--release-artifacts"],
        &[],
    );
    assert_ne!(unknown_target.status.code(), Some(0));
    assert!(
        stderr(&unknown_target).contains("no-such-target"),
        "{}",
        stderr(&unknown_target)
    );

    std::fs::write(
        dir.join("app/src/main.rs"),
        "fn main() { this does not compile }\n",
    )
    .unwrap();
    let failing = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_ne!(failing.status.code(), Some(0));
    assert!(stderr(&failing).contains("error"), "{}", stderr(&failing));
    assert_no_files(&out_dir);

    // The out dir is an existing file: nothing can be written there.
    git(&dir, &["checkout", "--", "app/src/main.rs"]);
    std::fs::write(base.join("not-a-dir"), "x").unwrap();
    let unwritable = build_in(
        &dir,
        &[
            "--release-artifacts",
            "--out-dir",
            base.join("not-a-dir").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(unwritable.status.code(), Some(2), "{}", stderr(&unwritable));
    assert!(
        stderr(&unwritable).contains("cannot create"),
        "{}",
        stderr(&unwritable)
    );
    assert_eq!(
        std::fs::read_to_string(base.join("not-a-dir")).unwrap(),
        "x"
    );
}

#[test]
fn a_workspace_without_binaries_is_refused() {
    let dir = outside_dir("release-nobin");
    crate::support::tiny_workspace(
        &dir,
        "\n[profile.release]\ncodegen-units = 1\n",
        &[("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n")],
    );
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "lib only"]);
    let out = build_in(&dir, &["--release-artifacts"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "error: the build produced no binary; pass -p PKG for a package with a [[bin]] target\n"
        ),
        "{}",
        stderr(&out)
    );
}
