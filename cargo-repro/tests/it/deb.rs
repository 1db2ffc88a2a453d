//! The .deb of a zecd-shaped daemon (a static musl binary and a CLI, a systemd unit,
//! maintainer scripts, a conffile, README and LICENSE at the workspace root), checked with the
//! real Debian tools: dpkg-deb reads it, `dpkg -x` unpacks every file, md5sum agrees with its
//! md5sums, and lintian reports no error.

use std::path::Path;

use crate::support::{build_in, git, outside_dir, stderr, tool};

const MUSL: &str = "x86_64-unknown-linux-musl";

fn zecd_workspace(dir: &Path) {
    let files: &[(&str, &str)] = &[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"zecd\"]\nresolver = \"2\"\n\n[profile.release]\ncodegen-units = 1\n",
        ),
        (
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"1.95.0\"\ntargets = [\"x86_64-unknown-linux-musl\"]\n",
        ),
        (".gitignore", "target\n"),
        ("README.md", "# zecd\nA wallet daemon.\n"),
        ("doc/operating.md", "# Operating zecd\n"),
        (
            "LICENSE-MIT",
            "MIT License\n\nPermission is hereby granted, free of charge.\n",
        ),
        (
            "zecd/Cargo.toml",
            r#"[package]
name = "zecd"
version = "0.3.1"
edition = "2021"
description = "Wallet daemon that holds spend authority"
license = "MIT"
repository = "https://example.org/zecd"
authors = ["Zecd Developers <dev@example.org>"]

[[bin]]
name = "zecd"
path = "src/main.rs"

[[bin]]
name = "zecd-cli"
path = "src/cli.rs"

[package.metadata.deb]
maintainer = "Zecd Packagers <pkg@example.org>"
section = "net"
depends = "$auto, adduser"
recommends = "ca-certificates"
extended-description = "zecd signs transactions; its releases are reproducible."
assets = [
  ["target/release/zecd", "usr/bin/", "755"],
  ["target/release/zecd-cli", "usr/bin/", "755"],
  ["debian/zecd.toml", "etc/zecd/", "644"],
  ["../doc/*.md", "usr/share/doc/zecd/", "644"],
]
maintainer-scripts = "debian/"
systemd-units = { enable = true }
"#,
        ),
        ("zecd/src/main.rs", "fn main() { println!(\"zecd\"); }\n"),
        ("zecd/src/cli.rs", "fn main() { println!(\"zecd-cli\"); }\n"),
        (
            "zecd/debian/zecd.service",
            "[Unit]\nDescription=zecd wallet daemon\nDocumentation=https://example.org/zecd\n\n[Service]\nExecStart=/usr/bin/zecd\nUser=zecd\n\n[Install]\nWantedBy=multi-user.target\n",
        ),
        ("zecd/debian/zecd.toml", "listen = \"127.0.0.1:8232\"\n"),
        (
            "zecd/debian/postinst",
            "#!/bin/sh\nset -e\nif [ \"$1\" = configure ] && ! getent passwd zecd >/dev/null; then\n    adduser --system --group --home /var/lib/zecd zecd\nfi\n#DEBHELPER#\nexit 0\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = std::process::Command::new("cargo")
        .args(["generate-lockfile", "--offline", "-q"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "zecd"]);
}

/// Fails (never skips) without lintian, naming the command that installs it.
fn require_lintian() {
    let found = std::process::Command::new("lintian")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "lintian is not installed; run `apt-get install -y lintian` (.ci/run does)"
    );
}

/// lintian's errors (`E:` lines) on `deb` in `dir`.
fn lintian_errors(dir: &Path, deb: &str) -> Vec<String> {
    let out = std::process::Command::new("lintian")
        .args(["--no-cfg", "--allow-root", deb])
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("E:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_zecd_shaped_daemon_gets_a_deb_that_dpkg_and_lintian_accept() {
    require_lintian();
    let base = outside_dir("deb-zecd");
    let dir = base.join("ws");
    zecd_workspace(&dir);
    let out = build_in(&dir, &["--release-artifacts", "--target", MUSL], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let artifacts = dir.join("target/repro-artifacts");
    let deb = "zecd_0.3.1-1_amd64.deb";

    let info = tool(&artifacts, "dpkg-deb", &["--info", deb]);
    for field in [
        "Package: zecd",
        "Version: 0.3.1-1",
        "Depends: adduser\n",
        "Recommends: ca-certificates",
        "Section: net",
    ] {
        assert!(info.contains(field), "{field:?} missing:\n{info}");
    }
    // A static binary needs no shared library: no libc6 in Depends.
    assert!(!info.contains("libc6"), "{info}");

    tool(&artifacts, "dpkg-deb", &["-x", deb, "root"]);
    tool(&artifacts, "dpkg-deb", &["-e", deb, "control"]);
    let root = artifacts.join("root");
    for path in [
        "usr/bin/zecd",
        "usr/bin/zecd-cli",
        "etc/zecd/zecd.toml",
        "lib/systemd/system/zecd.service",
        "usr/share/doc/zecd/copyright",
        "usr/share/doc/zecd/changelog.Debian.gz",
        "usr/share/doc/zecd/README.md",
        "usr/share/doc/zecd/LICENSE-MIT",
        "usr/share/doc/zecd/operating.md",
    ] {
        assert!(root.join(path).is_file(), "{path} is not installed");
    }
    // Stripped, and still runs.
    let file = tool(&root, "file", &["usr/bin/zecd"]);
    assert!(file.contains(", stripped"), "{file}");
    assert_eq!(tool(&root, "./usr/bin/zecd", &[]), "zecd\n");
    let control = artifacts.join("control");
    assert_eq!(
        std::fs::read_to_string(control.join("conffiles")).unwrap(),
        "/etc/zecd/zecd.toml\n"
    );
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("adduser --system"), "{postinst}");
    assert!(
        postinst.contains("deb-systemd-helper enable 'zecd.service'"),
        "{postinst}"
    );
    assert!(!postinst.contains("#DEBHELPER#"), "{postinst}");
    for script in ["prerm", "postrm"] {
        let text = std::fs::read_to_string(control.join(script)).unwrap();
        assert!(text.contains("'zecd.service'"), "{script}: {text}");
    }
    std::fs::copy(control.join("md5sums"), root.join("md5sums")).unwrap();
    tool(&root, "md5sum", &["-c", "--quiet", "md5sums"]);
    let copyright = std::fs::read_to_string(root.join("usr/share/doc/zecd/copyright")).unwrap();
    assert!(
        copyright.contains("License: MIT\n MIT License\n .\n Permission"),
        "{copyright}"
    );

    let errors = lintian_errors(&artifacts, deb);
    assert!(errors.is_empty(), "lintian: {errors:?}");
}

#[test]
fn a_glibc_binary_depends_on_the_libc_it_references() {
    require_lintian();
    let base = outside_dir("deb-glibc");
    let dir = base.join("ws");
    zecd_workspace(&dir);
    let out = build_in(&dir, &["--release-artifacts"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let artifacts = dir.join("target/repro-artifacts");
    let deb = "zecd_0.3.1-1_amd64.deb";
    let info = tool(&artifacts, "dpkg-deb", &["--info", deb]);
    let depends = info
        .lines()
        .find(|l| l.trim_start().starts_with("Depends:"))
        .unwrap_or_default();
    assert!(depends.contains("libc6 (>= 2."), "{info}");
    assert!(depends.contains("adduser"), "{info}");
    let errors = lintian_errors(&artifacts, deb);
    assert!(errors.is_empty(), "lintian: {errors:?}");
}
