//! The crates.io index as cargo has it on this machine, read without any network access.
//!
//! Three places are read, following cargo's source replacement for `crates-io`:
//! - a directory source (`[source.X] directory = "…"`): each `<name>-<version>/Cargo.toml`;
//! - a local registry (`[source.X] local-registry = "…"`): `index/` files of JSON lines;
//! - otherwise cargo's index cache, `$CARGO_HOME/registry/index/<dir>/.cache/…/<name>`, of the
//!   replacing registry (`registry = "URL"`) or of crates.io's sparse and git indices.
//!
//! The cache directory's name and the cache entries' format are cargo's, and both are read
//! through `tame-index`, which follows cargo (the directory hash changed in cargo 1.85, so both
//! names are tried). Only the crates asked for are read, so loading stays cheap. Every file is
//! untrusted: only regular files (no symlinks) of bounded size are read, names that are not
//! crate names are never turned into paths, and pieces that do not parse are skipped.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use cargo_metadata::semver::{Version, VersionReq};
use tame_index::krate::DependencyKind;
use tame_index::{IndexVersion, KrateName};

use crate::workspace::lockfile::{LockedPackage, Lockfile};
use crate::workspace::{TomlFile, display_path_with_home, read_dir_sorted};

/// How a release depends on another crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Build,
    Dev,
}

/// One dependency of a published release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexDep {
    /// The package depended on (after `package = …` renames).
    pub package: String,
    pub req: VersionReq,
    pub kind: DepKind,
    pub optional: bool,
}

/// One published release of a crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    pub yanked: bool,
    pub deps: Vec<IndexDep>,
}

impl Release {
    /// The requirements this release puts on `package` (dev-dependencies left out).
    pub fn requirements_on<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a IndexDep> {
        self.deps
            .iter()
            .filter(move |d| d.package == package && d.kind != DepKind::Dev)
    }
}

/// The index data found locally for the crates asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalIndex {
    /// Where the data came from (display path), or `None` when no local index exists at all.
    pub source: Option<String>,
    /// Releases by crate name, sorted by version; crates without local data are absent.
    pub crates: BTreeMap<String, Vec<Release>>,
}

/// The largest index file read: crates.io's biggest index files are a few MiB.
const MAX_INDEX_FILE_BYTES: u64 = 32 << 20;
/// The largest `Cargo.toml` read from a directory source.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// crates.io's sparse index, as cargo names it.
const CRATES_IO_SPARSE: &str = tame_index::CRATES_IO_HTTP_INDEX;
/// crates.io's git index, as cargo names it.
const CRATES_IO_GIT: &str = tame_index::CRATES_IO_INDEX;

/// Where cargo would look for crates.io data.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    Directory(PathBuf),
    LocalRegistry(PathBuf),
    /// `$CARGO_HOME/registry/index/<dir>/.cache` directories that exist.
    Caches(Vec<PathBuf>),
}

impl LocalIndex {
    /// Reads the releases of `names` from the local index that cargo would use for crates.io.
    pub fn load(
        root: &Path,
        cargo_home: &Path,
        cargo_configs: &[TomlFile],
        names: &[String],
    ) -> LocalIndex {
        let Some(place) = find_place(cargo_home, cargo_configs) else {
            return LocalIndex::default();
        };
        let source = match &place {
            Place::Directory(dir) | Place::LocalRegistry(dir) => {
                display_path_with_home(root, cargo_home, dir)
            }
            Place::Caches(dirs) => dirs
                .iter()
                .map(|dir| display_path_with_home(root, cargo_home, dir))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mut crates = BTreeMap::new();
        let mut names = names.to_vec();
        names.sort();
        names.dedup();
        for name in names {
            let mut releases: BTreeMap<Version, Release> = BTreeMap::new();
            let found = match &place {
                Place::Directory(dir) => read_directory_source(dir, &name),
                Place::LocalRegistry(dir) => index_file(&dir.join("index"), &name)
                    .map(|bytes| json_lines_releases(&bytes, &name))
                    .unwrap_or_default(),
                Place::Caches(dirs) => dirs
                    .iter()
                    .filter_map(|dir| index_file(dir, &name))
                    .flat_map(|bytes| cache_releases(&bytes, &name))
                    .collect(),
            };
            for release in found {
                releases.entry(release.version.clone()).or_insert(release);
            }
            if !releases.is_empty() {
                crates.insert(name, releases.into_values().collect());
            }
        }
        LocalIndex {
            source: Some(source),
            crates,
        }
    }

    /// True when some local index was found (even if it lacks the crates asked for).
    pub fn available(&self) -> bool {
        self.source.is_some()
    }

    /// The releases of `name`, sorted by version, when the local index has them.
    pub fn releases(&self, name: &str) -> Option<&[Release]> {
        self.crates.get(name).map(Vec::as_slice)
    }
}

/// The packages of `Cargo.lock` that depend on the locked `name` at `version`.
pub fn lock_dependents<'a>(
    lockfile: &'a Lockfile,
    name: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'a LockedPackage> {
    lockfile.packages.iter().filter(move |p| {
        p.dependencies.iter().any(|dep| {
            let mut words = dep.split_whitespace();
            words.next() == Some(name) && words.next().is_none_or(|v| v == version)
        })
    })
}

/// Follows `[source.crates-io] replace-with` through the cargo configs (nearest first).
fn find_place(cargo_home: &Path, cargo_configs: &[TomlFile]) -> Option<Place> {
    let mut current = "crates-io".to_string();
    let mut registry_url = None;
    for _ in 0..8 {
        let Some((config, table)) = cargo_configs.iter().find_map(|config| {
            let table = config.get(&["source", &current])?.as_table_like()?;
            Some((config, table))
        }) else {
            break;
        };
        // `.cargo/config.toml` paths are relative to the directory holding `.cargo`.
        let base = config.cargo_config_base();
        if let Some(next) = table.get("replace-with").and_then(|r| r.as_str()) {
            current = next.to_string();
            continue;
        }
        if let Some(dir) = table.get("directory").and_then(|d| d.as_str()) {
            return Some(Place::Directory(base.join(dir)));
        }
        if let Some(dir) = table.get("local-registry").and_then(|d| d.as_str()) {
            return Some(Place::LocalRegistry(base.join(dir)));
        }
        if let Some(url) = table.get("registry").and_then(|d| d.as_str()) {
            registry_url = Some(url.to_string());
        }
        break;
    }
    let urls = match registry_url {
        Some(url) => vec![url],
        None => vec![CRATES_IO_SPARSE.to_string(), CRATES_IO_GIT.to_string()],
    };
    let index_root = cargo_home.join("registry").join("index");
    let caches: Vec<PathBuf> = urls
        .iter()
        .flat_map(|url| cache_dir_names(url))
        .map(|name| index_root.join(name).join(".cache"))
        .filter(|dir| is_real_dir(dir))
        .collect();
    (!caches.is_empty()).then_some(Place::Caches(caches))
}

/// The names cargo gives the index directory of a registry URL: the one of cargo 1.85 and
/// later first, then the one of earlier releases (when it differs).
fn cache_dir_names(url: &str) -> Vec<String> {
    let mut names: Vec<String> = [true, false]
        .into_iter()
        .filter_map(|stable| tame_index::utils::url_to_local_dir(url, stable).ok())
        .map(|dir| dir.dir_name)
        .collect();
    names.dedup();
    names
}

/// True for a directory that is not a symlink.
fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// The bytes of `name`'s file in an index laid out as cargo's (`se/rd/serde`, lowercase), when
/// `name` is a crate name and the file is a regular one of bounded size.
fn index_file(index: &Path, name: &str) -> Option<Vec<u8>> {
    let name = KrateName::cargo(name).ok()?;
    read_bounded(&index.join(name.relative_path(None)), MAX_INDEX_FILE_BYTES)
}

/// A regular file (not a symlink) of at most `limit` bytes, read whole.
fn read_bounded(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > limit {
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    // The file may have grown since its metadata was read.
    (bytes.len() as u64 <= limit).then_some(bytes)
}

/// The releases in a cache entry cargo wrote (a header tame-index checks, then pairs of a
/// version and its JSON, NUL-separated); an entry cargo would not read gives none.
fn cache_releases(bytes: &[u8], name: &str) -> Vec<Release> {
    let Ok(entry) = tame_index::index::cache::ValidCacheEntry::read(bytes) else {
        return Vec::new();
    };
    let mut pieces = tame_index::utils::split(entry.version_entries, 0);
    let mut releases = Vec::new();
    while pieces.next().is_some() {
        let Some(json) = pieces.next() else {
            break;
        };
        releases.extend(release(json, name));
    }
    releases
}

/// The releases in an index file of JSON lines (a local registry's `index/`).
fn json_lines_releases(bytes: &[u8], name: &str) -> Vec<Release> {
    tame_index::utils::split(bytes, b'\n')
        .filter_map(|line| release(line, name))
        .collect()
}

/// One release from its index JSON, when it is `name`'s and parses.
fn release(json: &[u8], name: &str) -> Option<Release> {
    let version: IndexVersion = serde_json::from_slice(json).ok()?;
    if !version.name.eq_ignore_ascii_case(name) {
        return None;
    }
    let deps = version
        .dependencies()
        .iter()
        .filter_map(|dep| {
            Some(IndexDep {
                package: dep.crate_name().to_string(),
                req: VersionReq::parse(&dep.req).ok()?,
                kind: match dep.kind {
                    DependencyKind::Dev => DepKind::Dev,
                    DependencyKind::Build => DepKind::Build,
                    DependencyKind::Normal => DepKind::Normal,
                },
                optional: dep.optional,
            })
        })
        .collect();
    Some(Release {
        version: Version::parse(&version.version).ok()?,
        yanked: version.yanked,
        deps,
    })
}

/// The releases of `name` in a directory source: `<name>-<version>/` (or `<name>/`) folders.
fn read_directory_source(dir: &Path, name: &str) -> Vec<Release> {
    read_dir_sorted(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| {
            let folder = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            folder == name
                || folder
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .filter_map(|entry| {
            let bytes = read_bounded(&entry.join("Cargo.toml"), MAX_MANIFEST_BYTES)?;
            manifest_release(std::str::from_utf8(&bytes).ok()?, name)
        })
        .collect()
}

/// A release described by a published `Cargo.toml`, when it is the package `name`.
fn manifest_release(text: &str, name: &str) -> Option<Release> {
    let doc = text.parse::<toml_edit::Document<String>>().ok()?;
    let package = doc.get("package")?;
    if package.get("name")?.as_str()? != name {
        return None;
    }
    let version = Version::parse(package.get("version")?.as_str()?).ok()?;
    let mut owners = vec![doc.as_item()];
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table_like()) {
        owners.extend(targets.iter().map(|(_, target)| target));
    }
    let tables = owners.into_iter().flat_map(|owner| {
        [
            ("dependencies", DepKind::Normal),
            ("build-dependencies", DepKind::Build),
            ("build_dependencies", DepKind::Build),
            ("dev-dependencies", DepKind::Dev),
            ("dev_dependencies", DepKind::Dev),
        ]
        .into_iter()
        .filter_map(move |(key, kind)| Some((owner.get(key)?, kind)))
    });
    let mut deps = Vec::new();
    for (table, kind) in tables {
        let Some(table) = table.as_table_like() else {
            continue;
        };
        for (key, item) in table.iter() {
            let (req, package, optional) = match item.as_str() {
                Some(req) => (req, key, false),
                None => (
                    item.get("version").and_then(|v| v.as_str()).unwrap_or("*"),
                    item.get("package").and_then(|p| p.as_str()).unwrap_or(key),
                    item.get("optional")
                        .and_then(|o| o.as_bool())
                        .unwrap_or(false),
                ),
            };
            let Ok(req) = VersionReq::parse(req) else {
                continue;
            };
            deps.push(IndexDep {
                package: package.to_string(),
                req,
                kind,
                optional,
            });
        }
    }
    Some(Release {
        version,
        yanked: false,
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_directories_are_named_as_cargo_names_them() {
        // cargo 1.85 and later, then earlier releases (as `$CARGO_HOME/registry/index` shows).
        assert_eq!(
            cache_dir_names(CRATES_IO_SPARSE),
            [
                "index.crates.io-1949cf8c6b5b557f",
                "index.crates.io-6f17d22bba15001f"
            ]
        );
        assert!(
            cache_dir_names(CRATES_IO_GIT).contains(&"github.com-1ecc6299db9ec823".to_string())
        );
        let mirror = cache_dir_names("sparse+https://mirror.example:8080/x/");
        assert!(mirror.iter().all(|n| n.starts_with("mirror.example-")));
        assert!(cache_dir_names("not a url").is_empty());
    }

    #[test]
    fn index_paths_follow_cargo_and_refuse_other_names() {
        let root = Path::new("/i");
        let path = |name: &str| {
            KrateName::cargo(name)
                .ok()
                .map(|n| root.join(n.relative_path(None)))
        };
        assert_eq!(path("a"), Some(root.join("1/a")));
        assert_eq!(path("ab"), Some(root.join("2/ab")));
        assert_eq!(path("Age"), Some(root.join("3/a/age")));
        assert_eq!(path("serde"), Some(root.join("se/rd/serde")));
        for bad in ["", "../etc", "a/b", "x\0y", "caf\u{e9}"] {
            assert_eq!(path(bad), None, "{bad:?}");
            assert_eq!(index_file(root, bad), None);
        }
    }

    /// A cache entry as cargo writes it: cache version 3, index format version 2, the
    /// revision, then version/JSON pairs.
    fn cache_entry(revision: &str, versions: &[(&str, &str)]) -> Vec<u8> {
        let mut bytes = vec![3u8, 2, 0, 0, 0];
        bytes.extend_from_slice(revision.as_bytes());
        bytes.push(0);
        for (vers, json) in versions {
            bytes.extend_from_slice(vers.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(json.as_bytes());
            bytes.push(0);
        }
        bytes
    }

    const AGE_0_11_1: &str = r#"{"name":"age","vers":"0.11.1","deps":[{"name":"i18n-embed-fl","req":"^0.9","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}],"cksum":"0000000000000000000000000000000000000000000000000000000000000000","features":{},"yanked":false}"#;
    const AGE_0_12_0: &str = r#"{"name":"age","vers":"0.12.0","deps":[{"name":"fl","package":"i18n-embed-fl","req":"^0.10","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"},{"name":"x","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"dev"}],"cksum":"0000000000000000000000000000000000000000000000000000000000000000","features":{},"yanked":true}"#;

    #[test]
    fn cache_files_are_parsed() {
        let bytes = cache_entry(
            "etag: \"abc\"",
            &[("0.11.1", AGE_0_11_1), ("0.12.0", AGE_0_12_0)],
        );
        let releases = cache_releases(&bytes, "age");
        assert_eq!(releases.len(), 2);
        assert_eq!(releases[0].version, Version::new(0, 11, 1));
        let newer = &releases[1];
        assert!(newer.yanked);
        let reqs: Vec<_> = newer.requirements_on("i18n-embed-fl").collect();
        assert_eq!(reqs.len(), 1);
        assert!(reqs[0].req.matches(&Version::new(0, 10, 0)));
        assert_eq!(newer.requirements_on("x").count(), 0);
        // Another crate's entries, or a bad one, are skipped; the rest is kept.
        let mixed = cache_entry(
            "last-modified: Wed, 02 Dec 2026 01:49:38 GMT",
            &[
                ("0.11.1", AGE_0_11_1),
                ("1.0.0", "{not json"),
                ("0.1.0", r#"{"name":"other"}"#),
            ],
        );
        assert_eq!(cache_releases(&mixed, "age").len(), 1);
    }

    #[test]
    fn entries_cargo_would_not_read_give_nothing_and_never_panic() {
        let good = cache_entry("etag: \"abc\"", &[("0.11.1", AGE_0_11_1)]);
        // An older cache version, a newer one, an unknown revision, and every truncation.
        let mut old = good.clone();
        old[0] = 2;
        let mut newer = good.clone();
        newer[0] = 4;
        assert!(cache_releases(&old, "age").is_empty());
        assert!(cache_releases(&newer, "age").is_empty());
        assert!(cache_releases(&cache_entry("bogus", &[("0.11.1", AGE_0_11_1)]), "age").is_empty());
        for end in 0..good.len() {
            let _ = cache_releases(&good[..end], "age");
            let _ = json_lines_releases(&good[..end], "age");
        }
        // Deep nesting is refused by the JSON parser, not by the stack.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(json_lines_releases(deep.as_bytes(), "age").is_empty());
    }

    #[test]
    fn json_lines_are_parsed() {
        let text = format!("{AGE_0_11_1}\n\n{AGE_0_12_0}\n");
        let releases = json_lines_releases(text.as_bytes(), "age");
        assert_eq!(releases.len(), 2);
    }

    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = std::env::temp_dir().join(format!("cargo-repro-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_bounded(&file, 5).as_deref(), Some(&b"12345"[..]));
        assert_eq!(read_bounded(&file, 4), None);
        assert_eq!(read_bounded(&dir, 1 << 20), None);
        assert_eq!(read_bounded(&dir.join("missing"), 1 << 20), None);
        #[cfg(unix)]
        {
            let link = dir.join("link");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert_eq!(read_bounded(&link, 1 << 20), None);
            let linked_dir = dir.join("linked-dir");
            std::os::unix::fs::symlink(&dir, &linked_dir).unwrap();
            assert!(!is_real_dir(&linked_dir));
        }
        assert!(is_real_dir(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn manifests_give_releases() {
        let text = "[package]\nname = \"age\"\nversion = \"0.12.0\"\n\n[dependencies]\ni18n-embed-fl = \"0.10\"\n\n[target.'cfg(unix)'.dependencies.other]\nversion = \"1\"\noptional = true\n";
        let release = manifest_release(text, "age").unwrap();
        assert_eq!(release.version, Version::new(0, 12, 0));
        assert_eq!(release.deps.len(), 2);
        assert!(release.deps[1].optional);
        assert!(manifest_release(text, "agex").is_none());
    }
}
