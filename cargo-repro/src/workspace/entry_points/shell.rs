//! Shell scripts split into simple commands: words with their spans in the file, through
//! `&&`, `||`, `;`, pipes, subshells, line continuations, `if`/`case` arms, loops and heredocs.
//!
//! This is not a shell: nothing is expanded. A word that holds a command substitution, a
//! parameter expansion or a `${{ … }}` expression is marked `dynamic`, so rules never report
//! its text as a value. (The shell-words crates split one command into words; they neither
//! keep byte spans nor split at operators, which every rule here needs.)

use std::ops::Range;

/// A text made of pieces of a file (a `run:` block, a Dockerfile `RUN` with continuations),
/// with each offset of the text mapped back to a byte offset of the file.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub text: String,
    /// `(offset in text, offset in file)` where each piece starts, sorted.
    pieces: Vec<(usize, usize)>,
}

impl Script {
    /// A script that is one contiguous stretch of the file, starting at byte `file_offset`.
    pub fn contiguous(text: &str, file_offset: usize) -> Script {
        Script {
            text: text.to_string(),
            pieces: vec![(0, file_offset)],
        }
    }

    /// Appends `text`, found in the file at `file_offset`.
    pub fn push(&mut self, text: &str, file_offset: usize) {
        self.pieces.push((self.text.len(), file_offset));
        self.text.push_str(text);
    }

    /// Appends text that is not in the file (a joining space); it maps to where the previous
    /// piece ends.
    pub fn push_synthetic(&mut self, text: &str) {
        let at = self.file_offset(self.text.len());
        self.pieces.push((self.text.len(), at));
        self.text.push_str(text);
        self.pieces.push((self.text.len(), at));
    }

    /// The text from offset `from` on, with its mapping.
    pub fn tail(&self, from: usize) -> Script {
        let mut out = Script {
            text: self.text[from..].to_string(),
            pieces: vec![(0, self.file_offset(from))],
        };
        for &(start, file) in &self.pieces {
            if start > from {
                out.pieces.push((start - from, file));
            }
        }
        out
    }

    /// The file offset of text offset `at`.
    pub fn file_offset(&self, at: usize) -> usize {
        let index = match self.pieces.binary_search_by(|(start, _)| start.cmp(&at)) {
            Ok(index) => {
                // Several pieces may start at one offset; the last one is the real one.
                let mut index = index;
                while self.pieces.get(index + 1).is_some_and(|(s, _)| *s == at) {
                    index += 1;
                }
                index
            }
            Err(0) => return at,
            Err(index) => index - 1,
        };
        let (start, file) = self.pieces[index];
        file + (at - start)
    }

    /// The file span of a text span (its start and length; pieces never split a word's start).
    fn file_span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.file_offset(span.start);
        start..start + (span.end - span.start)
    }
}

/// A shell word: its text with quotes removed, and where it is written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Unquoted text; expansions are kept as written (`$VERSION`, `${{ matrix.target }}`).
    pub text: String,
    /// The byte span of the word in the file.
    pub span: Range<usize>,
    /// True when the word holds an expansion whose value the tool cannot know.
    pub dynamic: bool,
    /// For a dynamic word, every value it can take, when the tool can list them all (the
    /// values of a matrix key, the arms of a just `if`, `a || 'b'`); empty when it cannot.
    /// Each value is free of expansions.
    pub values: Vec<String>,
}

impl Word {
    /// A word that stands for a value set elsewhere (an environment value, a YAML scalar).
    pub fn new(text: impl Into<String>, span: Range<usize>) -> Word {
        let text = text.into();
        let dynamic = is_dynamic(&text);
        Word {
            text,
            span,
            dynamic,
            values: Vec::new(),
        }
    }

    /// Every value the word can take: its text when it is static, the listed values of a
    /// dynamic word; `None` when the tool cannot tell.
    pub fn possible(&self) -> Option<Vec<&str>> {
        if !self.dynamic {
            Some(vec![self.text.as_str()])
        } else if self.values.is_empty() {
            None
        } else {
            Some(self.values.iter().map(String::as_str).collect())
        }
    }

    /// Gives the word the values it can take: one value makes it static, several are listed,
    /// none known (`None`) leaves it as it is.
    pub fn set_values(&mut self, values: Option<Vec<String>>) {
        let Some(mut values) = values else { return };
        values.dedup();
        if values.is_empty() || values.iter().any(|v| is_dynamic(v)) {
            return;
        }
        let mut seen = std::collections::BTreeSet::new();
        values.retain(|v| seen.insert(v.clone()));
        if values.len() == 1 {
            self.text = values.remove(0);
            self.dynamic = false;
            self.values.clear();
        } else {
            self.values = values;
        }
    }

    /// `NAME` and `value` of a `NAME=value` word.
    pub fn assignment(&self) -> Option<(&str, &str)> {
        split_assignment(&self.text)
    }
}

/// True when text holds an expansion: `$x`, `${x}`, `$(…)`, backquotes, `${{ … }}`, `{{ … }}`.
pub fn is_dynamic(text: &str) -> bool {
    text.contains('$') || text.contains('`') || text.contains("{{")
}

/// One simple command: `A=1 sudo cargo build --release` is assignments `A=1`, prefix `sudo`,
/// words `cargo build --release`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    /// `NAME=value` words before the program.
    pub assignments: Vec<Word>,
    /// Wrappers before the program (`sudo`, `env -i`, `rustup run 1.95.0`, `time`).
    pub prefix: Vec<Word>,
    /// The program and its arguments, redirections removed.
    pub words: Vec<Word>,
    /// Where its standard output goes, when it is redirected to a file (`> f`, `>> f`).
    pub stdout: Option<Word>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(Word, Range<usize>),
    /// The target of a redirection of standard output.
    Stdout(Word),
    /// `&&`, `||`, `;`, `;;`, `|`, `&`, `(`, `)`, or a newline (`\n`).
    Operator(&'static str),
}

/// Splits a script into its simple commands, in order. Never fails: what it cannot read as
/// shell it reads as words.
pub fn parse(script: &Script) -> Vec<SimpleCommand> {
    let tokens = tokenize(script);
    let mut commands = Vec::new();
    let mut current: Vec<(Word, Range<usize>)> = Vec::new();
    let mut state = State::default();
    for token in tokens {
        match token {
            Token::Word(word, raw) => current.push((word, raw)),
            Token::Stdout(word) => state.stdout = Some(word),
            Token::Operator(op) => {
                if op == ")" && state.case_pattern {
                    // `pattern)`: the words so far name a case arm, not a command.
                    current.clear();
                    state.case_pattern = false;
                    continue;
                }
                finish(&mut current, &mut state, &mut commands);
                if op == ";;" {
                    state.case_pattern = state.case_depth > 0;
                }
            }
        }
    }
    finish(&mut current, &mut state, &mut commands);
    commands
}

#[derive(Default)]
struct State {
    /// The standard output redirection of the command being read.
    stdout: Option<Word>,
    /// Inside `case … esac`, how deep.
    case_depth: usize,
    /// The next words up to `)` are a case pattern.
    case_pattern: bool,
}

/// Words that open or close a compound command; the command proper follows them.
const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "!", "{", "}", "esac",
];

/// Programs that run the rest of the command line.
const WRAPPERS: &[&str] = &[
    "sudo", "exec", "time", "nice", "nohup", "command", "builtin", "eval", "fakeroot",
];

fn finish(
    current: &mut Vec<(Word, Range<usize>)>,
    state: &mut State,
    commands: &mut Vec<SimpleCommand>,
) {
    let mut words: Vec<Word> = std::mem::take(current)
        .into_iter()
        .map(|(word, _)| word)
        .collect();
    let stdout = state.stdout.take();
    loop {
        let Some(first) = words.first() else {
            return;
        };
        let text = first.text.as_str();
        if text == "esac" {
            state.case_depth = state.case_depth.saturating_sub(1);
            state.case_pattern = false;
            words.remove(0);
            continue;
        }
        if state.case_pattern {
            // A pattern with no `)` seen (malformed): drop it.
            state.case_pattern = false;
            return;
        }
        match text {
            "case" => {
                state.case_depth += 1;
                state.case_pattern = true;
                return;
            }
            "for" | "select" => {
                // `for x in a b; do cmd` arrives as `for x in a b` then `do cmd`.
                match words.iter().position(|w| w.text == "do") {
                    Some(at) => {
                        words.drain(..=at);
                    }
                    None => return,
                }
            }
            "function" => {
                // `function name {`: the body follows.
                words.drain(..2.min(words.len()));
            }
            _ if text.ends_with("()") && text.len() > 2 => {
                // `name() {`: a function definition; its body follows.
                words.remove(0);
            }
            _ if RESERVED.contains(&text) => {
                words.remove(0);
            }
            _ => break,
        }
    }
    let assignments_end = words
        .iter()
        .position(|w| w.assignment().is_none())
        .unwrap_or(words.len());
    let assignments: Vec<Word> = words.drain(..assignments_end).collect();
    let mut prefix = Vec::new();
    while let Some(first) = words.first() {
        let skip = match first.text.as_str() {
            "sudo" => 1 + options_len(&words[1..], &["-u", "-g", "-C", "-h", "-p"]),
            "env" => {
                let options = options_len(&words[1..], &["-u", "-C", "-S"]);
                let assigns = words[1 + options..]
                    .iter()
                    .take_while(|w| w.assignment().is_some())
                    .count();
                1 + options + assigns
            }
            "rustup" if words.get(1).is_some_and(|w| w.text == "run") => 3.min(words.len()),
            "nice" => 1 + options_len(&words[1..], &["-n"]),
            "fakeroot" => 1 + options_len(&words[1..], &["-l", "--lib", "-s", "-i", "-b"]),
            word if WRAPPERS.contains(&word) => 1 + options_len(&words[1..], &[]),
            _ => 0,
        };
        if skip == 0 {
            break;
        }
        prefix.extend(words.drain(..skip.min(words.len())));
    }
    if words.is_empty() && assignments.is_empty() {
        return;
    }
    commands.push(SimpleCommand {
        assignments,
        prefix,
        words,
        stdout,
    });
}

/// How many of `words` are options (with the values of those in `with_value`).
fn options_len(words: &[Word], with_value: &[&str]) -> usize {
    let mut len = 0;
    while let Some(word) = words.get(len) {
        if !word.text.starts_with('-') || word.text == "--" {
            if word.text == "--" {
                len += 1;
            }
            break;
        }
        len += if with_value.contains(&word.text.as_str()) {
            2
        } else {
            1
        };
    }
    len.min(words.len())
}

/// `("NAME", "value")` for a `NAME=value` word.
pub fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let is_name = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then_some((name, value))
}

/// The lexer: words (quotes removed, expansions kept and flagged) and operators.
fn tokenize(script: &Script) -> Vec<Token> {
    let text = script.text.as_str();
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    let mut at = 0;
    // A redirection's target is still to come: `Some(true)` when it receives standard output.
    let mut redirect_pending: Option<bool> = None;
    while at < bytes.len() {
        let c = bytes[at];
        match c {
            b' ' | b'\t' | b'\r' => at += 1,
            b'\\' if bytes.get(at + 1) == Some(&b'\n') => at += 2,
            b'\n' => {
                tokens.push(Token::Operator("\n"));
                at += 1;
                for (delimiter, strip_tabs) in std::mem::take(&mut heredocs) {
                    at = skip_heredoc(text, at, &delimiter, strip_tabs);
                }
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
            }
            b'&' | b'|' | b';' | b'(' | b')' => {
                let two = text.get(at..at + 2).unwrap_or("");
                let op: &'static str = match two {
                    "&&" => "&&",
                    "||" => "||",
                    ";;" => ";;",
                    "|&" => "|",
                    "&>" => {
                        at += 2;
                        redirect_pending = Some(true);
                        continue;
                    }
                    _ => match c {
                        b'&' => "&",
                        b'|' => "|",
                        b';' => ";",
                        b'(' => "(",
                        _ => ")",
                    },
                };
                at += op.len().max(1);
                if two == "|&" {
                    at += 1;
                }
                tokens.push(Token::Operator(op));
            }
            b'<' | b'>' => {
                let pending;
                (at, pending) = redirect(text, at, &mut heredocs);
                redirect_pending = pending.then_some(c == b'>');
            }
            _ => {
                let (word, end) = read_word(text, at);
                // `2>file`, `2>&1`: a file descriptor number glued to a redirection.
                if word.chars().all(|c| c.is_ascii_digit())
                    && matches!(bytes.get(end), Some(b'<' | b'>'))
                {
                    let pending;
                    (at, pending) = redirect(text, end, &mut heredocs);
                    redirect_pending = pending.then_some(word == "1" && bytes[end] == b'>');
                    continue;
                }
                let span = script.file_span(&(at..end));
                let dynamic = is_dynamic(&word);
                let word = Word {
                    text: word,
                    span,
                    dynamic,
                    values: Vec::new(),
                };
                match redirect_pending.take() {
                    // `>&2`, `>&-`: a descriptor, not a file.
                    Some(true) if !word.text.chars().all(|c| c.is_ascii_digit() || c == '-') => {
                        tokens.push(Token::Stdout(word));
                    }
                    Some(_) => {}
                    None => tokens.push(Token::Word(word, at..end)),
                }
                at = end;
            }
        }
    }
    tokens
}

/// Skips a redirection operator at `at` (`>`, `>>`, `<`, `<<EOF`, `>&2`…); returns where its
/// target word starts, and whether that word is still to come (not for a heredoc, whose
/// delimiter is read here and queued so its body is skipped).
fn redirect(text: &str, mut at: usize, heredocs: &mut Vec<(String, bool)>) -> (usize, bool) {
    let bytes = text.as_bytes();
    if text[at..].starts_with("<<<") {
        return (at + 3, true);
    }
    if text[at..].starts_with("<<") {
        at += 2;
        let strip_tabs = bytes.get(at) == Some(&b'-');
        if strip_tabs {
            at += 1;
        }
        while bytes.get(at).is_some_and(|b| *b == b' ' || *b == b'\t') {
            at += 1;
        }
        let (delimiter, end) = read_word(text, at);
        if !delimiter.is_empty() {
            heredocs.push((delimiter, strip_tabs));
        }
        return (end, false);
    }
    at += 1;
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b'>' | b'&' | b'|'))
    {
        at += 1;
    }
    // `>&2`, `>&-`: the target is glued on; read it as the pending word.
    (at, true)
}

/// The offset after a heredoc body that starts at `at`.
fn skip_heredoc(text: &str, mut at: usize, delimiter: &str, strip_tabs: bool) -> usize {
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[at..end];
        let line = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        at = (end + 1).min(text.len());
        if line.trim_end() == delimiter {
            break;
        }
    }
    at
}

/// Reads one word from `at`: the unquoted text and the offset after it.
fn read_word(text: &str, start: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = start;
    while at < bytes.len() {
        let c = bytes[at];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' => break,
            b'(' | b')' => {
                // `name()` of a function definition stays one word.
                if c == b'(' && bytes.get(at + 1) == Some(&b')') && !out.is_empty() {
                    out.push_str("()");
                    at += 2;
                    continue;
                }
                break;
            }
            b'\\' => {
                match text[at + 1..].chars().next() {
                    Some('\n') => {}
                    Some(next) => out.push(next),
                    None => {}
                }
                at += 1 + text[at + 1..].chars().next().map_or(0, char::len_utf8);
            }
            b'\'' => {
                let end = text[at + 1..].find('\'').map_or(text.len(), |i| at + 1 + i);
                out.push_str(&text[at + 1..end]);
                at = (end + 1).min(text.len());
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    if bytes[at] == b'\\'
                        && matches!(bytes.get(at + 1), Some(b'"' | b'\\' | b'$' | b'`'))
                    {
                        out.push(bytes[at + 1] as char);
                        at += 2;
                    } else if bytes[at] == b'\\' && bytes.get(at + 1) == Some(&b'\n') {
                        at += 2;
                    } else if bytes[at] == b'$' {
                        let end = expansion_end(text, at);
                        out.push_str(&text[at..end]);
                        at = end;
                    } else {
                        let ch = text[at..].chars().next().expect("in bounds");
                        out.push(ch);
                        at += ch.len_utf8();
                    }
                }
                at = (at + 1).min(text.len());
            }
            b'`' => {
                let end = text[at + 1..].find('`').map_or(text.len(), |i| at + 2 + i);
                out.push_str(&text[at..end.min(text.len())]);
                at = end.min(text.len());
            }
            b'$' => {
                let end = expansion_end(text, at);
                out.push_str(&text[at..end]);
                at = end;
            }
            // A just interpolation (`{{ if x != "" { "a" } else { "b" } }}`) is one piece of
            // a word, spaces and all.
            b'{' if bytes.get(at + 1) == Some(&b'{') => {
                let end = text[at..].find("}}").map_or(text.len(), |i| at + i + 2);
                out.push_str(&text[at..end]);
                at = end;
            }
            _ => {
                let ch = text[at..].chars().next().expect("in bounds");
                out.push(ch);
                at += ch.len_utf8();
            }
        }
    }
    (out, at)
}

/// The end of an expansion starting with `$` at `at`: `$(…)`, `${…}`, `${{ … }}`, `$NAME`.
fn expansion_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes.get(at + 1) {
        Some(b'(') => balanced_end(text, at + 1, b'(', b')'),
        Some(b'{') if bytes.get(at + 2) == Some(&b'{') => {
            text[at..].find("}}").map_or(text.len(), |i| at + i + 2)
        }
        Some(b'{') => balanced_end(text, at + 1, b'{', b'}'),
        Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'@' | b'*' | b'#' | b'?') => {
            let mut end = at + 2;
            if c.is_ascii_alphabetic() || *c == b'_' {
                while bytes
                    .get(end)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    end += 1;
                }
            }
            end
        }
        _ => at + 1,
    }
}

/// The offset after the bracket that closes the one at `open_at`, skipping quoted text.
fn balanced_end(text: &str, open_at: usize, open: u8, close: u8) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = open_at;
    let mut quote: Option<u8> = None;
    while at < bytes.len() {
        let c = bytes[at];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == open => depth += 1,
            None if c == close => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            None => {}
        }
        at += 1;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(text: &str) -> Vec<Vec<String>> {
        parse(&Script::contiguous(text, 0))
            .into_iter()
            .map(|c| c.words.into_iter().map(|w| w.text).collect())
            .collect()
    }

    #[test]
    fn splits_at_operators_and_keywords() {
        let text = "set -e\nif [ -n \"$X\" ]; then cargo build --release && tar czf a.tgz b; fi\n\
                    for t in a b; do make $t; done\n(cd x || exit 1) | tee log\n";
        assert_eq!(
            commands(text),
            [
                vec!["set", "-e"],
                vec!["[", "-n", "$X", "]"],
                vec!["cargo", "build", "--release"],
                vec!["tar", "czf", "a.tgz", "b"],
                vec!["make", "$t"],
                vec!["cd", "x"],
                vec!["exit", "1"],
                vec!["tee", "log"],
            ]
        );
    }

    #[test]
    fn case_arms_heredocs_and_redirections() {
        let text = "case \"$1\" in\n  release) cargo build --release ;;\n  *) echo no >&2 ;;\nesac\n\
                    cat > f <<EOF\ncargo build\nEOF\ncargo test 2>&1 > out.log\n";
        assert_eq!(
            commands(text),
            [
                vec!["cargo", "build", "--release"],
                vec!["echo", "no"],
                vec!["cat"],
                vec!["cargo", "test"],
            ]
        );
    }

    #[test]
    fn assignments_wrappers_and_spans() {
        let text = "A=1 sudo -E env -u B C=2 cargo \"build\" $(echo x) ${{ env.T }}";
        let parsed = parse(&Script::contiguous(text, 10));
        assert_eq!(parsed.len(), 1);
        let command = &parsed[0];
        assert_eq!(command.assignments[0].text, "A=1");
        let prefix: Vec<_> = command.prefix.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(prefix, ["sudo", "-E", "env", "-u", "B", "C=2"]);
        assert_eq!(command.words[0].text, "cargo");
        assert_eq!(command.words[0].span, 35..40);
        assert_eq!(command.words[1].text, "build");
        assert!(!command.words[1].dynamic);
        assert!(command.words[2].dynamic);
        assert_eq!(command.words[3].text, "${{ env.T }}");
    }

    #[test]
    fn standard_output_redirections() {
        let stdout = |text: &str| -> Option<String> {
            parse(&Script::contiguous(text, 0))
                .remove(0)
                .stdout
                .map(|w| w.text)
        };
        assert_eq!(
            stdout("echo \"A=1\" >> $GITHUB_ENV\n").as_deref(),
            Some("$GITHUB_ENV")
        );
        assert_eq!(
            stdout("cargo build > out.log 2>&1\n").as_deref(),
            Some("out.log")
        );
        assert_eq!(stdout("cargo build 2> err.log\n"), None);
        assert_eq!(stdout("echo no >&2\n"), None);
        assert_eq!(
            stdout("app --man 1> man/app.1\n").as_deref(),
            Some("man/app.1")
        );
        let just = parse(&Script::contiguous(
            "{{ if a == \"b\" { \"cargo\" } else { \"cross\" } }} build\n",
            0,
        ));
        assert_eq!(just[0].words.len(), 2, "an interpolation is one word");
        let wrapped = parse(&Script::contiguous("fakeroot dpkg-deb --build pkg\n", 0));
        assert_eq!(wrapped[0].words[0].text, "dpkg-deb");
    }

    #[test]
    fn continuations_and_comments() {
        let text = "cargo build \\\n  --release # not --locked\n# cargo install x\n";
        assert_eq!(commands(text), [vec!["cargo", "build", "--release"]]);
        assert_eq!(
            commands("f() {\n  cargo build\n}\n"),
            [vec!["cargo", "build"]]
        );
    }

    #[test]
    fn pieces_map_offsets_back() {
        let mut script = Script::contiguous("cargo build", 100);
        script.push_synthetic(" ");
        script.push("--release", 200);
        let parsed = parse(&script);
        assert_eq!(parsed[0].words[2].span, 200..209);
        assert_eq!(parsed[0].words[0].span, 100..105);
    }
}
