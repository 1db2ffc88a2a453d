//! What a job's commands run and publish: the entry points they refer to (scripts,
//! Dockerfiles built, just and make recipes), the images `docker run` starts, and whether a
//! command publishes (`docker push`, `gh release`, `cargo publish`). Computed once, when an
//! entry point is parsed.

use std::collections::BTreeMap;

use super::cargo::cargo_call;
use super::{Command, EntryKind, ImageKind, ImageUse, Job, Reference, Target, Word};

/// Adds what the job's commands refer to, run and publish to what its format gave it.
pub fn complete(job: &mut Job) {
    let references: Vec<Reference> = job
        .commands
        .iter()
        .flat_map(|c| references_in(c, &c.directory))
        .collect();
    job.references.extend(references);
    let images: Vec<ImageUse> = job.commands.iter().filter_map(run_image).collect();
    job.images.extend(images);
    if job.publishes.is_none() {
        job.publishes = job.commands.iter().find_map(publishing_command);
    }
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

/// `just` options that print something instead of running a recipe (`just -l`).
const JUST_INFORMATION: &[&str] = &[
    "-l",
    "--list",
    "--summary",
    "--dump",
    "--evaluate",
    "--variables",
    "-s",
    "--show",
    "--groups",
    "--help",
    "-h",
    "--version",
    "-V",
    "--fmt",
    "--choose",
    "--edit",
    "-e",
    "--init",
    "--completions",
    "--man",
];

/// The positional arguments of a docker command after its subcommand words.
fn positionals(args: &[Word]) -> Vec<&Word> {
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
fn references_in(command: &Command, directory: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let program = command.program();
    let args = command.args();
    let name = command.program_name();
    let reference = |target: Target, word: &Word| Reference {
        target,
        span: word.span.clone(),
        env: command.env.clone(),
    };
    if program.dynamic {
        if program
            .values
            .iter()
            .all(|v| v.contains('/') || v.ends_with(".sh"))
        {
            for path in &program.values {
                if !path.starts_with('/') {
                    out.push(reference(Target::Script(join(directory, path)), program));
                }
            }
        }
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
    // A script named by a word with several values (`bash ${{ matrix.script }}`) is each of
    // them.
    if let Some(word) = script_word {
        for path in word.possible().unwrap_or_default() {
            if !path.starts_with('/') {
                out.push(reference(Target::Script(join(directory, path)), word));
            }
        }
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
        "just"
            if args
                .iter()
                .any(|w| JUST_INFORMATION.contains(&w.text.as_str())) => {}
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

/// The image a command runs: `docker run IMAGE`.
fn run_image(command: &Command) -> Option<ImageUse> {
    if !matches!(command.program_name(), "docker" | "podman") {
        return None;
    }
    let args = command.args();
    let run_at = args.iter().position(|w| w.text == "run")?;
    if run_at > 1 {
        return None;
    }
    let image = positionals(&args[run_at + 1..]).first().copied()?.clone();
    // An image whose name has values (`ghcr.io/cross-rs/${{ matrix.target }}:main`) is kept
    // with them.
    (!image.dynamic || !image.values.is_empty()).then(|| ImageUse {
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

/// `dir/name`, normalised, without a leading `./`.
pub fn join(dir: &str, name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    };
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}
