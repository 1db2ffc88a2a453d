//! Makefiles: rules (targets, prerequisites, tab-indented recipe lines) and the variables
//! they export; `$(VAR)` programs resolve through the Makefile's variables.

use super::shell::{Script, Word};
use super::{EnvVar, Job, commands_of, variable_name};
use crate::workspace::source_file::SourceFile;

/// One job per rule (its first target names it).
pub fn parse(file: &SourceFile) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut variables: Vec<EnvVar> = Vec::new();
    let mut exported_names: Vec<String> = Vec::new();
    let mut current: Option<(Job, Script)> = None;
    let mut in_define = false;
    let mut line_no = 1;
    while line_no <= file.line_count() {
        let text = file.line_text(line_no);
        let start = file.line_start(line_no);
        line_no += 1;
        if in_define {
            in_define = !text.trim_start().starts_with("endef");
            continue;
        }
        if let Some(body) = text.strip_prefix('\t') {
            if let Some((_, script)) = current.as_mut() {
                let bare = body.trim_start_matches(['@', '-', '+', ' ']);
                script.push(bare, start + 1 + (body.len() - bare.len()));
                script.push_synthetic("\n");
            }
            continue;
        }
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some((job, script)) = current.take() {
            jobs.push(finish(job, &script, &variables, &exported_names));
        }
        if trimmed.starts_with("define ") {
            in_define = true;
            continue;
        }
        if let Some(var) = assignment(text, start) {
            if text.trim_start().starts_with("export ") {
                exported_names.push(var.name.clone());
            }
            variables.push(var);
            continue;
        }
        if let Some(names) = trimmed.strip_prefix("export ") {
            exported_names.extend(names.split_whitespace().map(str::to_string));
            continue;
        }
        let Some((targets, prerequisites)) = text.split_once(':') else {
            continue;
        };
        let Some(name) = targets.split_whitespace().next() else {
            continue;
        };
        if name.starts_with('.') || name.contains('%') {
            current = Some((Job::new("", 0..0), Script::default()));
            continue;
        }
        let name_at = start + text.find(name).unwrap_or(0);
        let mut job = Job::new(name, name_at..name_at + name.len());
        let (prerequisites, inline) = match prerequisites.split_once(';') {
            Some((p, recipe)) => (p, Some(recipe)),
            None => (prerequisites, None),
        };
        job.needs = prerequisites
            .split_whitespace()
            .filter(|p| *p != "|")
            .map(str::to_string)
            .collect();
        let mut script = Script::default();
        if let Some(recipe) = inline {
            let at = text.len() - recipe.len();
            script.push(recipe, start + at);
            script.push_synthetic("\n");
        }
        current = Some((job, script));
    }
    if let Some((job, script)) = current.take() {
        jobs.push(finish(job, &script, &variables, &exported_names));
    }
    jobs.retain(|job| !job.name.is_empty());
    jobs
}

fn finish(mut job: Job, script: &Script, variables: &[EnvVar], exported: &[String]) -> Job {
    job.env = variables
        .iter()
        .filter(|v| exported.contains(&v.name))
        .cloned()
        .collect();
    job.commands = commands_of(script, &job.env, None, &mut Vec::new(), None);
    for command in &mut job.commands {
        let program = &mut command.words[0];
        if program.dynamic
            && let Some(name) = variable_name(&program.text)
            && let Some(var) = variables.iter().rev().find(|v| v.name == name)
            && !var.value.dynamic
            && let Some(first) = var.value.text.split_whitespace().next()
        {
            program.text = first.to_string();
            program.dynamic = false;
        } else if program.text == "$(CARGO)" || program.text == "${CARGO}" {
            // Unset, `$(CARGO)` is the cargo that runs make (cargo sets CARGO), or empty.
            program.text = "cargo".to_string();
            program.dynamic = false;
        }
    }
    job
}

/// `[export|override] NAME = value` with `=`, `:=`, `::=`, `?=` or `+=`.
fn assignment(text: &str, line_start: usize) -> Option<EnvVar> {
    let body = text.trim_start();
    let body = body
        .strip_prefix("export ")
        .or_else(|| body.strip_prefix("override "))
        .unwrap_or(body);
    let operator_at = body.find('=')?;
    let before = &body[..operator_at];
    let name = before.trim_end_matches([':', '?', '+', '!']).trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return None;
    }
    if before.contains(':') && !before.trim_end().ends_with(':') {
        return None;
    }
    let offset = text.len() - body.len();
    let name_at = line_start + offset + body.find(name)?;
    let raw = &body[operator_at + 1..];
    let value = raw.trim();
    let value_at = line_start + offset + operator_at + 1 + (raw.len() - raw.trim_start().len());
    Some(EnvVar {
        name: name.to_string(),
        name_span: name_at..name_at + name.len(),
        value: Word::new(value, value_at..value_at + value.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_variables_and_programs() {
        let text = "CARGO ?= cross\nexport RUSTFLAGS := -C x\nLOCAL = 1\n.PHONY: dist\n\
                    dist: build\n\t@$(CARGO) build --release\n\t-tar czf a.tgz b\n\ntest:\n\tcargo test\n";
        let file = SourceFile::new("Makefile".into(), "Makefile".into(), text.into());
        let jobs = parse(&file);
        let names: Vec<_> = jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["dist", "test"]);
        assert_eq!(jobs[0].needs, ["build"]);
        assert_eq!(jobs[0].commands[0].program().text, "cross");
        assert_eq!(jobs[0].commands[1].program().text, "tar");
        let env: Vec<_> = jobs[0].env.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(env, ["RUSTFLAGS"]);
    }
}
