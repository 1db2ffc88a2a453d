//! GitHub Actions workflows, parsed as YAML with positions: triggers, jobs, `needs`, steps,
//! `uses` with their inputs, `run` scripts, `env` at each level, matrices and containers.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::expressions::{self, Matrix, Scope, Value};
use super::shell::{Script, Word};
use super::{
    ActionUse, Command, EnvVar, ImageKind, ImageUse, Job, Reference, Target, commands_of, values,
};
use crate::workspace::source_file::SourceFile;

/// A YAML node with the byte span of where it starts in the file.
#[derive(Clone, Debug)]
enum Node {
    Scalar(String, usize),
    /// A boolean or a number, as written (`true`, `11.0`).
    Typed(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(String, usize, Node)>, usize),
    Null(usize),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, usize, Node)] {
        match self {
            Node::Map(entries, _) => entries,
            _ => &[],
        }
    }

    fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items, _) => items,
            _ => std::slice::from_ref(self),
        }
    }

    fn scalar(&self) -> Option<&str> {
        match self {
            Node::Scalar(text, _) | Node::Typed(text, _) => Some(text),
            _ => None,
        }
    }

    fn start(&self) -> usize {
        match self {
            Node::Scalar(_, at)
            | Node::Typed(_, at)
            | Node::Seq(_, at)
            | Node::Map(_, at)
            | Node::Null(at) => *at,
        }
    }
}

/// Byte offset of a saphyr marker (1-based line, 0-based column in characters).
fn byte_offset(file: &SourceFile, line: usize, col: usize) -> usize {
    if line == 0 || line > file.line_count() {
        return file.text.len();
    }
    let start = file.line_start(line);
    let text = file.line_text(line);
    start + text.char_indices().nth(col).map_or(text.len(), |(i, _)| i)
}

fn convert(file: &SourceFile, yaml: &MarkedYaml) -> Node {
    let at = byte_offset(file, yaml.span.start.line(), yaml.span.start.col());
    match &yaml.data {
        YamlData::Value(scalar) => match scalar {
            Scalar::Null => Node::Null(at),
            Scalar::Boolean(b) => Node::Typed(b.to_string(), at),
            Scalar::Integer(i) => Node::Typed(i.to_string(), at),
            Scalar::FloatingPoint(f) => Node::Typed(f.to_string(), at),
            Scalar::String(s) => Node::Scalar(s.to_string(), at),
        },
        YamlData::Representation(text, _, _) => Node::Scalar(text.to_string(), at),
        YamlData::Sequence(items) => {
            Node::Seq(items.iter().map(|i| convert(file, i)).collect(), at)
        }
        YamlData::Mapping(map) => Node::Map(
            map.iter()
                .map(|(k, v)| {
                    let key_at = byte_offset(file, k.span.start.line(), k.span.start.col());
                    let key = match &k.data {
                        YamlData::Value(Scalar::String(s)) => s.to_string(),
                        YamlData::Value(Scalar::Boolean(b)) => b.to_string(),
                        YamlData::Value(Scalar::Integer(i)) => i.to_string(),
                        YamlData::Value(Scalar::Null) => String::new(),
                        _ => String::new(),
                    };
                    (key, key_at, convert(file, v))
                })
                .collect(),
            at,
        ),
        YamlData::Tagged(_, inner) => convert(file, inner),
        _ => Node::Null(at),
    }
}

/// A scalar as a word with its span; the span covers the value as written (quotes excluded).
fn word_of(file: &SourceFile, node: &Node) -> Option<Word> {
    let text = node.scalar()?;
    let start = node.start();
    let rest = &file.text[start.min(file.text.len())..];
    let start = if rest.starts_with(['"', '\'']) && !text.starts_with(['"', '\'']) {
        start + 1
    } else {
        start
    };
    let end = (start + text.len()).min(file.text.len());
    Some(Word::new(text, start..end))
}

/// The script of a `run:` value: for block scalars, the lines as written in the file, so every
/// word maps to its place; for other scalars, the value where it starts.
fn script_of(file: &SourceFile, key_at: usize, node: &Node) -> Option<Script> {
    let text = node.scalar()?;
    let key_line = file.line_of(key_at);
    let after_key = &file.line_text(key_line)[key_at - file.line_start(key_line)..];
    let indicator = after_key
        .split_once(':')
        .map(|(_, v)| v.trim_start())
        .unwrap_or("");
    let folded = indicator.starts_with('>');
    if !(indicator.starts_with('|') || folded) {
        let word = word_of(file, node)?;
        return Some(Script::contiguous(text, word.span.start));
    }
    let first = file.line_of(node.start());
    let indent = {
        let line = file.line_text(first);
        line.len() - line.trim_start().len()
    };
    let mut script = Script::default();
    let mut line_no = first;
    while line_no <= file.line_count() {
        let line = file.line_text(line_no);
        let blank = line.trim().is_empty();
        let this_indent = line.len() - line.trim_start().len();
        if !blank && this_indent < indent {
            break;
        }
        if line_no > first {
            script.push_synthetic(if folded && !blank { " " } else { "\n" });
        }
        if !blank {
            script.push(&line[indent..], file.line_start(line_no) + indent);
        }
        line_no += 1;
    }
    script.push_synthetic("\n");
    Some(script)
}

/// `env:` entries as variables; values with `${{ … }}` get the values they can take in
/// `scope` (the matrix and the environment of the level above).
fn env_of(file: &SourceFile, node: Option<&Node>, scope: Scope<'_>) -> Vec<EnvVar> {
    let Some(node) = node else {
        return Vec::new();
    };
    node.entries()
        .iter()
        .map(|(name, at, value)| {
            let mut word = word_of(file, value)
                .unwrap_or_else(|| Word::new("${{ … }}", value.start()..value.start()));
            if word.dynamic {
                word.set_values(expressions::template(&word.text, scope));
            }
            EnvVar {
                name: name.clone(),
                name_span: *at..*at + name.len(),
                value: word,
            }
        })
        .collect()
}

/// The trimmed comment after the value on its line.
fn trailing_comment(file: &SourceFile, at: usize) -> Option<String> {
    let line = file.line_of(at);
    let text = &file.line_text(line)[at - file.line_start(line)..];
    let (_, comment) = text.split_once(" #")?;
    let comment = comment.trim();
    (!comment.is_empty()).then(|| comment.to_string())
}

/// The workflow's jobs (all development until roles are given) and the events it runs on.
pub fn parse(file: &SourceFile) -> (Vec<Job>, Vec<String>) {
    let Ok(documents) = MarkedYaml::load_from_str(&file.text) else {
        return (Vec::new(), Vec::new());
    };
    let Some(document) = documents.first() else {
        return (Vec::new(), Vec::new());
    };
    let root = convert(file, document);
    let triggers = triggers_of(root.get("on").or_else(|| root.get("true")));
    let no_matrix = Matrix::default();
    let workflow_env = env_of(
        file,
        root.get("env"),
        Scope {
            matrix: &no_matrix,
            env: &[],
        },
    );
    let mut jobs = Vec::new();
    for (id, at, node) in root.get("jobs").map(Node::entries).unwrap_or(&[]) {
        jobs.push(job_of(file, id, *at, node, &workflow_env));
    }
    (jobs, triggers)
}

/// `push`, `pull_request`, `push: tags`, `release`, `workflow_dispatch`…
fn triggers_of(node: Option<&Node>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(node) = node else { return out };
    match node {
        Node::Map(entries, _) => {
            for (event, _, value) in entries {
                if event == "push" && value.get("tags").is_some() {
                    out.push("push: tags".to_string());
                    if value.get("branches").is_some() {
                        out.push("push".to_string());
                    }
                } else {
                    out.push(event.clone());
                }
            }
        }
        other => out.extend(
            other
                .items()
                .iter()
                .filter_map(|n| n.scalar().map(str::to_string)),
        ),
    }
    out.sort();
    out.dedup();
    out
}

/// A YAML value as an expression value, strings placed where they are written.
fn value_of(file: &SourceFile, node: &Node) -> Value {
    match node {
        Node::Scalar(_, _) => {
            let word = word_of(file, node).expect("a scalar");
            Value::Str(word.text, Some(word.span))
        }
        Node::Typed(text, _) => match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => other.parse().map_or(Value::Null, Value::Number),
        },
        Node::Null(_) => Value::Null,
        Node::Seq(items, _) => Value::List(items.iter().map(|i| value_of(file, i)).collect()),
        Node::Map(entries, _) => Value::Map(
            entries
                .iter()
                .map(|(k, _, v)| (k.clone(), value_of(file, v)))
                .collect(),
        ),
    }
}

/// The values each matrix key takes, from its lists and `include` entries, and whether some
/// combination may lack it.
fn matrix_of(file: &SourceFile, node: Option<&Node>) -> Matrix {
    let mut matrix = Matrix::default();
    let Some(node) = node else { return matrix };
    if !matches!(node, Node::Map(..)) {
        matrix.dynamic = true;
        return matrix;
    }
    let mut listed: Vec<String> = Vec::new();
    let mut includes: Vec<&Node> = Vec::new();
    for (key, _, value) in node.entries() {
        match (key.as_str(), value) {
            ("include", Node::Seq(items, _)) => includes.extend(items),
            ("include", _) => matrix.dynamic = true,
            ("exclude", _) => {}
            (_, Node::Seq(items, _)) => {
                listed.push(key.clone());
                let values = items.iter().map(|i| value_of(file, i)).collect();
                matrix.keys.insert(key.clone(), (values, false));
            }
            // A key given by an expression: its values are not known.
            _ => matrix.dynamic = true,
        }
    }
    for item in &includes {
        for (key, _, value) in item.entries() {
            let entry = matrix
                .keys
                .entry(key.clone())
                .or_insert_with(|| (Vec::new(), false));
            entry.0.push(value_of(file, value));
        }
    }
    for (key, (_, missing)) in matrix.keys.iter_mut() {
        if listed.contains(key) {
            continue;
        }
        // A key only `include` sets is missing from the combinations of the lists, and from
        // the entries that do not set it.
        *missing = !listed.is_empty() || includes.iter().any(|i| i.get(key).is_none());
    }
    matrix
}

/// Words for expression values: a string where it is written (inside a JSON string, where
/// its text is), others at `fallback`; nulls and structures give none.
fn words_of(file: &SourceFile, values: &[Value], fallback: &std::ops::Range<usize>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    for value in values {
        let word = match value {
            Value::Str(text, span) if !text.is_empty() => {
                let span = match span {
                    Some(span) => {
                        let written = &file.text[span.clone()];
                        match written.find(text.as_str()) {
                            Some(at) if written != text => {
                                span.start + at..span.start + at + text.len()
                            }
                            _ => span.clone(),
                        }
                    }
                    None => fallback.clone(),
                };
                Word::new(text.clone(), span)
            }
            Value::Bool(_) | Value::Number(_) => Word::new(value.render(), fallback.clone()),
            _ => continue,
        };
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// The words a value stands for: a `${{ … }}` expression gives a word per value it can take
/// (where each is written), other values themselves.
fn resolved(file: &SourceFile, node: &Node, scope: Scope<'_>) -> Vec<Word> {
    let Some(word) = word_of(file, node) else {
        return Vec::new();
    };
    match expressions::whole(&word.text).and_then(|e| expressions::expression(e, scope)) {
        Some(values) => words_of(file, &values, &word.span),
        None => vec![word],
    }
}

/// The target a runner's host builds for, from `runs-on`.
fn host_target(runs_on: &str) -> Option<String> {
    let runner = runs_on.to_ascii_lowercase();
    let target = if runner.contains("windows") {
        "x86_64-pc-windows-msvc"
    } else if runner.contains("macos-13") || runner.contains("macos-12") {
        "x86_64-apple-darwin"
    } else if runner.contains("macos") {
        "aarch64-apple-darwin"
    } else if runner.contains("ubuntu") || runner.contains("linux") {
        if runner.contains("arm") {
            "aarch64-unknown-linux-gnu"
        } else {
            "x86_64-unknown-linux-gnu"
        }
    } else {
        return None;
    };
    Some(target.to_string())
}

/// Actions that publish what a job built.
const PUBLISHING_ACTIONS: &[&str] = &[
    "softprops/action-gh-release",
    "actions/upload-release-asset",
    "actions/create-release",
    "svenstaro/upload-release-action",
    "ncipollo/release-action",
    "taiki-e/upload-rust-binary-action",
    "marvinpinto/action-automatic-releases",
    "actions/attest-build-provenance",
    "pypa/gh-action-pypi-publish",
    "goreleaser/goreleaser-action",
];

/// Actions that deploy documentation pages (a website, a book), not the release.
const PAGES_ACTIONS: &[&str] = &[
    "actions/deploy-pages",
    "actions/upload-pages-artifact",
    "peaceiris/actions-gh-pages",
    "JamesIves/github-pages-deploy-action",
];

fn job_of(file: &SourceFile, id: &str, at: usize, node: &Node, workflow_env: &[EnvVar]) -> Job {
    let mut job = Job::new(id, at..at + id.len());
    let matrix = matrix_of(file, node.get("strategy").and_then(|s| s.get("matrix")));
    job.env = workflow_env.to_vec();
    job.env.extend(env_of(
        file,
        node.get("env"),
        Scope {
            matrix: &matrix,
            env: workflow_env,
        },
    ));
    if let Some(needs) = node.get("needs") {
        job.needs = needs
            .items()
            .iter()
            .filter_map(|n| n.scalar().map(str::to_string))
            .collect();
    }
    if let Some(runs_on) = node.get("runs-on") {
        let runners: Vec<String> = runs_on
            .items()
            .iter()
            .flat_map(|n| {
                resolved(
                    file,
                    n,
                    Scope {
                        matrix: &matrix,
                        env: &job.env,
                    },
                )
            })
            .map(|w| w.text)
            .collect();
        let targets: Vec<Option<String>> = runners.iter().map(|r| host_target(r)).collect();
        if let Some(Some(first)) = targets.first()
            && targets.iter().all(|t| t.as_ref() == Some(first))
        {
            job.host_target = Some(first.clone());
        }
    }
    // Containers: `container: IMAGE`, `container: { image: IMAGE }`, through the matrix too
    // (`${{ matrix.os.container }}`, `${{ fromJSON(matrix.container) }}`).
    let job_env = job.env.clone();
    if let Some(container) = node.get("container") {
        let words = container_images(
            file,
            container,
            Scope {
                matrix: &matrix,
                env: &job_env,
            },
        );
        for word in words {
            push_image(&mut job, ImageKind::JobContainer, word);
        }
    }
    for (_, _, service) in node.get("services").map(Node::entries).unwrap_or(&[]) {
        for word in container_images(
            file,
            service,
            Scope {
                matrix: &matrix,
                env: &job_env,
            },
        ) {
            push_image(&mut job, ImageKind::Service, word);
        }
    }
    // A job that calls a reusable workflow.
    if let Some(uses) = node.get("uses").and_then(|u| word_of(file, u)) {
        if let Some(path) = uses.text.strip_prefix("./") {
            job.references.push(Reference {
                target: Target::Workflow(path.to_string()),
                span: uses.span.clone(),
                env: Vec::new(),
            });
        }
        let comment = trailing_comment(file, uses.span.end);
        let inputs = inputs_of(
            file,
            node.get("with"),
            Scope {
                matrix: &matrix,
                env: &job.env,
            },
        );
        job.actions.push(ActionUse {
            uses,
            comment,
            inputs,
            step: None,
        });
    }
    let mut exported = Vec::new();
    // What earlier steps wrote to $GITHUB_ENV: between the job's `env:` and the step's.
    let mut github_env: Vec<EnvVar> = Vec::new();
    for (index, step) in node
        .get("steps")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let mut env = job.env.clone();
        env.extend(github_env.iter().cloned());
        let step_env = env_of(
            file,
            step.get("env"),
            Scope {
                matrix: &matrix,
                env: &env,
            },
        );
        env.extend(step_env);
        if let Some(uses) = step.get("uses").and_then(|u| word_of(file, u)) {
            let comment = trailing_comment(file, uses.span.end);
            let inputs = inputs_of(
                file,
                step.get("with"),
                Scope {
                    matrix: &matrix,
                    env: &env,
                },
            );
            let action = ActionUse {
                uses,
                comment,
                inputs,
                step: Some(index),
            };
            step_action(&mut job, &action);
            job.actions.push(action);
        }
        if let Some((_, key_at, run)) = step.entries().iter().find(|(k, _, _)| k == "run")
            && let Some(script) = script_of(file, *key_at, run)
        {
            let directory = step
                .get("working-directory")
                .and_then(Node::scalar)
                .unwrap_or(".")
                .to_string();
            // GitHub substitutes `${{ … }}` before the shell runs; then shell parameters.
            let expand = |text: &str, env: &[EnvVar]| -> Option<Vec<String>> {
                let mut out = Vec::new();
                for candidate in expressions::template(
                    text,
                    Scope {
                        matrix: &matrix,
                        env,
                    },
                )? {
                    out.extend(values::shell_values(&candidate, env)?);
                }
                values::product(vec![out])
            };
            let mut commands =
                commands_of(&script, &env, Some(index), &mut exported, Some(&expand));
            let conditional = step.get("if").is_some();
            for command in &mut commands {
                command.directory.clone_from(&directory);
                if let Some(var) = github_env_write(command) {
                    let var = if conditional {
                        // The step may not run: the variable keeps its earlier values too.
                        let before = env.iter().rev().find(|v| v.name == var.name).map_or(
                            Some(vec![String::new()]),
                            |v| {
                                v.value
                                    .possible()
                                    .map(|p| p.iter().map(|s| s.to_string()).collect())
                            },
                        );
                        either(var, before)
                    } else {
                        var
                    };
                    github_env.push(var);
                }
            }
            job.commands.extend(commands);
        }
    }
    job
}

/// `echo "NAME=value" >> $GITHUB_ENV`: the variable it sets for the later steps.
fn github_env_write(command: &Command) -> Option<EnvVar> {
    let target = command.stdout.as_ref()?;
    if !matches!(target.text.as_str(), "$GITHUB_ENV" | "${GITHUB_ENV}")
        || command.program_name() != "echo"
    {
        return None;
    }
    let args: Vec<&Word> = command
        .args()
        .iter()
        .filter(|w| !matches!(w.text.as_str(), "-n" | "-e" | "-E"))
        .collect();
    let first = args.first()?;
    let (name, _) = first.assignment()?;
    let name = name.to_string();
    let name_span = first.span.start..first.span.start + name.len();
    // The value: the rest of the first word and the words after it, joined by spaces.
    let mut parts: Vec<Vec<String>> = Vec::new();
    for (i, word) in args.iter().enumerate() {
        let mut values: Vec<String> = match word.possible() {
            Some(values) => values.into_iter().map(str::to_string).collect(),
            None => Vec::new(),
        };
        if i == 0 {
            values = values
                .iter()
                .filter_map(|v| v.split_once('=').map(|(_, value)| value.to_string()))
                .collect();
        }
        if i > 0 {
            parts.push(vec![" ".to_string()]);
        }
        parts.push(values);
    }
    let known = parts.iter().all(|p| !p.is_empty());
    let value_start = (name_span.end + 1).min(first.span.end);
    let value_end = args.last().map_or(first.span.end, |w| w.span.end);
    let shown = first.text[name.len() + 1..].to_string();
    let mut value = Word::new(shown, value_start..value_end);
    value.dynamic = true;
    if known {
        value.set_values(values::product(parts));
    }
    Some(EnvVar {
        name,
        name_span,
        value,
    })
}

/// The variable with its values and `others` (when known) as its possible values.
fn either(mut var: EnvVar, others: Option<Vec<String>>) -> EnvVar {
    let mine: Option<Vec<String>> = var
        .value
        .possible()
        .map(|p| p.iter().map(|s| s.to_string()).collect());
    var.value.dynamic = true;
    var.value.values.clear();
    if let (Some(mut mine), Some(others)) = (mine, others) {
        mine.extend(others);
        var.value.set_values(Some(mine));
    }
    var
}

/// The images of a `container:` (or a service): `IMAGE`, `{ image: IMAGE }`, or an
/// expression whose values are images or such mappings.
fn container_images(file: &SourceFile, node: &Node, scope: Scope<'_>) -> Vec<Word> {
    if let Some(image) = node.get("image") {
        return resolved(file, image, scope);
    }
    let Some(word) = word_of(file, node) else {
        return Vec::new();
    };
    let Some(values) =
        expressions::whole(&word.text).and_then(|e| expressions::expression(e, scope))
    else {
        return vec![word];
    };
    let images: Vec<Value> = values
        .into_iter()
        .map(|v| match v {
            Value::Map(_) => v.get("image"),
            other => other,
        })
        .collect();
    words_of(file, &images, &word.span)
}

fn inputs_of(file: &SourceFile, node: Option<&Node>, scope: Scope<'_>) -> Vec<(String, Word)> {
    let mut out = Vec::new();
    for (name, _, value) in node.map(Node::entries).unwrap_or(&[]) {
        for word in resolved(file, value, scope) {
            out.push((name.clone(), word));
        }
    }
    out
}

fn image_use(kind: ImageKind, image: Word) -> ImageUse {
    ImageUse {
        kind,
        image,
        args: BTreeMap::new(),
        stages: Vec::new(),
    }
}

fn push_image(job: &mut Job, kind: ImageKind, word: Word) {
    let text = word.text.trim();
    if text.is_empty() || word.dynamic || text.starts_with('{') {
        return;
    }
    job.images.push(image_use(kind, word));
}

/// What a step's action means for the job: a Dockerfile it builds, an image it runs, whether
/// it publishes.
fn step_action(job: &mut Job, action: &ActionUse) {
    let (name, _) = action.name_and_ref();
    if let Some(image) = action.uses.text.strip_prefix("docker://") {
        let start = action.uses.span.start + "docker://".len();
        push_image(
            job,
            ImageKind::DockerAction,
            Word::new(image, start..action.uses.span.end),
        );
    }
    if PUBLISHING_ACTIONS.contains(&name) && job.publishes.is_none() {
        job.publishes = Some(format!("uses {name}"));
    }
    if PAGES_ACTIONS.contains(&name) && job.deploys_pages.is_none() {
        job.deploys_pages = Some(name.to_string());
    }
    if name == "actions/upload-artifact" && job.publishes.is_none() {
        job.publishes = Some("uploads artifacts".to_string());
    }
    if name == "docker/build-push-action" {
        let pushes = action.input("push").is_some_and(|w| w.text == "true")
            || action
                .inputs
                .iter()
                .any(|(n, w)| n == "outputs" && w.text.contains("push=true"));
        if pushes {
            job.publishes = Some("pushes an image (docker/build-push-action)".to_string());
        } else if action
            .inputs
            .iter()
            .any(|(n, w)| n == "outputs" && w.text.contains("type=local"))
            && job.publishes.is_none()
        {
            job.publishes = Some("exports a build (docker/build-push-action)".to_string());
        }
        let context = action
            .input("context")
            .map(|w| w.text.trim_end_matches('/').to_string())
            .filter(|c| !c.contains("${{") && !c.starts_with("http") && !c.starts_with("git"))
            .unwrap_or_else(|| ".".to_string());
        let files: Vec<Word> = action
            .inputs
            .iter()
            .filter(|(n, _)| n == "file")
            .map(|(_, w)| w.clone())
            .collect();
        let span = action.uses.span.clone();
        if files.is_empty() {
            job.references.push(Reference {
                target: Target::Dockerfile(super::references::join(&context, "Dockerfile")),
                span,
                env: Vec::new(),
            });
        } else {
            for file_word in files {
                if !file_word.dynamic {
                    job.references.push(Reference {
                        target: Target::Dockerfile(super::references::join(".", &file_word.text)),
                        span: file_word.span.clone(),
                        env: Vec::new(),
                    });
                }
            }
        }
    }
}

/// Where a job's `span` points (for tests).
#[cfg(test)]
fn span_text<'a>(file: &'a SourceFile, span: &std::ops::Range<usize>) -> &'a str {
    &file.text[span.clone()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("w.yml".into(), "w.yml".into(), text.into())
    }

    const RELEASE: &str = "\
on:
  push:
    tags: ['v*']
env:
  CARGO: cross
jobs:
  build:
    runs-on: ubuntu-latest
    container: { image: alpine:3.20, options: --privileged }
    strategy:
      matrix:
        include:
          - { target: x86_64-unknown-linux-musl, docker: Dockerfile }
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
      - name: Build
        env:
          RUSTFLAGS: -C x
        run: |
          ${{ env.CARGO }} build --release \\
            --target ${{ matrix.target }}
          tar czf out.tgz target
      - uses: docker/build-push-action@v6
        with:
          file: ${{ matrix.docker }}
          push: true
      - uses: actions/upload-artifact@v4
";

    #[test]
    fn jobs_steps_and_spans() {
        let file = file(RELEASE);
        let (jobs, triggers) = parse(&file);
        assert_eq!(triggers, ["push: tags"]);
        let job = &jobs[0];
        assert_eq!(job.name, "build");
        assert_eq!(job.host_target.as_deref(), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(job.images[0].image.text, "alpine:3.20");
        assert_eq!(span_text(&file, &job.images[0].image.span), "alpine:3.20");
        let build = &job.commands[0];
        assert_eq!(build.program().text, "cross");
        assert_eq!(span_text(&file, &build.program().span), "${{ env.CARGO }}");
        assert_eq!(build.words[3].text, "--target");
        assert_eq!(build.words[4].text, "x86_64-unknown-linux-musl");
        assert_eq!(build.env_value("RUSTFLAGS").unwrap().value.text, "-C x");
        assert_eq!(build.step, Some(1));
        let tar = &job.commands[1];
        assert_eq!(span_text(&file, &tar.program().span), "tar");
        let checkout = &job.actions[0];
        assert_eq!(checkout.comment.as_deref(), Some("v4.1.1"));
        assert_eq!(
            job.references[0].target,
            Target::Dockerfile("Dockerfile".to_string())
        );
        assert!(
            job.publishes
                .as_deref()
                .unwrap()
                .contains("pushes an image")
        );
    }

    #[test]
    fn values_from_the_matrix_and_github_env() {
        let text = "\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: ${{ matrix.os.container }}
    strategy:
      matrix:
        os:
          - { runner: ubuntu-latest, container: alpine:latest }
          - { runner: macos-14 }
        flags: ['-C a', '-C b']
    env:
      CARGO: ${{ matrix.os.container && 'cross' || 'cargo' }}
    steps:
      - run: echo \"TARGET=x86_64-unknown-linux-musl\" >> $GITHUB_ENV
      - if: always()
        run: echo EXTRA=-C z >> $GITHUB_ENV
      - run: $CARGO build --target $TARGET
        env:
          RUSTFLAGS: ${{ matrix.flags }} ${{ env.EXTRA }}
";
        let file = file(text);
        let (jobs, _) = parse(&file);
        let job = &jobs[0];
        assert_eq!(job.images.len(), 1);
        assert_eq!(job.images[0].image.text, "alpine:latest");
        assert_eq!(span_text(&file, &job.images[0].image.span), "alpine:latest");
        let build = &job.commands[2];
        assert_eq!(build.program().text, "cargo");
        assert_eq!(build.program().values, ["cross", "cargo"]);
        assert_eq!(build.words[3].text, "x86_64-unknown-linux-musl");
        let flags = build.env_value("RUSTFLAGS").unwrap();
        assert_eq!(
            flags.value.values,
            ["-C a -C z", "-C a ", "-C b -C z", "-C b "]
        );
    }

    #[test]
    fn containers_from_json_in_the_matrix() {
        let text = "\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: ${{ fromJson(matrix.container || '{\"image\":null}') }}
    strategy:
      matrix:
        include:
          - container: '{\"image\": \"messense/rust-musl-cross:x86_64-musl\"}'
          - target: x86_64-apple-darwin
    steps:
      - run: docker run --rm \"ghcr.io/cross-rs/${{ matrix.target }}:main\" strip x
";
        let file = file(text);
        let (jobs, _) = parse(&file);
        let images: Vec<&str> = jobs[0]
            .images
            .iter()
            .map(|i| i.image.text.as_str())
            .collect();
        assert_eq!(images, ["messense/rust-musl-cross:x86_64-musl"]);
        assert_eq!(
            span_text(&file, &jobs[0].images[0].image.span),
            "messense/rust-musl-cross:x86_64-musl"
        );
        // A combination without the key gives it the empty value, as GitHub does.
        let run = &jobs[0].commands[0];
        assert_eq!(
            run.words[3].values,
            [
                "ghcr.io/cross-rs/x86_64-apple-darwin:main",
                "ghcr.io/cross-rs/:main"
            ]
        );
    }

    #[test]
    fn triggers_in_every_shape() {
        for (text, expected) in [
            ("on: push\njobs: {}\n", vec!["push"]),
            (
                "on: [push, pull_request]\njobs: {}\n",
                vec!["pull_request", "push"],
            ),
            (
                "on:\n  release:\n    types: [published]\njobs: {}\n",
                vec!["release"],
            ),
        ] {
            assert_eq!(parse(&file(text)).1, expected, "{text}");
        }
        assert!(
            parse(&file("on: [\n")).0.is_empty(),
            "malformed YAML has no jobs"
        );
    }
}
