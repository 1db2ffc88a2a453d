//! Everything the audit reads, loaded once: manifests, lockfile, toolchain, cargo configs,
//! entry points, git state, the package graph and the sources of build-time code.
//!
//! Rules never do I/O: they only look at a [`Workspace`].

pub mod build_code;
pub mod entry_points;
pub mod git;
pub mod graph;
pub mod lockfile;
pub mod metadata;
pub mod patches;
pub mod profiles;
pub mod release_builds;
pub mod source_file;
pub mod toml_file;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use metadata::MetadataError;

use anyhow::Context as _;

pub use entry_points::{EntryKind, EntryPoint};
pub use git::GitStatus;
pub use graph::{Graph, Package, Source};
pub use lockfile::Lockfile;
pub use metadata::ToolchainFallback;
pub use patches::PatchedCrate;
pub use source_file::SourceFile;
pub use toml_file::TomlFile;

/// How to load the workspace.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--manifest-path`, or `None` to search from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// Pass `--offline` to cargo.
    pub offline: bool,
    /// Skip `cargo metadata` entirely (pre-commit mode); the graph comes from `Cargo.lock`,
    /// and entry points are not read.
    pub lockfile_only: bool,
}

/// A workspace member.
#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub version: String,
    pub dir: PathBuf,
    pub manifest: TomlFile,
    /// The member has a binary target (`[[bin]]`, `src/main.rs` or `src/bin/`).
    pub has_bin: bool,
}

/// The toolchain file in force for the workspace.
#[derive(Debug)]
pub struct ToolchainFile {
    pub file: SourceFile,
    /// Parsed TOML, unless the file is a legacy one-line channel.
    pub toml: Option<TomlFile>,
}

/// What kind of build-time code a source belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildTimeKind {
    BuildScript,
    ProcMacro,
}

/// The code of a build script or proc-macro crate, as it is compiled (module tree, `cfg`).
#[derive(Debug)]
pub struct BuildTimeSource {
    /// Index into [`Graph::packages`].
    pub package: usize,
    pub kind: BuildTimeKind,
    pub code: build_code::CrateCode,
}

/// The loaded workspace.
#[derive(Debug)]
pub struct Workspace {
    /// Absolute path of the workspace root.
    pub root: PathBuf,
    /// `$CARGO_HOME` (or `~/.cargo`).
    pub cargo_home: PathBuf,
    pub root_manifest: TomlFile,
    /// Members, sorted by directory; includes the root package of a non-virtual workspace.
    pub members: Vec<Member>,
    pub lockfile: Option<Lockfile>,
    pub lockfile_git: GitStatus,
    pub toolchain: Option<ToolchainFile>,
    /// `.cargo/config.toml` files, nearest first, then `$CARGO_HOME/config.toml`.
    pub cargo_configs: Vec<TomlFile>,
    pub entry_points: Vec<EntryPoint>,
    pub graph: Graph,
    /// Why the resolved graph could not be had (rules then use `Cargo.lock` only).
    pub graph_problem: Option<String>,
    /// Why `cargo metadata --all-features` failed, when the graph was read without it and so
    /// holds only the optional edges the default features enable.
    pub graph_default_features_only: Option<String>,
    /// The installed toolchain `cargo metadata` ran with because rustup could not provide the
    /// pinned one.
    pub toolchain_fallback: Option<ToolchainFallback>,
    /// Cargo's word that `Cargo.lock` does not satisfy the manifests.
    pub lockfile_stale: Option<String>,
    pub build_time_sources: Vec<BuildTimeSource>,
    /// For each known-crates entry about a macro crate (by entry id), where each dependent's
    /// compiled code calls its macros; absent when the graph is not resolved.
    pub macro_calls: BTreeMap<String, Vec<(usize, Vec<crate::diag::Location>)>>,
    /// What the release builds select (`-p`, features; see `release_builds`), as the graph was
    /// resolved for them.
    pub release_selections: Vec<entry_points::cargo::Selection>,
    /// Build paths the members' libraries and binaries keep (`env!("CARGO_MANIFEST_DIR")`),
    /// with each member's index.
    pub embedded_paths: Vec<(usize, build_code::Fact)>,
    /// `vendor/patches.toml`, when present.
    pub ledger: Option<crate::patch::ledger::Ledger>,
    /// The root manifest's `[patch]` entries that point at a path.
    pub patches: Vec<PatchedCrate>,
    /// The local registry index, read for the patched crates and their dependents only (empty
    /// when there are no patches).
    pub registry_index: crate::patch::index::LocalIndex,
}

impl Workspace {
    /// Loads the workspace: files are read while `cargo metadata` runs in the background.
    pub fn load(options: &LoadOptions) -> anyhow::Result<Workspace> {
        let manifest = find_manifest(options.manifest_path.as_deref())?;
        let root = find_root(&manifest)?;
        let cargo_home = cargo_home();
        let root_manifest = TomlFile::read(&root.join("Cargo.toml"), "Cargo.toml".into())?;
        let member_dirs = member_manifest_dirs(&root, &root_manifest);
        if !options.lockfile_only {
            guard_cargo_inputs(&root, &cargo_home, &member_dirs)?;
        }

        let metadata = (!options.lockfile_only).then(|| {
            let root = root.clone();
            let offline = options.offline;
            std::thread::spawn(move || metadata::run(&root, offline))
        });
        let git_root = root.clone();
        let git = std::thread::spawn(move || git::file_status(&git_root, "Cargo.lock"));

        let members = read_members(&root, &root_manifest, member_dirs)?;
        let lock_path = root.join("Cargo.lock");
        let lockfile = if crate::guard::read::present(&lock_path) {
            Some(Lockfile::from_toml(TomlFile::read(
                &lock_path,
                "Cargo.lock".into(),
            )?)?)
        } else {
            None
        };
        let embedded = (!options.lockfile_only).then(|| {
            let members: Vec<(PathBuf, Vec<PathBuf>)> = members
                .iter()
                .map(|m| (m.dir.clone(), member_target_roots(m)))
                .collect();
            let (root, cargo_home) = (root.clone(), cargo_home.clone());
            std::thread::spawn(move || read_embedded_paths(&root, &cargo_home, &members))
        });
        let toolchain = find_toolchain(&root)?;
        let cargo_configs = find_cargo_configs(&root, &cargo_home)?;
        // Pre-commit mode runs only lockfile and patch hygiene, which read no entry point.
        let entry_points = if options.lockfile_only {
            Vec::new()
        } else {
            entry_points::discover(&root)?
        };
        let ledger = patches::load_ledger(&root)?;
        let patches = patches::path_patches(&root, &root_manifest, &members);
        let registry_index = load_registry_index(
            &root,
            &cargo_home,
            &cargo_configs,
            lockfile.as_ref(),
            &patches,
        );

        let member_dirs = release_builds::member_dirs(&root, &members);
        let (builds, triples) = release_builds::release_builds(&entry_points, &member_dirs);
        // The build scripts and proc-macros Cargo.lock names are parsed while cargo metadata
        // runs; their cfg is applied once the graph says which features are on.
        let early = (!options.lockfile_only).then(|| {
            let member_ids: Vec<_> = members
                .iter()
                .map(|m| (m.name.clone(), m.version.clone(), m.dir.clone()))
                .collect();
            let early_graph = match &lockfile {
                Some(lock) => Graph::from_lockfile(lock, &member_ids, &cargo_home),
                None => Graph::from_members(&member_ids),
            };
            EarlyReader::start(&root, &cargo_home, &early_graph, &triples)
        });
        let mut graph_problem = None;
        let mut graph_default_features_only = None;
        let mut lockfile_stale = None;
        let mut graph = None;
        let metadata =
            metadata.map(|handle| handle.join().expect("cargo metadata thread panicked"));
        let toolchain_fallback = metadata.as_ref().and_then(|m| m.toolchain_fallback.clone());
        match metadata.map(|m| m.result) {
            None => graph_problem = Some("pre-commit mode does not run cargo metadata".to_string()),
            Some(Ok(out)) => {
                graph_default_features_only = out.default_features_only;
                match Graph::from_metadata_json(&out.json, &builds, &triples) {
                    Ok(g) => graph = Some(g),
                    Err(e) => graph_problem = Some(format!("{e:#}")),
                }
            }
            Some(Err(MetadataError::CargoMissing(reason))) => {
                anyhow::bail!("cannot run cargo: {reason}; install Rust (rustup) or set $CARGO")
            }
            // `--locked` forbids writing the lockfile, so cargo refuses to create a missing one.
            Some(Err(MetadataError::Stale(_))) if lockfile.is_none() => {
                graph_problem = Some(
                    "there is no Cargo.lock, and cargo metadata --locked does not create one"
                        .to_string(),
                );
            }
            Some(Err(MetadataError::Stale(message))) => {
                graph_problem = Some("Cargo.lock needs to be updated".to_string());
                lockfile_stale = Some(message);
            }
            Some(Err(MetadataError::Failed(message))) => graph_problem = Some(message),
        }
        let member_ids: Vec<_> = members
            .iter()
            .map(|m| (m.name.clone(), m.version.clone(), m.dir.clone()))
            .collect();
        let graph = match (graph, &lockfile) {
            (Some(graph), _) => graph,
            (None, Some(lock)) => Graph::from_lockfile(lock, &member_ids, &cargo_home),
            // Pre-commit mode reads no build-time code.
            (None, None) if options.lockfile_only => Graph::default(),
            (None, None) => Graph::from_members(&member_ids),
        };
        let scrub = |text: String| scrub_paths(&text, &root, &cargo_home);
        let graph_problem = graph_problem.map(scrub);
        let lockfile_stale = lockfile_stale.map(scrub);
        let graph_default_features_only = graph_default_features_only.map(scrub);
        // Pre-commit mode runs only lockfile and patch hygiene, which read no source.
        let build_time_sources = match early {
            Some(early) => early.finish(&root, &cargo_home, &graph, &triples),
            None => Vec::new(),
        };
        let macro_calls = if options.lockfile_only {
            BTreeMap::new()
        } else {
            read_macro_calls(&root, &cargo_home, &graph, &triples)
        };
        let lockfile_git = git.join().expect("git thread panicked");
        let embedded_paths = embedded
            .map(|h| h.join().expect("member code reader panicked"))
            .unwrap_or_default();
        Ok(Workspace {
            root,
            cargo_home,
            root_manifest,
            members,
            lockfile,
            lockfile_git,
            toolchain,
            cargo_configs,
            entry_points,
            graph,
            graph_problem,
            graph_default_features_only,
            toolchain_fallback,
            lockfile_stale,
            build_time_sources,
            embedded_paths,
            release_selections: builds,
            macro_calls,
            ledger,
            patches,
            registry_index,
        })
    }

    /// The path shown to users for a file anywhere on disk.
    pub fn display(&self, path: &Path) -> String {
        display_path_with_home(&self.root, &self.cargo_home, path)
    }

    /// True when `path` lies inside the workspace root, symlinks resolved (a link inside the
    /// workspace to a directory elsewhere is outside).
    pub fn contains(&self, path: &Path) -> bool {
        normalize(path).starts_with(normalize(&self.root))
            && crate::guard::paths::inside(&self.root, &normalize(path))
    }

    /// All manifests of the workspace: the root one first, then each member's.
    pub fn manifests(&self) -> impl Iterator<Item = &TomlFile> {
        let root_is_member = self.members.iter().any(|m| m.dir == self.root);
        std::iter::once(&self.root_manifest)
            .filter(move |_| !root_is_member)
            .chain(self.members.iter().map(|m| &m.manifest))
    }

    /// The build-time sources of a package.
    pub fn sources_of(&self, package: usize) -> impl Iterator<Item = &BuildTimeSource> {
        self.build_time_sources
            .iter()
            .filter(move |s| s.package == package)
    }
}

/// The local index entries of the patched crates and of the packages that depend on them.
fn load_registry_index(
    root: &Path,
    cargo_home: &Path,
    cargo_configs: &[TomlFile],
    lockfile: Option<&Lockfile>,
    patches: &[PatchedCrate],
) -> crate::patch::index::LocalIndex {
    if patches.is_empty() {
        return crate::patch::index::LocalIndex::default();
    }
    let mut names: Vec<String> = patches.iter().map(|p| p.package.clone()).collect();
    if let Some(lockfile) = lockfile {
        for patch in patches {
            for locked in lockfile
                .packages
                .iter()
                .filter(|p| p.name == patch.package && p.source.is_none())
            {
                names.extend(
                    crate::patch::index::lock_dependents(lockfile, &locked.name, &locked.version)
                        .filter(|d| d.source.is_some())
                        .map(|d| d.name.clone()),
                );
            }
        }
    }
    crate::patch::index::LocalIndex::load(root, cargo_home, cargo_configs, &names)
}

/// Refuses to run cargo on inputs that would hang or exhaust it: the files `cargo metadata`
/// (and the rustup proxy) read from the workspace (the members' manifests, the manifests of
/// the path dependencies they name, `Cargo.lock`, the toolchain file and cargo's configuration
/// files) must be regular files within the size limit.
fn guard_cargo_inputs(
    root: &Path,
    cargo_home: &Path,
    member_dirs: &[PathBuf],
) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::iter::once(root.join("Cargo.toml"))
        .chain(member_dirs.iter().map(|d| d.join("Cargo.toml")))
        .collect();
    // Path dependencies (and `[patch]` paths): every `path = "…"` a manifest's text holds, a
    // superset (a `[lib] path` names a file, whose `Cargo.toml` is then simply absent). The
    // manifests are parsed for real later, while cargo runs; this pass only reads.
    let mut seen: std::collections::BTreeSet<PathBuf> = files.iter().cloned().collect();
    let mut queue = files.clone();
    while let Some(manifest) = queue.pop() {
        let Ok(bytes) = crate::guard::read::read_bytes(&manifest, crate::guard::read::LIMIT) else {
            continue;
        };
        let dir = manifest.parent().unwrap_or(root);
        for value in path_values(&String::from_utf8_lossy(&bytes)) {
            let dependency = normalize(&dir.join(value).join("Cargo.toml"));
            if seen.insert(dependency.clone()) {
                files.push(dependency.clone());
                queue.push(dependency);
            }
        }
    }
    files.push(root.join("Cargo.lock"));
    for dir in root.ancestors() {
        files.push(dir.join("rust-toolchain"));
        files.push(dir.join("rust-toolchain.toml"));
        files.push(dir.join(".cargo/config.toml"));
        files.push(dir.join(".cargo/config"));
    }
    files.push(cargo_home.join("config.toml"));
    files.push(cargo_home.join("config"));
    for path in files {
        match crate::guard::read::check_regular(&path, crate::guard::read::LIMIT) {
            Ok(()) | Err(crate::guard::read::ReadError::Absent) => {}
            Err(e) => anyhow::bail!(
                "cannot read {}: it {}; cargo would read it too (replace it with a regular file)",
                display_path_with_home(root, cargo_home, &path),
                e.reason()
            ),
        }
    }
    Ok(())
}

/// The root of the workspace that `manifest_path` (or the current directory) belongs to, as
/// [`Workspace::load`] finds it: for taking the workspace's lock before loading it.
pub fn locate_root(manifest_path: Option<&Path>) -> anyhow::Result<PathBuf> {
    find_root(&find_manifest(manifest_path)?)
}

/// The values of `path = "…"` (or `'…'`) keys in a manifest's text.
fn path_values(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("path") {
        let after = rest[at + 4..].trim_start_matches([' ', '\t']);
        rest = &rest[at + 4..];
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start_matches([' ', '\t']);
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = value[1..].find(quote) {
            out.push(&value[1..1 + end]);
        }
    }
    out
}

/// The manifest to start from: the given one, or `Cargo.toml` in the current directory or a parent.
fn find_manifest(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        if path.file_name().is_none_or(|n| n != "Cargo.toml") {
            anyhow::bail!(
                "{}: --manifest-path must point to a Cargo.toml file",
                path.display()
            );
        }
        if !crate::guard::read::present(path) {
            anyhow::bail!(
                "{}: manifest not found; pass the path of an existing Cargo.toml",
                path.display()
            );
        }
        return std::path::absolute(path)
            .map(|p| normalize(&p))
            .with_context(|| format!("cannot resolve {}", path.display()));
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|p| crate::guard::read::present(p))
        .ok_or_else(|| {
            anyhow::anyhow!("could not find Cargo.toml in the current directory or any parent; pass --manifest-path")
        })
}

/// The workspace root: the nearest directory, from the manifest up, whose Cargo.toml has `[workspace]`.
fn find_root(manifest: &Path) -> anyhow::Result<PathBuf> {
    let start = manifest.parent().expect("a manifest path has a parent");
    for dir in start.ancestors() {
        let candidate = dir.join("Cargo.toml");
        // A special or huge file here is read no further (the manifest given is reported when
        // it is read for real).
        let Ok(bytes) = crate::guard::read::read_bytes(&candidate, crate::guard::read::LIMIT)
        else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let has_workspace = match text.parse::<toml_edit::Document<String>>() {
            Ok(doc) => doc.contains_key("workspace"),
            // A malformed manifest is reported when it is read for real.
            Err(_) => dir == start,
        };
        if has_workspace {
            return Ok(dir.to_path_buf());
        }
    }
    Ok(start.to_path_buf())
}

/// The directories of the members' manifests, sorted: the root's when it is a package, and
/// those `[workspace] members` globs reach (something at `Cargo.toml`, even a special file:
/// reading it then says what is wrong) that `exclude` does not.
fn member_manifest_dirs(root: &Path, root_manifest: &TomlFile) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if root_manifest.root().contains_key("package") {
        dirs.push(root.to_path_buf());
    }
    let workspace = root_manifest.root().get("workspace");
    let patterns = |key: &str| -> Vec<String> {
        workspace
            .and_then(|w| w.get(key))
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let excluded: Vec<PathBuf> = patterns("exclude")
        .iter()
        .map(|p| normalize(&root.join(p)))
        .collect();
    for pattern in patterns("members") {
        for dir in expand_glob(root, &pattern) {
            let dir = normalize(&dir);
            if crate::guard::read::present(&dir.join("Cargo.toml"))
                && !excluded.iter().any(|e| dir.starts_with(e))
            {
                dirs.push(dir);
            }
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The members in `dirs`, their manifests read.
fn read_members(
    root: &Path,
    root_manifest: &TomlFile,
    dirs: Vec<PathBuf>,
) -> anyhow::Result<Vec<Member>> {
    dirs.into_iter()
        .map(|dir| {
            let display = display_path(root, &dir.join("Cargo.toml"));
            let manifest = if dir == root {
                TomlFile::parse(root_manifest.file.clone())?
            } else {
                TomlFile::read(&dir.join("Cargo.toml"), display)?
            };
            let package = manifest.root().get("package");
            let name = package
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            let version = package
                .and_then(|p| p.get("version"))
                .and_then(|v| v.as_str())
                .unwrap_or("0.0.0")
                .to_string();
            let version = if version == "0.0.0" {
                workspace_version(root_manifest).unwrap_or(version)
            } else {
                version
            };
            let has_bin = manifest.get(&["bin"]).is_some()
                || dir.join("src").join("main.rs").is_file()
                || dir.join("src").join("bin").is_dir();
            Ok(Member {
                name: name.to_string(),
                version,
                dir,
                manifest,
                has_bin,
            })
        })
        .collect()
}

fn workspace_version(root_manifest: &TomlFile) -> Option<String> {
    root_manifest
        .get(&["workspace", "package", "version"])?
        .as_str()
        .map(str::to_string)
}

/// Expands a members pattern whose segments may contain `*`.
fn expand_glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![root.to_path_buf()];
    for segment in pattern.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let mut next = Vec::new();
        for dir in current {
            if segment.contains('*') || segment.contains('?') {
                for entry in read_dir_sorted(&dir).unwrap_or_default() {
                    let name = entry
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default();
                    if entry.is_dir() && wildcard_match(segment, name) {
                        next.push(entry);
                    }
                }
            } else {
                next.push(dir.join(segment));
            }
        }
        current = next;
    }
    current
}

/// Matches `*` (any run) and `?` (one character).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `rust-toolchain.toml` or `rust-toolchain` in the root or a parent, as rustup finds it.
fn find_toolchain(root: &Path) -> anyhow::Result<Option<ToolchainFile>> {
    for dir in root.ancestors() {
        for name in ["rust-toolchain", "rust-toolchain.toml"] {
            let path = dir.join(name);
            if !crate::guard::read::present(&path) {
                continue;
            }
            let file = SourceFile::read(&path, display_path(root, &path))?;
            let trimmed = file.text.trim();
            let legacy_plain =
                name == "rust-toolchain" && !trimmed.contains('=') && !trimmed.contains('[');
            let toml = if legacy_plain {
                None
            } else {
                Some(TomlFile::parse(file.clone())?)
            };
            return Ok(Some(ToolchainFile { file, toml }));
        }
    }
    Ok(None)
}

/// Cargo configuration files, nearest first, as cargo merges them.
fn find_cargo_configs(root: &Path, cargo_home: &Path) -> anyhow::Result<Vec<TomlFile>> {
    let mut paths = Vec::new();
    for dir in root.ancestors() {
        for name in ["config.toml", "config"] {
            let path = dir.join(".cargo").join(name);
            if crate::guard::read::present(&path) {
                paths.push(path);
                break;
            }
        }
    }
    for name in ["config.toml", "config"] {
        let path = cargo_home.join(name);
        if crate::guard::read::present(&path) {
            if !paths.iter().any(|p| same_file(p, &path)) {
                paths.push(path);
            }
            break;
        }
    }
    paths
        .into_iter()
        .map(|path| TomlFile::read(&path, display_path_with_home(root, cargo_home, &path)))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// What the early reader needs from the graph: each package's features (by `name@version`,
/// `None` when unknown) for the packages the release builds.
struct Resolution {
    built: BTreeMap<String, Option<std::collections::BTreeSet<String>>>,
}

/// A worker of the early reader: its channel for the resolution, and its handle, which gives
/// each crate it finished (`name@version`, kind, code).
type EarlyWorker = (
    std::sync::mpsc::Sender<std::sync::Arc<Resolution>>,
    std::thread::JoinHandle<Vec<(String, BuildTimeKind, build_code::CrateCode)>>,
);

/// Parses build scripts and proc-macros in worker threads before the graph is known (see
/// `build_code::ParsedTree`), then finishes them for the graph.
struct EarlyReader {
    workers: Vec<EarlyWorker>,
    /// The (`name@version`, kind) pairs the workers read.
    started: std::collections::BTreeSet<(String, bool)>,
}

impl EarlyReader {
    fn start(root: &Path, cargo_home: &Path, graph: &Graph, triples: &[String]) -> EarlyReader {
        let mut jobs = Vec::new();
        for package in &graph.packages {
            let Some(dir) = &package.manifest_dir else {
                continue;
            };
            if let Some(script) = &package.build_script {
                jobs.push((
                    package.id(),
                    BuildTimeKind::BuildScript,
                    script.clone(),
                    dir.clone(),
                ));
            }
            if let Some(lib) = &package.proc_macro_lib {
                jobs.push((
                    package.id(),
                    BuildTimeKind::ProcMacro,
                    lib.clone(),
                    dir.clone(),
                ));
            }
        }
        let started = jobs
            .iter()
            .map(|(id, kind, _, _)| (id.clone(), *kind == BuildTimeKind::ProcMacro))
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 8);
        let chunk = jobs.len().div_ceil(threads).max(1);
        let mut workers = Vec::new();
        for chunk in jobs.chunks(chunk) {
            let chunk = chunk.to_vec();
            let (root, cargo_home) = (root.to_path_buf(), cargo_home.to_path_buf());
            let triples = triples.to_vec();
            let (sender, receiver) = std::sync::mpsc::channel::<std::sync::Arc<Resolution>>();
            let handle = std::thread::spawn(move || {
                let display = |p: &Path| display_path_with_home(&root, &cargo_home, p);
                // Each crate is finished at once for its default features, a guess: the graph
                // is not known yet. Once it is, a crate whose `cfg` asked about a feature the
                // graph sets otherwise is read again and finished for the graph's features.
                let proc_macro = |kind| kind == BuildTimeKind::ProcMacro;
                let guessed: Vec<_> = chunk
                    .into_iter()
                    .map(|(id, kind, main, dir)| {
                        let tree = build_code::parse_tree(&main, &dir, kind, &display);
                        let guess = build_code::default_features(&dir);
                        let cfg = build_code::CfgContext::for_triples(
                            Some(guess),
                            &triples,
                            proc_macro(kind),
                        );
                        let code = build_code::finish_tree(tree, &cfg);
                        (id, kind, main, dir, cfg, code)
                    })
                    .collect();
                let Ok(resolution) = receiver.recv() else {
                    return Vec::new();
                };
                guessed
                    .into_iter()
                    .filter_map(|(id, kind, main, dir, guess, code)| {
                        let features = resolution.built.get(&id)?;
                        if guess.answers_alike(features.as_ref()) {
                            return Some((id, kind, code));
                        }
                        let cfg = build_code::CfgContext::for_triples(
                            features.clone(),
                            &triples,
                            proc_macro(kind),
                        );
                        let tree = build_code::parse_tree(&main, &dir, kind, &display);
                        Some((id, kind, build_code::finish_tree(tree, &cfg)))
                    })
                    .collect()
            });
            workers.push((sender, handle));
        }
        EarlyReader { workers, started }
    }

    /// The build-time sources of the graph's release packages: what the workers parsed,
    /// finished for the graph, and the rest (packages Cargo.lock did not locate, such as git
    /// and outside path dependencies) read now.
    fn finish(
        self,
        root: &Path,
        cargo_home: &Path,
        graph: &Graph,
        triples: &[String],
    ) -> Vec<BuildTimeSource> {
        let built = graph
            .packages
            .iter()
            .filter(|p| !p.dev_only)
            .map(|p| (p.id(), graph.resolved.then(|| p.features.clone())))
            .collect();
        let resolution = std::sync::Arc::new(Resolution { built });
        let index: BTreeMap<String, usize> = graph
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id(), i))
            .collect();
        let mut out = Vec::new();
        let handles: Vec<_> = self
            .workers
            .into_iter()
            .map(|(sender, handle)| {
                // A worker that has stopped has nothing to give: its join says so below.
                let _ = sender.send(resolution.clone());
                handle
            })
            .collect();
        for handle in handles {
            for (id, kind, code) in handle.join().expect("source reader panicked") {
                if let Some(&package) = index.get(&id) {
                    out.push(BuildTimeSource {
                        package,
                        kind,
                        code,
                    });
                }
            }
        }
        let started = |package: &graph::Package, kind: BuildTimeKind| {
            self.started
                .contains(&(package.id(), kind == BuildTimeKind::ProcMacro))
        };
        out.extend(read_build_time_sources(
            root, cargo_home, graph, triples, &started,
        ));
        out.sort_by_key(|s| (s.package, s.kind == BuildTimeKind::ProcMacro));
        out
    }
}

/// Reads build scripts and proc-macro sources of every release package but those `skip`
/// names, in parallel.
fn read_build_time_sources(
    root: &Path,
    cargo_home: &Path,
    graph: &Graph,
    triples: &[String],
    skip: &dyn Fn(&graph::Package, BuildTimeKind) -> bool,
) -> Vec<BuildTimeSource> {
    let mut jobs = Vec::new();
    for (index, package) in graph.packages.iter().enumerate() {
        if package.dev_only {
            continue;
        }
        if let Some(script) = &package.build_script
            && !skip(package, BuildTimeKind::BuildScript)
        {
            jobs.push((index, BuildTimeKind::BuildScript, script.clone()));
        }
        if let Some(lib) = &package.proc_macro_lib
            && !skip(package, BuildTimeKind::ProcMacro)
        {
            jobs.push((index, BuildTimeKind::ProcMacro, lib.clone()));
        }
    }
    if jobs.is_empty() {
        return Vec::new();
    }
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let chunk = jobs.len().div_ceil(threads).max(1);
    let mut out: Vec<BuildTimeSource> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(package, kind, main)| BuildTimeSource {
                            package: *package,
                            kind: *kind,
                            code: read_build_code(
                                root,
                                cargo_home,
                                &graph.packages[*package],
                                graph.resolved,
                                triples,
                                main,
                                *kind,
                            ),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("source reader panicked"))
            .collect()
    });
    out.sort_by_key(|s| (s.package, s.kind == BuildTimeKind::ProcMacro));
    out
}

/// Where the dependents of the database's macro crates (const-random) call their macros, in the
/// code the release compiles; nothing when the graph's features are unknown.
fn read_macro_calls(
    root: &Path,
    cargo_home: &Path,
    graph: &Graph,
    triples: &[String],
) -> BTreeMap<String, Vec<(usize, Vec<crate::diag::Location>)>> {
    let mut out = BTreeMap::new();
    if !graph.resolved {
        return out;
    }
    let display = |p: &Path| display_path_with_home(root, cargo_home, p);
    for entry in &crate::known_crates::database().entries {
        if entry.macros.is_empty() {
            continue;
        }
        let is_macro_crate =
            |name: &str| name == entry.crate_name || entry.also.iter().any(|a| a == name);
        let mut dependents = std::collections::BTreeSet::new();
        for package in graph
            .packages
            .iter()
            .filter(|p| !p.dev_only && is_macro_crate(&p.name))
        {
            dependents.extend(package.dependents.iter().copied());
        }
        let mut calls = Vec::new();
        for index in dependents {
            let dependent = &graph.packages[index];
            if dependent.dev_only || is_macro_crate(&dependent.name) {
                continue;
            }
            let (Some(lib), Some(dir)) = (&dependent.lib, &dependent.manifest_dir) else {
                continue;
            };
            let cfg = build_code::CfgContext::for_triples(
                Some(dependent.features.clone()),
                triples,
                false,
            );
            let found = build_code::library_macro_calls(lib, dir, &cfg, &entry.macros, &display);
            calls.push((index, found));
        }
        out.insert(entry.id.clone(), calls);
    }
    out
}

/// The root files of a member's library and binaries: `src/lib.rs`, `src/main.rs`,
/// `src/bin/*.rs`, `src/bin/*/main.rs`, and the `path` of `[lib]` and `[[bin]]`.
fn member_target_roots(member: &Member) -> Vec<PathBuf> {
    let src = member.dir.join("src");
    let mut roots = vec![src.join("lib.rs"), src.join("main.rs")];
    for entry in read_dir_sorted(&src.join("bin")).unwrap_or_default() {
        if entry.extension().is_some_and(|e| e == "rs") {
            roots.push(entry);
        } else {
            roots.push(entry.join("main.rs"));
        }
    }
    let lib = member
        .manifest
        .get(&["lib", "path"])
        .and_then(|i| i.as_str());
    roots.extend(lib.map(|p| member.dir.join(p)));
    if let Some(bins) = member
        .manifest
        .get(&["bin"])
        .and_then(|i| i.as_array_of_tables())
    {
        for bin in bins {
            if let Some(path) = bin.get("path").and_then(|p| p.as_str()) {
                roots.push(member.dir.join(path));
            }
        }
    }
    roots.retain(|r| r.is_file());
    roots.dedup();
    roots
}

/// The build paths each member's code keeps, read with every feature's code kept (the graph
/// is not known yet: this runs while `cargo metadata` does).
fn read_embedded_paths(
    root: &Path,
    cargo_home: &Path,
    members: &[(PathBuf, Vec<PathBuf>)],
) -> Vec<(usize, build_code::Fact)> {
    let cfg = build_code::CfgContext::host(None, false);
    let display = |p: &Path| display_path_with_home(root, cargo_home, p);
    let mut out = Vec::new();
    for (index, (dir, roots)) in members.iter().enumerate() {
        for fact in build_code::member_embedded_paths(roots, dir, &cfg, &display) {
            out.push((index, fact));
        }
    }
    out
}

/// The module tree of a build script or proc-macro, with `cfg` evaluated for the package's
/// features (unknown when the graph is not resolved) on the platforms the release builds for.
fn read_build_code(
    root: &Path,
    cargo_home: &Path,
    package: &graph::Package,
    resolved: bool,
    triples: &[String],
    main: &Path,
    kind: BuildTimeKind,
) -> build_code::CrateCode {
    let cfg = build_code::CfgContext::for_triples(
        resolved.then(|| package.features.clone()),
        triples,
        kind == BuildTimeKind::ProcMacro,
    );
    let package_dir = package
        .manifest_dir
        .clone()
        .or_else(|| main.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let display = |p: &Path| display_path_with_home(root, cargo_home, p);
    build_code::read_and_analyse(main, &package_dir, &cfg, kind, &display)
}

/// Replaces machine-specific absolute paths in a message (from cargo) with placeholders.
pub fn scrub_paths(text: &str, root: &Path, cargo_home: &Path) -> String {
    let mut text = text.to_string();
    let mut replacements = vec![
        (root.display().to_string(), "$WORKSPACE"),
        (cargo_home.display().to_string(), "$CARGO_HOME"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        replacements.push((PathBuf::from(home).display().to_string(), "~"));
    }
    for (from, to) in replacements {
        if from.len() > 1 {
            text = text.replace(&from, to);
        }
    }
    text
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".cargo")
}

/// Directory entries sorted by path (never in filesystem order).
pub fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

/// [`read_dir_sorted`] with a one-line error naming the directory relative to `root`.
pub fn read_dir_in(root: &Path, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    read_dir_sorted(dir).map_err(|e| {
        let shown = display_path(root, dir);
        let shown = if shown.is_empty() {
            ".".to_string()
        } else {
            shown
        };
        anyhow::anyhow!(
            "cannot read directory {shown}: {}",
            source_file::io_reason(&e)
        )
    })
}

/// `path` relative to `root`, with forward slashes (`..` segments when it is outside).
pub fn display_path(root: &Path, path: &Path) -> String {
    let (root, path) = (normalize(root), normalize(path));
    let root_parts: Vec<_> = root.components().collect();
    let path_parts: Vec<_> = path.components().collect();
    let common = root_parts
        .iter()
        .zip(&path_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); root_parts.len() - common];
    parts.extend(
        path_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Like [`display_path`], but files under `$CARGO_HOME` show as `$CARGO_HOME/…`.
pub fn display_path_with_home(root: &Path, cargo_home: &Path, path: &Path) -> String {
    let normalized = normalize(path);
    let home = normalize(cargo_home);
    if !normalized.starts_with(normalize(root)) && normalized.starts_with(&home) {
        let rest = display_path(&home, &normalized);
        return format!("$CARGO_HOME/{rest}");
    }
    display_path(root, path)
}

/// Removes `.` and resolves `..` lexically (no symlinks are followed).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_relative() {
        let root = Path::new("/w/ws");
        assert_eq!(
            display_path(root, Path::new("/w/ws/a/Cargo.toml")),
            "a/Cargo.toml"
        );
        assert_eq!(display_path(root, Path::new("/w/other/x")), "../other/x");
        let home = Path::new("/h/.cargo");
        assert_eq!(
            display_path_with_home(
                root,
                home,
                Path::new("/h/.cargo/registry/src/i/foo-1.0.0/build.rs")
            ),
            "$CARGO_HOME/registry/src/i/foo-1.0.0/build.rs"
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("crates/*", "crates/a"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a*d", "abc"));
    }
}

/// Where a release-profile setting comes from.
#[derive(Debug)]
pub struct ProfileSetting<'a> {
    pub file: &'a TomlFile,
    pub table: &'a toml_edit::Table,
    pub item: &'a toml_edit::Item,
}

impl Workspace {
    /// The setting `key` of `[profile.release]` that cargo uses: a cargo config (nearest first)
    /// overrides the root manifest.
    pub fn release_profile_setting(&self, key: &str) -> Option<ProfileSetting<'_>> {
        self.cargo_configs
            .iter()
            .chain(std::iter::once(&self.root_manifest))
            .find_map(|file| {
                let table = file.get(&["profile", "release"])?.as_table()?;
                let item = table.get(key)?;
                Some(ProfileSetting { file, table, item })
            })
    }

    /// The `[profile.release]` table of the root manifest, if any.
    pub fn manifest_release_profile(&self) -> Option<&toml_edit::Table> {
        self.root_manifest.get(&["profile", "release"])?.as_table()
    }
}
