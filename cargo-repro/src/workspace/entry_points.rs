//! Build entry points (Dockerfiles, CI workflows, justfiles, Makefiles, scripts) and their commands.

use std::path::Path;

use super::source_file::SourceFile;
use super::{display_path, read_dir_in};

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
}
