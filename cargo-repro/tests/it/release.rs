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
    assert!(tool(&first, "sha256sum", &["-c", "app_1.0.0-1_amd64.deb.sha256"]).contains(": OK"));

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

    let info = tool(&first, "dpkg-deb", &["--info", "app_1.0.0-1_amd64.deb"]);
    for field in [
        "Package: app",
        "Version: 1.0.0-1",
        "Architecture: amd64",
        "Section: utils",
        "Maintainer: Release Team",
    ] {
        assert!(info.contains(field), "{field} missing:\n{info}");
    }
    let contents = tool(&first, "dpkg-deb", &["--contents", "app_1.0.0-1_amd64.deb"]);
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
fn what_a_deb_lacks_skips_the_deb_not_the_release() {
    let (_, dir) = outside_checkout("release-no-description");
    let out_dir = dir.join("target/repro-artifacts");
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
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let warning = said
        .find("warning: app/Cargo.toml: no .deb for app: it lacks a description (add `description` to [package]); the tar.gz, sums and provenance are written (or pass --no-deb)")
        .unwrap_or_else(|| panic!("{said}"));
    let built = said.find("Built ").unwrap_or_else(|| panic!("{said}"));
    assert!(warning < built, "said before compiling: {said}");
    let names: Vec<String> = files(&out_dir).into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().any(|n| n.ends_with(".tar.gz")), "{names:?}");
    assert!(names.iter().all(|n| !n.contains(".deb")), "{names:?}");
    assert!(names.contains(&"SHA256SUMS".to_string()));
    assert!(tool(&out_dir, "sha256sum", &["-c", "SHA256SUMS"]).contains(": OK"));
}

#[test]
fn invalid_metadata_fails_before_compiling_and_leaves_nothing() {
    let (_, dir) = outside_checkout("release-fail");
    let out_dir = dir.join("target/repro-artifacts");
    let manifest = std::fs::read_to_string(dir.join("app/Cargo.toml")).unwrap();
    std::fs::write(
        dir.join("app/Cargo.toml"),
        manifest.replace(
            "[package.metadata.deb]\n",
            "[package.metadata.deb]\nrevision = \"a-b\"\n",
        ),
    )
    .unwrap();
    let out = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: app/Cargo.toml: [package.metadata.deb] revision \"a-b\" is not a Debian revision"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("Built "),
        "nothing compiled: {}",
        stderr(&out)
    );
    assert_no_files(&out_dir);
}

#[test]
fn a_crate_fresh_from_cargo_new_gets_its_release_with_one_command() {
    let base = outside_dir("release-cargo-new");
    let status = std::process::Command::new("cargo")
        .args(["new", "--vcs", "git", "--offline", "-q", "hello"])
        .current_dir(&base)
        .status()
        .unwrap();
    assert!(status.success());
    let dir = base.join("hello");
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "new"]);
    let out = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out_dir = dir.join("target/repro-artifacts");
    let names: Vec<String> = files(&out_dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "hello-0.1.0-x86_64-unknown-linux-gnu.intoto.json",
            "hello-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
            "hello-0.1.0-x86_64-unknown-linux-gnu.tar.gz.sha256",
        ]
    );
    assert!(
        stderr(&out).contains("no .deb for hello: it lacks a maintainer"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_license_linking_outside_the_workspace_is_refused_not_packaged() {
    let (_, dir) = outside_checkout("release-license-link");
    let out_dir = dir.join("target/repro-artifacts");
    let _ = std::fs::remove_file(dir.join("app/LICENSE"));
    std::os::unix::fs::symlink("/etc/passwd", dir.join("app/LICENSE")).unwrap();
    let out = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).lines().last().unwrap_or_default(),
        "error: app/LICENSE is a symbolic link leading outside the workspace; replace it with the file itself"
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

#[test]
fn one_deb_holds_every_binary_of_its_package_as_cargo_deb_does() {
    let dir = outside_dir("release-twobins");
    crate::support::tiny_workspace(
        &dir,
        "\n[profile.release]\ncodegen-units = 1\n",
        &[
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"Two tools\"\nauthors = [\"T <t@example.com>\"]\nlicense = \"MIT\"\n\n[workspace]\n\n[profile.release]\ncodegen-units = 1\n",
            ),
            ("src/bin/first.rs", "fn main() {}\n"),
            ("src/bin/second.rs", "fn main() {}\n"),
        ],
    );
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "two binaries"]);
    let out = build_in(&dir, &["--release-artifacts", "--allow-unpinned"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out_dir = dir.join("target/repro-artifacts");
    let listing = tool(
        &out_dir,
        "dpkg-deb",
        &["--contents", "tiny_0.1.0-1_amd64.deb"],
    );
    for path in [
        "./usr/bin/first",
        "./usr/bin/second",
        "./usr/share/doc/tiny/copyright",
    ] {
        assert!(listing.contains(path), "{path} missing from\n{listing}");
    }
    for tarball in [
        "first-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
        "second-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
    ] {
        assert!(out_dir.join(tarball).is_file(), "{tarball}");
    }
}

const MUSL: &str = "x86_64-unknown-linux-musl";

/// Fails (never skips) when the pinned toolchain of `dir` lacks the musl target.
fn require_musl_target(dir: &Path) {
    let out = std::process::Command::new("rustc")
        .args(["--print", "target-libdir", "--target", MUSL])
        .current_dir(dir)
        .output()
        .unwrap();
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && Path::new(&libdir).is_dir(),
        "the {MUSL} target is not installed for the pinned toolchain; run `rustup target add --toolchain 1.95.0 {MUSL}` (`cargo xtask ci` does)"
    );
}

/// How an ELF64 little-endian file is linked: whether it names a program interpreter
/// (`PT_INTERP`) and how many shared libraries its dynamic section needs (`DT_NEEDED`).
fn elf_linking(elf: &[u8]) -> (bool, usize) {
    assert_eq!(&elf[..6], b"\x7fELF\x02\x01", "an ELF64 little-endian file");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    const DT_NEEDED: usize = 1;
    let mut interp = false;
    let mut needed = 0;
    for header in (0..phnum).map(|i| phoff + i * phentsize) {
        match u32_at(header) {
            PT_INTERP => interp = true,
            PT_DYNAMIC => {
                let (offset, size) = (u64_at(header + 8), u64_at(header + 32));
                needed += (offset..offset + size)
                    .step_by(16)
                    .map(u64_at)
                    .take_while(|&tag| tag != 0)
                    .filter(|&tag| tag == DT_NEEDED)
                    .count();
            }
            _ => {}
        }
    }
    (interp, needed)
}

#[test]
fn the_elf_reader_sees_a_dynamically_linked_binary() {
    let this = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let (interp, needed) = elf_linking(&this);
    assert!(
        interp && needed > 0,
        "the test binary is linked against glibc"
    );
}

#[test]
fn musl_release_is_static_and_named_for_musl() {
    let base = outside_dir("release-musl");
    let dir = base.join("ws");
    checkout(&dir);
    require_musl_target(&dir);
    let out = build_in(&dir, &["--target", MUSL, "--release-artifacts"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let artifacts = dir.join("target/repro-artifacts");
    let names: Vec<String> = files(&artifacts).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "app-1.0.0-x86_64-unknown-linux-musl.intoto.json",
            "app-1.0.0-x86_64-unknown-linux-musl.tar.gz",
            "app-1.0.0-x86_64-unknown-linux-musl.tar.gz.sha256",
            "app_1.0.0-1_amd64.deb",
            "app_1.0.0-1_amd64.deb.sha256",
        ]
    );
    let info = tool(&artifacts, "dpkg-deb", &["--info", "app_1.0.0-1_amd64.deb"]);
    assert!(info.contains("Architecture: amd64"), "{info}");

    // The binary as shipped in the tarball: no interpreter, no shared library, and it runs.
    tool(
        &base,
        "tar",
        &[
            "-xzf",
            artifacts
                .join("app-1.0.0-x86_64-unknown-linux-musl.tar.gz")
                .to_str()
                .unwrap(),
        ],
    );
    let binary = base.join("app-1.0.0-x86_64-unknown-linux-musl/app");
    let (interp, needed) = elf_linking(&std::fs::read(&binary).unwrap());
    assert!(
        !interp && needed == 0,
        "not static: PT_INTERP {interp}, {needed} DT_NEEDED"
    );
    let ran = tool(&base, binary.to_str().unwrap(), &[]);
    assert_eq!(ran, "hello [\"alpha\", \"beta\", \"gamma\"]\n");
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            paths.push(path.strip_prefix(dir).unwrap().display().to_string());
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            }
        }
    }
    paths.sort();
    paths
}

#[test]
fn deb_metadata_that_would_escape_the_out_dir_is_refused() {
    // Cargo and rustc refuse package and bin names with `/` or `.`, and versions are semver;
    // `[package.metadata.deb]` is the metadata nobody else checks, and it names the .deb.
    let base = outside_dir("release-escape");
    let dir = base.join("ws");
    checkout(&dir);
    let manifest = std::fs::read_to_string(dir.join("app/Cargo.toml")).unwrap();
    let out_dir = base.join("deep/out");
    for (key, value, problem) in [
        ("name", "../../escape", "is not a Debian package name"),
        ("revision", "1/../../escape", "is not a Debian revision"),
    ] {
        std::fs::write(
            dir.join("app/Cargo.toml"),
            manifest.replace(
                "[package.metadata.deb]\n",
                &format!("[package.metadata.deb]\n{key} = {value:?}\n"),
            ),
        )
        .unwrap();
        let before = tree(&base);
        let out = build_in(
            &dir,
            &[
                "--release-artifacts",
                "--out-dir",
                out_dir.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let last = stderr(&out).lines().last().unwrap_or_default().to_string();
        assert!(
            last.starts_with("error: app/Cargo.toml: ")
                && last.contains(&format!("{value:?}"))
                && last.contains(problem)
                && last.contains("[package.metadata.deb]"),
            "{last}"
        );
        let created: Vec<String> = tree(&base)
            .into_iter()
            .filter(|p| !before.contains(p) && !p.starts_with("ws/target"))
            .collect();
        assert!(
            created.iter().all(|p| p.starts_with("deep"))
                && !created.iter().any(|p| p.contains("escape")),
            "{created:?}"
        );
        assert!(
            !out_dir.exists() || std::fs::read_dir(&out_dir).unwrap().next().is_none(),
            "nothing in the out dir"
        );
    }
}
