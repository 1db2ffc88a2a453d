//! `[package.metadata.deb]` as cargo-deb defines it, parsed into a typed model, and the
//! `[package]` fields a package is described from.
//!
//! Every key cargo-deb documents is either honoured with cargo-deb's meaning or named in a
//! note as not honoured; a key of the wrong type is an error naming the key. Nothing here
//! touches the disk: paths (assets, scripts, unit directories, licence and changelog files)
//! are kept as written and resolved, confined to the workspace, by the release writer.

use serde_json::{Map, Value};

use super::control::{
    DebControl, Relations, check_single_line, debian_architecture, debian_package_name,
    debian_version,
};

/// The `[package]` fields a package is built from, as `cargo metadata` resolves them
/// (workspace inheritance already applied).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestPackage {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub authors: Vec<String>,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    /// The SPDX expression of `license`.
    pub license: Option<String>,
    /// `license-file`, relative to the package directory.
    pub license_file: Option<String>,
    /// `readme`, relative to the package directory.
    pub readme: Option<String>,
}

impl From<&cargo_metadata::Package> for ManifestPackage {
    /// The fields of `package`, paths as cargo metadata gives them.
    fn from(package: &cargo_metadata::Package) -> ManifestPackage {
        ManifestPackage {
            name: package.name.to_string(),
            version: package.version.to_string(),
            description: package.description.clone(),
            authors: package.authors.clone(),
            homepage: package.homepage.clone(),
            repository: package.repository.clone(),
            license: package.license.clone(),
            license_file: package.license_file.as_ref().map(|p| p.to_string()),
            readme: package.readme.as_ref().map(|p| p.to_string()),
        }
    }
}

/// One `assets` entry: `[source, dest, mode]` or `{ source, dest, mode }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// Relative to the package directory; `target/release/NAME` (also with a target triple,
    /// `target/TRIPLE/release/NAME`) is the file the release build made; may be a glob.
    pub source: String,
    /// Where it is installed, without the leading `/`; ending in `/` means "into this
    /// directory, under the source's file name".
    pub dest: String,
    pub mode: u32,
}

/// One `systemd-units` table (cargo-deb's keys, defaults as dh_installsystemd's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemdUnits {
    /// The directory holding the unit files, relative to the package directory; by default
    /// `maintainer-scripts`.
    pub unit_scripts: Option<String>,
    /// The unit's base name; by default the package name.
    pub unit_name: Option<String>,
    pub enable: bool,
    pub start: bool,
    pub restart_after_upgrade: bool,
    pub stop_on_upgrade: bool,
}

impl Default for SystemdUnits {
    fn default() -> SystemdUnits {
        SystemdUnits {
            unit_scripts: None,
            unit_name: None,
            enable: true,
            start: true,
            restart_after_upgrade: true,
            stop_on_upgrade: true,
        }
    }
}

/// `[package.metadata.deb]`, typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebMetadata {
    pub name: Option<String>,
    pub maintainer: Option<String>,
    /// The `Copyright:` holders; by default the authors.
    pub copyright: Option<String>,
    /// `license-file = ["PATH", SKIP_LINES]` (or a string): the licence text.
    pub license_file: Option<(String, usize)>,
    /// The relationship fields; `$auto` in `depends` (the default) stands for what the
    /// binaries need, derived from the binaries themselves.
    pub relations: Relations,
    pub section: Option<String>,
    pub priority: Option<String>,
    pub revision: Option<String>,
    pub extended_description: Option<String>,
    pub extended_description_file: Option<String>,
    /// `None`: the default assets (every binary into `usr/bin/`, the readme into the docs).
    pub assets: Option<Vec<AssetEntry>>,
    /// Absolute paths of configuration files (every file under `/etc` is one anyway).
    pub conf_files: Vec<String>,
    /// The directory holding `preinst`, `postinst`, `prerm`, `postrm` (and unit files).
    pub maintainer_scripts: Option<String>,
    pub systemd_units: Vec<SystemdUnits>,
    /// A Debian-format changelog file; by default one entry for this version is written.
    pub changelog: Option<String>,
    pub separate_debug_symbols: bool,
    /// Strip the binaries' symbol tables in the .deb (cargo-deb's default); `strip = false`
    /// keeps them as the profile built them.
    pub strip: bool,
}

/// An `assets` item: an asset, or `"$auto"` (the default assets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssetEntry {
    Auto,
    Asset(Asset),
}

/// The cargo-deb keys that change how cargo-deb builds, not what it packages: the release is
/// built by `cargo repro build`, whose own options say that, so these are not honoured.
const BUILD_KEYS: &[&str] = &[
    "features",
    "default-features",
    "profile",
    "variants",
    "cargo-build",
    "merge-assets",
];

/// Keys honoured here.
const HONOURED: &[&str] = &[
    "name",
    "maintainer",
    "copyright",
    "license-file",
    "depends",
    "pre-depends",
    "recommends",
    "suggests",
    "enhances",
    "breaks",
    "conflicts",
    "replaces",
    "provides",
    "section",
    "priority",
    "revision",
    "extended-description",
    "extended-description-file",
    "assets",
    "conf-files",
    "maintainer-scripts",
    "systemd-units",
    "changelog",
    "separate-debug-symbols",
    "strip",
];

impl DebMetadata {
    /// Parses the table (`package.metadata["deb"]`); keys that are not honoured are returned
    /// as notes.
    pub fn parse(table: Option<&Value>) -> anyhow::Result<(DebMetadata, Vec<String>)> {
        let mut notes = Vec::new();
        let Some(table) = table else {
            return Ok((
                DebMetadata {
                    relations: Relations {
                        depends: vec!["$auto".to_string()],
                        ..Relations::default()
                    },
                    strip: true,
                    ..DebMetadata::default()
                },
                notes,
            ));
        };
        let table = table.as_object().ok_or_else(|| {
            anyhow::anyhow!("[package.metadata.deb] is not a table; write it as a TOML table")
        })?;
        for key in table.keys() {
            if BUILD_KEYS.contains(&key.as_str()) {
                notes.push(format!(
                    "[package.metadata.deb] {key} is not honoured: the release is what `cargo repro build` builds; pass its options instead"
                ));
            } else if !HONOURED.contains(&key.as_str()) {
                notes.push(format!(
                    "[package.metadata.deb] {key} is not honoured by cargo-repro; README lists the keys it reads"
                ));
            }
        }
        let text = |key: &str| optional_string(table, key);
        let relations = Relations {
            pre_depends: list(table, "pre-depends")?.unwrap_or_default(),
            depends: list(table, "depends")?.unwrap_or_else(|| vec!["$auto".to_string()]),
            recommends: list(table, "recommends")?.unwrap_or_default(),
            suggests: list(table, "suggests")?.unwrap_or_default(),
            enhances: list(table, "enhances")?.unwrap_or_default(),
            breaks: list(table, "breaks")?.unwrap_or_default(),
            conflicts: list(table, "conflicts")?.unwrap_or_default(),
            replaces: list(table, "replaces")?.unwrap_or_default(),
            provides: list(table, "provides")?.unwrap_or_default(),
        };
        let conf_files = list(table, "conf-files")?.unwrap_or_default();
        for path in &conf_files {
            if !path.starts_with('/') {
                anyhow::bail!(
                    "[package.metadata.deb] conf-files: {path:?} is not absolute; give the installed path, such as \"/etc/NAME/NAME.toml\""
                );
            }
        }
        let meta = DebMetadata {
            name: text("name")?,
            maintainer: text("maintainer")?,
            copyright: text("copyright")?,
            license_file: license_file(table.get("license-file"))?,
            relations,
            section: text("section")?,
            priority: text("priority")?,
            revision: text("revision")?,
            extended_description: text("extended-description")?,
            extended_description_file: text("extended-description-file")?,
            assets: assets(table.get("assets"))?,
            conf_files,
            maintainer_scripts: text("maintainer-scripts")?,
            systemd_units: systemd_units(table.get("systemd-units"))?,
            changelog: text("changelog")?,
            separate_debug_symbols: boolean(table, "separate-debug-symbols")?.unwrap_or(false),
            strip: boolean(table, "strip")?.unwrap_or(true),
        };
        Ok((meta, notes))
    }

    /// What the package lacks for a .deb to be described at all, each with the key to add
    /// (empty when nothing is missing): then no .deb is written, and the other artifacts are.
    pub fn lacks(&self, package: &ManifestPackage) -> Vec<String> {
        let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        let mut lacks = Vec::new();
        if !given(&self.maintainer) && package.authors.is_empty() {
            lacks.push(
                "a maintainer (add `maintainer` to [package.metadata.deb], or `authors` to [package])"
                    .to_string(),
            );
        }
        if !given(&package.description) {
            lacks.push("a description (add `description` to [package])".to_string());
        }
        lacks
    }

    /// The control file for `package` built for `target_triple`; `auto_depends` replaces
    /// `$auto` in `depends`, and `extended_description_file` is the text of that file.
    pub fn control(
        &self,
        package: &ManifestPackage,
        target_triple: &str,
        auto_depends: &[String],
        extended_description_file: Option<&str>,
    ) -> anyhow::Result<DebControl> {
        if let Some(lack) = self.lacks(package).first() {
            anyhow::bail!("package {}: no .deb: it lacks {lack}", package.name);
        }
        let package_name = debian_package_name(self.name.as_deref().unwrap_or(&package.name))?;
        let (synopsis, rest_of_description) = split_description(package)?;
        let maintainer = self
            .maintainer
            .clone()
            .or_else(|| package.authors.first().cloned())
            .unwrap_or_default();
        let mut relations = self.relations.clone();
        relations.depends = relations
            .depends
            .iter()
            .flat_map(|entry| {
                if entry == "$auto" {
                    auto_depends.to_vec()
                } else {
                    vec![entry.clone()]
                }
            })
            .fold(Vec::new(), |mut all, entry| {
                if !all.contains(&entry) {
                    all.push(entry);
                }
                all
            });
        let extended_description = self
            .extended_description
            .clone()
            .or_else(|| extended_description_file.map(|text| text.trim().to_string()))
            .or(rest_of_description)
            .filter(|text| !text.trim().is_empty());
        let control = DebControl {
            package: package_name,
            version: debian_version(&package.version, self.revision.as_deref())?,
            architecture: debian_architecture(target_triple)?.to_string(),
            maintainer,
            description: synopsis,
            extended_description,
            relations,
            section: self.section.clone(),
            priority: self
                .priority
                .clone()
                .unwrap_or_else(|| "optional".to_string()),
            homepage: package
                .homepage
                .clone()
                .or_else(|| package.repository.clone()),
        };
        control.validate()?;
        Ok(control)
    }

    /// Every check that needs no file: the control (with a stand-in for `$auto`), the assets'
    /// destinations, the conffiles. Run before compiling, so bad metadata fails early.
    pub fn validate(&self, package: &ManifestPackage, target_triple: &str) -> anyhow::Result<()> {
        self.control(package, target_triple, &[], None)?;
        for entry in self.assets.iter().flatten() {
            if let AssetEntry::Asset(asset) = entry {
                install_path(&asset.dest, "assets")?;
            }
        }
        for path in &self.conf_files {
            install_path(path, "conf-files")?;
        }
        for units in &self.systemd_units {
            if let Some(name) = &units.unit_name {
                crate::guard::paths::segment(
                    name,
                    "unit-name",
                    "[package.metadata.deb] systemd-units",
                )?;
            }
        }
        Ok(())
    }
}

/// An installed path as written in metadata (`/usr/bin/`, `etc/x.toml`) without its leading
/// `/`, checked to be plain relative components (no `..`, no control characters).
pub fn install_path(path: &str, key: &str) -> anyhow::Result<String> {
    let trimmed = path.trim_start_matches('/');
    let without_slash = trimmed.trim_end_matches('/');
    if without_slash.is_empty() {
        anyhow::bail!(
            "[package.metadata.deb] {key}: {path:?} installs to the root directory; give a directory such as \"usr/bin/\""
        );
    }
    crate::guard::paths::relative(without_slash, key, "[package.metadata.deb]")?;
    Ok(trimmed.to_string())
}

fn optional_string(table: &Map<String, Value>, key: &str) -> anyhow::Result<Option<String>> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => anyhow::bail!("[package.metadata.deb] {key} must be a string"),
    }
}

fn boolean(table: &Map<String, Value>, key: &str) -> anyhow::Result<Option<bool>> {
    match table.get(key) {
        None => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => anyhow::bail!("[package.metadata.deb] {key} must be true or false"),
    }
}

/// A relationship list as cargo-deb takes it: one comma-separated string, or an array of
/// strings (each may itself hold commas).
fn list(table: &Map<String, Value>, key: &str) -> anyhow::Result<Option<Vec<String>>> {
    let items: Vec<&str> = match table.get(key) {
        None => return Ok(None),
        Some(Value::String(list)) => list.split(',').collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    anyhow::anyhow!("[package.metadata.deb] {key}: every entry must be a string")
                })
            })
            .collect::<anyhow::Result<Vec<&str>>>()?
            .into_iter()
            .flat_map(|item| item.split(','))
            .collect(),
        Some(_) => anyhow::bail!(
            "[package.metadata.deb] {key} must be a comma-separated string or an array of strings"
        ),
    };
    let items: Vec<String> = items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect();
    for item in &items {
        check_single_line(key, item)?;
    }
    Ok(Some(items))
}

fn license_file(value: Option<&Value>) -> anyhow::Result<Option<(String, usize)>> {
    let bad = || {
        anyhow::anyhow!(
            "[package.metadata.deb] license-file must be \"PATH\" or [\"PATH\", LINES_TO_SKIP]"
        )
    };
    match value {
        None => Ok(None),
        Some(Value::String(path)) => Ok(Some((path.clone(), 0))),
        Some(Value::Array(items)) => {
            let path = items.first().and_then(Value::as_str).ok_or_else(bad)?;
            let skip = match items.get(1) {
                None => 0,
                Some(Value::Number(n)) => n.as_u64().ok_or_else(bad)? as usize,
                Some(Value::String(n)) => n.trim().parse().map_err(|_| bad())?,
                Some(_) => return Err(bad()),
            };
            if items.len() > 2 {
                return Err(bad());
            }
            Ok(Some((path.to_string(), skip)))
        }
        Some(_) => Err(bad()),
    }
}

fn assets(value: Option<&Value>) -> anyhow::Result<Option<Vec<AssetEntry>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let items = value.as_array().ok_or_else(|| {
        anyhow::anyhow!(
            "[package.metadata.deb] assets must be an array of [\"SOURCE\", \"DEST\", \"MODE\"] entries"
        )
    })?;
    let bad = |index: usize| {
        anyhow::anyhow!(
            "[package.metadata.deb] assets[{index}] must be [\"SOURCE\", \"DEST\", \"MODE\"], {{ source, dest, mode }} or \"$auto\""
        )
    };
    let mut entries = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let (source, dest, mode) = match item {
            Value::String(auto) if auto == "$auto" => {
                entries.push(AssetEntry::Auto);
                continue;
            }
            Value::Array(parts) if parts.len() == 3 => (&parts[0], &parts[1], &parts[2]),
            Value::Object(fields) => (
                fields.get("source").ok_or_else(|| bad(index))?,
                fields.get("dest").ok_or_else(|| bad(index))?,
                fields.get("mode").ok_or_else(|| bad(index))?,
            ),
            _ => return Err(bad(index)),
        };
        let (Some(source), Some(dest), Some(mode)) =
            (source.as_str(), dest.as_str(), mode.as_str())
        else {
            return Err(bad(index));
        };
        let mode = u32::from_str_radix(mode.trim(), 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "[package.metadata.deb] assets[{index}]: mode {mode:?} is not octal permission bits such as \"644\" or \"755\" (setuid, setgid and sticky bits are refused)"
                )
            })?;
        if source.trim().is_empty() {
            return Err(bad(index));
        }
        entries.push(AssetEntry::Asset(Asset {
            source: source.to_string(),
            dest: dest.to_string(),
            mode,
        }));
    }
    Ok(Some(entries))
}

fn systemd_units(value: Option<&Value>) -> anyhow::Result<Vec<SystemdUnits>> {
    let tables: Vec<&Map<String, Value>> = match value {
        None => return Ok(Vec::new()),
        Some(Value::Object(table)) => vec![table],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_object().ok_or_else(|| {
                    anyhow::anyhow!(
                        "[package.metadata.deb] systemd-units must be a table or an array of tables"
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?,
        Some(_) => anyhow::bail!(
            "[package.metadata.deb] systemd-units must be a table or an array of tables"
        ),
    };
    tables
        .into_iter()
        .map(|table| {
            let flag = |key: &str, default: bool| -> anyhow::Result<bool> {
                match table.get(key) {
                    None => Ok(default),
                    Some(Value::Bool(value)) => Ok(*value),
                    Some(_) => anyhow::bail!(
                        "[package.metadata.deb] systemd-units {key} must be true or false"
                    ),
                }
            };
            let text = |key: &str| -> anyhow::Result<Option<String>> {
                match table.get(key) {
                    None => Ok(None),
                    Some(Value::String(value)) => Ok(Some(value.clone())),
                    Some(_) => {
                        anyhow::bail!("[package.metadata.deb] systemd-units {key} must be a string")
                    }
                }
            };
            Ok(SystemdUnits {
                unit_scripts: text("unit-scripts")?,
                unit_name: text("unit-name")?,
                enable: flag("enable", true)?,
                start: flag("start", true)?,
                restart_after_upgrade: flag("restart-after-upgrade", true)?,
                stop_on_upgrade: flag("stop-on-upgrade", true)?,
            })
        })
        .collect()
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
        synopsis.trim().trim_end_matches('.').trim().to_string(),
        (!rest.is_empty()).then(|| rest.to_string()),
    ))
}
