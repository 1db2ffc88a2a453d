//! GitHub Actions expressions (`${{ … }}`) evaluated to every value they can take: the values
//! of each matrix key, `env` as the workflow sets it, literals, `!`, `==`, `&&`, `||`,
//! `fromJSON` of a known string, and the boolean functions (`startsWith`, `always()`…).
//! Contexts the tool cannot see (`github`, `steps`, `needs`, `inputs`, `secrets`…) are
//! unknown; a condition on them still gives the values of both sides
//! (`inputs.cross && 'cross' || 'cargo'` is `cross` or `cargo`), and an expression that can
//! take an unknown value has no list of values.

use std::collections::BTreeMap;
use std::ops::Range;

use super::EnvVar;
use super::values::MAX_VALUES;

/// A value of an expression. Strings keep where they are written in the workflow (a matrix
/// value), when they are.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Str(String, Option<Range<usize>>),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s, _) => !s.is_empty(),
            Value::List(_) | Value::Map(_) => true,
        }
    }

    /// The value as a template renders it (`null` is empty).
    pub fn render(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Str(s, _) => s.clone(),
            Value::List(_) | Value::Map(_) => self.to_json().to_string(),
        }
    }

    /// A property (`null` when there is none).
    pub fn get(&self, key: &str) -> Value {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map_or(Value::Null, |(_, v)| v.clone()),
            _ => Value::Null,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Number::from_f64(*n)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s, _) => serde_json::Value::String(s.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A JSON document as a value; its strings are placed at `span` (the string it was read
    /// from).
    fn from_json(json: &serde_json::Value, span: &Option<Range<usize>>) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::Str(s.clone(), span.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(|i| Value::from_json(i, span)).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v, span)))
                    .collect(),
            ),
        }
    }

    fn key(&self) -> String {
        match self {
            Value::Str(s, _) => format!("s{s}"),
            other => format!("j{}", other.to_json()),
        }
    }
}

/// The values of a job's matrix keys.
#[derive(Clone, Debug, Default)]
pub struct Matrix {
    /// Each key's values, and whether some combination lacks the key (its value is then null).
    pub keys: BTreeMap<String, (Vec<Value>, bool)>,
    /// The matrix itself is an expression (`${{ fromJSON(…) }}`): no key's values are known.
    pub dynamic: bool,
}

/// What expressions can see: the matrix and the environment in effect.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub matrix: &'a Matrix,
    pub env: &'a [EnvVar],
}

/// One possible result: a value, or one the tool cannot know (with its truthiness when that
/// is known, as after `a && …`).
#[derive(Clone, Debug)]
enum Item {
    Known(Value),
    Unknown(Option<bool>),
}

type Items = Vec<Item>;

fn unknown() -> Items {
    vec![Item::Unknown(None)]
}

fn booleans() -> Items {
    vec![
        Item::Known(Value::Bool(true)),
        Item::Known(Value::Bool(false)),
    ]
}

/// Keeps the first of equal values; past [`MAX_VALUES`] the result is unknown.
fn dedup(items: Items) -> Items {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for item in items {
        let key = match &item {
            Item::Known(v) => v.key(),
            Item::Unknown(t) => format!("?{t:?}"),
        };
        if seen.insert(key) {
            out.push(item);
        }
    }
    if out.len() > MAX_VALUES {
        return unknown();
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Str(String),
    Number(f64),
    Ident(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
        } else if c == '\'' {
            let mut s = String::new();
            at += 1;
            loop {
                match chars.get(at) {
                    None => return None,
                    Some('\'') if chars.get(at + 1) == Some(&'\'') => {
                        s.push('\'');
                        at += 2;
                    }
                    Some('\'') => {
                        at += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        at += 1;
                    }
                }
            }
            out.push(Token::Str(s));
        } else if c.is_ascii_digit() {
            let start = at;
            while at < chars.len() && (chars[at].is_ascii_alphanumeric() || chars[at] == '.') {
                at += 1;
            }
            let text: String = chars[start..at].iter().collect();
            out.push(Token::Number(text.parse().ok()?));
        } else if c.is_alphabetic() || c == '_' {
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
                "<=" => "<=",
                ">=" => ">=",
                "&&" => "&&",
                "||" => "||",
                _ => match c {
                    '!' => "!",
                    '<' => "<",
                    '>' => ">",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    '.' => ".",
                    ',' => ",",
                    '*' => "*",
                    _ => return None,
                },
            };
            at += op.len();
            out.push(Token::Op(op));
        }
    }
    Some(out)
}

#[derive(Clone, Debug)]
enum Ast {
    Lit(Value),
    Context(String),
    Property(Box<Ast>, String),
    Index(Box<Ast>, Box<Ast>),
    Star,
    Not(Box<Ast>),
    Binary(&'static str, Box<Ast>, Box<Ast>),
    Call(String, Vec<Ast>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Op(o)) if *o == op);
        if found {
            self.at += 1;
        }
        found
    }

    fn binary(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Parser) -> Option<Ast>,
    ) -> Option<Ast> {
        let mut left = next(self)?;
        while let Some(Token::Op(op)) = self.peek().cloned() {
            if !ops.contains(&op) {
                break;
            }
            self.at += 1;
            let right = next(self)?;
            left = Ast::Binary(op, Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn or(&mut self) -> Option<Ast> {
        self.binary(&["||"], Parser::and)
    }

    fn and(&mut self) -> Option<Ast> {
        self.binary(&["&&"], Parser::comparison)
    }

    fn comparison(&mut self) -> Option<Ast> {
        self.binary(&["==", "!=", "<", "<=", ">", ">="], Parser::unary)
    }

    fn unary(&mut self) -> Option<Ast> {
        if self.eat("!") {
            return Some(Ast::Not(Box::new(self.unary()?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Option<Ast> {
        let mut ast = self.primary()?;
        loop {
            if self.eat(".") {
                match self.peek().cloned() {
                    Some(Token::Ident(name)) => {
                        self.at += 1;
                        ast = Ast::Property(Box::new(ast), name);
                    }
                    Some(Token::Op("*")) => {
                        self.at += 1;
                        ast = Ast::Star;
                    }
                    _ => return None,
                }
            } else if self.eat("[") {
                let index = self.or()?;
                if !self.eat("]") {
                    return None;
                }
                ast = Ast::Index(Box::new(ast), Box::new(index));
            } else {
                return Some(ast);
            }
        }
    }

    fn primary(&mut self) -> Option<Ast> {
        let token = self.peek()?.clone();
        self.at += 1;
        match token {
            Token::Str(s) => Some(Ast::Lit(Value::Str(s, None))),
            Token::Number(n) => Some(Ast::Lit(Value::Number(n))),
            Token::Ident(name) => match name.as_str() {
                "true" => Some(Ast::Lit(Value::Bool(true))),
                "false" => Some(Ast::Lit(Value::Bool(false))),
                "null" => Some(Ast::Lit(Value::Null)),
                _ if self.eat("(") => {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat(")") {
                                break;
                            }
                            if !self.eat(",") {
                                return None;
                            }
                        }
                    }
                    Some(Ast::Call(name.to_ascii_lowercase(), args))
                }
                _ => Some(Ast::Context(name.to_ascii_lowercase())),
            },
            Token::Op("(") => {
                let inner = self.or()?;
                self.eat(")").then_some(inner)
            }
            Token::Op(_) => None,
        }
    }
}

fn parse(text: &str) -> Option<Ast> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let ast = parser.or()?;
    (parser.at == parser.tokens.len()).then_some(ast)
}

/// Loose equality as GitHub compares: strings case-insensitively, null equal to null.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x, _), Value::Str(y, _)) => x.eq_ignore_ascii_case(y),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Str(s, _), Value::Number(n)) | (Value::Number(n), Value::Str(s, _)) => {
            s.trim().parse::<f64>().is_ok_and(|v| v == *n)
        }
        _ => false,
    }
}

fn eval(ast: &Ast, scope: Scope<'_>) -> Items {
    match ast {
        Ast::Lit(value) => vec![Item::Known(value.clone())],
        Ast::Context(_) | Ast::Star => unknown(),
        Ast::Property(base, name) => match base.as_ref() {
            Ast::Context(context) if context == "matrix" => {
                if scope.matrix.dynamic {
                    return unknown();
                }
                match scope.matrix.keys.get(name) {
                    Some((values, missing)) => {
                        let mut items: Items = values.iter().cloned().map(Item::Known).collect();
                        if *missing {
                            items.push(Item::Known(Value::Null));
                        }
                        dedup(items)
                    }
                    None => unknown(),
                }
            }
            Ast::Context(context) if context == "env" => {
                match scope.env.iter().rev().find(|v| v.name == *name) {
                    Some(var) => match var.value.possible() {
                        Some(values) => values
                            .into_iter()
                            .map(|v| Item::Known(Value::Str(v.to_string(), None)))
                            .collect(),
                        None => unknown(),
                    },
                    // Not set by the workflow: empty (an action may set it, which the tool
                    // cannot see).
                    None => vec![Item::Known(Value::Str(String::new(), None))],
                }
            }
            _ => dedup(
                eval(base, scope)
                    .into_iter()
                    .map(|item| match item {
                        Item::Known(v) => Item::Known(v.get(name)),
                        Item::Unknown(_) => Item::Unknown(None),
                    })
                    .collect(),
            ),
        },
        Ast::Index(base, index) => {
            let indices = eval(index, scope);
            let mut out = Vec::new();
            for item in eval(base, scope) {
                for i in &indices {
                    out.push(match (&item, i) {
                        (Item::Known(v), Item::Known(Value::Str(key, _))) => {
                            Item::Known(v.get(key))
                        }
                        (Item::Known(Value::List(items)), Item::Known(Value::Number(n))) => {
                            Item::Known(items.get(*n as usize).cloned().unwrap_or(Value::Null))
                        }
                        (Item::Known(_), Item::Known(_)) => Item::Known(Value::Null),
                        _ => Item::Unknown(None),
                    });
                }
            }
            dedup(out)
        }
        Ast::Not(inner) => dedup(
            eval(inner, scope)
                .into_iter()
                .flat_map(|item| match item {
                    Item::Known(v) => vec![Item::Known(Value::Bool(!v.truthy()))],
                    Item::Unknown(Some(t)) => vec![Item::Known(Value::Bool(!t))],
                    Item::Unknown(None) => booleans(),
                })
                .collect(),
        ),
        Ast::Binary(op, left, right) => {
            let lefts = eval(left, scope);
            match *op {
                "&&" | "||" => {
                    let and = *op == "&&";
                    let mut out = Vec::new();
                    let mut rights: Option<Items> = None;
                    for item in lefts {
                        let truth = match &item {
                            Item::Known(v) => Some(v.truthy()),
                            Item::Unknown(t) => *t,
                        };
                        // `a && b` is `a` when a is falsy, else b; `a || b` is `a` when a is
                        // truthy, else b.
                        let keeps_left = if and { Some(false) } else { Some(true) };
                        match truth {
                            t if t == keeps_left => out.push(item),
                            Some(_) => {
                                out.extend(rights.get_or_insert_with(|| eval(right, scope)).clone())
                            }
                            None => {
                                out.push(Item::Unknown(keeps_left));
                                out.extend(
                                    rights.get_or_insert_with(|| eval(right, scope)).clone(),
                                );
                            }
                        }
                    }
                    dedup(out)
                }
                _ => {
                    let rights = eval(right, scope);
                    let mut out = Vec::new();
                    for a in &lefts {
                        for b in &rights {
                            let (Item::Known(a), Item::Known(b)) = (a, b) else {
                                return booleans();
                            };
                            let result = match *op {
                                "==" => equal(a, b),
                                "!=" => !equal(a, b),
                                _ => return booleans(),
                            };
                            out.push(Item::Known(Value::Bool(result)));
                        }
                    }
                    dedup(out)
                }
            }
        }
        Ast::Call(name, args) => match name.as_str() {
            "fromjson" => {
                let Some(arg) = args.first() else {
                    return unknown();
                };
                dedup(
                    eval(arg, scope)
                        .into_iter()
                        .map(|item| match item {
                            Item::Known(Value::Str(text, span)) => {
                                match serde_json::from_str::<serde_json::Value>(&text) {
                                    Ok(json) => Item::Known(Value::from_json(&json, &span)),
                                    Err(_) => Item::Unknown(None),
                                }
                            }
                            _ => Item::Unknown(None),
                        })
                        .collect(),
                )
            }
            "contains" | "startswith" | "endswith" if args.len() == 2 => {
                let (haystacks, needles) = (eval(&args[0], scope), eval(&args[1], scope));
                let mut out = Vec::new();
                for h in &haystacks {
                    for n in &needles {
                        let (Item::Known(h), Item::Known(n)) = (h, n) else {
                            return booleans();
                        };
                        let (h, n) = (h.render().to_lowercase(), n.render().to_lowercase());
                        let result = match name.as_str() {
                            "contains" => h.contains(&n),
                            "startswith" => h.starts_with(&n),
                            _ => h.ends_with(&n),
                        };
                        out.push(Item::Known(Value::Bool(result)));
                    }
                }
                dedup(out)
            }
            "success" | "always" | "failure" | "cancelled" => booleans(),
            _ => unknown(),
        },
    }
}

/// The values of an expression (the inside of `${{ … }}`); `None` when it can take a value
/// the tool cannot know, or cannot be read.
pub fn expression(text: &str, scope: Scope<'_>) -> Option<Vec<Value>> {
    let ast = parse(text)?;
    eval(&ast, scope)
        .into_iter()
        .map(|item| match item {
            Item::Known(v) => Some(v),
            Item::Unknown(_) => None,
        })
        .collect()
}

/// The expression of a text that is one `${{ … }}` and nothing else.
pub fn whole(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?;
    (!inner.contains("}}")).then_some(inner)
}

/// The values of a text with `${{ … }}` in it, each rendered as GitHub substitutes it; the
/// text itself when it has none. `None` when a part cannot be listed.
pub fn template(text: &str, scope: Scope<'_>) -> Option<Vec<String>> {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        parts.push(vec![rest[..at].to_string()]);
        let after = &rest[at + 3..];
        let end = after.find("}}")?;
        let values = expression(&after[..end], scope)?;
        parts.push(values.iter().map(Value::render).collect());
        rest = &after[end + 2..];
    }
    parts.push(vec![rest.to_string()]);
    super::values::product(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::entry_points::Word;

    fn s(text: &str) -> Value {
        Value::Str(text.into(), None)
    }

    fn matrix() -> Matrix {
        let mut keys = BTreeMap::new();
        keys.insert(
            "rustflags".to_string(),
            (vec![s("-Ctarget-feature=+crt-static")], true),
        );
        keys.insert(
            "container".to_string(),
            (
                vec![s("{\"image\": \"messense/rust-musl-cross:x86_64-musl\"}")],
                true,
            ),
        );
        keys.insert(
            "job".to_string(),
            (
                vec![
                    Value::Map(vec![("use-cross".into(), Value::Bool(true))]),
                    Value::Map(vec![("os".into(), s("macos-14"))]),
                ],
                false,
            ),
        );
        Matrix {
            keys,
            dynamic: false,
        }
    }

    fn values(text: &str, env: &[EnvVar]) -> Option<Vec<String>> {
        let matrix = matrix();
        template(
            text,
            Scope {
                matrix: &matrix,
                env,
            },
        )
    }

    #[test]
    fn matrix_env_and_alternatives() {
        let env = [EnvVar {
            name: "RUSTFLAGS".into(),
            name_span: 0..0,
            value: Word::new("-C target-cpu=z10", 0..0),
        }];
        assert_eq!(
            values("${{ env.RUSTFLAGS || matrix.rustflags }}", &env).unwrap(),
            ["-C target-cpu=z10"]
        );
        assert_eq!(
            values("${{ env.UNSET || matrix.rustflags }}", &[]).unwrap(),
            ["-Ctarget-feature=+crt-static", ""]
        );
        assert_eq!(
            values("${{ matrix.job.use-cross && 'cross' || 'cargo' }}", &[]).unwrap(),
            ["cross", "cargo"]
        );
        assert_eq!(
            values("${{ inputs.cross && 'cross' || 'cargo' }}", &[]).unwrap(),
            ["cargo", "cross"]
        );
        assert_eq!(values("${{ github.ref }}", &[]), None);
        assert_eq!(
            values(
                "${{ startsWith(github.ref, 'refs/tags/') && github.ref || github.sha }}",
                &[]
            ),
            None
        );
        assert_eq!(
            values("v${{ matrix.job.os }}", &[]).unwrap(),
            ["v", "vmacos-14"]
        );
    }

    #[test]
    fn from_json_of_known_strings() {
        let matrix = matrix();
        let scope = Scope {
            matrix: &matrix,
            env: &[],
        };
        let found = expression("fromJson(matrix.container || '{\"image\":null}')", scope).unwrap();
        let images: Vec<String> = found.iter().map(|v| v.get("image").render()).collect();
        assert_eq!(images, ["messense/rust-musl-cross:x86_64-musl", ""]);
        assert_eq!(expression("fromJSON(needs.a.outputs.m)", scope), None);
        assert_eq!(expression("matrix.os ==", scope), None, "unreadable");
    }
}
