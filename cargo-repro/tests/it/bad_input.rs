//! Bad input: a one-line error naming the file (and line), exit 2, no panic.

use crate::support::*;

fn expect_error(dir: &std::path::Path, expected: &str) {
    let out = check(dir, &["--offline"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stderr(&out), expected);
    assert!(out.stdout.is_empty(), "nothing on stdout after an error");
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let cases: [(&str, &str, &str); 4] = [
        (
            "Cargo.lock",
            "version = 4\n[[package]\n",
            "error: Cargo.lock:2:11: invalid TOML: unclosed array table, expected `]`; fix the syntax\n",
        ),
        (
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \n",
            "error: rust-toolchain.toml:2:11: invalid TOML: string values must be quoted, expected literal string; fix the syntax\n",
        ),
        (
            ".cargo/config.toml",
            "[build]\nrustflags = [\"-C\"\n",
            "error: .cargo/config.toml:2:18: invalid TOML: unclosed array, expected `]`; fix the syntax\n",
        ),
        ("Dockerfile", "", ""),
    ];
    for (index, (file, text, expected)) in cases.into_iter().enumerate() {
        if expected.is_empty() {
            continue;
        }
        let dir = outside_dir(&format!("malformed-{index}"));
        tiny_workspace(&dir, "", &[]);
        write_files(&dir, &[(file, text)]);
        expect_error(&dir, expected);
    }
}

#[test]
fn malformed_manifests_are_reported_not_panicked_on() {
    let dir = outside_dir("malformed-root");
    write_files(
        &dir,
        &[("Cargo.toml", "[package]\nname = \"x\"\nversion = 0.1.0\"\n")],
    );
    expect_error(
        &dir,
        "error: Cargo.toml:3:14: invalid TOML: invalid float, expected nothing; fix the syntax\n",
    );

    let dir = outside_dir("malformed-member");
    write_files(
        &dir,
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"m\"]\n"),
            ("m/Cargo.toml", "[package\nname = \"m\"\n"),
            ("m/src/lib.rs", ""),
        ],
    );
    expect_error(
        &dir,
        "error: m/Cargo.toml:1:9: invalid TOML: unclosed table, expected `]`; fix the syntax\n",
    );
}

#[test]
fn non_utf8_files_are_named() {
    let dir = outside_dir("non-utf8");
    tiny_workspace(&dir, "", &[]);
    std::fs::write(dir.join("Dockerfile"), b"FROM rust\nRUN echo \xff\xfe\n").unwrap();
    expect_error(
        &dir,
        "error: Dockerfile:2: file is not valid UTF-8; re-save it as UTF-8\n",
    );
}

#[test]
fn missing_cargo_is_an_error() {
    let dir = outside_dir("no-cargo");
    tiny_workspace(&dir, "", &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["repro", "check"])
        .current_dir(&dir)
        .env("CARGO", "/nonexistent/bin/cargo")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: cannot run cargo: no such file or directory; install Rust (rustup) or set $CARGO\n"
    );
}

#[test]
fn failing_cargo_falls_back_to_the_lockfile_and_says_so() {
    let dir = outside_dir("cargo-fails");
    tiny_workspace(
        &dir,
        "\n[profile.release]\ncodegen-units = 1\n",
        &[("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n")],
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .args(["repro", "check", "--format", "json"])
        .current_dir(&dir)
        .env("CARGO", "false")
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(
        report["summary"]["limited"]["reason"],
        "cargo metadata failed: cargo metadata failed"
    );
    assert!(
        report["summary"]["limited"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "lockfile-stale")
    );
}

#[test]
fn missing_or_wrong_manifest_path() {
    let dir = outside_dir("manifest-path");
    let out = run_in(&dir, &["check", "--manifest-path", "nowhere/Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: nowhere/Cargo.toml: manifest not found; pass the path of an existing Cargo.toml\n"
    );
    let out = run_in(&dir, &["check", "--manifest-path", "Cargo.lock"]);
    assert_eq!(
        stderr(&out),
        "error: Cargo.lock: --manifest-path must point to a Cargo.toml file\n"
    );
    let out = run_in(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: could not find Cargo.toml in the current directory or any parent; pass --manifest-path\n"
    );
}

/// Root can read anything, so the unreadable directory is tested as user `nobody` when the
/// tests run as root (through `setpriv`), and directly otherwise.
#[test]
fn unreadable_directory_is_named() {
    let dir = outside_dir("unreadable");
    tiny_workspace(
        &dir,
        "",
        &[("scripts/release.sh", "cargo build --release --locked\n")],
    );
    let scripts = dir.join("scripts");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&scripts, std::fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut command = if is_root {
        // The clone may live where `nobody` cannot reach (under /root): run a copy from here.
        let binary = dir.join("cargo-repro");
        std::fs::copy(env!("CARGO_BIN_EXE_cargo-repro"), &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
    };
    let out = command
        .args(["repro", "check"])
        .current_dir(&dir)
        .env("CARGO", "false")
        .env("HOME", &dir)
        .output()
        .unwrap();
    std::fs::set_permissions(&scripts, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: cannot read directory scripts: permission denied\n"
    );
}

#[test]
fn build_time_files_the_heuristics_cannot_read_are_named_in_every_format() {
    let dir = outside_dir("unread-sources");
    tiny_workspace(
        &dir,
        "",
        &[
            ("pkg/build.rs", "mod o;\nmod broken;\nfn main() {}\n"),
            ("pkg/broken.rs", "fn (\n"),
        ],
    );
    // `pkg/o.rs` is a symlink to a file outside the package.
    let elsewhere = outside_dir("unread-sources-elsewhere");
    std::fs::write(elsewhere.join("secret.rs"), "pub fn secret() {}\n").unwrap();
    std::os::unix::fs::symlink(elsewhere.join("secret.rs"), dir.join("pkg/o.rs")).unwrap();
    // The member's build script lives in `pkg/`, a package of its own.
    write_files(
        &dir,
        &[(
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"pkg/build.rs\"\n\n[workspace]\n",
        )],
    );
    let human = stdout(&check(&dir, &["--offline"]));
    assert!(
        human.contains("note: the source heuristics did not read 2 build-time file(s)"),
        "{human}"
    );
    let report = json(&check(&dir, &["--offline", "--format", "json"]));
    let unread: Vec<&str> = report["summary"]["unread_sources"]
        .as_array()
        .expect("unread_sources")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert!(
        unread
            .iter()
            .any(|u| u.starts_with("pkg/broken.rs:1: does not parse"))
    );
    assert!(unread.contains(&"pkg/o.rs: not read: it leads outside the package directory"));
    let sarif = json(&check(&dir, &["--offline", "--format", "sarif"]));
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(notes.iter().any(|n| {
        n["message"]["text"]
            .as_str()
            .unwrap()
            .contains("pkg/broken.rs:1: does not parse")
    }));
    assert!(!human.contains(&*dir.to_string_lossy()), "no absolute path");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&elsewhere).unwrap();
}

#[test]
fn errors_are_one_line_without_machine_paths() {
    let dir = outside_dir("error-line");
    tiny_workspace(&dir, "", &[]);
    let missing = dir.join("sub\nerror: forged/Cargo.toml");
    let out = run_in(
        &dir,
        &[
            "check",
            "--offline",
            "--manifest-path",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: $WORKSPACE/sub\\nerror: forged/Cargo.toml: manifest not found; pass the path of an existing Cargo.toml\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
