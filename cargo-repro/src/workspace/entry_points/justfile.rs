//! justfiles: recipes (name, dependencies, body lines or a shebang script) and the variables
//! exported to them.

use super::shell::{Script, Word};
use super::{EnvVar, Job, commands_of};
use crate::workspace::source_file::SourceFile;

/// One job per recipe.
pub fn parse(file: &SourceFile) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut exported: Vec<EnvVar> = Vec::new();
    let mut variables: Vec<EnvVar> = Vec::new();
    let mut export_all = false;
    let mut current: Option<(Job, Script)> = None;
    for line_no in 1..=file.line_count() {
        let text = file.line_text(line_no);
        let start = file.line_start(line_no);
        let indented = text.starts_with([' ', '\t']);
        if indented {
            if let Some((_, script)) = current.as_mut() {
                let body = text.trim_start();
                let indent = text.len() - body.len();
                let body_start = start + indent;
                let bare = body.trim_start_matches(['@', '-']);
                script.push(bare, body_start + (body.len() - bare.len()));
                script.push_synthetic("\n");
            }
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        if let Some((job, script)) = current.take() {
            jobs.push(finish(job, &script, &variables, &exported, export_all));
        }
        let trimmed = text.trim_end();
        if trimmed.starts_with('#') || trimmed.starts_with('[') || trimmed.starts_with("alias ") {
            continue;
        }
        if trimmed.starts_with("set ") {
            export_all |= trimmed.contains("export") && !trimmed.contains("false");
            continue;
        }
        if let Some(var) = assignment(trimmed, start) {
            if trimmed.starts_with("export ") {
                exported.push(var.clone());
            }
            variables.push(var);
            continue;
        }
        if let Some((header, deps)) = split_header(trimmed) {
            let name = header
                .trim_start_matches('@')
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            let name_at = start + text.find(name.as_str()).unwrap_or(0);
            let mut job = Job::new(name.clone(), name_at..name_at + name.len());
            job.needs = deps
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '&')
                .filter(|d| !d.is_empty() && !d.starts_with(['"', '\'']))
                .map(str::to_string)
                .collect();
            current = Some((job, Script::default()));
        }
    }
    if let Some((job, script)) = current.take() {
        jobs.push(finish(job, &script, &variables, &exported, export_all));
    }
    jobs
}

fn finish(
    mut job: Job,
    script: &Script,
    variables: &[EnvVar],
    exported: &[EnvVar],
    export_all: bool,
) -> Job {
    job.env = if export_all {
        variables.to_vec()
    } else {
        exported.to_vec()
    };
    job.commands = commands_of(script, &job.env, None, &mut Vec::new());
    // `{{cargo}} build`: a program given as a just variable with a static value.
    for command in &mut job.commands {
        let program = &mut command.words[0];
        let name = program
            .text
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .map(str::trim);
        if let Some(name) = name
            && let Some(var) = variables.iter().rev().find(|v| v.name == name)
            && !var.value.dynamic
            && let Some(first) = var.value.text.split_whitespace().next()
        {
            program.text = first.to_string();
            program.dynamic = false;
        }
    }
    job
}

/// `name params: deps` as `(name params, deps)`; `None` for lines that are not a header.
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (header, deps) = line.split_once(':')?;
    if deps.starts_with('=') {
        return None;
    }
    let first = header.trim_start_matches('@').chars().next()?;
    (first.is_ascii_alphabetic() || first == '_').then_some((header, deps))
}

/// `[export] NAME := value`.
fn assignment(line: &str, line_start: usize) -> Option<EnvVar> {
    let body = line.strip_prefix("export ").unwrap_or(line);
    let offset = line.len() - body.len();
    let (name, value) = body.split_once(":=")?;
    let name_trimmed = name.trim();
    if name_trimmed.is_empty()
        || !name_trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let name_at = line_start + offset + (name.len() - name.trim_start().len());
    let raw = value.trim();
    let value_at = line_start + line.len() - value.trim_start().len();
    let unquoted = raw.trim_matches(['"', '\'']);
    let quote = usize::from(unquoted.len() != raw.len());
    Some(EnvVar {
        name: name_trimmed.to_string(),
        name_span: name_at..name_at + name_trimmed.len(),
        value: Word::new(
            unquoted,
            value_at + quote..value_at + quote + unquoted.len(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_dependencies_and_exports() {
        let text = "export RUSTFLAGS := \"-C x\"\nversion := `git describe`\n\n\
                    # Build the release\nrelease target='x': check (build target)\n    @cargo build --release --locked\n    tar czf a b\n\n\
                    test:\n    cargo test\n";
        let file = SourceFile::new("justfile".into(), "justfile".into(), text.into());
        let jobs = parse(&file);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].name, "release");
        assert_eq!(jobs[0].needs, ["check", "build", "target"]);
        assert_eq!(jobs[0].commands.len(), 2);
        assert_eq!(
            &file.text[jobs[0].commands[0].words[0].span.clone()],
            "cargo"
        );
        assert_eq!(jobs[0].env[0].value.text, "-C x");
        assert_eq!(&file.text[jobs[0].env[0].value.span.clone()], "-C x");
        assert_eq!(jobs[1].commands[0].words[1].text, "test");
    }

    #[test]
    fn programs_given_as_variables() {
        let text = "cargo-bin := \"cross\"\n\nbuild:\n    {{cargo-bin}} build --release\n    {{ unknown }} x\n";
        let file = SourceFile::new("justfile".into(), "justfile".into(), text.into());
        let jobs = parse(&file);
        assert_eq!(jobs[0].commands[0].program().text, "cross");
        assert!(jobs[0].commands[1].program().dynamic);
    }
}
