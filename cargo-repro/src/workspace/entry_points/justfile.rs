//! justfiles: recipes (name, dependencies, body lines or a shebang script), the variables
//! exported to them, and just's expressions: a variable's value (`if … { "a" } else { "b" }`,
//! `+`, `/`, other variables, over several lines) and each `{{ … }}` of a recipe are
//! evaluated to every value they can take. Backquotes, `env_var(…)` and other functions, and
//! recipe parameters are values the tool cannot know.

use std::collections::BTreeMap;

use super::shell::{Script, Word};
use super::values::{product, shell_values};
use super::{EnvVar, Job, commands_of};
use crate::workspace::source_file::SourceFile;

/// A variable of the justfile: its expression and where it is written.
#[derive(Clone, Debug)]
struct Variable {
    expression: String,
    /// Where the expression starts in the file.
    at: usize,
    name_span: std::ops::Range<usize>,
    exported: bool,
}

/// One job per recipe.
pub fn parse(file: &SourceFile) -> Vec<Job> {
    let mut recipes: Vec<(Job, Script)> = Vec::new();
    let mut variables: BTreeMap<String, Variable> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut export_all = false;
    let mut current: Option<(Job, Script)> = None;
    let mut line_no = 1;
    while line_no <= file.line_count() {
        let text = file.line_text(line_no);
        let start = file.line_start(line_no);
        line_no += 1;
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
        if let Some(recipe) = current.take() {
            recipes.push(recipe);
        }
        let trimmed = text.trim_end();
        if trimmed.starts_with('#') || trimmed.starts_with('[') || trimmed.starts_with("alias ") {
            continue;
        }
        if trimmed.starts_with("set ") {
            export_all |= trimmed.contains("export") && !trimmed.contains("false");
            continue;
        }
        if let Some((name, name_span, exported, value_at)) = assignment_head(text, start) {
            // The expression runs on while its braces, parentheses or strings are open.
            let mut expression = file.text[value_at..start + text.len()].to_string();
            while !balanced(&expression) && line_no <= file.line_count() {
                expression.push('\n');
                expression.push_str(file.line_text(line_no));
                line_no += 1;
            }
            order.push(name.clone());
            variables.insert(
                name,
                Variable {
                    expression: strip_comments(&expression),
                    at: value_at,
                    name_span,
                    exported,
                },
            );
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
    if let Some(recipe) = current.take() {
        recipes.push(recipe);
    }
    let evaluator = std::cell::RefCell::new(Evaluator::new(&variables));
    let mut env: Vec<EnvVar> = Vec::new();
    for name in &order {
        let variable = &variables[name];
        if !(variable.exported || export_all) {
            continue;
        }
        env.push(EnvVar {
            name: name.clone(),
            name_span: variable.name_span.clone(),
            value: variable_word(variable, evaluator.borrow_mut().variable(name)),
        });
    }
    recipes
        .into_iter()
        .map(|(mut job, script)| {
            job.env = env.clone();
            let expand = |text: &str, env: &[EnvVar]| -> Option<Vec<String>> {
                let mut out = Vec::new();
                let candidates = evaluator.borrow_mut().template(text)?;
                for candidate in candidates {
                    out.extend(shell_values(&candidate, env)?);
                }
                product(vec![out])
            };
            job.commands = commands_of(&script, &job.env, None, &mut Vec::new(), Some(&expand));
            job
        })
        .collect()
}

/// The word for a variable's value: a single string literal is its text, where it is
/// written; any other expression is dynamic, with the values it can take.
fn variable_word(variable: &Variable, values: Option<Vec<String>>) -> Word {
    let raw = variable.expression.trim_end();
    let leading = raw.len() - raw.trim_start().len();
    let raw = raw.trim_start();
    let start = variable.at + leading;
    let tokens = tokenize(raw);
    if let Some([Token::Str(text)]) = tokens.as_deref()
        && !raw.starts_with("\"\"\"")
        && !raw.starts_with("'''")
    {
        return Word::new(text.clone(), start + 1..start + 1 + text.len());
    }
    let mut word = Word::new(raw, start..start + raw.len());
    word.dynamic = true;
    word.set_values(values);
    word
}

/// `[export] NAME := …`: the name, where it is, whether it is exported, and where the
/// expression starts.
fn assignment_head(
    line: &str,
    line_start: usize,
) -> Option<(String, std::ops::Range<usize>, bool, usize)> {
    let exported = line.starts_with("export ");
    let body = line.strip_prefix("export ").unwrap_or(line);
    let offset = line.len() - body.len();
    let (name, _) = body.split_once(":=")?;
    let name_trimmed = name.trim();
    if name_trimmed.is_empty()
        || !name_trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let name_at = line_start + offset + (name.len() - name.trim_start().len());
    let value_at = line_start + offset + name.len() + 2;
    Some((
        name_trimmed.to_string(),
        name_at..name_at + name_trimmed.len(),
        exported,
        value_at,
    ))
}

/// True when an expression closes every brace, parenthesis and string it opens.
fn balanced(expression: &str) -> bool {
    let text = strip_comments(expression);
    let mut depth: i64 = 0;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' | '`' => quote = Some(c),
                '{' | '(' => depth += 1,
                '}' | ')' => depth -= 1,
                _ => {}
            },
        }
    }
    depth <= 0 && quote.is_none()
}

/// The expression without its `#` comments (outside strings).
fn strip_comments(expression: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
                continue;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        out.push('\n');
                        break;
                    }
                }
                continue;
            }
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => {}
        }
        out.push(c);
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Str(String),
    /// A backquoted command: its output is not known.
    Backtick,
    Ident(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
        } else if c == '"' {
            let triple = chars.get(at..at + 3) == Some(&['"', '"', '"']);
            at += if triple { 3 } else { 1 };
            let mut s = String::new();
            loop {
                match chars.get(at) {
                    None => return None,
                    Some('"') if !triple => {
                        at += 1;
                        break;
                    }
                    Some('"') if chars.get(at..at + 3) == Some(&['"', '"', '"']) => {
                        at += 3;
                        break;
                    }
                    Some('\\') => {
                        let escaped = match chars.get(at + 1)? {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => *other,
                        };
                        s.push(escaped);
                        at += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        at += 1;
                    }
                }
            }
            out.push(Token::Str(s));
        } else if c == '\'' {
            let end = chars[at + 1..].iter().position(|&ch| ch == '\'')? + at + 1;
            out.push(Token::Str(chars[at + 1..end].iter().collect()));
            at = end + 1;
        } else if c == '`' {
            let end = chars[at + 1..].iter().position(|&ch| ch == '`')? + at + 1;
            out.push(Token::Backtick);
            at = end + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = at;
            while at < chars.len()
                && (chars[at].is_alphanumeric() || chars[at] == '_' || chars[at] == '-')
            {
                at += 1;
            }
            out.push(Token::Ident(chars[start..at].iter().collect()));
        } else {
            let two: String = chars[at..(at + 2).min(chars.len())].iter().collect();
            let op: &'static str = match two.as_str() {
                "==" => "==",
                "!=" => "!=",
                "=~" => "=~",
                "&&" => "&&",
                "||" => "||",
                _ => match c {
                    '+' => "+",
                    '/' => "/",
                    '(' => "(",
                    ')' => ")",
                    '{' => "{",
                    '}' => "}",
                    ',' => ",",
                    _ => return None,
                },
            };
            at += op.len();
            out.push(Token::Op(op));
        }
    }
    Some(out)
}

/// A just expression.
#[derive(Clone, Debug)]
enum Expr {
    Str(String),
    /// A backquoted command or a function call: its value is not known.
    Unknown,
    Variable(String),
    /// `a + b` (`joint` empty) or `a / b` (`joint` is `/`).
    Join(Box<Expr>, &'static str, Box<Expr>),
    If {
        left: Box<Expr>,
        op: &'static str,
        right: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek() == Some(token);
        if found {
            self.at += 1;
        }
        found
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.eat(&Token::Ident(word.to_string()))
    }

    /// `a + b / c`, or an `if`.
    fn value(&mut self) -> Option<Expr> {
        let mut left = self.operand()?;
        while let Some(Token::Op(op @ ("+" | "/"))) = self.peek().cloned() {
            self.at += 1;
            let right = self.operand()?;
            let joint = if op == "/" { "/" } else { "" };
            left = Expr::Join(Box::new(left), joint, Box::new(right));
        }
        Some(left)
    }

    fn operand(&mut self) -> Option<Expr> {
        if self.keyword("if") {
            return self.conditional();
        }
        let token = self.peek()?.clone();
        self.at += 1;
        match token {
            Token::Str(s) => Some(Expr::Str(s)),
            Token::Backtick => Some(Expr::Unknown),
            Token::Op("(") => {
                let inner = self.value()?;
                self.eat(&Token::Op(")")).then_some(inner)
            }
            Token::Ident(_) if self.eat(&Token::Op("(")) => {
                // A function: its value is not known; its arguments are read and dropped.
                if !self.eat(&Token::Op(")")) {
                    loop {
                        self.value()?;
                        if self.eat(&Token::Op(")")) {
                            break;
                        }
                        if !self.eat(&Token::Op(",")) {
                            return None;
                        }
                    }
                }
                Some(Expr::Unknown)
            }
            Token::Ident(name) => Some(Expr::Variable(name)),
            Token::Op(_) => None,
        }
    }

    /// After `if`: `A == B { x } else if … { y } else { z }`.
    fn conditional(&mut self) -> Option<Expr> {
        let left = self.value()?;
        let op = match self.peek() {
            Some(Token::Op(op @ ("==" | "!=" | "=~"))) => *op,
            _ => return None,
        };
        self.at += 1;
        let right = self.value()?;
        let then = self.block()?;
        if !self.keyword("else") {
            return None;
        }
        let otherwise = if self.keyword("if") {
            self.conditional()?
        } else {
            self.block()?
        };
        Some(Expr::If {
            left: Box::new(left),
            op,
            right: Box::new(right),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        })
    }

    fn block(&mut self) -> Option<Expr> {
        if !self.eat(&Token::Op("{")) {
            return None;
        }
        let inner = self.value()?;
        self.eat(&Token::Op("}")).then_some(inner)
    }
}

fn parse_expression(text: &str) -> Option<Expr> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let expr = parser.value()?;
    (parser.at == parser.tokens.len()).then_some(expr)
}

/// Evaluates expressions to every value they can take; `None` is a value the tool cannot
/// know.
struct Evaluator<'a> {
    variables: &'a BTreeMap<String, Variable>,
    memo: BTreeMap<String, Option<Vec<String>>>,
    /// Variables being evaluated (a cycle is unknown).
    busy: Vec<String>,
}

impl Evaluator<'_> {
    fn new(variables: &BTreeMap<String, Variable>) -> Evaluator<'_> {
        Evaluator {
            variables,
            memo: BTreeMap::new(),
            busy: Vec::new(),
        }
    }

    fn variable(&mut self, name: &str) -> Option<Vec<String>> {
        if let Some(found) = self.memo.get(name) {
            return found.clone();
        }
        if self.busy.iter().any(|b| b == name) {
            return None;
        }
        let expression = self.variables.get(name)?.expression.clone();
        self.busy.push(name.to_string());
        let values = self.expression(&expression);
        self.busy.pop();
        self.memo.insert(name.to_string(), values.clone());
        values
    }

    fn expression(&mut self, text: &str) -> Option<Vec<String>> {
        let expr = parse_expression(text)?;
        self.eval(&expr)
    }

    fn eval(&mut self, expr: &Expr) -> Option<Vec<String>> {
        match expr {
            Expr::Str(s) => Some(vec![s.clone()]),
            Expr::Unknown => None,
            Expr::Variable(name) => self.variable(name),
            Expr::Join(left, joint, right) => {
                let (left, right) = (self.eval(left)?, self.eval(right)?);
                product(vec![left, vec![joint.to_string()], right])
            }
            Expr::If {
                left,
                op,
                right,
                then,
                otherwise,
            } => {
                // The arm the condition picks when both sides are known, else every arm.
                let decided = match (self.eval(left), self.eval(right)) {
                    (Some(l), Some(r)) if l.len() == 1 && r.len() == 1 && *op != "=~" => {
                        Some((l[0] == r[0]) == (*op == "=="))
                    }
                    _ => None,
                };
                match decided {
                    Some(true) => self.eval(then),
                    Some(false) => self.eval(otherwise),
                    None => {
                        let mut all = self.eval(then)?;
                        all.extend(self.eval(otherwise)?);
                        product(vec![all])
                    }
                }
            }
        }
    }

    /// The `{{ … }}` of a recipe line substituted, every way they can be.
    fn template(&mut self, text: &str) -> Option<Vec<String>> {
        let mut parts: Vec<Vec<String>> = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("{{") {
            if rest[at..].starts_with("{{{{") {
                // `{{{{` is a literal `{{`.
                parts.push(vec![format!("{}{{{{", &rest[..at])]);
                rest = &rest[at + 4..];
                continue;
            }
            parts.push(vec![rest[..at].to_string()]);
            let after = &rest[at + 2..];
            // The first `}}` that closes a balanced expression.
            let mut from = 0;
            let end = loop {
                let found = from + after[from..].find("}}")?;
                if balanced(&after[..found]) {
                    break found;
                }
                from = found + 1;
            };
            parts.push(self.expression(&after[..end])?);
            rest = &after[end + 2..];
        }
        parts.push(vec![rest.to_string()]);
        product(parts)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(text: &str) -> (SourceFile, Vec<Job>) {
        let file = SourceFile::new("justfile".into(), "justfile".into(), text.into());
        let jobs = parse(&file);
        (file, jobs)
    }

    #[test]
    fn recipes_dependencies_and_exports() {
        let text = "export RUSTFLAGS := \"-C x\"\nversion := `git describe`\n\n\
                    # Build the release\nrelease target='x': check (build target)\n    @cargo build --release --locked\n    tar czf a b\n\n\
                    test:\n    cargo test\n";
        let (file, jobs) = jobs(text);
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
        let (_, jobs) = jobs(text);
        assert_eq!(jobs[0].commands[0].program().text, "cross");
        assert!(jobs[0].commands[1].program().dynamic);
    }

    #[test]
    fn expressions_over_several_lines_give_every_value() {
        let text = "use-cross := env_var_or_default(\"JUST_USE_CROSS\", \"\")\n\
                    cargo := if use-cross != \"\" { \"cross\" } else { \"cargo\" }\n\
                    cargo-bin := if env_var_or_default(\"A\", \"\") != \"\" {\n    \"cargo-auditable auditable\"\n} else {\n    cargo\n}\n\
                    icf := if use-cross != \"\" {\n  \" -C link-arg=-Wl,--icf=safe\" # comment {\n} else {\n  \"\"\n}\n\
                    lld := \"\" #if x {\n\
                    export RUSTFLAGS := (icf) + (lld) + (if use-cross != \"\" { \" --cfg x\" } else { \"\" })\n\
                    target := \"x86_64\"\n\
                    dir := \"target\" / target\n\n\
                    build:\n    {{cargo-bin}} build --target {{target}} --target-dir {{dir}} {{ if target == \"x86_64\" { \"--release\" } else { \"\" } }}\n";
        let (_, jobs) = jobs(text);
        let build = &jobs[0].commands[0];
        assert_eq!(build.program().text, "cargo");
        assert_eq!(
            build.program().values,
            ["cargo-auditable", "cross", "cargo"]
        );
        let words: Vec<&str> = build.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            words,
            [
                "cargo",
                "build",
                "--target",
                "x86_64",
                "--target-dir",
                "target/x86_64",
                "--release"
            ]
        );
        let flags = &jobs[0].env[0];
        assert_eq!(flags.name, "RUSTFLAGS");
        assert!(flags.value.dynamic);
        assert_eq!(
            flags.value.values,
            [
                " -C link-arg=-Wl,--icf=safe --cfg x",
                " -C link-arg=-Wl,--icf=safe",
                " --cfg x",
                ""
            ]
        );
    }
}
