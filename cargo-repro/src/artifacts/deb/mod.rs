//! Deterministic Debian binary packages (`.deb`), on par with cargo-deb for what a release
//! needs: the control file, `md5sums`, `conffiles` and maintainer scripts in
//! `control.tar.gz`, the installed files in `data.tar.gz`, inside an `ar` archive.
//!
//! This module only turns a [`DebPackage`] (bytes in memory) into the `.deb`'s bytes; what
//! goes into it (assets, units, scripts, the copyright and changelog) is gathered from the
//! workspace by the release writer. Nothing is probed on the host: dependencies come from the
//! binaries themselves ([`elf`]), dates from `SOURCE_DATE_EPOCH`, owners are root.

pub mod changelog;
pub mod control;
pub mod copyright;
pub mod elf;
pub mod metadata;
pub mod systemd;

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest as _, Md5};

pub use control::{
    DebControl, Relations, debian_architecture, debian_package_name, debian_version,
};
pub use metadata::{DebMetadata, ManifestPackage};

use super::tarball::tar_gz;
use super::{ArtifactFile, Normalisation, validate_relative_path};

/// Everything a `.deb` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebPackage {
    pub control: DebControl,
    /// The installed files, by path without the leading `/` (`usr/bin/zecd`), with modes.
    pub files: Vec<ArtifactFile>,
    /// Configuration files (absolute paths); every file under `/etc` is one whether listed or
    /// not, as debhelper marks them.
    pub conffiles: Vec<String>,
    /// `preinst`, `postinst`, `prerm`, `postrm` (and `config`, `templates`), by name.
    pub scripts: BTreeMap<String, String>,
}

/// The control members a package may have besides `control`, `md5sums` and `conffiles`.
const SCRIPTS: &[&str] = &[
    "config",
    "postinst",
    "postrm",
    "preinst",
    "prerm",
    "templates",
];

impl DebPackage {
    /// The `conffiles` member's lines: the listed ones and everything under `/etc`, sorted;
    /// each must be a file of the package.
    fn conffiles(&self) -> anyhow::Result<Vec<String>> {
        let installed: BTreeSet<String> = self
            .files
            .iter()
            .map(|f| format!("/{}", f.path_in_archive))
            .collect();
        let mut conffiles: BTreeSet<String> = installed
            .iter()
            .filter(|path| path.starts_with("/etc/"))
            .cloned()
            .collect();
        for path in &self.conffiles {
            if !installed.contains(path) {
                anyhow::bail!(
                    "[package.metadata.deb] conf-files lists {path:?}, which no asset installs; add the asset or remove the entry"
                );
            }
            conffiles.insert(path.clone());
        }
        Ok(conffiles.into_iter().collect())
    }
}

/// The `.deb` bytes: `ar` members `debian-binary`, `control.tar.gz`, `data.tar.gz`, dated
/// `SOURCE_DATE_EPOCH`, owned by 0/0, mode 100644.
pub fn deb(package: &DebPackage, norm: &Normalisation) -> anyhow::Result<Vec<u8>> {
    for file in &package.files {
        validate_relative_path(&file.path_in_archive)?;
    }
    let control_text = package.control.render(installed_size_kib(&package.files))?;
    let mut control_files = vec![
        ArtifactFile::new("control", control_text.into_bytes(), false),
        ArtifactFile::new("md5sums", md5sums(&package.files).into_bytes(), false),
    ];
    let conffiles = package.conffiles()?;
    if !conffiles.is_empty() {
        control_files.push(ArtifactFile::new(
            "conffiles",
            format!("{}\n", conffiles.join("\n")).into_bytes(),
            false,
        ));
    }
    for (name, text) in &package.scripts {
        if !SCRIPTS.contains(&name.as_str()) {
            anyhow::bail!(
                "{name:?} is not a maintainer script; name them preinst, postinst, prerm, postrm, config or templates"
            );
        }
        let executable = name != "templates";
        control_files.push(ArtifactFile::new(
            name.clone(),
            text.clone().into_bytes(),
            executable,
        ));
    }
    let members: [(&str, Vec<u8>); 3] = [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.gz", tar_gz(&control_files, ".", norm)?),
        ("data.tar.gz", tar_gz(&package.files, ".", norm)?),
    ];
    ar_archive(&members, norm)
}

/// `md5sums`: `HASH  PATH` per installed file, sorted by path, as dh_md5sums writes it.
fn md5sums(files: &[ArtifactFile]) -> String {
    let sums: BTreeMap<&str, String> = files
        .iter()
        .map(|f| {
            let digest = Md5::digest(&f.bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (f.path_in_archive.as_str(), hex)
        })
        .collect();
    sums.iter()
        .map(|(path, hash)| format!("{hash}  {path}\n"))
        .collect()
}

/// As dpkg-gencontrol counts it: each file's size rounded up to KiB, plus 1 per directory.
fn installed_size_kib(files: &[ArtifactFile]) -> u64 {
    let file_kib: u64 = files
        .iter()
        .map(|f| (f.bytes.len() as u64).div_ceil(1024))
        .sum();
    let directories: BTreeSet<&str> = files
        .iter()
        .flat_map(|f| {
            f.path_in_archive
                .match_indices('/')
                .map(|(i, _)| &f.path_in_archive[..i])
        })
        .collect();
    file_kib + directories.len() as u64
}

/// A System V / GNU `ar` archive (the `.deb` container): the global header, then per member a
/// 60-byte header (name, mtime, uid, gid, octal mode, size) and the data padded to even length.
fn ar_archive(members: &[(&str, Vec<u8>)], norm: &Normalisation) -> anyhow::Result<Vec<u8>> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        out.extend_from_slice(&ar_member_header(name, data.len(), norm)?);
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    Ok(out)
}

fn ar_member_header(name: &str, size: usize, norm: &Normalisation) -> anyhow::Result<Vec<u8>> {
    let header = format!(
        "{name:<16}{mtime:<12}{uid:<6}{gid:<6}{mode:<8}{size:<10}`\n",
        mtime = norm.mtime,
        uid = 0,
        gid = 0,
        mode = "100644",
    );
    if header.len() != 60 {
        anyhow::bail!(
            "ar member {name:?} (size {size}, mtime {}) does not fit an ar header; use a SOURCE_DATE_EPOCH before the year 33658 and members under 10 GB",
            norm.mtime
        );
    }
    Ok(header.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::{NORM, ScratchDir, run};

    fn package() -> ManifestPackage {
        ManifestPackage {
            name: "Hello_World".to_string(),
            version: "1.2.3-rc.1".to_string(),
            description: Some("Says hello\n\nA longer story\nover two lines.".to_string()),
            authors: vec!["Ada <ada@example.org>".to_string()],
            repository: Some("https://example.org/hello".to_string()),
            license: Some("MIT".to_string()),
            ..ManifestPackage::default()
        }
    }

    fn metadata() -> serde_json::Value {
        serde_json::json!({
            "maintainer": "Packager <pkg@example.org>",
            "depends": "$auto, ca-certificates",
            "recommends": ["curl", "jq | yq"],
            "conflicts": "hello-legacy",
            "section": "utils",
            "revision": "2",
            "assets": [["target/release/hello", "usr/bin/", "755"], { "source": "hello.toml", "dest": "/etc/hello/", "mode": "640" }],
            "conf-files": [],
            "features": ["x"],
            "no-such-key": true,
        })
    }

    fn control() -> DebControl {
        let (meta, _) = DebMetadata::parse(Some(&metadata())).unwrap();
        meta.control(
            &package(),
            "x86_64-unknown-linux-gnu",
            &["libc6 (>= 2.34)".to_string()],
            None,
        )
        .unwrap()
    }

    fn contents() -> DebPackage {
        DebPackage {
            control: control(),
            files: vec![
                ArtifactFile::new("usr/bin/hello", b"\x7fELF not really\n".to_vec(), true),
                ArtifactFile::new(
                    "usr/share/doc/hello-world/README.md",
                    b"# hello\n".to_vec(),
                    false,
                ),
                ArtifactFile {
                    path_in_archive: "etc/hello/hello.toml".to_string(),
                    bytes: b"port = 1\n".to_vec(),
                    mode: 0o640,
                },
            ],
            conffiles: vec![],
            scripts: BTreeMap::from([("postinst".to_string(), "#!/bin/sh\nset -e\n".to_string())]),
        }
    }

    #[test]
    fn control_comes_from_manifest_and_metadata() {
        let (meta, notes) = DebMetadata::parse(Some(&metadata())).unwrap();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("features is not honoured"), "{notes:?}");
        assert!(
            notes[1].contains("no-such-key is not honoured"),
            "{notes:?}"
        );
        assert_eq!(meta.assets.as_ref().map(Vec::len), Some(2));
        let control = control();
        assert_eq!(control.package, "hello-world");
        assert_eq!(control.version, "1.2.3~rc.1-2");
        assert_eq!(control.architecture, "amd64");
        assert_eq!(control.maintainer, "Packager <pkg@example.org>");
        assert_eq!(
            control.relations.depends,
            ["libc6 (>= 2.34)", "ca-certificates"]
        );
        assert_eq!(
            control.render(3).unwrap(),
            "Package: hello-world\nVersion: 1.2.3~rc.1-2\nArchitecture: amd64\n\
             Maintainer: Packager <pkg@example.org>\nInstalled-Size: 3\n\
             Depends: libc6 (>= 2.34), ca-certificates\nRecommends: curl, jq | yq\n\
             Conflicts: hello-legacy\nSection: utils\nPriority: optional\n\
             Homepage: https://example.org/hello\nDescription: Says hello\n \
             A longer story\n over two lines.\n"
        );
        assert_eq!(
            control.file_name().unwrap(),
            "hello-world_1.2.3~rc.1-2_amd64.deb"
        );
    }

    #[test]
    fn defaults_are_cargo_debs() {
        let (meta, notes) = DebMetadata::parse(None).unwrap();
        assert!(notes.is_empty());
        assert!(meta.strip && !meta.separate_debug_symbols);
        let control = meta
            .control(&package(), "aarch64-unknown-linux-musl", &[], None)
            .unwrap();
        assert_eq!(control.maintainer, "Ada <ada@example.org>");
        // Revision 1 by default, as cargo-deb: apt sorts 1.2.3~rc.1-1 above 1.2.3~rc.1.
        assert_eq!(control.version, "1.2.3~rc.1-1");
        assert_eq!(control.architecture, "arm64");
        // `$auto` with nothing needed (a static binary) leaves no Depends.
        assert!(control.relations.depends.is_empty());
    }

    #[test]
    fn bad_metadata_is_an_error_not_a_broken_package() {
        let bad = [
            (package(), serde_json::json!({ "name": "UPPER/../x" })),
            (package(), serde_json::json!({ "depends": 3 })),
            (package(), serde_json::json!({ "maintainer": "two\nlines" })),
            (package(), serde_json::json!({ "revision": "a-b" })),
            (package(), serde_json::json!({ "revision": "1/../../x" })),
            (
                package(),
                serde_json::json!({ "assets": [["a", "../../etc/", "644"]] }),
            ),
            (
                package(),
                serde_json::json!({ "assets": [["a", "usr/bin/", "4755"]] }),
            ),
            (
                package(),
                serde_json::json!({ "assets": [["a", "usr/bin/"]] }),
            ),
            (
                package(),
                serde_json::json!({ "conf-files": ["etc/relative"] }),
            ),
            (
                package(),
                serde_json::json!({ "systemd-units": { "enable": "yes" } }),
            ),
            (
                package(),
                serde_json::json!({ "systemd-units": { "unit-name": "../x" } }),
            ),
            (
                package(),
                serde_json::json!({ "license-file": ["LICENSE", "two"] }),
            ),
            (
                ManifestPackage {
                    description: None,
                    ..package()
                },
                serde_json::json!({}),
            ),
            (
                ManifestPackage {
                    authors: vec![],
                    ..package()
                },
                serde_json::json!({}),
            ),
        ];
        for (package, metadata) in bad {
            let result = DebMetadata::parse(Some(&metadata))
                .and_then(|(meta, _)| meta.validate(&package, "x86_64-unknown-linux-gnu"));
            let error = result.expect_err(&metadata.to_string()).to_string();
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn architectures_map_from_target_triples() {
        let cases = [
            ("x86_64-unknown-linux-gnu", Some("amd64")),
            ("aarch64-unknown-linux-gnu", Some("arm64")),
            ("i686-unknown-linux-gnu", Some("i386")),
            ("armv7-unknown-linux-gnueabihf", Some("armhf")),
            ("armv7-unknown-linux-gnueabi", None),
            ("riscv64gc-unknown-linux-gnu", None),
            ("x86_64-pc-windows-msvc", None),
            ("x86_64-apple-darwin", None),
        ];
        for (triple, expected) in cases {
            assert_eq!(debian_architecture(triple).ok(), expected, "{triple}");
        }
    }

    #[test]
    fn same_bytes_on_every_run() {
        let first = deb(&contents(), &NORM).unwrap();
        assert_eq!(first, deb(&contents(), &NORM).unwrap());
        assert!(first.starts_with(
            b"!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n"
        ));
    }

    #[test]
    fn dpkg_deb_reads_fields_files_and_control_members() {
        let scratch = ScratchDir::new("deb");
        let package = contents();
        let name = package.control.file_name().unwrap();
        std::fs::write(scratch.path().join(&name), deb(&package, &NORM).unwrap()).unwrap();
        let info = run("dpkg-deb", &["--info", &name], scratch.path());
        for expected in [
            "Package: hello-world",
            "Version: 1.2.3~rc.1-2",
            "Installed-Size: 10",
            "Depends: libc6 (>= 2.34), ca-certificates",
            "  A longer story",
        ] {
            assert!(info.contains(expected), "missing {expected:?} in\n{info}");
        }
        let listing = run("dpkg-deb", &["--contents", &name], scratch.path());
        let entries: Vec<(&str, &str)> = listing
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields[0], fields[5])
            })
            .collect();
        assert!(
            entries.contains(&("-rw-r-----", "./etc/hello/hello.toml")),
            "{listing}"
        );
        assert!(
            entries.contains(&("-rwxr-xr-x", "./usr/bin/hello")),
            "{listing}"
        );
        assert!(listing.contains("2023-11-14 22:13"), "{listing}");
        run("dpkg-deb", &["--control", &name, "ctl"], scratch.path());
        let control_dir = scratch.path().join("ctl");
        assert_eq!(
            std::fs::read_to_string(control_dir.join("conffiles")).unwrap(),
            "/etc/hello/hello.toml\n"
        );
        let md5sums = std::fs::read_to_string(control_dir.join("md5sums")).unwrap();
        assert_eq!(md5sums.lines().count(), 3, "{md5sums}");
        assert!(
            md5sums.starts_with("3b5d3c7d207e37dceeedd301e35e2e58  etc/hello/hello.toml\n")
                || md5sums.contains("  etc/hello/hello.toml\n"),
            "{md5sums}"
        );
        // `md5sum -c` agrees with every line.
        run("dpkg-deb", &["-x", &name, "root"], scratch.path());
        std::fs::write(scratch.path().join("root/md5sums"), &md5sums).unwrap();
        run(
            "md5sum",
            &["-c", "--quiet", "md5sums"],
            &scratch.path().join("root"),
        );
    }

    #[test]
    fn refuses_paths_that_would_escape_and_stray_conffiles() {
        let mut bad = contents();
        bad.files[0].path_in_archive = "usr/../../sbin/x".to_string();
        assert!(deb(&bad, &NORM).is_err());
        let mut stray = contents();
        stray.conffiles = vec!["/etc/not-installed".to_string()];
        assert!(deb(&stray, &NORM).is_err());
        let mut script = contents();
        script.scripts.insert("../evil".to_string(), String::new());
        assert!(deb(&script, &NORM).is_err());
    }
}
