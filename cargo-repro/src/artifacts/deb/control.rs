//! The `DEBIAN/control` file of a binary package: its fields, their checks, and the Debian
//! package names, versions and architectures made from Cargo's.

/// The relationship fields of a binary package, each a list of entries (`libc6 (>= 2.34)`,
/// alternatives as `a | b`), in the order Debian policy lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relations {
    pub pre_depends: Vec<String>,
    pub depends: Vec<String>,
    pub recommends: Vec<String>,
    pub suggests: Vec<String>,
    pub enhances: Vec<String>,
    pub breaks: Vec<String>,
    pub conflicts: Vec<String>,
    pub replaces: Vec<String>,
    pub provides: Vec<String>,
}

impl Relations {
    /// `(control field, entries)` in the order they are written.
    pub fn fields(&self) -> [(&'static str, &[String]); 9] {
        [
            ("Pre-Depends", &self.pre_depends),
            ("Depends", &self.depends),
            ("Recommends", &self.recommends),
            ("Suggests", &self.suggests),
            ("Enhances", &self.enhances),
            ("Breaks", &self.breaks),
            ("Conflicts", &self.conflicts),
            ("Replaces", &self.replaces),
            ("Provides", &self.provides),
        ]
    }
}

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
    pub relations: Relations,
    pub section: Option<String>,
    pub priority: String,
    pub homepage: Option<String>,
}

impl DebControl {
    /// `<package>_<version without epoch>_<architecture>.deb`, as Debian names packages.
    pub fn file_name(&self) -> anyhow::Result<String> {
        let version = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |(_, v)| v);
        let name = format!("{}_{version}_{}.deb", self.package, self.architecture);
        super::super::validate_name_segment(&name)?;
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
        for (field, entries) in self.relations.fields() {
            for entry in entries {
                check_single_line(field, entry)?;
                if entry.contains(',') {
                    anyhow::bail!(
                        "{field} entry {entry:?} contains a comma; give each entry separately"
                    );
                }
            }
        }
        if let Some(extended) = &self.extended_description
            && extended
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            anyhow::bail!(
                "the extended description holds a control character; write it as plain text"
            );
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
        for (name, entries) in self.relations.fields() {
            if !entries.is_empty() {
                field(name, &entries.join(", "));
            }
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

/// The long description as continuation lines: each line indented by one space, blank lines
/// written as ` .`.
pub(super) fn extended_description_lines(text: &str) -> String {
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

pub(super) fn check_single_line(field: &str, value: &str) -> anyhow::Result<()> {
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

pub(super) fn check_package_name(name: &str) -> anyhow::Result<()> {
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
