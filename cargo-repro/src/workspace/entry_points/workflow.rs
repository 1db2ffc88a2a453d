//! GitHub Actions workflows, parsed as YAML with positions: triggers, jobs, `needs`, steps,
//! `uses` with their inputs, `run` scripts, `env` at each level, matrices and containers.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::shell::{Script, Word};
use super::{ActionUse, EnvVar, ImageKind, ImageUse, Job, Reference, Target, commands_of};
use crate::workspace::source_file::SourceFile;

/// A YAML node with the byte span of where it starts in the file.
#[derive(Clone, Debug)]
enum Node {
    Scalar(String, usize),
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
            Node::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    fn start(&self) -> usize {
        match self {
            Node::Scalar(_, at) | Node::Seq(_, at) | Node::Map(_, at) | Node::Null(at) => *at,
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
            Scalar::Boolean(b) => Node::Scalar(b.to_string(), at),
            Scalar::Integer(i) => Node::Scalar(i.to_string(), at),
            Scalar::FloatingPoint(f) => Node::Scalar(f.to_string(), at),
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

/// `env:` entries as variables.
fn env_of(file: &SourceFile, node: Option<&Node>) -> Vec<EnvVar> {
    let Some(node) = node else {
        return Vec::new();
    };
    node.entries()
        .iter()
        .map(|(name, at, value)| EnvVar {
            name: name.clone(),
            name_span: *at..*at + name.len(),
            value: word_of(file, value)
                .unwrap_or_else(|| Word::new("${{ … }}", value.start()..value.start())),
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
    let workflow_env = env_of(file, root.get("env"));
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

/// The values each matrix key takes, from its lists and `include` entries.
fn matrix_of(node: Option<&Node>) -> BTreeMap<String, Vec<Node>> {
    let mut out: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    let Some(node) = node else { return out };
    for (key, _, value) in node.entries() {
        if key == "include" {
            for item in value.items() {
                for (k, _, v) in item.entries() {
                    out.entry(k.clone()).or_default().push(v.clone());
                }
            }
        } else if key != "exclude"
            && let Node::Seq(items, _) = value
        {
            out.entry(key.clone())
                .or_default()
                .extend(items.iter().cloned());
        }
    }
    out
}

/// `${{ matrix.KEY }}` (the whole value) as the matrix's values for KEY.
fn matrix_values<'a>(matrix: &'a BTreeMap<String, Vec<Node>>, text: &str) -> Option<&'a [Node]> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let key = inner.strip_prefix("matrix.")?;
    matrix.get(key).map(Vec::as_slice)
}

/// A word for a value, with `${{ env.X }}` and a single-valued `${{ matrix.X }}` substituted.
fn resolved(file: &SourceFile, node: &Node, matrix: &BTreeMap<String, Vec<Node>>) -> Vec<Word> {
    match node.scalar().and_then(|text| matrix_values(matrix, text)) {
        Some(values) => values.iter().filter_map(|v| word_of(file, v)).collect(),
        None => word_of(file, node).into_iter().collect(),
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
    let matrix = matrix_of(node.get("strategy").and_then(|s| s.get("matrix")));
    job.env = workflow_env.to_vec();
    job.env.extend(env_of(file, node.get("env")));
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
            .flat_map(|n| resolved(file, n, &matrix))
            .map(|w| w.text)
            .collect();
        let targets: Vec<Option<String>> = runners.iter().map(|r| host_target(r)).collect();
        if let Some(Some(first)) = targets.first()
            && targets.iter().all(|t| t.as_ref() == Some(first))
        {
            job.host_target = Some(first.clone());
        }
    }
    // Containers: `container: IMAGE`, `container: { image: IMAGE }`, through the matrix too.
    if let Some(container) = node.get("container") {
        let image = container.get("image").unwrap_or(container);
        for word in resolved(file, image, &matrix) {
            push_image(&mut job, ImageKind::JobContainer, word);
        }
        for value in image
            .scalar()
            .and_then(|t| matrix_values(&matrix, t))
            .unwrap_or(&[])
        {
            if let Some(inner) = value.get("image") {
                job.images.extend(
                    word_of(file, inner).map(|image| image_use(ImageKind::JobContainer, image)),
                );
            }
        }
    }
    for (_, _, service) in node.get("services").map(Node::entries).unwrap_or(&[]) {
        let image = service.get("image").unwrap_or(service);
        for word in resolved(file, image, &matrix) {
            push_image(&mut job, ImageKind::Service, word);
        }
    }
    // A job that calls a reusable workflow.
    if let Some(uses) = node.get("uses").and_then(|u| word_of(file, u)) {
        if let Some(path) = uses.text.strip_prefix("./") {
            job.references.push(Reference {
                target: Target::Workflow(path.to_string()),
                span: uses.span.clone(),
            });
        }
        let comment = trailing_comment(file, uses.span.end);
        let inputs = inputs_of(file, node.get("with"), &matrix);
        job.actions.push(ActionUse {
            uses,
            comment,
            inputs,
            step: None,
        });
    }
    let mut exported = Vec::new();
    for (index, step) in node
        .get("steps")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let mut env = job.env.clone();
        env.extend(env_of(file, step.get("env")));
        if let Some(uses) = step.get("uses").and_then(|u| word_of(file, u)) {
            let comment = trailing_comment(file, uses.span.end);
            let inputs = inputs_of(file, step.get("with"), &matrix);
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
            let mut commands = commands_of(&script, &env, Some(index), &mut exported);
            for command in &mut commands {
                substitute_matrix(&mut command.words, &matrix, file);
                command.directory.clone_from(&directory);
            }
            job.commands.extend(commands);
        }
    }
    job
}

/// `${{ matrix.X }}` words whose values are all equal become that value.
fn substitute_matrix(words: &mut [Word], matrix: &BTreeMap<String, Vec<Node>>, file: &SourceFile) {
    for word in words {
        if let Some(values) = matrix_values(matrix, &word.text) {
            let texts: Vec<String> = values
                .iter()
                .filter_map(|v| word_of(file, v))
                .map(|w| w.text)
                .collect();
            if let Some(first) = texts.first()
                && texts.iter().all(|t| t == first)
                && !super::shell::is_dynamic(first)
            {
                word.text = first.clone();
                word.dynamic = false;
            }
        }
    }
}

fn inputs_of(
    file: &SourceFile,
    node: Option<&Node>,
    matrix: &BTreeMap<String, Vec<Node>>,
) -> Vec<(String, Word)> {
    let mut out = Vec::new();
    for (name, _, value) in node.map(Node::entries).unwrap_or(&[]) {
        for word in resolved(file, value, matrix) {
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
            });
        } else {
            for file_word in files {
                if !file_word.dynamic {
                    job.references.push(Reference {
                        target: Target::Dockerfile(super::references::join(".", &file_word.text)),
                        span: file_word.span.clone(),
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
