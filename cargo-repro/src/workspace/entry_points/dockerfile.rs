//! Dockerfiles: instructions with continuations joined, `FROM` stages, `ARG` and `ENV` in
//! force per stage, `RUN` scripts (shell form, exec form and heredocs) as commands.

use std::collections::BTreeMap;

use super::shell::{Script, Word};
use super::{ArgDefault, EnvVar, ImageKind, ImageUse, Job, commands_of};
use crate::workspace::source_file::SourceFile;

/// One instruction: its keyword (uppercase) and its operands as a script mapped to the file.
struct Instruction {
    keyword: String,
    operands: Script,
    /// Heredoc bodies (`RUN <<EOF … EOF`), each a script of its own.
    heredocs: Vec<Script>,
}

/// The Dockerfile as one job.
pub fn parse(file: &SourceFile) -> Job {
    let mut job = Job::new("", 0..0);
    let mut args: BTreeMap<String, ArgDefault> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut stage_env: BTreeMap<String, Vec<EnvVar>> = BTreeMap::new();
    let mut env: Vec<EnvVar> = Vec::new();
    for instruction in instructions(file) {
        let words = super::shell::parse(&instruction.operands)
            .into_iter()
            .flat_map(|c| c.assignments.into_iter().chain(c.prefix).chain(c.words))
            .collect::<Vec<Word>>();
        match instruction.keyword.as_str() {
            "ARG" => {
                for word in &words {
                    if let Some((name, value)) = word.assignment() {
                        args.insert(
                            name.to_string(),
                            ArgDefault {
                                value: value.to_string(),
                                span: word.span.clone(),
                            },
                        );
                    }
                }
            }
            "FROM" => {
                let mut rest = words.iter().filter(|w| !w.text.starts_with("--"));
                let Some(image) = rest.next() else { continue };
                let lower = image.text.to_ascii_lowercase();
                env = stage_env.get(&lower).cloned().unwrap_or_default();
                job.images.push(ImageUse {
                    kind: ImageKind::Base,
                    image: image.clone(),
                    args: args.clone(),
                    stages: stages.clone(),
                });
                if rest
                    .next()
                    .is_some_and(|w| w.text.eq_ignore_ascii_case("as"))
                    && let Some(name) = rest.next()
                {
                    stages.push(name.text.to_ascii_lowercase());
                }
            }
            "COPY" | "ADD" => {
                if let Some(word) = words.iter().find(|w| w.text.starts_with("--from=")) {
                    let offset = "--from=".len();
                    let image = Word::new(
                        &word.text[offset..],
                        word.span.start + offset..word.span.end,
                    );
                    job.images.push(ImageUse {
                        kind: ImageKind::CopyFrom,
                        image,
                        args: args.clone(),
                        stages: stages.clone(),
                    });
                }
            }
            "ENV" => {
                env.extend(env_instruction(&words));
                if let Some(stage) = stages.last() {
                    stage_env.insert(stage.clone(), env.clone());
                }
            }
            "RUN" => {
                let mut in_effect = env.clone();
                in_effect.extend(args.iter().map(|(name, default)| EnvVar {
                    name: name.clone(),
                    name_span: default.span.start..default.span.start + name.len(),
                    value: Word::new(
                        default.value.clone(),
                        default.span.start + name.len() + 1..default.span.end,
                    ),
                }));
                let mut scripts = vec![run_script(&instruction.operands)];
                scripts.extend(instruction.heredocs);
                for script in scripts {
                    job.commands.extend(commands_of(
                        &script,
                        &in_effect,
                        None,
                        &mut Vec::new(),
                        None,
                    ));
                }
            }
            _ => {}
        }
    }
    job.env = env;
    job
}

/// `ENV A=1 B=2` or the legacy `ENV A 1`.
fn env_instruction(words: &[Word]) -> Vec<EnvVar> {
    let assigned: Vec<EnvVar> = words
        .iter()
        .filter_map(|w| {
            let (name, value) = w.assignment()?;
            Some(EnvVar {
                name: name.to_string(),
                name_span: w.span.start..w.span.start + name.len(),
                value: Word::new(value, w.span.start + name.len() + 1..w.span.end),
            })
        })
        .collect();
    if !assigned.is_empty() {
        return assigned;
    }
    match words {
        [name, first, rest @ ..] => {
            let end = rest.last().map_or(first.span.end, |w| w.span.end);
            let mut value = first.text.clone();
            for word in rest {
                value.push(' ');
                value.push_str(&word.text);
            }
            vec![EnvVar {
                name: name.text.clone(),
                name_span: name.span.clone(),
                value: Word::new(value, first.span.start..end),
            }]
        }
        _ => Vec::new(),
    }
}

/// The shell script of a `RUN`: `--mount=…` options dropped, exec form (`["cargo", "build"]`)
/// read as one command.
fn run_script(operands: &Script) -> Script {
    let text = operands.text.as_str();
    let mut start = 0;
    loop {
        let rest = &text[start..];
        let trimmed = rest.trim_start();
        let skipped = rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            let end = trimmed.find([' ', '\t', '\n']).unwrap_or(trimmed.len());
            start += skipped + end;
        } else {
            start += skipped;
            break;
        }
    }
    let body = &text[start..];
    if body.starts_with('[')
        && let Some(items) = exec_form(body)
    {
        let mut script = Script::default();
        for (index, (item, offset)) in items.into_iter().enumerate() {
            if index > 0 {
                script.push_synthetic(" ");
            }
            script.push(&shell_quote(&item), operands.file_offset(start + offset));
        }
        return script;
    }
    operands.tail(start)
}

/// Quotes an exec-form item so the shell lexer reads it back as one word.
fn shell_quote(item: &str) -> String {
    if item
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=+:@,".contains(c))
    {
        item.to_string()
    } else {
        format!("'{}'", item.replace('\'', "'\\''"))
    }
}

/// The strings of a JSON array with their offsets in `text`.
fn exec_form(text: &str) -> Option<Vec<(String, usize)>> {
    let end = text.rfind(']')?;
    let items: Vec<String> = serde_json::from_str(&text[..=end]).ok()?;
    let mut out = Vec::new();
    let mut from = 0;
    for item in items {
        let quoted = serde_json::to_string(&item).ok()?;
        let at = text[from..].find(&quoted).map_or(from, |i| from + i);
        out.push((item, at + 1));
        from = at + quoted.len();
    }
    Some(out)
}

/// The instructions, with `\` continuations joined (comment lines inside them dropped, as
/// Docker does) and heredoc bodies set apart.
fn instructions(file: &SourceFile) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut line = 1;
    let count = file.line_count();
    while line <= count {
        let text = file.line_text(line);
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            line += 1;
            continue;
        }
        let indent = text.len() - trimmed.len();
        let keyword_end = trimmed.find([' ', '\t']).unwrap_or(trimmed.len());
        let keyword = trimmed[..keyword_end].to_ascii_uppercase();
        let mut operands = Script::default();
        let mut at = file.line_start(line) + indent + keyword_end;
        let mut piece = &text[indent + keyword_end..];
        let mut heredoc_names: Vec<String> = Vec::new();
        loop {
            let continues = piece.trim_end().ends_with('\\');
            let body = if continues {
                let cut = piece.trim_end();
                &cut[..cut.len() - 1]
            } else {
                piece
            };
            heredoc_names.extend(heredoc_delimiters(body));
            operands.push(body, at);
            line += 1;
            if !continues {
                break;
            }
            // Skip comment and empty lines inside a continued instruction.
            while line <= count && {
                let next = file.line_text(line).trim_start();
                next.starts_with('#') || next.is_empty()
            } {
                line += 1;
            }
            if line > count {
                break;
            }
            // Docker joins a continued line to the next one, as the shell does.
            operands.push_synthetic(" ");
            piece = file.line_text(line);
            at = file.line_start(line);
        }
        let mut heredocs = Vec::new();
        for name in heredoc_names {
            let mut body = Script::default();
            while line <= count {
                let text = file.line_text(line);
                line += 1;
                if text.trim() == name {
                    break;
                }
                body.push(text, file.line_start(line - 1));
                body.push_synthetic("\n");
            }
            heredocs.push(body);
        }
        out.push(Instruction {
            keyword,
            operands,
            heredocs,
        });
    }
    out
}

/// The delimiters of `<<EOF` / `<<-"EOF"` heredocs opened on an instruction line.
fn heredoc_delimiters(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<<") {
        let after = rest[at + 2..].trim_start_matches('-');
        let name: String = after
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
        rest = &rest[at + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (SourceFile, Job) {
        let file = SourceFile::new("Dockerfile".into(), "Dockerfile".into(), text.into());
        let job = parse(&file);
        (file, job)
    }

    #[test]
    fn stages_args_env_and_runs() {
        let (file, job) = parsed(
            "ARG RUST=1.95.0\nFROM rust:${RUST} AS build\nENV CARGO_INCREMENTAL=0\n\
             RUN --mount=type=cache,target=/x \\\n    # comment\n    cargo build --release \\\n    --locked\n\
             FROM scratch\nCOPY --from=build /a /b\nRUN [\"cargo\", \"install\", \"x\"]\n",
        );
        assert_eq!(job.images.len(), 3);
        assert_eq!(job.images[0].image.text, "rust:${RUST}");
        assert_eq!(job.images[1].stages, ["build"]);
        assert_eq!(job.images[2].kind, ImageKind::CopyFrom);
        assert_eq!(job.images[2].image.text, "build");
        let build = &job.commands[0];
        assert_eq!(build.words.len(), 4);
        assert_eq!(&file.text[build.words[3].span.clone()], "--locked");
        assert_eq!(
            build.env_value("CARGO_INCREMENTAL").unwrap().value.text,
            "0"
        );
        assert_eq!(build.env_value("RUST").unwrap().value.text, "1.95.0");
        let install = &job.commands[1];
        assert_eq!(install.words[1].text, "install");
        assert!(
            install.env_value("CARGO_INCREMENTAL").is_none(),
            "ENV is per stage"
        );
    }

    #[test]
    fn heredocs_and_legacy_env() {
        let (_, job) = parsed("FROM x\nENV A 1\nRUN <<EOF\ncargo build\nEOF\n");
        assert_eq!(job.env[0].value.text, "1");
        let programs: Vec<_> = job
            .commands
            .iter()
            .map(|c| c.words[0].text.as_str())
            .collect();
        assert_eq!(programs, ["cargo"]);
    }
}
