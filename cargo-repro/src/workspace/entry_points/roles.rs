//! Discovery by reference and roles: the entry points in the usual places, then every file
//! they run (Dockerfiles built, scripts called, just/make targets, reusable workflows) wherever
//! it lives in the workspace; then each job is given a role, release or development, with the
//! reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::cargo::{cargo_call, is_build};
use super::workflow::join;
use super::{Command, EntryKind, EntryPoint, ImageKind, ImageUse, Job, Reference, Role, Target};
use crate::workspace::source_file::SourceFile;
use crate::workspace::{display_path, read_dir_in};

/// Entry point files larger than this are not read (none real comes close).
const MAX_ENTRY_POINT_BYTES: u64 = 1 << 20;
/// At most this many files are followed by reference.
const MAX_FOLLOWED: usize = 256;

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
        if let Some(kind) = entry
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(kind_by_name)
            && entry.is_file()
        {
            found.insert(display_path(root, &entry), kind);
        }
    }
    for (dir, kind) in [
        (root.join(".github").join("workflows"), EntryKind::Workflow),
        (root.join("scripts"), EntryKind::Script),
    ] {
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
    let mut entries: BTreeMap<String, EntryPoint> = BTreeMap::new();
    for (path, kind) in &found {
        let file = SourceFile::read(&root.join(path), path.clone())?;
        entries.insert(path.clone(), EntryPoint::parse(*kind, file));
    }
    follow_references(root, &mut entries);
    assign_roles(&mut entries);
    Ok(entries.into_values().collect())
}

/// Reads the files that entry points refer to, until none is new.
fn follow_references(root: &Path, entries: &mut BTreeMap<String, EntryPoint>) {
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut tried: BTreeSet<String> = entries.keys().cloned().collect();
    for _ in 0..MAX_FOLLOWED {
        let mut wanted: Vec<(String, EntryKind)> = Vec::new();
        for entry in entries.values() {
            for job in &entry.jobs {
                for reference in all_references(entry, job) {
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
            if let Some(file) = read_confined(root, &canonical_root, &path) {
                entries.insert(path, EntryPoint::parse(kind, file));
            }
        }
    }
}

/// A file of the workspace, read only when it resolves (symlinks followed) inside the root,
/// is a regular file and is not too large.
fn read_confined(root: &Path, canonical_root: &Path, path: &str) -> Option<SourceFile> {
    let full: PathBuf = root.join(path);
    let canonical = full.canonicalize().ok()?;
    if !canonical.starts_with(canonical_root) {
        return None;
    }
    let metadata = std::fs::metadata(&canonical).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_ENTRY_POINT_BYTES {
        return None;
    }
    SourceFile::read(&canonical, path.to_string()).ok()
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

/// The references a job makes: those parsed with it (actions, working directories) and those
/// its commands make from the workspace root.
fn all_references(entry: &EntryPoint, job: &Job) -> Vec<Reference> {
    // Relative paths in commands are taken from the workspace root, where CI steps, recipes
    // and most scripts run (steps with a `working-directory` were joined when parsed).
    let _ = entry;
    let mut out = job.references.clone();
    for command in &job.commands {
        out.extend(references_in(command, "."));
    }
    out
}

/// Docker options that take a value.
const DOCKER_OPTIONS_WITH_VALUE: &[&str] = &[
    "-t",
    "--tag",
    "--build-arg",
    "--target",
    "--platform",
    "-f",
    "--file",
    "--cache-from",
    "--cache-to",
    "--output",
    "-o",
    "--label",
    "--secret",
    "--ssh",
    "--progress",
    "--network",
    "--iidfile",
    "--metadata-file",
    "--build-context",
    "-v",
    "--volume",
    "-e",
    "--env",
    "-w",
    "--workdir",
    "--name",
    "-p",
    "--publish",
    "--entrypoint",
    "-u",
    "--user",
    "--mount",
    "--env-file",
    "-h",
    "--hostname",
    "--cpus",
    "-m",
    "--memory",
    "--pull",
    "--add-host",
];

/// The positional arguments of a docker command after its subcommand words.
fn positionals(args: &[super::Word]) -> Vec<&super::Word> {
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(word) = args.get(index) {
        if word.text.starts_with('-') {
            let takes_value = DOCKER_OPTIONS_WITH_VALUE.contains(&word.text.as_str());
            index += if takes_value { 2 } else { 1 };
        } else {
            out.push(word);
            index += 1;
        }
    }
    out
}

/// The entry points a command runs: scripts, Dockerfiles, recipes; paths joined to `directory`.
pub fn references_in(command: &Command, directory: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let program = command.program();
    let args = command.args();
    let name = command.program_name();
    let reference = |target: Target, word: &super::Word| Reference {
        target,
        span: word.span.clone(),
    };
    if program.dynamic {
        return out;
    }
    let script_word = match name {
        "bash" | "sh" | "zsh" | "dash" | "source" | "." => args
            .iter()
            .find(|w| !w.text.starts_with('-'))
            .filter(|_| !args.iter().any(|w| w.text == "-c")),
        _ if program.text.contains('/') || program.text.ends_with(".sh") => Some(program),
        _ => None,
    };
    if let Some(word) = script_word
        && !word.dynamic
        && !word.text.starts_with('/')
    {
        out.push(reference(Target::Script(join(directory, &word.text)), word));
    }
    match name {
        "docker" | "podman" | "buildah" => {
            let mut rest = args;
            if rest
                .first()
                .is_some_and(|w| w.text == "buildx" || w.text == "image")
            {
                rest = &rest[1..];
            }
            let Some(sub) = rest.first() else { return out };
            if matches!(sub.text.as_str(), "build" | "bud") {
                let rest = &rest[1..];
                let file = super::option_value(rest, &["-f", "--file"]);
                let context = positionals(rest).last().map(|w| w.text.clone());
                let context = context.unwrap_or_else(|| ".".to_string());
                if context.contains("://") {
                    return out;
                }
                match file {
                    Some(word) if !word.dynamic => {
                        let text = super::option_text(word, &["-f", "--file"]);
                        if text != "-" {
                            out.push(reference(Target::Dockerfile(join(directory, text)), word));
                        }
                    }
                    Some(_) => {}
                    None if !context.contains('$') => out.push(reference(
                        Target::Dockerfile(join(&join(directory, &context), "Dockerfile")),
                        sub,
                    )),
                    None => {}
                }
            }
        }
        "just" | "make" | "gmake" => {
            let kind = if name == "just" {
                EntryKind::Justfile
            } else {
                EntryKind::Makefile
            };
            let mut dir = directory.to_string();
            let mut file = None;
            let mut recipe = None;
            let mut index = 0;
            while let Some(word) = args.get(index) {
                match word.text.as_str() {
                    "-C" | "--directory" | "-d" | "--working-directory" => {
                        if let Some(value) = args.get(index + 1) {
                            dir = join(&dir, &value.text);
                        }
                        index += 2;
                    }
                    "-f" | "--file" | "--justfile" | "--makefile" => {
                        file = args.get(index + 1).map(|w| w.text.clone());
                        index += 2;
                    }
                    "-j" | "--jobs" if kind == EntryKind::Makefile => index += 2,
                    text if text.starts_with('-') || text.contains('=') => index += 1,
                    _ => {
                        recipe = Some(word.text.clone());
                        break;
                    }
                }
            }
            let file = match file {
                Some(file) => join(&dir, &file),
                None if kind == EntryKind::Justfile => join(&dir, "justfile"),
                None => join(&dir, "Makefile"),
            };
            out.push(reference(
                Target::Recipe {
                    kind,
                    file,
                    name: recipe.unwrap_or_default(),
                },
                program,
            ));
        }
        _ => {}
    }
    out
}

/// Images a command runs: `docker run IMAGE`.
pub fn run_images(command: &Command) -> Option<ImageUse> {
    if !matches!(command.program_name(), "docker" | "podman") {
        return None;
    }
    let args = command.args();
    let run_at = args.iter().position(|w| w.text == "run")?;
    if run_at > 1 {
        return None;
    }
    let image = positionals(&args[run_at + 1..]).first().copied()?.clone();
    (!image.dynamic).then(|| ImageUse {
        kind: ImageKind::Run,
        image,
        args: BTreeMap::new(),
        stages: Vec::new(),
    })
}

/// Commands that publish what was built.
fn publishing_command(command: &Command) -> Option<String> {
    let args: Vec<&str> = command.args().iter().map(|w| w.text.as_str()).collect();
    let name = command.program_name();
    let publishes = match name {
        "docker" | "podman" | "crane" => {
            args.contains(&"push") || args.windows(2).any(|w| w == ["imagetools", "create"])
        }
        "gh" | "hub" => {
            args.first() == Some(&"release")
                && args
                    .get(1)
                    .is_some_and(|s| matches!(*s, "create" | "upload" | "edit"))
        }
        "skopeo" => args.first() == Some(&"copy"),
        _ => cargo_call(command).is_some_and(|c| c.subcommand == "publish"),
    };
    let shown = match cargo_call(command) {
        Some(call) => format!("{} {}", call.program, call.subcommand),
        None => format!("{name} {}", args.first().unwrap_or(&"")),
    };
    publishes.then(|| format!("runs `{}`", shown.trim()))
}

/// Recipe, script and workflow names that say they make a release.
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

/// The role of a workflow job from its own steps: publishing, or building on tags.
fn workflow_role(entry: &EntryPoint, job: &Job) -> Option<Role> {
    let tagged = entry
        .triggers
        .iter()
        .any(|t| t == "push: tags" || t == "release");
    let trigger_text = if entry.triggers.iter().any(|t| t == "push: tags") {
        "workflow runs on tags"
    } else {
        "workflow runs on releases"
    };
    let builds = job.commands.iter().any(is_build) || !all_references(entry, job).is_empty();
    let dispatch_only =
        !entry.triggers.is_empty() && entry.triggers.iter().all(|t| t == "workflow_dispatch");
    match job.publishes.as_deref() {
        Some(p) if !p.starts_with("uploads") && !p.starts_with("exports") => {
            Some(Role::release(format!("job `{}` {p}", job.name)))
        }
        Some(p) if tagged => Some(Role::release(format!(
            "job `{}` {p}, {trigger_text}",
            job.name
        ))),
        // A workflow that only runs by hand and keeps what it builds is a release workflow.
        Some(p) if dispatch_only => Some(Role::release(format!(
            "job `{}` {p}, workflow runs only by hand (workflow_dispatch)",
            job.name
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
        for reference in all_references(entry, job) {
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
                    target
                        .jobs
                        .iter()
                        .position(|j| j.name == name)
                        .into_iter()
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
            if let Some(i) = entry.jobs.iter().position(|j| &j.name == need) {
                let needed = &entry.jobs[i];
                let builds = entry.kind != EntryKind::Workflow
                    || needed.commands.iter().any(is_build)
                    || !all_references(entry, needed).is_empty();
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
    // Publishing commands and `docker run` images are facts of the job itself.
    for entry in entries.values_mut() {
        for job in &mut entry.jobs {
            if job.publishes.is_none() {
                job.publishes = job.commands.iter().find_map(publishing_command);
            }
            let images: Vec<ImageUse> = job.commands.iter().filter_map(run_images).collect();
            job.images.extend(images);
        }
    }
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
    for (path, entry) in entries.iter() {
        for (index, job) in entry.jobs.iter().enumerate() {
            let role = match entry.kind {
                EntryKind::Justfile | EntryKind::Makefile if release_name(&job.name) => Some(
                    Role::release(format!("recipe `{}` is named for releases", job.name)),
                ),
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
    let mut referenced: BTreeMap<String, String> = BTreeMap::new();
    for entry in entries.values() {
        for job in &entry.jobs {
            for reference in all_references(entry, job) {
                if let Some((target, _)) = target_file(&reference.target) {
                    referenced
                        .entry(target)
                        .or_insert_with(|| entry.job_label(job));
                }
            }
        }
    }
    // What is left is development, except Dockerfiles that nothing builds.
    for (path, entry) in entries.iter_mut() {
        let labels: Vec<String> = entry.jobs.iter().map(|j| entry.job_label(j)).collect();
        let triggers = entry.triggers.join(", ");
        let kind = entry.kind;
        for (index, job) in entry.jobs.iter_mut().enumerate() {
            job.role = match roles.remove(&(path.clone(), index)) {
                Some(role) => role,
                None => match kind {
                    EntryKind::Dockerfile if !referenced.contains_key(path) => Role::release(
                        "no workflow builds this Dockerfile: it is taken for a release image",
                    ),
                    EntryKind::Workflow => Role::development(format!(
                        "job `{}` publishes nothing{}",
                        job.name,
                        if triggers.is_empty() {
                            String::new()
                        } else {
                            format!(" and the workflow runs on {triggers}")
                        }
                    )),
                    _ => match referenced.get(path) {
                        Some(by) => Role::development(format!(
                            "{} is run only by development jobs ({by})",
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
        let dir = std::env::temp_dir().join(format!(
            "cargo-repro-roles-{}-{}",
            std::process::id(),
            files.len()
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
                 \x20 test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n",
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
    fn references_outside_the_workspace_are_not_followed() {
        let entries = workspace(&[(
            "scripts/release.sh",
            "../../outside.sh\ndocker build -f /etc/Dockerfile .\n",
        )]);
        assert_eq!(entries.len(), 1);
    }
}
