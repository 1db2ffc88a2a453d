//! The crates.io index as cargo has it on this machine, read without any network access.
//!
//! Three places are read, following cargo's source replacement for `crates-io`:
//! - a directory source (`[source.X] directory = "…"`): each `<name>-<version>/Cargo.toml`;
//! - a local registry (`[source.X] local-registry = "…"`): `index/` files of JSON lines;
//! - otherwise cargo's index cache `$CARGO_HOME/registry/index/<host>-<hash>/cache/…/<name>`
//!   (crates.io's, or the replacing registry's host): a binary header, then NUL-separated
//!   version strings and JSON lines.
//!
//! Only the crates asked for are read, so loading stays cheap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cargo_metadata::semver::{Version, VersionReq};
use serde::Deserialize;

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

/// Where cargo would look for crates.io data.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    Directory(PathBuf),
    LocalRegistry(PathBuf),
    /// `$CARGO_HOME/registry/index/<dir>/cache` directories.
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
            Place::Caches(_) => "$CARGO_HOME/registry/index".to_string(),
        };
        let mut crates = BTreeMap::new();
        let mut names = names.to_vec();
        names.sort();
        names.dedup();
        for name in names {
            let mut releases: BTreeMap<Version, Release> = BTreeMap::new();
            let found = match &place {
                Place::Directory(dir) => read_directory_source(dir, &name),
                Place::LocalRegistry(dir) => {
                    std::fs::read(dir.join("index").join(index_path(&name)))
                        .map(|bytes| json_releases(&bytes, &name))
                        .unwrap_or_default()
                }
                Place::Caches(dirs) => dirs
                    .iter()
                    .filter_map(|dir| std::fs::read(dir.join(index_path(&name))).ok())
                    .flat_map(|bytes| json_releases(&bytes, &name))
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
    let mut registry_host = None;
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
            registry_host = Some(host_of(url));
        }
        break;
    }
    // Cargo names a registry's index directory `<host>-<hash>`.
    let prefixes = match registry_host {
        Some(host) => vec![format!("{host}-")],
        None => vec!["index.crates.io-".to_string(), "github.com-".to_string()],
    };
    let caches: Vec<PathBuf> = read_dir_sorted(&cargo_home.join("registry").join("index"))
        .unwrap_or_default()
        .into_iter()
        .filter(|dir| {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()))
        })
        .map(|dir| dir.join("cache"))
        .filter(|dir| dir.is_dir())
        .collect();
    (!caches.is_empty()).then_some(Place::Caches(caches))
}

/// The host of a registry URL (`sparse+https://host/…` gives `host`).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The path of a crate's file in an index: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…` (lowercase).
pub fn index_path(name: &str) -> PathBuf {
    let name = name.to_ascii_lowercase();
    match name.len() {
        0..=2 => PathBuf::from(name.len().to_string()).join(&name),
        3 => PathBuf::from("3").join(&name[..1]).join(&name),
        _ => PathBuf::from(&name[..2]).join(&name[2..4]).join(&name),
    }
}

#[derive(Deserialize)]
struct JsonRelease {
    name: String,
    vers: String,
    #[serde(default)]
    deps: Vec<JsonDep>,
    #[serde(default)]
    yanked: bool,
}

#[derive(Deserialize)]
struct JsonDep {
    name: String,
    req: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    package: Option<String>,
}

/// The releases in an index file: JSON lines (local registry) or cargo's cache format (a binary
/// header, then NUL-separated version strings and JSON objects). Unparsable pieces are skipped.
fn json_releases(bytes: &[u8], name: &str) -> Vec<Release> {
    bytes
        .split(|&b| b == 0 || b == b'\n')
        .filter(|piece| piece.first() == Some(&b'{'))
        .filter_map(|piece| serde_json::from_slice::<JsonRelease>(piece).ok())
        .filter(|r| r.name.eq_ignore_ascii_case(name))
        .filter_map(|r| {
            let version = Version::parse(&r.vers).ok()?;
            let deps = r
                .deps
                .into_iter()
                .filter_map(|d| {
                    Some(IndexDep {
                        package: d.package.unwrap_or(d.name),
                        req: VersionReq::parse(&d.req).ok()?,
                        kind: match d.kind.as_deref() {
                            Some("dev") => DepKind::Dev,
                            Some("build") => DepKind::Build,
                            _ => DepKind::Normal,
                        },
                        optional: d.optional,
                    })
                })
                .collect();
            Some(Release {
                version,
                yanked: r.yanked,
                deps,
            })
        })
        .collect()
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
            let text = std::fs::read_to_string(entry.join("Cargo.toml")).ok()?;
            manifest_release(&text, name)
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
    fn registry_hosts() {
        assert_eq!(
            host_of("sparse+https://index.crates.io/"),
            "index.crates.io"
        );
        assert_eq!(
            host_of("https://github.com/rust-lang/crates.io-index"),
            "github.com"
        );
        assert_eq!(
            host_of("sparse+https://mirror.example:8080/x/"),
            "mirror.example"
        );
    }

    #[test]
    fn index_paths_follow_cargo() {
        assert_eq!(index_path("a"), Path::new("1/a"));
        assert_eq!(index_path("ab"), Path::new("2/ab"));
        assert_eq!(index_path("Age"), Path::new("3/a/age"));
        assert_eq!(index_path("serde"), Path::new("se/rd/serde"));
    }

    #[test]
    fn cache_files_are_parsed() {
        // cache version 3, index format version 2, the etag, then version/JSON pairs.
        let mut bytes = vec![3u8, 2, 0, 0, 0];
        bytes.extend_from_slice(b"etag: \"abc\"\0");
        for (vers, json) in [
            (
                "0.11.1",
                r#"{"name":"age","vers":"0.11.1","deps":[{"name":"i18n-embed-fl","req":"^0.9","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"}],"cksum":"00","features":{},"yanked":false}"#,
            ),
            (
                "0.12.0",
                r#"{"name":"age","vers":"0.12.0","deps":[{"name":"fl","package":"i18n-embed-fl","req":"^0.10","features":[],"optional":false,"default_features":true,"target":null,"kind":null},{"name":"x","req":"^1","kind":"dev"}],"cksum":"00","features":{},"yanked":true}"#,
            ),
        ] {
            bytes.extend_from_slice(vers.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(json.as_bytes());
            bytes.push(0);
        }
        let releases = json_releases(&bytes, "age");
        assert_eq!(releases.len(), 2);
        assert_eq!(releases[0].version, Version::new(0, 11, 1));
        let newer = &releases[1];
        assert!(newer.yanked);
        let reqs: Vec<_> = newer.requirements_on("i18n-embed-fl").collect();
        assert_eq!(reqs.len(), 1);
        assert!(reqs[0].req.matches(&Version::new(0, 10, 0)));
        assert_eq!(newer.requirements_on("x").count(), 0);
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
