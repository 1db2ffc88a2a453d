//! Discovery by reference and roles: the entry points in the usual places, then every file
//! they run (Dockerfiles built, scripts called, just/make targets, reusable workflows) wherever
//! it lives in the workspace; then each job is given a role, release or development, with the
//! reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::cargo::{cargo_call, is_build};
use super::{EntryKind, EntryPoint, EnvVar, Job, Role, Target, Word};
use crate::workspace::source_file::SourceFile;
use crate::workspace::{display_path, read_dir_in};

/// Entry point files larger than this are not read (none real comes close).
const MAX_ENTRY_POINT_BYTES: u64 = 1 << 20;
/// At most this many files are followed by reference.
const MAX_FOLLOWED: usize = 256;
/// Folders whose `*.sh` scripts are entry points (with those at the root), referenced or not:
/// a maintainer's packaging script is often run by hand.
const SCRIPT_DIRS: &[&str] = &["scripts", "ci", "devtools", "tools", "packaging"];

/// The kind of a file in the usual places, by its name.
fn kind_by_name(name: &str) -> Option<EntryKind> {
    if name.starts_with("Dockerfile")
        || name.starts_with("Containerfile")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
    {
        Some(EntryKind::Dockerfile)
    } else if matches!(name, "justfile" | "Justfile" | ".justfile") {
        Some(EntryKind::Justfile)
    } else if matches!(name, "Makefile" | "makefile" | "GNUmakefile") {
        Some(EntryKind::Makefile)
    } else {
        None
    }
}

/// Finds and parses the entry points of the workspace at `root`, sorted by path, with roles.
pub fn discover(root: &Path) -> anyhow::Result<Vec<EntryPoint>> {
    let mut found: BTreeMap<String, EntryKind> = BTreeMap::new();
    for entry in read_dir_in(root, root)? {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let kind =
            kind_by_name(name).or_else(|| name.ends_with(".sh").then_some(EntryKind::Script));
        if let Some(kind) = kind
            && entry.is_file()
        {
            found.insert(display_path(root, &entry), kind);
        }
    }
    let mut places = vec![(root.join(".github").join("workflows"), EntryKind::Workflow)];
    places.extend(
        SCRIPT_DIRS
            .iter()
            .map(|dir| (root.join(dir), EntryKind::Script)),
    );
    for (dir, kind) in places {
        if !dir.is_dir() {
            continue;
        }
        for entry in read_dir_in(root, &dir)? {
            let extension = entry.extension().and_then(|e| e.to_str()).unwrap_or("");
            let wanted = match kind {
                EntryKind::Workflow => matches!(extension, "yml" | "yaml"),
                _ => extension == "sh",
            };
            if wanted && entry.is_file() {
                found.insert(display_path(root, &entry), kind);
            }
        }
    }
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut entries: BTreeMap<String, EntryPoint> = BTreeMap::new();
    for (path, kind) in &found {
        // In the usual places, a file that cannot be read is an error naming it; one that
        // leads outside the workspace, or is not a regular file, or is huge, is left out.
        if let Some(real) = confined(&canonical_root, &root.join(path)) {
            let file = SourceFile::read(&real, path.clone())?;
            entries.insert(path.clone(), EntryPoint::parse(*kind, file));
        }
    }
    follow_references(root, &canonical_root, &mut entries);
    inherit_environment(&mut entries);
    follow_references(root, &canonical_root, &mut entries);
    assign_roles(&mut entries);
    Ok(entries.into_values().collect())
}

/// Parses again, with what their callers set, the scripts that jobs run (`TARGET=x
/// ./ci/build.sh`, a workflow step's `env:`): their words then take the values the callers
/// give (see [`Job::inherited`]).
fn inherit_environment(entries: &mut BTreeMap<String, EntryPoint>) {
    let mut callers: BTreeMap<String, Vec<&[EnvVar]>> = BTreeMap::new();
    for entry in entries.values() {
        for job in &entry.jobs {
            for reference in &job.references {
                if let Target::Script(path) = &reference.target {
                    callers
                        .entry(path.clone())
                        .or_default()
                        .push(&reference.env);
                }
            }
        }
    }
    let mut reparsed: Vec<(String, EntryPoint)> = Vec::new();
    for (path, envs) in callers {
        let Some(entry) = entries.get(&path) else {
            continue;
        };
        if entry.kind != EntryKind::Script {
            continue;
        }
        let inherited = merge_environments(&envs);
        if !inherited.is_empty() {
            reparsed.push((
                path,
                EntryPoint::parse_script(entry.file.clone(), &inherited),
            ));
        }
    }
    entries.extend(reparsed);
}

/// The variables some caller sets, each with every value the callers give it (empty for
/// those that do not set it); unknown when one of them is.
fn merge_environments(envs: &[&[EnvVar]]) -> Vec<EnvVar> {
    let mut names: Vec<&str> = Vec::new();
    for env in envs {
        for var in env.iter() {
            if !names.contains(&var.name.as_str()) {
                names.push(&var.name);
            }
        }
    }
    let mut out = Vec::new();
    for name in names {
        let mut all: Option<Vec<String>> = Some(Vec::new());
        let mut first: Option<&EnvVar> = None;
        for env in envs {
            let var = env.iter().rev().find(|v| v.name == name);
            first = first.or(var);
            let values: Option<Vec<String>> = match var {
                Some(var) => var
                    .value
                    .possible()
                    .map(|p| p.into_iter().map(str::to_string).collect()),
                None => Some(vec![String::new()]),
            };
            all = match (all, values) {
                (Some(mut all), Some(values)) => {
                    all.extend(values);
                    Some(all)
                }
                _ => None,
            };
        }
        let first = first.expect("some caller sets it");
        let mut value = Word::new(first.value.text.clone(), 0..0);
        value.dynamic = true;
        value.set_values(all);
        out.push(EnvVar {
            name: name.to_string(),
            name_span: 0..0,
            value,
        });
    }
    out
}

/// Reads the files that entry points refer to, until none is new.
fn follow_references(
    root: &Path,
    canonical_root: &Path,
    entries: &mut BTreeMap<String, EntryPoint>,
) {
    let mut tried: BTreeSet<String> = entries.keys().cloned().collect();
    for _ in 0..MAX_FOLLOWED {
        let mut wanted: Vec<(String, EntryKind)> = Vec::new();
        for entry in entries.values() {
            for job in &entry.jobs {
                for reference in &job.references {
                    if let Some((path, kind)) = target_file(&reference.target)
                        && !tried.contains(&path)
                    {
                        wanted.push((path, kind));
                    }
                }
            }
        }
        wanted.sort();
        wanted.dedup_by(|a, b| a.0 == b.0);
        if wanted.is_empty() {
            return;
        }
        for (path, kind) in wanted {
            tried.insert(path.clone());
            if tried.len() > MAX_FOLLOWED {
                return;
            }
            if let Some(file) = read_confined(root, canonical_root, &path) {
                entries.insert(path, EntryPoint::parse(kind, file));
            }
        }
    }
}

/// A file of the workspace, read only when it resolves (symlinks followed) inside the root,
/// is a regular file and is not too large.
fn read_confined(root: &Path, canonical_root: &Path, path: &str) -> Option<SourceFile> {
    let real = confined(canonical_root, &root.join(path))?;
    SourceFile::read(&real, path.to_string()).ok()
}

/// The real path of `path` when it resolves (symlinks followed) inside the root to a regular
/// file of at most [`MAX_ENTRY_POINT_BYTES`].
fn confined(canonical_root: &Path, path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    let metadata = std::fs::metadata(&real).ok()?;
    let fits = metadata.is_file() && metadata.len() <= MAX_ENTRY_POINT_BYTES;
    (real.starts_with(canonical_root) && fits).then_some(real)
}

/// The file a reference needs read, and as what.
fn target_file(target: &Target) -> Option<(String, EntryKind)> {
    match target {
        Target::Dockerfile(path) => Some((path.clone(), EntryKind::Dockerfile)),
        Target::Script(path) => Some((path.clone(), EntryKind::Script)),
        Target::Recipe { kind, file, .. } => Some((file.clone(), *kind)),
        Target::Workflow(path) => Some((path.clone(), EntryKind::Workflow)),
    }
}

/// Recipe and script names that say they make a release (used when no release workflow is
/// found).
fn release_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "release", "dist", "package", "publish", "deploy", "deb", "rpm", "bundle", "artifact",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// The first recipe of a justfile or Makefile (what `just`/`make` alone runs).
fn default_recipe(entry: &EntryPoint) -> Option<&str> {
    entry.jobs.first().map(|j| j.name.as_str())
}

/// True for a workflow triggered by tags or releases.
fn runs_on_tags(entry: &EntryPoint) -> bool {
    entry
        .triggers
        .iter()
        .any(|t| t == "push: tags" || t == "release")
}

/// True for a job whose cargo commands all test, lint or document.
fn only_tests(job: &Job) -> bool {
    let calls: Vec<_> = job.commands.iter().filter_map(cargo_call).collect();
    !calls.is_empty()
        && calls.iter().all(|call| {
            matches!(
                call.subcommand,
                "test"
                    | "t"
                    | "clippy"
                    | "fmt"
                    | "check"
                    | "c"
                    | "doc"
                    | "bench"
                    | "nextest"
                    | "llvm-cov"
                    | "fuzz"
                    | "miri"
                    | "deny"
                    | "audit"
                    | "hack"
                    | "semver-checks"
            )
        })
}

/// The pages action of a job that deploys documentation and publishes no release: such a
/// job builds a website or a book, whatever triggers it.
fn documentation_only(job: &Job) -> Option<&str> {
    let releases = job
        .publishes
        .as_deref()
        .is_some_and(|p| !p.starts_with("uploads") && !p.starts_with("exports"));
    job.deploys_pages.as_deref().filter(|_| !releases)
}

/// The role of a workflow job from its own steps: publishing, or building on tags.
fn workflow_role(entry: &EntryPoint, job: &Job) -> Option<Role> {
    if documentation_only(job).is_some() {
        return None;
    }
    let tagged = runs_on_tags(entry);
    let trigger_text = if entry.triggers.iter().any(|t| t == "push: tags") {
        "workflow runs on tags"
    } else {
        "workflow runs on releases"
    };
    let builds = job.commands.iter().any(is_build) || !job.references.is_empty();
    let manual_or_called = !entry.triggers.is_empty()
        && entry
            .triggers
            .iter()
            .all(|t| t == "workflow_dispatch" || t == "workflow_call");
    match job.publishes.as_deref() {
        Some(p) if !p.starts_with("uploads") && !p.starts_with("exports") => {
            Some(Role::release(format!("job `{}` {p}", job.name)))
        }
        Some(p) if tagged => Some(Role::release(format!(
            "job `{}` {p}, {trigger_text}",
            job.name
        ))),
        // A workflow that only runs by hand, or when another calls it, and keeps what it
        // builds is a release workflow.
        Some(p) if manual_or_called => Some(Role::release(format!(
            "job `{}` {p}, workflow runs only by hand or when called ({})",
            job.name,
            entry.triggers.join(", ")
        ))),
        _ if tagged && builds => Some(Role::release(format!(
            "job `{}` builds, {trigger_text}",
            job.name
        ))),
        _ => None,
    }
}

/// Marks release everything release jobs run (transitively), and the jobs or recipes they
/// need that build.
fn propagate(entries: &BTreeMap<String, EntryPoint>, roles: &mut BTreeMap<(String, usize), Role>) {
    let mut queue: Vec<(String, usize)> = roles.keys().cloned().collect();
    while let Some((path, index)) = queue.pop() {
        let entry = &entries[&path];
        let job = &entry.jobs[index];
        let label = entry.job_label(job);
        let mut next: Vec<((String, usize), Role)> = Vec::new();
        for reference in &job.references {
            let (verb, target_path) = match &reference.target {
                Target::Dockerfile(p) => ("built", p),
                Target::Script(p) => ("run", p),
                Target::Recipe { file, .. } => ("run", file),
                Target::Workflow(p) => ("called", p),
            };
            let Some(target) = entries.get(target_path) else {
                continue;
            };
            let indices: Vec<usize> = match &reference.target {
                Target::Recipe { name, .. } => {
                    let name = if name.is_empty() {
                        default_recipe(target).unwrap_or("").to_string()
                    } else {
                        name.clone()
                    };
                    // Every recipe of the name: a justfile has one per platform when they
                    // carry `[linux]`, `[macos]`, `[windows]` attributes.
                    (0..target.jobs.len())
                        .filter(|&i| target.jobs[i].name == name)
                        .collect()
                }
                _ => (0..target.jobs.len()).collect(),
            };
            for i in indices {
                next.push((
                    (target_path.clone(), i),
                    Role::release(format!("{verb} by {label}, a release job")),
                ));
            }
        }
        for need in &job.needs {
            for i in (0..entry.jobs.len()).filter(|&i| &entry.jobs[i].name == need) {
                let needed = &entry.jobs[i];
                // A needed workflow job counts when it builds or keeps artifacts, or, in a
                // workflow that runs on tags, unless it only tests (its build may be an
                // action's); one that deploys documentation pages never does.
                let builds = entry.kind != EntryKind::Workflow
                    || documentation_only(needed).is_none()
                        && (needed.commands.iter().any(is_build)
                            || !needed.references.is_empty()
                            || needed.publishes.is_some()
                            || (runs_on_tags(entry) && !only_tests(needed)));
                if builds {
                    next.push((
                        (path.clone(), i),
                        Role::release(format!("needed by {label}, a release job")),
                    ));
                }
            }
        }
        for (key, role) in next {
            if !roles.contains_key(&key) {
                roles.insert(key.clone(), role);
                queue.push(key);
            }
        }
    }
}

/// Gives every job its role.
fn assign_roles(entries: &mut BTreeMap<String, EntryPoint>) {
    // Workflow jobs that publish, or build on tags, are release jobs; everything they run
    // is release too. Recipes and scripts named for releases come second, so a reason that
    // names the job running them wins over the name.
    let mut roles: BTreeMap<(String, usize), Role> = BTreeMap::new();
    for (path, entry) in entries.iter() {
        for (index, job) in entry.jobs.iter().enumerate() {
            if entry.kind == EntryKind::Workflow
                && let Some(role) = workflow_role(entry, job)
            {
                roles.insert((path.clone(), index), role);
            }
        }
    }
    propagate(entries, &mut roles);
    // When the release workflows are known, what they do not run is not the release: names
    // and unbuilt Dockerfiles only decide for a project whose release is made elsewhere.
    let release_workflows = roles
        .keys()
        .any(|(path, _)| entries[path].kind == EntryKind::Workflow);
    // Without them, recipes and scripts that publish (`gh release create`, `docker push`)
    // are the release, with what they run; in a justfile or Makefile that has one, the
    // recipes it does not reach are not the release, whatever their names.
    let mut publishing_files: BTreeSet<String> = BTreeSet::new();
    if !release_workflows {
        for (path, entry) in entries.iter() {
            if entry.kind == EntryKind::Workflow {
                continue;
            }
            for (index, job) in entry.jobs.iter().enumerate() {
                if let Some(publishes) = &job.publishes {
                    let label = entry.job_label(job);
                    roles
                        .entry((path.clone(), index))
                        .or_insert_with(|| Role::release(format!("{label} {publishes}")));
                    publishing_files.insert(path.clone());
                }
            }
        }
        propagate(entries, &mut roles);
    }
    for (path, entry) in entries.iter() {
        if release_workflows {
            break;
        }
        for (index, job) in entry.jobs.iter().enumerate() {
            let role = match entry.kind {
                EntryKind::Justfile | EntryKind::Makefile
                    if release_name(&job.name) && !publishing_files.contains(path) =>
                {
                    Some(Role::release(format!(
                        "recipe `{}` is named for releases",
                        job.name
                    )))
                }
                EntryKind::Script if release_name(path) => {
                    Some(Role::release(format!("{path} is named for releases")))
                }
                _ => None,
            };
            if let Some(role) = role {
                roles.entry((path.clone(), index)).or_insert(role);
            }
        }
    }
    propagate(entries, &mut roles);
    // What runs each file (and each recipe, as `file` and its name), for the reasons.
    let mut referenced: BTreeMap<(String, String), String> = BTreeMap::new();
    for entry in entries.values() {
        for job in &entry.jobs {
            for reference in &job.references {
                if let Some((target, _)) = target_file(&reference.target) {
                    let recipe = match &reference.target {
                        Target::Recipe { name, .. } => name.clone(),
                        _ => String::new(),
                    };
                    let label = entry.job_label(job);
                    referenced
                        .entry((target.clone(), String::new()))
                        .or_insert_with(|| label.clone());
                    if !recipe.is_empty() {
                        referenced.entry((target, recipe)).or_insert(label);
                    }
                }
            }
        }
    }
    // What is left is development, except Dockerfiles that nothing builds in a project whose
    // release is made elsewhere.
    for (path, entry) in entries.iter_mut() {
        let labels: Vec<String> = entry.jobs.iter().map(|j| entry.job_label(j)).collect();
        let triggers = entry.triggers.join(", ");
        let kind = entry.kind;
        for (index, job) in entry.jobs.iter_mut().enumerate() {
            job.role = match roles.remove(&(path.clone(), index)) {
                Some(role) => role,
                None => match kind {
                    EntryKind::Dockerfile
                        if !referenced.contains_key(&(path.clone(), String::new()))
                            && !release_workflows
                            && job.commands.iter().any(is_build) =>
                    {
                        Role::release(
                            "no workflow builds this Dockerfile and none makes a release: it is taken for a release image",
                        )
                    }
                    EntryKind::Dockerfile
                        if !referenced.contains_key(&(path.clone(), String::new()))
                            && !release_workflows =>
                    {
                        Role::development(
                            "no workflow builds this Dockerfile and it builds nothing of the workspace (no `cargo build`): a tool or test image, not a release",
                        )
                    }
                    EntryKind::Workflow if let Some(action) = documentation_only(job) => {
                        Role::development(format!(
                            "job `{}` deploys documentation pages ({action}): it makes no release",
                            job.name
                        ))
                    }
                    EntryKind::Workflow => Role::development(format!(
                        "job `{}` publishes nothing{}",
                        job.name,
                        if triggers.is_empty() {
                            String::new()
                        } else {
                            format!(" and the workflow runs on {triggers}")
                        }
                    )),
                    _ => match referenced.get(&(path.clone(), job.name.clone())) {
                        Some(by) => Role::development(format!(
                            "{} is run only by development jobs ({by})",
                            labels[index]
                        )),
                        None if release_workflows => Role::development(format!(
                            "{} is not run by the release workflows",
                            labels[index]
                        )),
                        None if publishing_files.contains(path) => Role::development(format!(
                            "{} is not run by the recipes that publish",
                            labels[index]
                        )),
                        None => Role::development(format!(
                            "{} is not run by any release entry point",
                            labels[index]
                        )),
                    },
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> Vec<EntryPoint> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cargo-repro-roles-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        let found = discover(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        found
    }

    fn role_of<'a>(entries: &'a [EntryPoint], path: &str, job: &str) -> &'a Role {
        let entry = entries
            .iter()
            .find(|e| e.file.display_path == path)
            .unwrap_or_else(|| panic!("{path} not discovered"));
        &entry.jobs.iter().find(|j| j.name == job).unwrap().role
    }

    #[test]
    fn release_reaches_what_it_runs() {
        let entries = workspace(&[
            (
                ".github/workflows/release.yml",
                "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n\
                 \x20     - run: docker build -f docker/release.Dockerfile .\n\
                 \x20     - run: ./ci/package.sh && just dist\n\
                 \x20 test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n\
                 \x20 action-build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: org/build-binary@v1\n\
                 \x20 publish:\n    needs: [action-build, test]\n    runs-on: ubuntu-latest\n    steps:\n      - uses: softprops/action-gh-release@v2\n",
            ),
            (
                ".github/workflows/ci.yml",
                "on: [pull_request]\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: just lint\n",
            ),
            (
                "docker/release.Dockerfile",
                "FROM rust:1.95.0\nRUN cargo build --release\n",
            ),
            ("ci/package.sh", "tar czf a.tgz b\n"),
            (
                "justfile",
                "lint:\n    cargo clippy\n\ndist: build\n    tar czf x y\n\nbuild:\n    cargo build --release\n",
            ),
        ]);
        let paths: Vec<_> = entries
            .iter()
            .map(|e| e.file.display_path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                ".github/workflows/ci.yml",
                ".github/workflows/release.yml",
                "ci/package.sh",
                "docker/release.Dockerfile",
                "justfile"
            ]
        );
        let release = role_of(&entries, ".github/workflows/release.yml", "build");
        assert!(release.is_release());
        assert_eq!(release.reason, "job `build` builds, workflow runs on tags");
        assert!(!role_of(&entries, ".github/workflows/release.yml", "test").is_release());
        let built_by_action = role_of(&entries, ".github/workflows/release.yml", "action-build");
        assert!(
            built_by_action.reason.contains("needed by job `publish`"),
            "{built_by_action:?}"
        );
        let docker = role_of(&entries, "docker/release.Dockerfile", "");
        assert!(docker.is_release(), "{docker:?}");
        assert!(
            docker.reason.contains("built by job `build`"),
            "{}",
            docker.reason
        );
        assert!(role_of(&entries, "ci/package.sh", "").is_release());
        assert!(role_of(&entries, "justfile", "dist").is_release());
        assert!(
            role_of(&entries, "justfile", "build").is_release(),
            "a dependency of dist"
        );
        let lint = role_of(&entries, "justfile", "lint");
        assert!(!lint.is_release());
        assert!(
            role_of(&entries, ".github/workflows/ci.yml", "lint")
                .reason
                .contains("pull_request")
        );
    }

    #[test]
    fn names_and_unbuilt_dockerfiles_decide_only_without_release_workflows() {
        let files = [
            ("justfile", "build-release:\n    cargo build --release\n"),
            (
                "Dockerfile",
                "FROM rust:1.95.0\nRUN cargo build --release\n",
            ),
        ];
        let alone = workspace(&files);
        assert!(role_of(&alone, "justfile", "build-release").is_release());
        assert!(role_of(&alone, "Dockerfile", "").is_release());
        let release = (
            ".github/workflows/release.yml",
            "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n\
             \x20     - run: cargo build --release --locked\n",
        );
        let with_workflow = workspace(&[files[0], files[1], release]);
        let recipe = role_of(&with_workflow, "justfile", "build-release");
        assert!(!recipe.is_release());
        assert!(
            recipe.reason.contains("not run by the release workflows"),
            "{recipe:?}"
        );
        assert!(!role_of(&with_workflow, "Dockerfile", "").is_release());
    }

    #[test]
    fn a_job_that_deploys_pages_is_documentation() {
        let entries = workspace(&[(
            ".github/workflows/release.yml",
            "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n\
             \x20     - run: cargo build --release --locked\n\
             \x20     - uses: softprops/action-gh-release@v2\n\
             \x20 book:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo run -p generate-book\n\
             \x20     - uses: peaceiris/actions-gh-pages@v4\n\
             \x20 notes:\n    needs: [book]\n    runs-on: ubuntu-latest\n    steps:\n      - uses: softprops/action-gh-release@v2\n",
        )]);
        assert!(role_of(&entries, ".github/workflows/release.yml", "build").is_release());
        let book = role_of(&entries, ".github/workflows/release.yml", "book");
        assert!(!book.is_release(), "{book:?}");
        assert!(
            book.reason
                .contains("deploys documentation pages (peaceiris/actions-gh-pages)"),
            "{book:?}"
        );
    }

    #[test]
    fn an_unbuilt_dockerfile_that_builds_nothing_is_not_a_release_image() {
        let entries = workspace(&[
            (
                "Dockerfile",
                "FROM centos:7\nRUN curl https://sh.rustup.rs -sSf | sh -s -- -y && cargo install cargo-audit\n",
            ),
            (
                "app.Dockerfile",
                "FROM rust:1.95.0\nRUN cargo install --path . --locked\n",
            ),
        ]);
        let tools = role_of(&entries, "Dockerfile", "");
        assert!(!tools.is_release(), "{tools:?}");
        assert!(tools.reason.contains("builds nothing of the workspace"));
        assert!(role_of(&entries, "app.Dockerfile", "").is_release());
    }

    #[test]
    fn recipes_for_each_platform_and_publishing_recipes() {
        let justfile = "[linux]\npackage: build\n    tar czf a.tgz b\n\n[windows]\npackage: build\n    7z a a.zip b\n\n\
                        build:\n    cargo build --release --locked\n\n\
                        build-release:\n    cargo build --release\n\n\
                        gh-release:\n    just package\n    gh release create v1 a.tgz\n";
        let entries = workspace(&[("justfile", justfile)]);
        let packages: Vec<&Role> = entries[0]
            .jobs
            .iter()
            .filter(|j| j.name == "package")
            .map(|j| &j.role)
            .collect();
        assert_eq!(packages.len(), 2);
        assert!(packages.iter().all(|r| r.is_release()), "{packages:?}");
        let publish = role_of(&entries, "justfile", "gh-release");
        assert_eq!(
            publish.reason,
            "recipe `gh-release` of justfile runs `gh release`"
        );
        assert!(role_of(&entries, "justfile", "build").is_release());
        let named = role_of(&entries, "justfile", "build-release");
        assert!(!named.is_release(), "{named:?}");
        assert!(named.reason.contains("not run by the recipes that publish"));
    }

    #[test]
    fn scripts_expand_with_what_their_callers_set() {
        let entries = workspace(&[
            (
                ".github/workflows/release.yml",
                "on:\n  push:\n    tags: ['v*']\njobs:\n  build:\n    runs-on: ubuntu-latest\n\
                 \x20   strategy:\n      matrix:\n        flags: ['', '-C linker=cc']\n    steps:\n\
                 \x20     - run: ./bin/package\n        env:\n          EXTRA: ${{ matrix.flags }}\n          CARGO: cross\n",
            ),
            (
                "bin/package",
                "RUSTFLAGS=\"-D warnings $EXTRA\" $CARGO build --release\n",
            ),
        ]);
        let script = entries
            .iter()
            .find(|e| e.file.display_path == "bin/package")
            .unwrap();
        let job = &script.jobs[0];
        assert!(job.role.is_release());
        let build = &job.commands[0];
        assert_eq!(build.program().text, "cross");
        let flags = build.env_value("RUSTFLAGS").unwrap();
        assert_eq!(
            flags.value.values,
            ["-D warnings ", "-D warnings -C linker=cc"]
        );
        assert!(job.env_value(build, "CARGO").is_some(), "inherited");
    }

    #[test]
    fn a_workflow_symlinked_outside_the_workspace_is_not_read() {
        let dir =
            std::env::temp_dir().join(format!("cargo-repro-roles-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("ws");
        std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
        std::fs::write(dir.join("outside.yml"), "on: push\njobs: {}\n").unwrap();
        std::os::unix::fs::symlink(
            dir.join("outside.yml"),
            root.join(".github/workflows/ci.yml"),
        )
        .unwrap();
        std::fs::write(
            root.join(".github/workflows/release.yml"),
            "on: push\njobs: {}\n",
        )
        .unwrap();
        let found = discover(&root).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let paths: Vec<_> = found.iter().map(|e| e.file.display_path.as_str()).collect();
        assert_eq!(paths, [".github/workflows/release.yml"]);
    }

    #[test]
    fn references_outside_the_workspace_are_not_followed() {
        let entries = workspace(&[(
            "scripts/release.sh",
            "../../outside.sh\ndocker build -f /etc/Dockerfile .\n",
        )]);
        assert_eq!(entries.len(), 1);
    }
}
