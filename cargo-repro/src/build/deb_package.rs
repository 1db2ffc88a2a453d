//! One package's `.deb`, gathered from the workspace: assets (cargo-deb's `target/release/…`
//! sources are the files the release build made), maintainer scripts with the systemd
//! snippets, units, the copyright and changelog, documentation, and `$auto` dependencies
//! read from the binaries.
//!
//! Every path comes from metadata and is confined: sources relative to the package directory
//! must lie inside the workspace once symlinks are resolved, build outputs inside the
//! profile's output directory; only regular files are read, with a size limit. [`check`]
//! resolves all of them before anything is compiled, so bad metadata fails early.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::artifacts::ArtifactFile;
use crate::artifacts::deb::copyright::Copyright;
use crate::artifacts::deb::metadata::{Asset, AssetEntry, install_path};
use crate::artifacts::deb::{DebMetadata, DebPackage, ManifestPackage, changelog, elf, systemd};
use crate::guard::read::{LIMIT, read_bytes};
use crate::workspace::display_path;

/// The largest asset read (a release binary or a data file can be large).
const ASSET_LIMIT: u64 = 4 << 30;

/// One package of the release and what its build made.
pub struct PackageInputs<'a> {
    pub workspace_root: &'a Path,
    /// The directory of the package's `Cargo.toml`.
    pub package_dir: &'a Path,
    pub package: ManifestPackage,
    pub meta: DebMetadata,
    pub triple: &'a str,
    /// Where the release build put its outputs (`target/TRIPLE/release`); `None` before the
    /// build.
    pub out_dir: Option<&'a Path>,
    /// The package's binaries as built, by `[[bin]]` name (empty before the build).
    pub binaries: BTreeMap<String, Vec<u8>>,
    /// Every `[[bin]]` name of the package.
    pub bin_names: Vec<String>,
    /// README, LICENSE and the like by file name, from the package, else the workspace root.
    pub docs: BTreeMap<String, Vec<u8>>,
    pub epoch: u64,
}

/// A resolved asset source.
enum Source {
    /// A binary of this package, as built.
    Binary(String),
    /// Another file the build made, under the output directory.
    BuildOutput(String),
    /// Files in the workspace (one, or a glob's matches), each with its path below the glob's
    /// fixed prefix.
    Files(Vec<(PathBuf, String)>),
}

impl PackageInputs<'_> {
    fn shown(&self, path: &Path) -> String {
        display_path(self.workspace_root, path)
    }

    /// The package directory relative to the workspace root, `/`-terminated (or empty).
    fn package_prefix(&self) -> String {
        let shown = self.shown(self.package_dir);
        if shown.is_empty() || shown == "." {
            String::new()
        } else {
            format!("{shown}/")
        }
    }

    /// A path given relative to the package directory, confined to the workspace.
    fn in_package(&self, value: &str, what: &str) -> anyhow::Result<PathBuf> {
        let relative = self.root_relative(value, what)?;
        crate::guard::paths::confine(
            self.workspace_root,
            &relative,
            what,
            "[package.metadata.deb]",
        )
    }

    /// A path given relative to the package directory, as a path relative to the workspace
    /// root: `../README.md` from a member is the root's README. `..` is resolved against the
    /// package directory and may not climb above the workspace root.
    fn root_relative(&self, value: &str, what: &str) -> anyhow::Result<String> {
        let mut parts: Vec<&str> = Vec::new();
        let joined = format!("{}{value}", self.package_prefix());
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        anyhow::bail!(
                            "[package.metadata.deb] {what} `{}` leads outside the workspace; give a path inside it",
                            crate::guard::paths::shown(value)
                        );
                    }
                }
                part => parts.push(part),
            }
        }
        Ok(parts.join("/"))
    }

    fn read(&self, path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
        read_bytes(path, limit).map_err(|e| {
            anyhow::anyhow!(
                "[package.metadata.deb] {what}: cannot read {}: it {}",
                self.shown(path),
                e.reason()
            )
        })
    }

    fn read_text(&self, value: &str, what: &str) -> anyhow::Result<String> {
        let path = self.in_package(value, what)?;
        String::from_utf8(self.read(&path, LIMIT, what)?).map_err(|_| {
            anyhow::anyhow!(
                "[package.metadata.deb] {what}: {} is not UTF-8 text",
                self.shown(&path)
            )
        })
    }

    fn resolve(&self, asset: &Asset) -> anyhow::Result<Source> {
        let source = asset.source.trim_start_matches("./");
        if let Some(rest) = build_output(source) {
            crate::guard::paths::relative(rest, "assets source", "[package.metadata.deb]")?;
            if self.bin_names.iter().any(|b| b == rest) {
                return Ok(Source::Binary(rest.to_string()));
            }
            return Ok(Source::BuildOutput(rest.to_string()));
        }
        if !source.contains(['*', '?', '[']) {
            let path = self.in_package(source, "assets source")?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Ok(Source::Files(vec![(path, name)]));
        }
        // A glob: the fixed directories before the first pattern are its base. Both are taken
        // from the source as resolved against the workspace root, so `../docs/*.md` works and
        // every match is below the base.
        let source = self.root_relative(source, "assets source")?;
        let (base, _) = source
            .split('/')
            .fold((Vec::new(), false), |(mut base, globbed), part| {
                let globbed = globbed || part.contains(['*', '?', '[']);
                if !globbed {
                    base.push(part);
                }
                (base, globbed)
            });
        let base_dir = if base.is_empty() {
            self.workspace_root.to_path_buf()
        } else {
            crate::guard::paths::confine(
                self.workspace_root,
                &base.join("/"),
                "assets source",
                "[package.metadata.deb]",
            )?
        };
        let pattern = format!(
            "{}/{}",
            glob::Pattern::escape(&self.workspace_root.to_string_lossy()),
            source
        );
        let mut files = Vec::new();
        let matches = glob::glob(&pattern).map_err(|e| {
            anyhow::anyhow!(
                "[package.metadata.deb] assets source {:?} is not a valid glob: {e}",
                asset.source
            )
        })?;
        for path in matches {
            let path = path.map_err(|e| {
                anyhow::anyhow!(
                    "[package.metadata.deb] assets source {:?}: cannot read {}",
                    asset.source,
                    self.shown(e.path())
                )
            })?;
            if path.is_dir() {
                continue;
            }
            if !crate::guard::paths::inside(self.workspace_root, &path) {
                anyhow::bail!(
                    "[package.metadata.deb] assets source {:?} matches {}, which leads outside the workspace through a symbolic link",
                    asset.source,
                    self.shown(&path)
                );
            }
            let below = path
                .strip_prefix(&base_dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            files.push((path, below));
        }
        if files.is_empty() {
            anyhow::bail!(
                "[package.metadata.deb] assets source {:?} matches no file; fix the pattern or remove the asset",
                asset.source
            );
        }
        files.sort();
        Ok(Source::Files(files))
    }

    /// The asset entries, `$auto` (and no `assets` key) expanded to every binary.
    fn assets(&self) -> Vec<Asset> {
        let auto = || {
            self.bin_names
                .iter()
                .map(|name| Asset {
                    source: format!("target/release/{name}"),
                    dest: "usr/bin/".to_string(),
                    mode: 0o755,
                })
                .collect::<Vec<_>>()
        };
        match &self.meta.assets {
            None => auto(),
            Some(entries) => entries
                .iter()
                .flat_map(|entry| match entry {
                    AssetEntry::Auto => auto(),
                    AssetEntry::Asset(asset) => vec![asset.clone()],
                })
                .collect(),
        }
    }

    /// The files of `dir` (a metadata directory relative to the package), by name.
    fn directory(&self, value: &str, what: &str) -> anyhow::Result<Vec<(String, PathBuf)>> {
        let dir = self.in_package(value, what)?;
        if !dir.is_dir() {
            anyhow::bail!(
                "[package.metadata.deb] {what}: {} is not a directory; create it or fix the path",
                self.shown(&dir)
            );
        }
        let mut files = Vec::new();
        for path in crate::workspace::read_dir_in(self.workspace_root, &dir)? {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.is_dir() {
                continue;
            }
            if !crate::guard::paths::inside(self.workspace_root, &path) {
                anyhow::bail!(
                    "[package.metadata.deb] {what}: {} leads outside the workspace through a symbolic link; replace it with the file itself",
                    self.shown(&path)
                );
            }
            files.push((name.to_string(), path));
        }
        Ok(files)
    }
}

/// `target/release/REST` or `target/TRIPLE/release/REST`: REST.
fn build_output(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("target/")?;
    if let Some(rest) = rest.strip_prefix("release/") {
        return Some(rest);
    }
    let (_, rest) = rest.split_once('/')?;
    rest.strip_prefix("release/")
}

/// Resolves every path the metadata names that exists before the build (all but build
/// outputs), so a missing file or an escaping link fails before compiling.
pub fn check(inputs: &PackageInputs<'_>) -> anyhow::Result<()> {
    inputs.meta.validate(&inputs.package, inputs.triple)?;
    for asset in inputs.assets() {
        if let Source::Files(files) = inputs.resolve(&asset)? {
            for (path, _) in files {
                crate::guard::read::check_regular(&path, ASSET_LIMIT).map_err(|e| {
                    anyhow::anyhow!(
                        "[package.metadata.deb] assets source {:?}: {} {}",
                        asset.source,
                        inputs.shown(&path),
                        e.reason()
                    )
                })?;
            }
        }
    }
    let meta = &inputs.meta;
    for (value, what) in [
        (meta.changelog.as_deref(), "changelog"),
        (
            meta.extended_description_file.as_deref(),
            "extended-description-file",
        ),
        (
            meta.license_file.as_ref().map(|(p, _)| p.as_str()),
            "license-file",
        ),
    ] {
        if let Some(value) = value {
            inputs.read_text(value, what)?;
        }
    }
    if let Some(dir) = &meta.maintainer_scripts {
        inputs.directory(dir, "maintainer-scripts")?;
    }
    for units in &meta.systemd_units {
        unit_files(inputs, units)?;
    }
    Ok(())
}

fn unit_files(
    inputs: &PackageInputs<'_>,
    settings: &crate::artifacts::deb::metadata::SystemdUnits,
) -> anyhow::Result<Vec<systemd::Unit>> {
    let dir = settings
        .unit_scripts
        .as_deref()
        .or(inputs.meta.maintainer_scripts.as_deref())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "[package.metadata.deb] systemd-units needs `unit-scripts` or `maintainer-scripts`: the directory holding the unit files"
            )
        })?;
    let mut files = Vec::new();
    for (name, path) in inputs.directory(dir, "systemd-units")? {
        if name.rsplit_once('.').is_some() {
            files.push((name, inputs.read(&path, LIMIT, "systemd-units")?));
        }
    }
    let package = crate::artifacts::deb::debian_package_name(
        inputs.meta.name.as_deref().unwrap_or(&inputs.package.name),
    )?;
    let units = systemd::select_units(&files, &package, settings);
    if units.is_empty() {
        let base = settings.unit_name.as_deref().unwrap_or(&package);
        anyhow::bail!(
            "[package.metadata.deb] systemd-units: no unit file named {base}.service (or another unit type) in {dir}; add it or fix `unit-name`"
        );
    }
    Ok(units)
}

/// The package, with warnings for the release engineer (units not wired, libraries the
/// dependency table does not know).
pub fn gather(inputs: &PackageInputs<'_>) -> anyhow::Result<(DebPackage, Vec<String>)> {
    let meta = &inputs.meta;
    let mut warnings = Vec::new();
    let deb_name = crate::artifacts::deb::debian_package_name(
        meta.name.as_deref().unwrap_or(&inputs.package.name),
    )?;
    let doc_dir = format!("usr/share/doc/{deb_name}");
    let mut files: BTreeMap<String, ArtifactFile> = BTreeMap::new();
    let mut debug_files = Vec::new();
    let mut needs = Vec::new();
    let add = |files: &mut BTreeMap<String, ArtifactFile>,
               path: String,
               bytes: Vec<u8>,
               mode: u32| {
        if files.contains_key(&path) {
            anyhow::bail!(
                "[package.metadata.deb] two assets install /{path}; give each its own destination"
            );
        }
        files.insert(
            path.clone(),
            ArtifactFile {
                path_in_archive: path,
                bytes,
                mode,
            },
        );
        Ok(())
    };
    for asset in inputs.assets() {
        let dest = install_path(&asset.dest, "assets")?;
        let into_dir = dest.ends_with('/');
        let place = |below: &str| -> anyhow::Result<String> {
            let path = if into_dir {
                format!("{dest}{below}")
            } else {
                dest.clone()
            };
            crate::guard::paths::relative(&path, "assets dest", "[package.metadata.deb]")?;
            Ok(path)
        };
        let (bytes, path, from_build) = match inputs.resolve(&asset)? {
            Source::Binary(name) => {
                let bytes = inputs.binaries.get(&name).cloned().ok_or_else(|| {
                    anyhow::anyhow!(
                        "[package.metadata.deb] assets source {:?}: the binary {name} was not built; build it (drop --bin) or remove the asset",
                        asset.source
                    )
                })?;
                (bytes, place(&name)?, true)
            }
            Source::BuildOutput(rest) => {
                let out_dir = inputs
                    .out_dir
                    .ok_or_else(|| anyhow::anyhow!("the release build has no output directory"))?;
                let path = out_dir.join(&rest);
                if !crate::guard::paths::inside(out_dir, &path) {
                    anyhow::bail!(
                        "[package.metadata.deb] assets source {:?} leads outside the build's output directory",
                        asset.source
                    );
                }
                let bytes = inputs.read(&path, ASSET_LIMIT, "assets")?;
                let name = rest.rsplit('/').next().unwrap_or(&rest).to_string();
                (bytes, place(&name)?, true)
            }
            Source::Files(found) => {
                for (path, below) in found {
                    let bytes = inputs.read(&path, ASSET_LIMIT, "assets")?;
                    add(&mut files, place(&below)?, bytes, asset.mode)?;
                }
                continue;
            }
        };
        let executable = asset.mode & 0o111 != 0;
        let bytes = if from_build && executable && bytes.starts_with(b"\x7fELF") {
            needs.push(elf::needs(&bytes)?);
            if meta.strip || meta.separate_debug_symbols {
                let stripped = elf::strip(&bytes)?;
                if meta.separate_debug_symbols && stripped.binary != bytes {
                    let debug_path = match &stripped.build_id {
                        Some(id) if id.len() > 2 => {
                            format!("usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..])
                        }
                        _ => format!("usr/lib/debug/{path}.debug"),
                    };
                    debug_files.push((debug_path, bytes.clone()));
                }
                stripped.binary
            } else {
                bytes
            }
        } else {
            bytes
        };
        add(&mut files, path, bytes, asset.mode)?;
    }
    for (path, bytes) in debug_files {
        add(&mut files, path, bytes, 0o644)?;
    }
    for (name, bytes) in &inputs.docs {
        let path = format!("{doc_dir}/{name}");
        if !files.contains_key(&path) {
            add(&mut files, path, bytes.clone(), 0o644)?;
        }
    }

    // Units and maintainer scripts.
    let mut snippets: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for settings in &meta.systemd_units {
        let units = unit_files(inputs, settings)?;
        for unit in &units {
            add(
                &mut files,
                format!("{}/{}", systemd::UNIT_DIR, unit.name),
                unit.bytes.clone(),
                0o644,
            )?;
        }
        for (script, parts) in systemd::snippets(&units, settings) {
            snippets.entry(script).or_default().extend(parts);
        }
    }
    let mut given = BTreeMap::new();
    if let Some(dir) = &meta.maintainer_scripts {
        for (name, path) in inputs.directory(dir, "maintainer-scripts")? {
            if [
                "preinst",
                "postinst",
                "prerm",
                "postrm",
                "config",
                "templates",
            ]
            .contains(&name.as_str())
            {
                let text = String::from_utf8(inputs.read(&path, LIMIT, "maintainer-scripts")?)
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "[package.metadata.deb] maintainer-scripts: {} is not UTF-8 text",
                            inputs.shown(&path)
                        )
                    })?;
                given.insert(name, text);
            }
        }
    }
    let (scripts, script_warnings) = systemd::merge_scripts(&given, &snippets);
    warnings.extend(script_warnings);

    // The control file, with `$auto` from the binaries.
    let needs = elf::merge(&needs);
    let auto = meta.relations.depends.iter().any(|d| d == "$auto");
    if auto {
        for soname in &needs.unknown {
            warnings.push(format!(
                "{}: the binaries need {soname}, which cargo-repro's library table does not map to a Debian package; add its package to `depends` in [package.metadata.deb]",
                inputs.package.name
            ));
        }
    }
    let extended = match &meta.extended_description_file {
        Some(value) => Some(inputs.read_text(value, "extended-description-file")?),
        None => None,
    };
    let control = meta.control(
        &inputs.package,
        inputs.triple,
        &needs.depends,
        extended.as_deref(),
    )?;

    // copyright and changelog, unless an asset installs them.
    let copyright_path = format!("{doc_dir}/copyright");
    if !files.contains_key(&copyright_path) {
        let texts = licence_texts(inputs)?;
        let copyright = Copyright {
            upstream_name: inputs.package.name.clone(),
            source: inputs
                .package
                .repository
                .clone()
                .or_else(|| inputs.package.homepage.clone()),
            holders: match &meta.copyright {
                Some(holders) => vec![holders.clone()],
                None => inputs.package.authors.clone(),
            },
            license: inputs.package.license.clone(),
            texts,
        };
        add(
            &mut files,
            copyright_path,
            copyright.render().into_bytes(),
            0o644,
        )?;
    }
    let changelog_path = format!("{doc_dir}/changelog.Debian.gz");
    if !files.contains_key(&changelog_path) {
        let text = match &meta.changelog {
            Some(value) => inputs.read_text(value, "changelog")?,
            None => changelog::generated(
                &control.package,
                &control.version,
                &control.maintainer,
                inputs.epoch,
            ),
        };
        let gzipped = crate::artifacts::tarball::gzip(text.as_bytes())?;
        add(&mut files, changelog_path, gzipped, 0o644)?;
    }
    Ok((
        DebPackage {
            control,
            files: files.into_values().collect(),
            conffiles: meta.conf_files.clone(),
            scripts,
        },
        warnings,
    ))
}

/// The licence text for the copyright file: `license-file` from `[package.metadata.deb]`
/// (lines skipped as asked), else `[package] license-file`, else the `LICENSE*`/`COPYING*`
/// documents.
fn licence_texts(inputs: &PackageInputs<'_>) -> anyhow::Result<Vec<(String, String)>> {
    if let Some((value, skip)) = &inputs.meta.license_file {
        let text = inputs.read_text(value, "license-file")?;
        let text: Vec<&str> = text.lines().skip(*skip).collect();
        return Ok(vec![(value.clone(), text.join("\n"))]);
    }
    if let Some(value) = &inputs.package.license_file {
        let path = Path::new(value);
        let relative = path
            .strip_prefix(inputs.package_dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| value.clone());
        let text = inputs.read_text(&relative, "license-file")?;
        return Ok(vec![(relative, text)]);
    }
    Ok(inputs
        .docs
        .iter()
        .filter(|(name, _)| {
            let upper = name.to_ascii_uppercase();
            upper.starts_with("LICENSE")
                || upper.starts_with("LICENCE")
                || upper.starts_with("COPYING")
        })
        .map(|(name, bytes)| (name.clone(), String::from_utf8_lossy(bytes).into_owned()))
        .collect())
}
