//! Build entry points (Dockerfiles, CI workflows, justfiles, Makefiles, scripts) and their commands.

use std::path::Path;

use super::source_file::SourceFile;
use super::{display_path, read_dir_in};
use crate::diag::Location;

/// What kind of file an entry point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Dockerfile,
    Workflow,
    Justfile,
    Makefile,
    Script,
}

/// A file that drives release builds.
#[derive(Debug)]
pub struct EntryPoint {
    pub kind: EntryKind,
    pub file: SourceFile,
}

/// A command with its continuation lines joined, and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalLine {
    /// 1-based line of the first physical line.
    pub line: usize,
    /// The joined text, comments removed.
    pub text: String,
}

impl EntryPoint {
    /// An entry point made from text (tests and examples): the path shown is `f`.
    pub fn from_text(kind: EntryKind, text: &str) -> EntryPoint {
        EntryPoint {
            kind,
            file: SourceFile::new("f".into(), "f".into(), text.into()),
        }
    }

    /// The file's commands: continuation lines (`\` at the end) joined, `#` comments dropped.
    pub fn logical_lines(&self) -> Vec<LogicalLine> {
        let mut out = Vec::new();
        let mut current: Option<LogicalLine> = None;
        for (index, raw) in self.file.text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw.trim();
            if trimmed.starts_with('#') && current.is_none() {
                continue;
            }
            let content = strip_shell_comment(raw);
            let (body, continues) = match content.trim_end().strip_suffix('\\') {
                Some(body) => (body, true),
                None => (content, false),
            };
            let entry = current.get_or_insert_with(|| LogicalLine {
                line: line_no,
                text: String::new(),
            });
            if !entry.text.is_empty() {
                entry.text.push(' ');
            }
            entry.text.push_str(body.trim());
            if !continues {
                let done = current.take().expect("current line is set");
                if !done.text.is_empty() {
                    out.push(done);
                }
            }
        }
        if let Some(done) = current
            && !done.text.is_empty()
        {
            out.push(done);
        }
        out
    }

    /// The physical line, at or after `start`, on which `needle` first appears.
    pub fn line_containing(&self, start: usize, needle: &str) -> usize {
        (start..=self.file.line_count())
            .find(|&line| self.file.line_text(line).contains(needle))
            .unwrap_or(start)
    }
}

/// Drops a trailing ` # comment` outside quotes.
fn strip_shell_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => return &line[..at],
            None => {}
        }
        previous = c;
    }
    line
}

/// Finds the entry points of the workspace at `root`, sorted by path.
pub fn discover(root: &Path) -> anyhow::Result<Vec<EntryPoint>> {
    let mut found: Vec<(EntryKind, std::path::PathBuf)> = Vec::new();
    for entry in read_dir_in(root, root)? {
        let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !entry.is_file() {
            continue;
        }
        let kind = if name.starts_with("Dockerfile")
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
        };
        if let Some(kind) = kind {
            found.push((kind, entry));
        }
    }
    let workflows = root.join(".github").join("workflows");
    if workflows.is_dir() {
        for entry in read_dir_in(root, &workflows)? {
            let is_yaml = entry.extension().is_some_and(|e| e == "yml" || e == "yaml");
            if is_yaml && entry.is_file() {
                found.push((EntryKind::Workflow, entry));
            }
        }
    }
    let scripts = root.join("scripts");
    if scripts.is_dir() {
        for entry in read_dir_in(root, &scripts)? {
            if entry.extension().is_some_and(|e| e == "sh") && entry.is_file() {
                found.push((EntryKind::Script, entry));
            }
        }
    }
    found
        .into_iter()
        .map(|(kind, path)| {
            let file = SourceFile::read(&path, display_path(root, &path))?;
            Ok(EntryPoint { kind, file })
        })
        .collect()
}

/// Splits a command line into shell-like words (quotes removed, no expansion).
pub fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// Splits a logical line into simple commands at `&&`, `||`, `;`, `|` and `RUN`-style prefixes.
pub fn simple_commands(text: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut current = Vec::new();
    for word in shell_words(text) {
        if matches!(word.as_str(), "&&" | "||" | ";" | "|" | "(" | ")") {
            commands.push(std::mem::take(&mut current));
            continue;
        }
        let trimmed = word.trim_end_matches(';');
        let ends = trimmed.len() != word.len();
        if !trimmed.is_empty() {
            current.push(trimmed.to_string());
        }
        if ends {
            commands.push(std::mem::take(&mut current));
        }
    }
    commands.push(current);
    commands.retain(|c| !c.is_empty());
    commands
}

/// One simple command of an entry point, with the words of the whole logical line around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// 1-based line where its logical line starts.
    pub line: usize,
    /// Every word of the logical line, separators (`&&`, `;`, `|`…) included.
    pub line_words: Vec<String>,
    /// Index in `line_words` of the first environment assignment, or of the program.
    pub start: usize,
    /// Index in `line_words` of the program.
    pub program: usize,
    /// One past the index of the last argument.
    pub end: usize,
}

impl Command {
    /// The program and its arguments.
    pub fn args(&self) -> &[String] {
        &self.line_words[self.program..self.end]
    }

    /// The program, as written (`cargo`, `/usr/bin/tar`, `$(CARGO)`).
    pub fn program(&self) -> &str {
        &self.line_words[self.program]
    }

    /// The program's file name: `tar` for `/usr/bin/tar`.
    pub fn program_name(&self) -> &str {
        let program = self.program();
        program.rsplit('/').next().unwrap_or(program)
    }

    /// `NAME=value` assignments written before the program.
    pub fn env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.line_words[self.start..self.program]
            .iter()
            .filter_map(|word| split_assignment(word))
    }

    /// Whole-word occurrences of `needle` in the words of the logical line before `args()[index]`.
    fn occurrences_before(&self, index: usize, needle: &str) -> usize {
        self.line_words[..self.program + index]
            .iter()
            .map(|word| word_occurrences(word, needle).count())
            .sum()
    }
}

/// A place where an entry point sets an environment variable (`NAME=…`, `export NAME=…`,
/// `ENV NAME …`, `NAME: …` in a workflow, `NAME := …` in a Makefile or justfile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvAssignment {
    /// The variable's name.
    pub name: String,
    /// The name, on the physical line where it is written.
    pub location: Location,
}

/// Words that open a command: `RUN cargo …`, `- run: cargo …`, `then cargo …`.
const COMMAND_OPENERS: &[&str] = &["then", "do", "else", "!", "{", "-", "run:", "RUN"];

/// Programs that run the rest of the command: `sudo cargo …`.
const COMMAND_WRAPPERS: &[&str] = &[
    "sudo", "exec", "time", "nice", "nohup", "command", "builtin",
];

impl EntryPoint {
    /// Every simple command of the file, with `RUN`, `run:`, `sudo`, `env`, recipe markers
    /// (`@`, `-`) and `rustup run <toolchain>` stripped, and environment assignments set apart.
    pub fn commands(&self) -> Vec<Command> {
        let mut out = Vec::new();
        for logical in self.logical_lines() {
            let line_words = command_words(&logical.text);
            let mut from = 0;
            for index in 0..=line_words.len() {
                if index == line_words.len() || is_separator(&line_words[index]) {
                    out.extend(command_in(logical.line, &line_words, from, index));
                    from = index + 1;
                }
            }
        }
        out
    }

    /// The location of `needle` (a whole word, or part of `args()[index]`) in the command.
    pub fn arg_location(&self, command: &Command, index: usize, needle: &str) -> Location {
        let nth = command.occurrences_before(index, needle);
        self.nth_word_location(command.line, needle, nth)
    }

    /// The location of the `nth` (0-based) whole-word `needle` at or after line `start`,
    /// outside comments; the start line when there is none.
    pub fn nth_word_location(&self, start: usize, needle: &str, nth: usize) -> Location {
        let mut seen = 0;
        for line in start..=self.file.line_count() {
            let text = self.file.line_text(line);
            if text.trim_start().starts_with('#') {
                continue;
            }
            for at in word_occurrences(strip_shell_comment(text), needle) {
                if seen == nth {
                    let begin = self.file.line_start(line) + at;
                    return self.file.location(begin..begin + needle.len());
                }
                seen += 1;
            }
        }
        self.file.line_location(start.min(self.file.line_count()))
    }

    /// Every occurrence of `needle` (as a substring) outside comments, in file order.
    pub fn occurrences(&self, needle: &str) -> Vec<Location> {
        let mut out = Vec::new();
        if needle.is_empty() {
            return out;
        }
        for line in 1..=self.file.line_count() {
            let text = self.file.line_text(line);
            if text.trim_start().starts_with('#') {
                continue;
            }
            for (at, _) in strip_shell_comment(text).match_indices(needle) {
                let begin = self.file.line_start(line) + at;
                out.push(self.file.location(begin..begin + needle.len()));
            }
        }
        out
    }

    /// The places where the file sets the environment variable `name`.
    pub fn env_assignments(&self, name: &str) -> Vec<EnvAssignment> {
        let mut out = Vec::new();
        for logical in self.logical_lines() {
            for (nth, at) in word_occurrences(&logical.text, name).enumerate() {
                if self.is_assignment(&logical.text, at, name) {
                    out.push(EnvAssignment {
                        name: name.to_string(),
                        location: self.nth_word_location(logical.line, name, nth),
                    });
                }
            }
        }
        out
    }

    /// True when the `name` at byte `at` of `text` is being assigned a value.
    fn is_assignment(&self, text: &str, at: usize, name: &str) -> bool {
        let rest = &text[at + name.len()..];
        let operator = rest.trim_start();
        let spaced = operator.len() != rest.len();
        if ["=", ":=", "?=", "+=", "::="]
            .iter()
            .any(|op| operator.starts_with(op))
        {
            return !spaced || matches!(self.kind, EntryKind::Makefile | EntryKind::Justfile);
        }
        let yaml_key = self.kind == EntryKind::Workflow
            && !spaced
            && rest
                .strip_prefix(':')
                .is_some_and(|value| value.starts_with(' ') || value.is_empty());
        let legacy_env = self.kind == EntryKind::Dockerfile
            && spaced
            && !operator.is_empty()
            && text[..at].trim_end().rsplit(' ').next() == Some("ENV");
        yaml_key || legacy_env
    }
}

/// The words of a logical line, with `;` at the end of a word split off as its own word.
fn command_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for word in shell_words(text) {
        let trimmed = word.trim_end_matches(';');
        if !trimmed.is_empty() {
            words.push(trimmed.to_string());
        }
        if trimmed.len() != word.len() {
            words.push(";".to_string());
        }
    }
    words
}

fn is_separator(word: &str) -> bool {
    matches!(word, "&&" | "||" | ";" | "|" | "(" | ")" | "&")
}

/// The command made of `words[from..to]`, once prefixes and assignments are set apart.
fn command_in(line: usize, words: &[String], from: usize, to: usize) -> Option<Command> {
    let mut start = from;
    let mut index = from;
    let mut after_run = false;
    while index < to {
        let word = words[index].as_str();
        let opener = if COMMAND_OPENERS.contains(&word) {
            after_run = word == "RUN";
            1
        } else if after_run && word.starts_with("--") {
            1
        } else {
            0
        };
        if opener > 0 {
            index += opener;
            start = index;
            continue;
        }
        let skip = if COMMAND_WRAPPERS.contains(&word) {
            1
        } else if word == "env" {
            1 + env_options_len(&words[index + 1..to])
        } else if word == "rustup" && words.get(index + 1).is_some_and(|w| w == "run") {
            3
        } else {
            0
        };
        if skip > 0 {
            index += skip;
        } else if split_assignment(word).is_some() {
            index += 1;
        } else {
            break;
        }
    }
    if index >= to {
        return None;
    }
    let mut line_words = words.to_vec();
    let program = &mut line_words[index];
    let bare = program.trim_start_matches(['@', '-', '+']);
    if bare.len() != program.len() && !bare.is_empty() {
        *program = bare.to_string();
    }
    Some(Command {
        line,
        line_words,
        start,
        program: index,
        end: to,
    })
}

/// How many words after `env` are its options (`-i`, `-u NAME`).
fn env_options_len(words: &[String]) -> usize {
    let mut len = 0;
    while let Some(word) = words.get(len) {
        if !word.starts_with('-') {
            break;
        }
        len += if word == "-u" { 2 } else { 1 };
    }
    len.min(words.len())
}

/// `("NAME", "value")` for a `NAME=value` word.
fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let is_name = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then_some((name, value))
}

/// Byte offsets of the whole-word occurrences of `needle` in `text`.
fn word_occurrences<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(needle)
        .map(|(at, _)| at)
        .filter(move |&at| {
            let before = text[..at].chars().next_back();
            let after = text[at + needle.len()..].chars().next();
            !needle.is_empty()
                && before.is_none_or(is_boundary_before)
                && after.is_none_or(is_boundary_after)
        })
}

/// Characters that may come just before a whole word.
fn is_boundary_before(c: char) -> bool {
    c.is_whitespace() || "\"'`;&|()<>=".contains(c)
}

/// Characters that may come just after a whole word.
fn is_boundary_after(c: char) -> bool {
    is_boundary_before(c) || ":,}]".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_commands() {
        assert_eq!(shell_words(r#"a "b c" 'd'"#), ["a", "b c", "d"]);
        let cmds = simple_commands("RUN cargo fetch && cargo build --release; echo ok");
        assert_eq!(
            cmds,
            [
                vec!["RUN", "cargo", "fetch"],
                vec!["cargo", "build", "--release"],
                vec!["echo", "ok"]
            ]
        );
    }

    #[test]
    fn continuation_lines_join() {
        let file = SourceFile::new(
            "Dockerfile".into(),
            "Dockerfile".into(),
            "# c\nRUN cargo build \\\n    --release # trailing\nFROM x\n".into(),
        );
        let ep = EntryPoint {
            kind: EntryKind::Dockerfile,
            file,
        };
        let lines = ep.logical_lines();
        assert_eq!(
            lines[0],
            LogicalLine {
                line: 2,
                text: "RUN cargo build --release".into()
            }
        );
        assert_eq!(lines[1].line, 4);
    }

    fn entry(kind: EntryKind, text: &str) -> EntryPoint {
        EntryPoint::from_text(kind, text)
    }

    #[test]
    fn environment_assignments() {
        let docker = entry(
            EntryKind::Dockerfile,
            "ENV RUSTFLAGS=\"-C x\"\nENV RUSTFLAGS -C y\nRUN echo $RUSTFLAGS ${RUSTFLAGS}\n\
             RUN CARGO_ENCODED_RUSTFLAGS=a cargo build\n# RUSTFLAGS=z\n",
        );
        let lines: Vec<_> = docker
            .env_assignments("RUSTFLAGS")
            .iter()
            .map(|a| (a.location.line, a.location.column))
            .collect();
        assert_eq!(lines, [(Some(1), Some(5)), (Some(2), Some(5))]);
        let workflow = entry(EntryKind::Workflow, "env:\n  RUSTFLAGS: -C x\n  OTHER: 1\n");
        assert_eq!(workflow.env_assignments("RUSTFLAGS").len(), 1);
        let make = entry(EntryKind::Makefile, "export RUSTFLAGS := -C x\n");
        assert_eq!(make.env_assignments("RUSTFLAGS").len(), 1);
        let script = entry(
            EntryKind::Script,
            "unset RUSTFLAGS\nRUSTFLAGS= cargo build\n",
        );
        assert_eq!(script.env_assignments("RUSTFLAGS").len(), 1);
    }

    #[test]
    fn commands_strip_prefixes() {
        let script = entry(
            EntryKind::Workflow,
            "      - run: A=1 env -u B sudo cargo build; tar cf x\n",
        );
        let commands = script.commands();
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].args(), ["cargo", "build"]);
        assert_eq!(commands[0].env().collect::<Vec<_>>(), [("A", "1")]);
        assert_eq!(commands[1].program_name(), "tar");
        let location = script.arg_location(&commands[1], 0, "tar");
        assert_eq!(location.column, Some(45));
    }
}
