//! The resolved package graph: from `cargo metadata --locked` through guppy, or from `Cargo.lock`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use guppy::graph::{BuildTargetId, BuildTargetKind, PackageGraph, PackageSource};
use serde::Deserialize;

use super::entry_points::cargo::Selection;
use super::lockfile::Lockfile;

/// Where a package comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A member of the audited workspace.
    Workspace,
    /// A path dependency or `[patch]` path outside the members.
    Path,
    /// A registry (`registry+…` or `sparse+…`).
    Registry(String),
    /// A git repository (`git+…`).
    Git(String),
}

impl Source {
    /// Classifies a lockfile or metadata source string.
    pub fn from_source_str(source: Option<&str>) -> Source {
        match source {
            None => Source::Path,
            Some(s) if s.starts_with("git+") => Source::Git(s.to_string()),
            Some(s) => Source::Registry(s.to_string()),
        }
    }
}

/// One package of the graph.
#[derive(Clone, Debug)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// The directory holding the package's `Cargo.toml`, when it is on disk.
    pub manifest_dir: Option<PathBuf>,
    /// The build script's main source file, when the package has one.
    pub build_script: Option<PathBuf>,
    /// The library's main source file, when the package is a proc-macro.
    pub proc_macro_lib: Option<PathBuf>,
    /// The library's main source file, when the package has a library (proc-macro or not).
    pub lib: Option<PathBuf>,
    /// Indices of the packages that depend on this one (dev-only edges left out).
    pub dependents: Vec<usize>,
    /// Features the release builds enable (empty when unknown).
    pub features: BTreeSet<String>,
    /// True when the release builds never compile it: only dev-dependencies reach it, or only
    /// features they do not enable, or only platforms they do not build for.
    pub dev_only: bool,
}

impl Package {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The packages, sorted by name and version.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub packages: Vec<Package>,
    /// True when the graph came from cargo (features and dev-only edges are known).
    pub resolved: bool,
}

impl Graph {
    /// Packages that can end up in a release build.
    pub fn release_packages(&self) -> impl Iterator<Item = &Package> {
        self.packages.iter().filter(|p| !p.dev_only)
    }

    /// The packages depending on `package` directly.
    pub fn dependents_of<'a>(&'a self, package: &'a Package) -> impl Iterator<Item = &'a Package> {
        package.dependents.iter().map(|&i| &self.packages[i])
    }

    fn finish(mut packages: Vec<Package>, edges: Vec<(String, String)>, resolved: bool) -> Graph {
        packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        let index: BTreeMap<String, usize> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id(), i))
            .collect();
        for (from, to) in edges {
            if let (Some(&from), Some(&to)) = (index.get(&from), index.get(&to))
                && !packages[to].dependents.contains(&from)
            {
                packages[to].dependents.push(from);
            }
        }
        for package in &mut packages {
            package.dependents.sort_unstable();
        }
        Graph { packages, resolved }
    }

    /// Builds the graph from `cargo metadata --format-version 1` JSON through guppy, with the
    /// packages and features that `builds` compile for `triples` (cargo's feature resolver,
    /// simulated by guppy; target and host sides together). Without a resolution, the default
    /// features of the whole workspace and every non-dev edge are taken.
    pub fn from_metadata_json(
        json: &str,
        builds: &[Selection],
        triples: &[String],
    ) -> anyhow::Result<Graph> {
        let graph = PackageGraph::from_json(json)
            .map_err(|e| anyhow::anyhow!("cannot read the output of cargo metadata: {e}"))?;
        let resolution = release_resolution(&graph, builds, triples);
        let features = match &resolution {
            Some((built, _)) => built.clone(),
            None => resolved_features(json),
        };
        let release_set = graph
            .query_workspace()
            .resolve_with_fn(|_, link| !link.dev_only());
        let mut packages = Vec::new();
        let mut edges = Vec::new();
        for meta in graph.packages() {
            let source = match meta.source() {
                PackageSource::Workspace(_) => Source::Workspace,
                PackageSource::Path(_) => Source::Path,
                PackageSource::External(s) => Source::from_source_str(Some(s)),
            };
            let manifest_dir = meta
                .manifest_path()
                .parent()
                .map(|p| PathBuf::from(p.as_std_path()));
            let build_script = meta
                .build_target(&BuildTargetId::BuildScript)
                .map(|t| PathBuf::from(t.path().as_std_path()));
            let lib = meta
                .build_target(&BuildTargetId::Library)
                .map(|t| PathBuf::from(t.path().as_std_path()));
            let proc_macro_lib = meta
                .build_target(&BuildTargetId::Library)
                .filter(|t| matches!(t.kind(), BuildTargetKind::ProcMacro))
                .map(|t| PathBuf::from(t.path().as_std_path()));
            let id = format!("{}@{}", meta.name(), meta.version());
            if resolution.is_none() {
                for link in meta.reverse_direct_links() {
                    if !link.dev_only() {
                        let from = link.from();
                        edges.push((format!("{}@{}", from.name(), from.version()), id.clone()));
                    }
                }
            }
            packages.push(Package {
                name: meta.name().to_string(),
                version: meta.version().to_string(),
                source,
                manifest_dir,
                build_script,
                proc_macro_lib,
                lib,
                dependents: Vec::new(),
                features: features.get(meta.id().repr()).cloned().unwrap_or_default(),
                dev_only: match &resolution {
                    Some((built, _)) => !built.contains_key(meta.id().repr()),
                    None => !release_set.contains(meta.id()).unwrap_or(false),
                },
            });
        }
        if let Some((_, links)) = resolution {
            edges.extend(links);
        }
        Ok(Graph::finish(packages, edges, true))
    }

    /// The workspace members alone, for a workspace without `Cargo.lock` or graph: their
    /// build scripts and proc-macros are still judged.
    pub fn from_members(members: &[(String, String, PathBuf)]) -> Graph {
        let packages = members
            .iter()
            .map(|(name, version, dir)| {
                let (build_script, proc_macro_lib) = build_time_targets(dir);
                Package {
                    name: name.clone(),
                    version: version.clone(),
                    source: Source::Workspace,
                    manifest_dir: Some(dir.clone()),
                    build_script,
                    lib: library(dir, proc_macro_lib.as_ref()),
                    proc_macro_lib,
                    dependents: Vec::new(),
                    features: BTreeSet::new(),
                    dev_only: false,
                }
            })
            .collect();
        Graph::finish(packages, Vec::new(), false)
    }

    /// Builds an approximate graph from `Cargo.lock`, finding sources in `$CARGO_HOME`.
    pub fn from_lockfile(
        lockfile: &Lockfile,
        members: &[(String, String, PathBuf)],
        cargo_home: &Path,
    ) -> Graph {
        let registry_dirs = registry_source_dirs(cargo_home);
        let mut packages = Vec::new();
        let mut edges = Vec::new();
        // Lockfile dependency strings name a package by name, or name and version when ambiguous.
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for p in &lockfile.packages {
            by_name.entry(&p.name).or_default().push(&p.version);
        }
        for locked in &lockfile.packages {
            let member = members
                .iter()
                .find(|(n, v, _)| *n == locked.name && *v == locked.version);
            let source = match (member, &locked.source) {
                (Some(_), _) => Source::Workspace,
                (None, s) => Source::from_source_str(s.as_deref()),
            };
            let manifest_dir = match (&source, member) {
                (_, Some((_, _, dir))) => Some(dir.clone()),
                (Source::Registry(_), _) => registry_dirs
                    .iter()
                    .map(|d| d.join(format!("{}-{}", locked.name, locked.version)))
                    .find(|d| d.join("Cargo.toml").is_file()),
                _ => None,
            };
            let (build_script, proc_macro_lib) = match &manifest_dir {
                Some(dir) => build_time_targets(dir),
                None => (None, None),
            };
            let id = format!("{}@{}", locked.name, locked.version);
            for dep in &locked.dependencies {
                let mut words = dep.split_whitespace();
                let name = words.next().unwrap_or_default();
                let version = match words.next() {
                    Some(v) => Some(v),
                    None => by_name.get(name).and_then(|vs| vs.first().copied()),
                };
                if let Some(version) = version {
                    edges.push((id.clone(), format!("{name}@{version}")));
                }
            }
            let lib = manifest_dir
                .as_deref()
                .and_then(|dir| library(dir, proc_macro_lib.as_ref()));
            packages.push(Package {
                name: locked.name.clone(),
                version: locked.version.clone(),
                source,
                manifest_dir,
                build_script,
                proc_macro_lib,
                lib,
                dependents: Vec::new(),
                features: BTreeSet::new(),
                dev_only: false,
            });
        }
        Graph::finish(packages, edges, false)
    }
}

/// `$CARGO_HOME/registry/src/*`, sorted.
fn registry_source_dirs(cargo_home: &Path) -> Vec<PathBuf> {
    super::read_dir_sorted(&cargo_home.join("registry").join("src")).unwrap_or_default()
}

/// Reads a package manifest just enough to find its build script and proc-macro library.
/// The library root of a package without metadata: the proc-macro's, else `src/lib.rs`.
fn library(dir: &Path, proc_macro: Option<&PathBuf>) -> Option<PathBuf> {
    proc_macro
        .cloned()
        .or_else(|| Some(dir.join("src/lib.rs")).filter(|p| p.is_file()))
}

fn build_time_targets(dir: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return (None, None);
    };
    let Ok(doc) = text.parse::<toml_edit::Document<String>>() else {
        return (None, None);
    };
    let build = match doc.get("package").and_then(|p| p.get("build")) {
        Some(item) if item.as_bool() == Some(false) => None,
        Some(item) => item.as_str().map(|s| dir.join(s)),
        None => Some(dir.join("build.rs")).filter(|p| p.is_file()),
    };
    let lib = doc.get("lib");
    let is_proc_macro = lib
        .and_then(|l| l.get("proc-macro").or_else(|| l.get("proc_macro")))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let proc_macro = is_proc_macro.then(|| {
        let path = lib
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .unwrap_or("src/lib.rs");
        dir.join(path)
    });
    (build, proc_macro)
}

#[derive(Deserialize)]
struct MetadataResolve {
    resolve: Option<ResolveNodes>,
}

#[derive(Deserialize)]
struct ResolveNodes {
    nodes: Vec<ResolveNode>,
}

/// What the builds compile: the packages with their features (by package id) and the
/// dependency edges cargo follows (`name@version` pairs, dependent first); `None` when guppy
/// cannot resolve them (an unknown triple or package name).
#[allow(clippy::type_complexity)]
fn release_resolution(
    graph: &PackageGraph,
    builds: &[Selection],
    triples: &[String],
) -> Option<(
    BTreeMap<String, BTreeSet<String>>,
    BTreeSet<(String, String)>,
)> {
    use guppy::graph::DependencyDirection;
    use guppy::graph::cargo::{CargoOptions, CargoResolverVersion};
    use guppy::graph::feature::{StandardFeatures, named_feature_filter};
    use guppy::platform::{Platform, PlatformSpec, TargetFeatures};

    // Triples target-spec does not know are left out; with none left, nothing is resolved.
    let platforms: Vec<_> = triples
        .iter()
        .filter_map(|t| Platform::new(t.clone(), TargetFeatures::Unknown).ok())
        .map(std::sync::Arc::new)
        .collect();
    if platforms.is_empty() {
        return None;
    }
    let spec = PlatformSpec::Platforms(platforms);
    let mut options = CargoOptions::new();
    options
        .set_resolver(CargoResolverVersion::V2)
        .set_include_dev(false)
        .set_target_platform(spec.clone())
        .set_host_platform(spec);
    let mut built: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut edges = BTreeSet::new();
    let default = [Selection::default()];
    let builds = if builds.is_empty() {
        &default[..]
    } else {
        builds
    };
    for build in builds {
        // As cargo: `-p`, else `--workspace`, else the default members (the root package of a
        // non-virtual workspace).
        let defaults: Vec<_> = graph.workspace().default_member_ids().collect();
        let packages = if build.packages.is_empty() && (build.workspace || defaults.is_empty()) {
            graph.query_workspace()
        } else if build.packages.is_empty() {
            graph.query_forward(defaults).ok()?
        } else {
            // Names that are not members (a package of another workspace) select nothing.
            let members: Vec<&String> = build
                .packages
                .iter()
                .filter(|name| graph.workspace().member_by_name(name.as_str()).is_ok())
                .collect();
            if members.is_empty() {
                continue;
            }
            graph.query_workspace_names(members).ok()?
        };
        let base = if build.all_features {
            StandardFeatures::All
        } else if build.no_default_features {
            StandardFeatures::None
        } else {
            StandardFeatures::Default
        };
        // `dep/feature` turns on a dependency's feature: the dependency itself is enabled
        // through its optional-dependency feature of the same name, when there is one.
        let named: Vec<&str> = build
            .features
            .iter()
            .map(|f| f.split('/').next().unwrap_or(f))
            .collect();
        // Only the initial features: cargo's resolution is the cargo set's to make.
        let initials = packages
            .to_feature_query(named_feature_filter(base, named.iter().copied()))
            .resolve_with_fn(|_, _| false);
        let set = initials.into_cargo_set(&options).ok()?;
        // The links out of the initial packages are not among the cargo set's links: those
        // to the direct dependencies it builds are.
        for initial in set
            .initials()
            .packages_with_features(DependencyDirection::Forward)
        {
            let from = initial.package();
            for link in from.direct_links() {
                let to = link.to();
                let built_direct = set.target_direct_deps().contains(to.id()).unwrap_or(false)
                    || set.host_direct_deps().contains(to.id()).unwrap_or(false);
                if built_direct && !link.dev_only() {
                    edges.insert((
                        format!("{}@{}", from.name(), from.version()),
                        format!("{}@{}", to.name(), to.version()),
                    ));
                }
            }
        }
        let links = set
            .target_links()
            .chain(set.host_links())
            .chain(set.build_dep_links())
            .chain(set.proc_macro_links());
        for link in links {
            let (from, to) = (link.from(), link.to());
            edges.insert((
                format!("{}@{}", from.name(), from.version()),
                format!("{}@{}", to.name(), to.version()),
            ));
        }
        for features in [set.target_features(), set.host_features()] {
            for list in features.packages_with_features(DependencyDirection::Forward) {
                built
                    .entry(list.package().id().repr().to_string())
                    .or_default()
                    .extend(list.named_features().map(str::to_string));
            }
        }
    }
    // Nothing selected a member of this workspace: read it with the defaults.
    if built.is_empty() {
        return None;
    }
    Some((built, edges))
}

#[derive(Deserialize)]
struct ResolveNode {
    id: String,
    #[serde(default)]
    features: Vec<String>,
}

/// Features per package id, as cargo resolved them.
fn resolved_features(json: &str) -> BTreeMap<String, BTreeSet<String>> {
    let Ok(meta) = serde_json::from_str::<MetadataResolve>(json) else {
        return BTreeMap::new();
    };
    meta.resolve
        .map(|r| {
            r.nodes
                .into_iter()
                .map(|n| (n.id, n.features.into_iter().collect()))
                .collect()
        })
        .unwrap_or_default()
}
