//! Build entry points as structured data: CI workflows, Dockerfiles, justfiles, Makefiles and
//! scripts, parsed into jobs (a workflow job, a recipe, a whole Dockerfile or script) that hold
//! commands, images and actions, each job with a role (release or development).
//!
//! One file per format (`workflow.rs`, `dockerfile.rs`, `justfile.rs`, `makefile.rs`; scripts
//! are `shell.rs` alone), `cargo.rs` for cargo command lines, `roles.rs` for discovery by
//! reference and the roles. Rules query
//! this model; they never read the text of an entry point.

pub mod cargo;
pub mod dockerfile;
pub mod expressions;
pub mod helpers;
pub mod justfile;
pub mod makefile;
pub mod references;
pub mod roles;
pub mod shell;
pub mod toolchains;
pub mod values;
pub mod workflow;

use std::ops::Range;

use super::source_file::SourceFile;
use crate::diag::{Finding, Location};
pub use roles::discover;
pub use shell::{Script, Word};

/// What kind of file an entry point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Dockerfile,
    Workflow,
    Justfile,
    Makefile,
    Script,
}

/// Whether a job makes the release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleKind {
    /// It builds, packages or publishes what is released, or runs inside something that does.
    Release,
    /// Tests, lints, fuzzing, coverage, benchmarks, MSRV, docs, developer recipes.
    Development,
}

/// A job's role and why the tool gave it that role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub kind: RoleKind,
    /// For example "job `build-release` uploads artifacts, workflow runs on tags".
    pub reason: String,
}

impl Role {
    pub fn release(reason: impl Into<String>) -> Role {
        Role {
            kind: RoleKind::Release,
            reason: reason.into(),
        }
    }

    pub fn development(reason: impl Into<String>) -> Role {
        Role {
            kind: RoleKind::Development,
            reason: reason.into(),
        }
    }

    pub fn is_release(&self) -> bool {
        self.kind == RoleKind::Release
    }
}

/// An environment variable an entry point sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    /// Where the name is written.
    pub name_span: Range<usize>,
    pub value: Word,
}

/// A simple command, with the environment in effect where it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// `NAME=value` words before the program.
    pub assignments: Vec<Word>,
    /// Wrappers before the program (`sudo`, `env -i`, `rustup run 1.95.0`).
    pub prefix: Vec<Word>,
    /// The program (resolved through the environment when written as `$CARGO`,
    /// `${{ env.CARGO }}` or `$(CARGO)`) and its arguments.
    pub words: Vec<Word>,
    /// Variables in effect, in the order they were set (the last one of a name wins).
    pub env: Vec<EnvVar>,
    /// The workflow step it belongs to, when it is in one.
    pub step: Option<usize>,
    /// Where it runs, relative to the workspace root (a step's `working-directory`; `.`
    /// elsewhere): relative paths it names are joined to it.
    pub directory: String,
    /// Where its standard output is redirected (`>> $GITHUB_ENV`, `> man/app.1`).
    pub stdout: Option<Word>,
}

impl Command {
    /// The program, as resolved (`cargo`, `/usr/bin/tar`).
    pub fn program(&self) -> &Word {
        &self.words[0]
    }

    /// The program's file name: `tar` for `/usr/bin/tar`, `7z` for `C:\tools\7z.exe`.
    pub fn program_name(&self) -> &str {
        let program = &self.words[0].text;
        let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
        match name.len().checked_sub(4) {
            Some(at) if name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(".exe") => {
                &name[..at]
            }
            _ => name,
        }
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }

    /// The value of a variable in effect (the command's own assignments included).
    pub fn env_value(&self, name: &str) -> Option<&EnvVar> {
        self.env.iter().rev().find(|var| var.name == name)
    }
}

/// The value of `--name VALUE` or `--name=VALUE` in `args` (before `--`).
pub fn option_value<'a>(args: &'a [Word], names: &[&str]) -> Option<&'a Word> {
    let mut iter = args.iter().take_while(|w| w.text != "--");
    while let Some(word) = iter.next() {
        for name in names {
            if word.text == *name {
                return iter.next();
            }
            if let Some(value) = word.text.strip_prefix(name)
                && value.starts_with('=')
            {
                return Some(word);
            }
        }
    }
    None
}

/// The text of an option's value: `x` for both `--target x` and `--target=x`.
pub fn option_text<'a>(word: &'a Word, names: &[&str]) -> &'a str {
    for name in names {
        if let Some(value) = word.text.strip_prefix(name)
            && let Some(value) = value.strip_prefix('=')
        {
            return value;
        }
    }
    &word.text
}

/// Where an image is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// `FROM image`.
    Base,
    /// `COPY --from=image`.
    CopyFrom,
    /// A workflow job's `container:` (directly or through the matrix).
    JobContainer,
    /// A workflow job's `services:`.
    Service,
    /// `uses: docker://image`.
    DockerAction,
    /// `docker run IMAGE` / `podman run IMAGE`.
    Run,
}

impl ImageKind {
    /// How findings name the use.
    pub fn describe(self) -> &'static str {
        match self {
            ImageKind::Base => "base image",
            ImageKind::CopyFrom => "`COPY --from` image",
            ImageKind::JobContainer => "job container",
            ImageKind::Service => "service image",
            ImageKind::DockerAction => "workflow image",
            ImageKind::Run => "`docker run` image",
        }
    }
}

/// A Dockerfile build argument's default, where it is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDefault {
    pub value: String,
    pub span: Range<usize>,
}

/// An image an entry point runs or builds from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageUse {
    pub kind: ImageKind,
    pub image: Word,
    /// Dockerfile `ARG` defaults in force (empty elsewhere).
    pub args: std::collections::BTreeMap<String, ArgDefault>,
    /// Earlier stage names of the Dockerfile (lowercase).
    pub stages: Vec<String>,
}

/// A workflow `uses:` of an action (a step) or a reusable workflow (a job).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionUse {
    /// `owner/repo@ref`, `./local`, `docker://image`, as written.
    pub uses: Word,
    /// The comment after it on its line (`# v4.1.1`), trimmed.
    pub comment: Option<String>,
    /// The `with:` inputs.
    pub inputs: Vec<(String, Word)>,
    /// The step's index in its job (`None` for a job-level reusable workflow).
    pub step: Option<usize>,
}

impl ActionUse {
    /// `owner/repo` (or `owner/repo/path`) and the ref after `@`.
    pub fn name_and_ref(&self) -> (&str, Option<&str>) {
        match self.uses.text.split_once('@') {
            Some((name, reference)) => (name, Some(reference)),
            None => (&self.uses.text, None),
        }
    }

    /// An input's value.
    pub fn input(&self, name: &str) -> Option<&Word> {
        self.inputs.iter().find(|(n, _)| n == name).map(|(_, w)| w)
    }
}

/// Something a job runs that is itself an entry point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub target: Target,
    /// Where the reference is written.
    pub span: Range<usize>,
    /// The environment in effect where it runs (a script inherits what is exported, which
    /// for workflow steps is their whole `env`).
    pub env: Vec<EnvVar>,
}

/// What a reference points at. Paths are relative to the workspace root, normalised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Dockerfile(String),
    Script(String),
    /// A recipe of a justfile or Makefile (`just release`, `make -C dir dist`).
    Recipe {
        kind: EntryKind,
        file: String,
        name: String,
    },
    /// A reusable workflow (`uses: ./.github/workflows/build.yml`).
    Workflow(String),
}

/// A part of an entry point with one role.
#[derive(Clone, Debug)]
pub struct Job {
    /// The workflow job id or recipe name; empty for a whole Dockerfile or script.
    pub name: String,
    pub role: Role,
    /// Variables set for the whole job (workflow and job `env:`, Dockerfile `ENV`).
    pub env: Vec<EnvVar>,
    pub commands: Vec<Command>,
    pub images: Vec<ImageUse>,
    pub actions: Vec<ActionUse>,
    pub references: Vec<Reference>,
    /// Why the job publishes something, when it does (for its role).
    pub publishes: Option<String>,
    /// The action through which the job deploys documentation pages, when it does
    /// (`actions/deploy-pages`, `peaceiris/actions-gh-pages`): such a job is documentation.
    pub deploys_pages: Option<String>,
    /// Jobs or recipes it depends on (`needs:`, recipe dependencies).
    pub needs: Vec<String>,
    /// For a script: what the jobs that run it set in its environment (each variable with
    /// every value they give it; unset by some is empty), merged. Its words are expanded
    /// with it, and rules judging a command's environment see it through
    /// [`Job::env_value`]; spans are in the callers' files, so nothing is reported at them.
    pub inherited: Vec<EnvVar>,
    /// The target a runner's host builds for when no `--target` is given (from `runs-on`).
    pub host_target: Option<String>,
    /// Where the job is declared (for whole-file jobs, the file's start).
    pub span: Range<usize>,
}

impl Job {
    /// The value of a variable in effect for a command of the job: the command's own
    /// environment, else what the jobs that run this script set.
    pub fn env_value<'a>(&'a self, command: &'a Command, name: &str) -> Option<&'a EnvVar> {
        command
            .env_value(name)
            .or_else(|| self.inherited.iter().rev().find(|v| v.name == name))
    }

    pub fn new(name: impl Into<String>, span: Range<usize>) -> Job {
        Job {
            name: name.into(),
            role: Role::development(String::new()),
            env: Vec::new(),
            commands: Vec::new(),
            images: Vec::new(),
            actions: Vec::new(),
            references: Vec::new(),
            publishes: None,
            deploys_pages: None,
            needs: Vec::new(),
            inherited: Vec::new(),
            host_target: None,
            span,
        }
    }
}

/// A file that drives builds.
#[derive(Debug)]
pub struct EntryPoint {
    pub kind: EntryKind,
    pub file: SourceFile,
    pub jobs: Vec<Job>,
    /// For a workflow: the events it runs on (`push`, `pull_request`, `push: tags`…).
    pub triggers: Vec<String>,
}

impl EntryPoint {
    /// Parses an entry point; every job starts as development until `roles` says otherwise.
    pub fn parse(kind: EntryKind, file: SourceFile) -> EntryPoint {
        let (mut jobs, triggers) = match kind {
            EntryKind::Workflow => workflow::parse(&file),
            EntryKind::Dockerfile => (vec![dockerfile::parse(&file)], Vec::new()),
            EntryKind::Justfile => (justfile::parse(&file), Vec::new()),
            EntryKind::Makefile => (makefile::parse(&file), Vec::new()),
            EntryKind::Script => (vec![script_job(&file, &[])], Vec::new()),
        };
        for job in &mut jobs {
            references::complete(job);
        }
        EntryPoint {
            kind,
            file,
            jobs,
            triggers,
        }
    }

    /// A script parsed with what the jobs that run it set (see [`Job::inherited`]).
    pub fn parse_script(file: SourceFile, inherited: &[EnvVar]) -> EntryPoint {
        let mut job = script_job(&file, inherited);
        references::complete(&mut job);
        EntryPoint {
            kind: EntryKind::Script,
            file,
            jobs: vec![job],
            triggers: Vec::new(),
        }
    }

    /// An entry point made from text (tests and examples): the path shown is `f`, and every
    /// job is a release job.
    pub fn from_text(kind: EntryKind, text: &str) -> EntryPoint {
        let file = SourceFile::new("f".into(), "f".into(), text.into());
        let mut entry = EntryPoint::parse(kind, file);
        for job in &mut entry.jobs {
            job.role = Role::release("a test entry point");
        }
        entry
    }

    /// The location of a span of the file.
    pub fn location(&self, span: &Range<usize>) -> Location {
        self.file.location(span.clone())
    }

    /// Every command with its job.
    pub fn commands(&self) -> impl Iterator<Item = (&Job, &Command)> {
        self.jobs
            .iter()
            .flat_map(|job| job.commands.iter().map(move |c| (job, c)))
    }

    /// Every variable the file sets, with the job it is set for (each place once).
    pub fn env_settings(&self) -> Vec<(&Job, &EnvVar)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for job in &self.jobs {
            let vars = job
                .env
                .iter()
                .chain(job.commands.iter().flat_map(|c| &c.env));
            for var in vars {
                if seen.insert((var.name_span.start, job.span.start, job.name.as_str())) {
                    out.push((job, var));
                }
            }
        }
        out
    }

    /// How a finding names a job: "job `build` of .github/workflows/ci.yml".
    pub fn job_label(&self, job: &Job) -> String {
        match (self.kind, job.name.is_empty()) {
            (_, true) => self.file.display_path.clone(),
            (EntryKind::Workflow, false) => {
                format!("job `{}` of {}", job.name, self.file.display_path)
            }
            (_, false) => format!("recipe `{}` of {}", job.name, self.file.display_path),
        }
    }
}

/// A finding in a job: its role goes with it. Development findings are reported as notes
/// (unless the configuration holds development entry points to the release standard).
pub fn in_job(finding: Finding, job: &Job) -> Finding {
    let finding = finding.note(match job.role.kind {
        RoleKind::Release => format!("release: {}", job.role.reason),
        RoleKind::Development => format!("development: {}", job.role.reason),
    });
    match job.role.kind {
        RoleKind::Release => finding,
        RoleKind::Development => finding.development(),
    }
}

/// A whole shell script file as one job; `inherited` is what the jobs that run it set (used
/// to expand its words, see [`Job::inherited`]).
fn script_job(file: &SourceFile, inherited: &[EnvVar]) -> Job {
    let mut job = Job::new("", 0..0);
    let expand = |text: &str, env: &[EnvVar]| {
        let mut scope: Vec<EnvVar> = inherited.to_vec();
        scope.extend(env.iter().cloned());
        values::shell_values(text, &scope)
    };
    job.commands = commands_of(
        &Script::contiguous(&file.text, 0),
        &[],
        None,
        &mut Vec::new(),
        Some(&expand),
    );
    job.inherited = inherited.to_vec();
    job
}

/// How a format expands a word before it runs: every value the text can take in the
/// environment in effect (`${{ … }}` in workflows, `{{ … }}` in justfiles, then shell
/// parameters), or `None` when the tool cannot list them.
pub type Expand<'a> = &'a dyn Fn(&str, &[EnvVar]) -> Option<Vec<String>>;

/// The commands of a script, with `env` (the job's) plus what the script itself exports or
/// assigns before each command. Programs written as variables are resolved through that
/// environment, and with `expand` every dynamic word gets the values it can take.
/// `exported` collects the script's own exports, for scripts that run later in the same job.
pub fn commands_of(
    script: &Script,
    env: &[EnvVar],
    step: Option<usize>,
    exported: &mut Vec<EnvVar>,
    expand: Option<Expand<'_>>,
) -> Vec<Command> {
    let mut out = Vec::new();
    let mut local: Vec<EnvVar> = Vec::new();
    for simple in shell::parse(script) {
        let mut in_effect: Vec<EnvVar> = env
            .iter()
            .chain(&*exported)
            .chain(&local)
            .cloned()
            .collect();
        let with_values = |mut var: EnvVar, scope: &[EnvVar]| {
            if var.value.dynamic
                && let Some(expand) = expand
            {
                var.value.set_values(expand(&var.value.text, scope));
            }
            var
        };
        // `A=1 cmd` and `env A=1 cmd` both set A for the command.
        let own: Vec<EnvVar> = simple
            .assignments
            .iter()
            .chain(&simple.prefix)
            .filter_map(env_var_of)
            .map(|var| with_values(var, &in_effect))
            .collect();
        if simple.words.is_empty() {
            // `NAME=value` alone sets a shell variable for the rest of the script.
            local.extend(own);
            continue;
        }
        let program = simple.words[0].text.as_str();
        if matches!(
            program,
            "export" | "declare" | "typeset" | "readonly" | "local"
        ) {
            let set: Vec<EnvVar> = simple.words[1..]
                .iter()
                .filter_map(env_var_of)
                .map(|var| with_values(var, &in_effect))
                .collect();
            if program == "export" {
                exported.extend(set);
            } else {
                local.extend(set);
            }
        }
        in_effect.extend(own);
        let mut words = simple.words;
        resolve_program(&mut words[0], &in_effect);
        for word in &mut words[1..] {
            substitute_env(word, &in_effect);
        }
        if let Some(expand) = expand {
            for (index, word) in words.iter_mut().enumerate() {
                if !word.dynamic {
                    continue;
                }
                let values = expand(&word.text, &in_effect);
                if index == 0 {
                    choose_program(word, values);
                } else {
                    word.set_values(values);
                }
            }
        }
        out.push(Command {
            assignments: simple.assignments,
            prefix: simple.prefix,
            words,
            env: in_effect,
            step,
            directory: ".".to_string(),
            stdout: simple.stdout,
        });
    }
    out
}

/// A program given as a variable that can take several values: the program when every
/// value runs the same one, or cargo and tools that take its command line (`cross`,
/// `cargo-zigbuild`), standing for all of them (`cargo` when it is one); the values are kept
/// on the word either way, first words only.
fn choose_program(word: &mut Word, values: Option<Vec<String>>) {
    let Some(values) = values else { return };
    let mut programs: Vec<String> = Vec::new();
    for value in &values {
        let Some(first) = value.split_whitespace().next() else {
            return;
        };
        if shell::is_dynamic(first) {
            return;
        }
        if !programs.iter().any(|p| p == first) {
            programs.push(first.to_string());
        }
    }
    match programs.as_slice() {
        [] => {}
        [one] => {
            word.text = one.clone();
            word.dynamic = false;
            word.values.clear();
        }
        several if several.iter().all(|p| cargo::is_cargo_program(p)) => {
            word.text = if several.iter().any(|p| p == "cargo") {
                "cargo".to_string()
            } else {
                several[0].clone()
            };
            word.dynamic = false;
            word.values = programs;
        }
        _ => word.values = programs,
    }
}

/// An `EnvVar` for a `NAME=value` word.
fn env_var_of(word: &Word) -> Option<EnvVar> {
    let (name, value) = word.assignment()?;
    let name_span = word.span.start..word.span.start + name.len();
    let value_start = (word.span.start + name.len() + 1).min(word.span.end);
    Some(EnvVar {
        name: name.to_string(),
        name_span,
        value: Word::new(value, value_start..word.span.end),
    })
}

/// `$CARGO`, `${CARGO}`, `${{ env.CARGO }}`, `$(CARGO)`: the variable's static value when the
/// environment has one (`cross`, `cargo`).
fn resolve_program(word: &mut Word, env: &[EnvVar]) {
    if !word.dynamic {
        return;
    }
    let Some(name) = variable_name(&word.text) else {
        return;
    };
    let value = env.iter().rev().find(|v| v.name == name);
    match value {
        Some(var) if !var.value.dynamic && !var.value.text.is_empty() => {
            let first = var.value.text.split_whitespace().next().unwrap_or("");
            word.text = first.to_string();
            word.dynamic = false;
        }
        _ => {}
    }
}

/// Replaces a whole-word `${{ env.NAME }}` by its static value.
fn substitute_env(word: &mut Word, env: &[EnvVar]) {
    if !word.dynamic || !word.text.starts_with("${{") {
        return;
    }
    if let Some(name) = variable_name(&word.text)
        && let Some(var) = env.iter().rev().find(|v| v.name == name)
        && !var.value.dynamic
    {
        word.text = var.value.text.clone();
        word.dynamic = false;
    }
}

/// `NAME` of `$NAME`, `${NAME}`, `$(NAME)` or `${{ env.NAME }}`.
pub fn variable_name(text: &str) -> Option<&str> {
    let inner = if let Some(rest) = text.strip_prefix("${{") {
        rest.strip_suffix("}}")?.trim().strip_prefix("env.")?
    } else if let Some(rest) = text.strip_prefix("${") {
        rest.strip_suffix('}')?
    } else if let Some(rest) = text.strip_prefix("$(") {
        rest.strip_suffix(')')?
    } else {
        text.strip_prefix('$')?
    };
    let valid = !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_resolve_programs_and_track_exports() {
        let entry = EntryPoint::from_text(
            EntryKind::Script,
            "CARGO=cross\nexport RUSTFLAGS=\"-C x\"\n$CARGO build --release\nX=1 cargo test\n",
        );
        let commands: Vec<&Command> = entry.commands().map(|(_, c)| c).collect();
        assert_eq!(commands.len(), 3);
        assert_eq!(commands[1].program().text, "cross");
        assert_eq!(
            commands[1].env_value("RUSTFLAGS").unwrap().value.text,
            "-C x"
        );
        assert_eq!(commands[2].env_value("X").unwrap().value.text, "1");
        assert!(commands[1].env_value("X").is_none());
    }

    #[test]
    fn cargo_selections() {
        let entry = EntryPoint::from_text(
            EntryKind::Script,
            "cargo build --release -p cli --features=a,b -F c --no-default-features\n\
             cargo build --workspace --all-features\ncargo build --features \"$FEATURES\"\n",
        );
        let selections: Vec<_> = entry
            .commands()
            .map(|(_, c)| cargo::cargo_call(c).unwrap().selection())
            .collect();
        assert_eq!(selections[0].packages, ["cli"]);
        assert_eq!(selections[0].features, ["a", "b", "c"]);
        assert!(selections[0].no_default_features && !selections[0].all_features);
        assert!(selections[1].workspace && selections[1].all_features);
        // Features the tool cannot read count as all of them.
        assert!(selections[2].all_features);
    }

    #[test]
    fn option_values() {
        let entry = EntryPoint::from_text(
            EntryKind::Script,
            "cargo build --target=x86_64-unknown-linux-musl --profile dist -- --target y\n",
        );
        let (_, command) = entry.commands().next().unwrap();
        let target = option_value(command.args(), &["--target"]).unwrap();
        assert_eq!(
            option_text(target, &["--target"]),
            "x86_64-unknown-linux-musl"
        );
        assert_eq!(
            option_value(command.args(), &["--profile"]).unwrap().text,
            "dist"
        );
        let call = cargo::cargo_call(command).unwrap();
        assert!(call.has("--profile"));
        assert!(!call.has("--locked"));
    }
}
