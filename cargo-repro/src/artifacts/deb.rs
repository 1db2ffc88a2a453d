//! Deterministic Debian binary packages (`.deb`): the control file from Cargo metadata, and the
//! `ar` archive of `debian-binary`, `control.tar.gz` and `data.tar.gz`.
//!
//! Nothing is probed on the host: cargo-deb's `$auto` dependency (which runs
//! `dpkg-shlibdeps`) is dropped with a note. No `md5sums` control member is written: it is
//! optional, and computing it would need an MD5 crate for no reproducibility gain.

use std::collections::BTreeMap;

use super::tarball::tar_gz;
use super::{ArtifactFile, Normalisation, validate_name_segment};

/// The fields of `DEBIAN/control`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebControl {
    /// Lowercase `[a-z0-9+.-]`, at least two characters, starting with a letter or digit.
    pub package: String,
    /// A Debian version (`1.2.3~rc.1-1`).
    pub version: String,
    /// A Debian architecture (`amd64`), see [`debian_architecture`].
    pub architecture: String,
    pub maintainer: String,
    /// The one-line synopsis.
    pub description: String,
    /// The long description: plain text, blank lines allowed.
    pub extended_description: Option<String>,
    pub depends: Vec<String>,
    pub section: Option<String>,
    pub priority: String,
    pub homepage: Option<String>,
}

/// The `[package]` fields a control file is built from, as `cargo metadata` resolves them
/// (workspace inheritance already applied).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestPackage {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub authors: Vec<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
}

impl From<&cargo_metadata::Package> for ManifestPackage {
    fn from(package: &cargo_metadata::Package) -> ManifestPackage {
        ManifestPackage {
            name: package.name.to_string(),
            version: package.version.to_string(),
            description: package.description.clone(),
            authors: package.authors.clone(),
            homepage: package.homepage.clone(),
            repository: package.repository.clone(),
        }
    }
}

/// A control built from metadata, with what was left out and why (for the user to read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlFromManifest {
    pub control: DebControl,
    pub notes: Vec<String>,
}

/// The `[package.metadata.deb]` keys (cargo-deb's names) that shape the control file.
#[derive(Debug, Default)]
struct DebMetadata {
    name: Option<String>,
    maintainer: Option<String>,
    depends: Vec<String>,
    section: Option<String>,
    priority: Option<String>,
    extended_description: Option<String>,
    revision: Option<String>,
}

impl DebControl {
    /// What the package lacks for a .deb to be described at all, each with the key to add
    /// (empty when nothing is missing): then no .deb is written, and the other artifacts are.
    pub fn lacks(
        package: &ManifestPackage,
        deb_metadata: Option<&serde_json::Value>,
    ) -> Vec<String> {
        let deb_key = |key: &str| {
            deb_metadata
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_str())
                .is_some_and(|v| !v.trim().is_empty())
        };
        let mut lacks = Vec::new();
        if !deb_key("maintainer") && package.authors.is_empty() {
            lacks.push(
                "a maintainer (add `maintainer` to [package.metadata.deb], or `authors` to [package])"
                    .to_string(),
            );
        }
        if package
            .description
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            lacks.push("a description (add `description` to [package])".to_string());
        }
        lacks
    }

    /// Builds the control from `[package]` and the optional `[package.metadata.deb]` table
    /// (`package.metadata["deb"]` from `cargo metadata`), for `target_triple`.
    pub fn from_manifest_metadata(
        package: &ManifestPackage,
        deb_metadata: Option<&serde_json::Value>,
        target_triple: &str,
    ) -> anyhow::Result<ControlFromManifest> {
        let mut notes = Vec::new();
        let meta = DebMetadata::parse(deb_metadata, &mut notes)?;
        let package_name = debian_package_name(meta.name.as_deref().unwrap_or(&package.name))?;
        let (synopsis, rest_of_description) = split_description(package)?;
        let maintainer = meta
            .maintainer
            .or_else(|| package.authors.first().cloned())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "package {}: no maintainer; add `maintainer` to [package.metadata.deb] or `authors` to [package]",
                    package.name
                )
            })?;
        let control = DebControl {
            package: package_name,
            version: debian_version(&package.version, meta.revision.as_deref())?,
            architecture: debian_architecture(target_triple)?.to_string(),
            maintainer,
            description: synopsis,
            extended_description: meta.extended_description.or(rest_of_description),
            depends: meta.depends,
            section: meta.section,
            priority: meta.priority.unwrap_or_else(|| "optional".to_string()),
            homepage: package
                .homepage
                .clone()
                .or_else(|| package.repository.clone()),
        };
        control.validate()?;
        Ok(ControlFromManifest { control, notes })
    }

    /// `<package>_<version without epoch>_<architecture>.deb`, as Debian names packages.
    pub fn file_name(&self) -> anyhow::Result<String> {
        let version = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |(_, v)| v);
        let name = format!("{}_{version}_{}.deb", self.package, self.architecture);
        validate_name_segment(&name)?;
        Ok(name)
    }

    /// Checks every field before it reaches a file: single lines, a valid name and version.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_package_name(&self.package)?;
        check_debian_version(&self.version)?;
        let single_line_fields = [
            ("Architecture", Some(&self.architecture)),
            ("Maintainer", Some(&self.maintainer)),
            ("Description", Some(&self.description)),
            ("Section", self.section.as_ref()),
            ("Priority", Some(&self.priority)),
            ("Homepage", self.homepage.as_ref()),
        ];
        for (field, value) in single_line_fields {
            if let Some(value) = value {
                check_single_line(field, value)?;
            }
        }
        for dependency in &self.depends {
            check_single_line("Depends", dependency)?;
            if dependency.contains(',') {
                anyhow::bail!(
                    "Depends entry {dependency:?} contains a comma; give each dependency separately"
                );
            }
        }
        Ok(())
    }

    /// The control file's text, with `Installed-Size` in KiB.
    pub fn render(&self, installed_size_kib: u64) -> anyhow::Result<String> {
        self.validate()?;
        let mut text = String::new();
        let mut field = |name: &str, value: &str| text.push_str(&format!("{name}: {value}\n"));
        field("Package", &self.package);
        field("Version", &self.version);
        field("Architecture", &self.architecture);
        field("Maintainer", &self.maintainer);
        field("Installed-Size", &installed_size_kib.to_string());
        if !self.depends.is_empty() {
            field("Depends", &self.depends.join(", "));
        }
        if let Some(section) = &self.section {
            field("Section", section);
        }
        field("Priority", &self.priority);
        if let Some(homepage) = &self.homepage {
            field("Homepage", homepage);
        }
        field("Description", &self.description);
        if let Some(extended) = &self.extended_description {
            text.push_str(&extended_description_lines(extended));
        }
        Ok(text)
    }
}

impl DebMetadata {
    fn parse(
        table: Option<&serde_json::Value>,
        notes: &mut Vec<String>,
    ) -> anyhow::Result<DebMetadata> {
        let Some(table) = table else {
            return Ok(DebMetadata::default());
        };
        let table = table.as_object().ok_or_else(|| {
            anyhow::anyhow!("[package.metadata.deb] is not a table; write it as a TOML table")
        })?;
        let text = |key: &str| optional_string(table, key);
        let mut depends = Vec::new();
        for dependency in depends_list(table.get("depends"))? {
            if dependency == "$auto" {
                notes.push(
                    "[package.metadata.deb] depends: `$auto` dropped (it probes the build host with dpkg-shlibdeps); list the shared-library dependencies explicitly".to_string(),
                );
            } else {
                depends.push(dependency);
            }
        }
        Ok(DebMetadata {
            name: text("name")?,
            maintainer: text("maintainer")?,
            depends,
            section: text("section")?,
            priority: text("priority")?,
            extended_description: text("extended-description")?,
            revision: text("revision")?,
        })
    }
}

fn optional_string(
    table: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> anyhow::Result<Option<String>> {
    match table.get(key) {
        None => Ok(None),
        Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => anyhow::bail!("[package.metadata.deb] {key} must be a string"),
    }
}

/// `depends` as cargo-deb takes it: one comma-separated string, or an array of strings.
fn depends_list(value: Option<&serde_json::Value>) -> anyhow::Result<Vec<String>> {
    let items: Vec<&str> = match value {
        None => Vec::new(),
        Some(serde_json::Value::String(list)) => list.split(',').collect(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    anyhow::anyhow!("[package.metadata.deb] depends: every entry must be a string")
                })
            })
            .collect::<anyhow::Result<_>>()?,
        Some(_) => anyhow::bail!(
            "[package.metadata.deb] depends must be a comma-separated string or an array of strings"
        ),
    };
    Ok(items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect())
}

/// The synopsis (first line of `description`) and the rest, if any, as a long description.
fn split_description(package: &ManifestPackage) -> anyhow::Result<(String, Option<String>)> {
    let description = package
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "package {}: no description; add `description` to [package]",
                package.name
            )
        })?;
    let (synopsis, rest) = description.split_once('\n').unwrap_or((description, ""));
    let rest = rest.trim();
    Ok((
        synopsis.trim().to_string(),
        (!rest.is_empty()).then(|| rest.to_string()),
    ))
}

/// The long description as continuation lines: each line indented by one space, blank lines
/// written as ` .`.
fn extended_description_lines(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                " .\n".to_string()
            } else {
                format!(" {line}\n")
            }
        })
        .collect()
}

fn check_single_line(field: &str, value: &str) -> anyhow::Result<()> {
    if value.trim().is_empty() || value.chars().any(char::is_control) {
        anyhow::bail!(
            "control field {field} {value:?} must be one non-empty line; fix the metadata"
        );
    }
    Ok(())
}

/// A Cargo package name as a Debian one: `_` becomes `-`, letters are lowercased.
pub fn debian_package_name(cargo_name: &str) -> anyhow::Result<String> {
    let name = cargo_name.replace('_', "-").to_lowercase();
    check_package_name(&name)?;
    Ok(name)
}

fn check_package_name(name: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c);
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.len() < 2 || !starts_well || !name.chars().all(allowed) || name.contains("..") {
        anyhow::bail!(
            "{name:?} is not a Debian package name (lowercase a-z, 0-9, `+`, `-`, `.`, at least two characters, starting with a letter or digit); set `name` in [package.metadata.deb]"
        );
    }
    Ok(())
}

/// A Cargo (semver) version as a Debian one: `-` becomes `~` (so pre-releases sort before the
/// release), and `-<revision>` is appended when there is a revision.
pub fn debian_version(cargo_version: &str, revision: Option<&str>) -> anyhow::Result<String> {
    let upstream = cargo_version.replace('-', "~");
    let version = match revision.map(str::trim).filter(|r| !r.is_empty()) {
        Some(revision)
            if !revision
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c)) =>
        {
            anyhow::bail!(
                "[package.metadata.deb] revision {revision:?} is not a Debian revision; use only letters, digits, `+`, `.` or `~`"
            )
        }
        Some(revision) => format!("{upstream}-{revision}"),
        // cargo-deb's default: revision 1, which apt sorts above the bare upstream version.
        None => format!("{upstream}-1"),
    };
    check_debian_version(&version)?;
    Ok(version)
}

fn check_debian_version(version: &str) -> anyhow::Result<()> {
    let (epoch, rest) = version.split_once(':').unwrap_or(("0", version));
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, "1"));
    let upstream_ok = upstream.starts_with(|c: char| c.is_ascii_digit())
        && upstream
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-".contains(c))
        && !upstream.contains("..");
    let revision_ok = !revision.is_empty()
        && revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c));
    let epoch_ok = !epoch.is_empty() && epoch.chars().all(|c| c.is_ascii_digit());
    if !(upstream_ok && revision_ok && epoch_ok) {
        anyhow::bail!(
            "{version:?} is not a Debian version; use a semver `version` in [package] and a `revision` of letters, digits, `+`, `.` or `~`"
        );
    }
    Ok(())
}

/// The Debian architecture of a Linux Rust target triple.
pub fn debian_architecture(target_triple: &str) -> anyhow::Result<&'static str> {
    let mut parts = target_triple.split('-');
    let arch = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    if !rest.contains(&"linux") {
        anyhow::bail!(
            "target {target_triple:?} is not a Linux target; build .deb packages for a `*-linux-*` target only"
        );
    }
    let hard_float = rest.last().is_some_and(|abi| abi.ends_with("hf"));
    match arch {
        "x86_64" => Ok("amd64"),
        "aarch64" => Ok("arm64"),
        "i686" => Ok("i386"),
        "armv7" if hard_float => Ok("armhf"),
        _ => anyhow::bail!(
            "target {target_triple:?} has no Debian architecture here; use x86_64, aarch64, i686 or armv7 (hard-float) Linux targets"
        ),
    }
}

/// What goes into the package besides its control file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebContents {
    /// Installed as `/usr/bin/<bin_name>`, 0755.
    pub bin_name: String,
    pub binary: Vec<u8>,
    /// README, LICENSE* and the like, by file name: `/usr/share/doc/<package>/<name>`, 0644.
    pub docs: BTreeMap<String, Vec<u8>>,
}

/// The `.deb` bytes: `ar` members `debian-binary`, `control.tar.gz`, `data.tar.gz`, dated
/// `SOURCE_DATE_EPOCH`, owned by 0/0, mode 100644.
pub fn deb(
    control: &DebControl,
    contents: &DebContents,
    norm: &Normalisation,
) -> anyhow::Result<Vec<u8>> {
    let data_files = data_files(control, contents)?;
    let control_text = control.render(installed_size_kib(&data_files))?;
    let control_files = [ArtifactFile {
        path_in_archive: "control".to_string(),
        bytes: control_text.into_bytes(),
        executable: false,
    }];
    let members: [(&str, Vec<u8>); 3] = [
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.gz", tar_gz(&control_files, ".", norm)?),
        ("data.tar.gz", tar_gz(&data_files, ".", norm)?),
    ];
    ar_archive(&members, norm)
}

fn data_files(control: &DebControl, contents: &DebContents) -> anyhow::Result<Vec<ArtifactFile>> {
    validate_name_segment(&contents.bin_name)?;
    let mut files = vec![ArtifactFile {
        path_in_archive: format!("usr/bin/{}", contents.bin_name),
        bytes: contents.binary.clone(),
        executable: true,
    }];
    for (name, bytes) in &contents.docs {
        validate_name_segment(name)?;
        files.push(ArtifactFile {
            path_in_archive: format!("usr/share/doc/{}/{name}", control.package),
            bytes: bytes.clone(),
            executable: false,
        });
    }
    Ok(files)
}

/// As dpkg-gencontrol counts it: each file's size rounded up to KiB, plus 1 per directory.
fn installed_size_kib(files: &[ArtifactFile]) -> u64 {
    let file_kib: u64 = files
        .iter()
        .map(|f| (f.bytes.len() as u64).div_ceil(1024))
        .sum();
    let directories: std::collections::BTreeSet<&str> = files
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
            homepage: None,
            repository: Some("https://example.org/hello".to_string()),
        }
    }

    fn metadata() -> serde_json::Value {
        serde_json::json!({
            "maintainer": "Packager <pkg@example.org>",
            "depends": "$auto, libc6 (>= 2.34), ca-certificates",
            "section": "utils",
            "revision": "2",
            "assets": [["target/release/hello", "usr/bin/", "755"]],
        })
    }

    fn contents() -> DebContents {
        DebContents {
            bin_name: "hello".to_string(),
            binary: b"\x7fELF not really\n".to_vec(),
            docs: BTreeMap::from([
                ("README.md".to_string(), b"# hello\n".to_vec()),
                ("LICENSE-MIT".to_string(), b"MIT\n".to_vec()),
            ]),
        }
    }

    fn control() -> ControlFromManifest {
        DebControl::from_manifest_metadata(
            &package(),
            Some(&metadata()),
            "x86_64-unknown-linux-gnu",
        )
        .unwrap()
    }

    #[test]
    fn control_comes_from_manifest_and_metadata() {
        let ControlFromManifest { control, notes } = control();
        assert_eq!(control.package, "hello-world");
        assert_eq!(control.version, "1.2.3~rc.1-2");
        assert_eq!(control.architecture, "amd64");
        assert_eq!(control.maintainer, "Packager <pkg@example.org>");
        assert_eq!(control.depends, ["libc6 (>= 2.34)", "ca-certificates"]);
        assert_eq!(
            control.homepage.as_deref(),
            Some("https://example.org/hello")
        );
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("$auto"), "{notes:?}");
        assert_eq!(
            control.render(3).unwrap(),
            "Package: hello-world\nVersion: 1.2.3~rc.1-2\nArchitecture: amd64\n\
             Maintainer: Packager <pkg@example.org>\nInstalled-Size: 3\n\
             Depends: libc6 (>= 2.34), ca-certificates\nSection: utils\nPriority: optional\n\
             Homepage: https://example.org/hello\nDescription: Says hello\n \
             A longer story\n over two lines.\n"
        );
        assert_eq!(
            control.file_name().unwrap(),
            "hello-world_1.2.3~rc.1-2_amd64.deb"
        );
    }

    #[test]
    fn maintainer_falls_back_to_the_first_author() {
        let control =
            DebControl::from_manifest_metadata(&package(), None, "aarch64-unknown-linux-musl")
                .unwrap()
                .control;
        assert_eq!(control.maintainer, "Ada <ada@example.org>");
        // Revision 1 by default, as cargo-deb: apt sorts 1.2.3~rc.1-1 above 1.2.3~rc.1.
        assert_eq!(control.version, "1.2.3~rc.1-1");
        assert_eq!(control.architecture, "arm64");
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
            let result = DebControl::from_manifest_metadata(
                &package,
                Some(&metadata),
                "x86_64-unknown-linux-gnu",
            );
            let error = result.unwrap_err().to_string();
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
        let control = control().control;
        let first = deb(&control, &contents(), &NORM).unwrap();
        assert_eq!(first, deb(&control, &contents(), &NORM).unwrap());
        assert!(first.starts_with(
            b"!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n"
        ));
    }

    #[test]
    fn dpkg_deb_reads_fields_and_files() {
        let scratch = ScratchDir::new("deb");
        let control = control().control;
        let name = control.file_name().unwrap();
        std::fs::write(
            scratch.path().join(&name),
            deb(&control, &contents(), &NORM).unwrap(),
        )
        .unwrap();
        let info = run("dpkg-deb", &["--info", &name], scratch.path());
        for expected in [
            "Package: hello-world",
            "Version: 1.2.3~rc.1-2",
            "Architecture: amd64",
            "Maintainer: Packager <pkg@example.org>",
            "Installed-Size: 8",
            "Depends: libc6 (>= 2.34), ca-certificates",
            "Section: utils",
            "Priority: optional",
            "Homepage: https://example.org/hello",
            "Description: Says hello",
            "  A longer story",
        ] {
            assert!(info.contains(expected), "missing {expected:?} in\n{info}");
        }
        let listing = run("dpkg-deb", &["--contents", &name], scratch.path());
        let entries: Vec<(&str, &str, &str)> = listing
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields[0], fields[1], fields[5])
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("drwxr-xr-x", "0/0", "./"),
                ("drwxr-xr-x", "0/0", "./usr/"),
                ("drwxr-xr-x", "0/0", "./usr/bin/"),
                ("-rwxr-xr-x", "0/0", "./usr/bin/hello"),
                ("drwxr-xr-x", "0/0", "./usr/share/"),
                ("drwxr-xr-x", "0/0", "./usr/share/doc/"),
                ("drwxr-xr-x", "0/0", "./usr/share/doc/hello-world/"),
                (
                    "-rw-r--r--",
                    "0/0",
                    "./usr/share/doc/hello-world/LICENSE-MIT"
                ),
                ("-rw-r--r--", "0/0", "./usr/share/doc/hello-world/README.md"),
            ]
        );
        assert!(listing.contains("2023-11-14 22:13"), "{listing}");
    }

    #[test]
    fn refuses_names_that_would_escape_usr_bin() {
        let control = control().control;
        let bad_bin = DebContents {
            bin_name: "../sbin/x".to_string(),
            ..contents()
        };
        assert!(deb(&control, &bad_bin, &NORM).is_err());
        let bad_doc = DebContents {
            docs: BTreeMap::from([("../../etc/x".to_string(), vec![])]),
            ..contents()
        };
        assert!(deb(&control, &bad_doc, &NORM).is_err());
    }
}
