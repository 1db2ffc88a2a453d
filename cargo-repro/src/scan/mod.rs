//! Source scanning for the heuristic rules: Rust code with comments and literals blanked out.
//!
//! [`blank_comments_and_literals`] replaces the text of comments and the contents of string,
//! char and raw-string literals with spaces, keeping every byte offset and newline, so that a
//! span found in the blanked code is also a span of the original file. [`Code`] wraps a
//! [`SourceFile`] with its blanked text and the brace blocks and function bodies in it, and
//! offers the word and call searches the rules share.

use std::ops::Range;

use crate::diag::{Finding, Location};
use crate::workspace::source_file::SourceFile;
use crate::workspace::{BuildTimeKind, BuildTimeSource, Package, Workspace};

/// Method names that sort a collection (or yield its items sorted).
pub const SORT_WORDS: &[&str] = &[
    "sort",
    "sort_by",
    "sort_by_key",
    "sort_by_cached_key",
    "sort_unstable",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "sort_by_file_name",
    "sorted",
    "sorted_by",
    "sorted_by_key",
    "sorted_unstable",
];

/// Collections that keep their items sorted whatever order they were inserted in.
pub const SORTED_COLLECTIONS: &[&str] = &["BTreeMap", "BTreeSet", "BinaryHeap"];

/// The build-time sources of the given kinds, each with its package.
pub fn build_time_sources<'w>(
    workspace: &'w Workspace,
    kinds: &'w [BuildTimeKind],
) -> impl Iterator<Item = (&'w Package, &'w BuildTimeSource)> {
    workspace
        .build_time_sources
        .iter()
        .filter(|source| kinds.contains(&source.kind))
        .map(|source| (&workspace.graph.packages[source.package], source))
}

/// Names the package of a finding.
pub fn with_package(finding: Finding, package: &Package) -> Finding {
    finding.package(&package.name, &package.version)
}

/// What the build-time code is, for messages: "build script" or "proc-macro".
pub fn kind_name(kind: BuildTimeKind) -> &'static str {
    match kind {
        BuildTimeKind::BuildScript => "build script",
        BuildTimeKind::ProcMacro => "proc-macro",
    }
}

/// True for bytes that can be part of an identifier (non-ASCII counts, to be safe).
pub fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// The text with comments and literal contents replaced by spaces (offsets and newlines kept).
///
/// Quotes stay, so `"a"` becomes `" "`; a lifetime such as `'a` is code and stays as it is.
pub fn blank_comments_and_literals(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        i = match bytes[i] {
            b'/' if next == Some(b'/') => {
                let end = line_end(bytes, i);
                blank(&mut out, i..end);
                end
            }
            b'/' if next == Some(b'*') => {
                let end = block_comment_end(bytes, i);
                blank(&mut out, i..end);
                end
            }
            b'"' => {
                let (content_end, end) = string_end(bytes, i + 1);
                blank(&mut out, i + 1..content_end);
                end
            }
            b'\'' => match char_literal_end(bytes, i) {
                Some(end) => {
                    blank(&mut out, i + 1..end - 1);
                    end
                }
                None => i + 1,
            },
            byte if is_ident_byte(byte) => {
                let ident_end = ident_end(bytes, i);
                match raw_string_end(bytes, i, ident_end) {
                    Some((content, end)) => {
                        blank(&mut out, content);
                        end
                    }
                    None => ident_end,
                }
            }
            _ => i + 1,
        };
    }
    // Only whole characters were replaced (every blanked range is bounded by ASCII), so this
    // cannot fail; the fallback keeps the function total.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn blank(out: &mut [u8], range: Range<usize>) {
    let end = range.end.min(out.len());
    for byte in &mut out[range.start.min(end)..end] {
        if *byte != b'\n' {
            *byte = b' ';
        }
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// The end (exclusive) of a block comment starting at `from`, with nesting.
fn block_comment_end(bytes: &[u8], from: usize) -> usize {
    let mut depth = 0;
    let mut i = from;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// For a string whose contents start at `from`: where the contents end, and the end of the
/// literal after its closing quote.
fn string_end(bytes: &[u8], from: usize) -> (usize, usize) {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return (i, i + 1),
            _ => i += 1,
        }
    }
    (bytes.len(), bytes.len())
}

/// The end of a char (or byte) literal starting with the quote at `quote`, or `None` for a
/// lifetime or label.
fn char_literal_end(bytes: &[u8], quote: usize) -> Option<usize> {
    let first = *bytes.get(quote + 1)?;
    if first == b'\\' {
        let mut i = quote + 3;
        while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
            i += 1;
        }
        return (bytes.get(i) == Some(&b'\'')).then_some(i + 1);
    }
    if first == b'\'' || first == b'\n' {
        return None;
    }
    let after = quote + 1 + utf8_len(first);
    (bytes.get(after) == Some(&b'\'')).then_some(after + 1)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn ident_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !is_ident_byte(b))
        .map_or(bytes.len(), |p| from + p)
}

/// For an identifier `r`, `br` or `cr` followed by `#…"`: the content range and the end.
fn raw_string_end(bytes: &[u8], start: usize, ident_end: usize) -> Option<(Range<usize>, usize)> {
    if !matches!(&bytes[start..ident_end], b"r" | b"br" | b"cr") {
        return None;
    }
    let hashes = bytes[ident_end..]
        .iter()
        .take_while(|&&b| b == b'#')
        .count();
    let quote = ident_end + hashes;
    if bytes.get(quote) != Some(&b'"') {
        return None;
    }
    let content_start = quote + 1;
    let mut i = content_start;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return Some((content_start..i, i + 1 + hashes));
        }
        i += 1;
    }
    Some((content_start..bytes.len(), bytes.len()))
}

/// Offsets where `word` occurs on identifier boundaries (a boundary is only required where
/// `word` starts or ends with an identifier character, so `rand::` matches `rand::random`).
pub fn find_word(code: &str, word: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    let word_bytes = word.as_bytes();
    let (Some(&first), Some(&last)) = (word_bytes.first(), word_bytes.last()) else {
        return Vec::new();
    };
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before_ok = !is_ident_byte(first) || at == 0 || !is_ident_byte(bytes[at - 1]);
            let end = at + word.len();
            let after_ok = !is_ident_byte(last) || end >= bytes.len() || !is_ident_byte(bytes[end]);
            before_ok && after_ok
        })
        .collect()
}

/// The offset of the first non-whitespace byte at or after `from`.
pub fn skip_whitespace(code: &str, from: usize) -> usize {
    let bytes = code.as_bytes();
    let mut i = from;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The offset just after the last non-whitespace byte before `before`.
pub fn skip_whitespace_back(code: &str, before: usize) -> usize {
    let bytes = code.as_bytes();
    let mut i = before.min(bytes.len());
    while i > 0 && bytes[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    i
}

/// The identifier ending just before `end` (after skipping whitespace), with its range.
pub fn ident_before(code: &str, end: usize) -> Option<(Range<usize>, &str)> {
    let bytes = code.as_bytes();
    let end = skip_whitespace_back(code, end);
    let mut start = end;
    while start > 0 && is_ident_byte(bytes[start - 1]) {
        start -= 1;
    }
    (start < end).then(|| (start..end, &code[start..end]))
}

/// The identifier starting at `from` (after skipping whitespace), with its range.
pub fn ident_after(code: &str, from: usize) -> Option<(Range<usize>, &str)> {
    let start = skip_whitespace(code, from);
    let end = ident_end(code.as_bytes(), start);
    (start < end).then(|| (start..end, &code[start..end]))
}

/// The offset after the bracket matching the opening one at `open` (`(`, `[`, `{` or `<`).
///
/// Inside `<…>`, a `->` does not close anything.
pub fn matching_close(code: &str, open: usize) -> Option<usize> {
    let bytes = code.as_bytes();
    let mut depth = 0usize;
    for (i, &byte) in bytes.iter().enumerate().skip(open) {
        match byte {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b')' | b']' | b'}' | b'>' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The number of top-level, comma-separated arguments in the `<…>` opening at `open`.
pub fn generic_arg_count(code: &str, open: usize) -> usize {
    let Some(end) = matching_close(code, open) else {
        return 0;
    };
    let inner = &code[open + 1..end - 1];
    let mut depth = 0usize;
    let mut count = usize::from(!inner.trim().is_empty());
    let bytes = inner.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b')' | b']' | b'}' | b'>' => depth = depth.saturating_sub(1),
            b',' if depth == 0 && !inner[i + 1..].trim().is_empty() => count += 1,
            _ => {}
        }
    }
    count
}

/// The scanning index of a file, computed once per file and shared by every rule.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The file's text with comments and literal contents blanked.
    text: String,
    /// Every `{…}` block, sorted by start.
    blocks: Vec<Range<usize>>,
    /// Every function: its signature (from `fn` to the body) and its body.
    functions: Vec<Function>,
}

impl Prepared {
    fn new(source: &str) -> Prepared {
        let text = blank_comments_and_literals(source);
        let blocks = brace_blocks(&text);
        let functions = functions(&text, &blocks);
        Prepared {
            text,
            blocks,
            functions,
        }
    }
}

/// A source file prepared for scanning.
#[derive(Debug)]
pub struct Code<'a> {
    pub file: &'a SourceFile,
    /// The file's text with comments and literal contents blanked.
    pub text: &'a str,
    /// Every `{…}` block, sorted by start.
    blocks: &'a [Range<usize>],
    /// Every function: its signature (from `fn` to the body) and its body.
    functions: &'a [Function],
}

/// A function item or method found in the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// From the `fn` keyword to the opening brace of the body.
    pub signature: Range<usize>,
    /// The body, braces included.
    pub body: Range<usize>,
}

impl<'a> Code<'a> {
    /// The file's scanning index (blanked text, blocks, functions), computed on first use.
    pub fn new(file: &'a SourceFile) -> Code<'a> {
        let prepared = file.scan_cache.get_or_init(|| Prepared::new(&file.text));
        Code {
            file,
            text: &prepared.text,
            blocks: &prepared.blocks,
            functions: &prepared.functions,
        }
    }

    /// Offsets of `word` on identifier boundaries.
    pub fn find_word(&self, word: &str) -> Vec<usize> {
        find_word(self.text, word)
    }

    /// Offsets of calls `word(…)` (whitespace allowed before the parenthesis), leaving out
    /// function definitions `fn word(`.
    pub fn find_calls(&self, word: &str) -> Vec<usize> {
        self.find_word(word)
            .into_iter()
            .filter(|&at| self.next_byte(at + word.len()) == Some(b'('))
            .filter(|&at| ident_before(self.text, at).is_none_or(|(_, word)| word != "fn"))
            .collect()
    }

    /// The first non-whitespace byte at or after `from`.
    pub fn next_byte(&self, from: usize) -> Option<u8> {
        self.text
            .as_bytes()
            .get(skip_whitespace(self.text, from))
            .copied()
    }

    /// The last non-whitespace byte before `before`.
    pub fn previous_byte(&self, before: usize) -> Option<u8> {
        let end = skip_whitespace_back(self.text, before);
        end.checked_sub(1).map(|i| self.text.as_bytes()[i])
    }

    /// True when any of `words` occurs (on identifier boundaries) in `range`.
    pub fn mentions_any(&self, range: Range<usize>, words: &[&str]) -> bool {
        let text = &self.text[range.start.min(self.text.len())..range.end.min(self.text.len())];
        words.iter().any(|w| !find_word(text, w).is_empty())
    }

    /// The body of the innermost function containing `offset`, or the whole file.
    pub fn enclosing_function(&self, offset: usize) -> Range<usize> {
        self.innermost_function(offset)
            .map_or(0..self.text.len(), |f| f.body.clone())
    }

    /// The whole innermost function (signature and body) containing `offset`, or the file.
    pub fn enclosing_function_item(&self, offset: usize) -> Range<usize> {
        self.innermost_function(offset)
            .map_or(0..self.text.len(), |f| f.signature.start..f.body.end)
    }

    fn innermost_function(&self, offset: usize) -> Option<&Function> {
        self.functions
            .iter()
            .filter(|f| f.body.contains(&offset))
            .max_by_key(|f| f.body.start)
    }

    /// The function whose signature (parameters, return type) contains `offset`.
    pub fn signature_at(&self, offset: usize) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.signature.contains(&offset))
    }

    /// The innermost `{…}` block containing `offset`, or the whole file.
    pub fn enclosing_block(&self, offset: usize) -> Range<usize> {
        self.blocks
            .iter()
            .filter(|b| b.start < offset && offset < b.end)
            .max_by_key(|b| b.start)
            .map_or(0..self.text.len(), Clone::clone)
    }

    /// True when `offset` lies in a `use` declaration or an `extern crate` item.
    pub fn in_use_item(&self, offset: usize) -> bool {
        let extern_crates = self
            .find_word("extern")
            .into_iter()
            .filter(|&at| ident_after(self.text, at + 6).is_some_and(|(_, w)| w == "crate"));
        self.find_word("use")
            .into_iter()
            .chain(extern_crates)
            .any(|at| {
                let end = self.text[at..]
                    .find(';')
                    .map_or(self.text.len(), |p| at + p);
                (at..end).contains(&offset)
            })
    }

    /// The range of the method chain `.a(…).b(…)…` starting at `from`, and the method names.
    pub fn method_chain(&self, from: usize) -> (Range<usize>, Vec<&str>) {
        let calls = self.method_calls(from);
        let end = calls.last().map_or(from, |(_, range)| range.end);
        (from..end, calls.into_iter().map(|(name, _)| name).collect())
    }

    /// Each call of the method chain starting at `from`: its name and its span from the dot
    /// to the closing parenthesis (a field access in the chain counts as a call).
    pub fn method_calls(&self, from: usize) -> Vec<(&str, Range<usize>)> {
        let bytes = self.text.as_bytes();
        let mut calls = Vec::new();
        let mut at = from;
        loop {
            let dot = skip_whitespace(self.text, at);
            if bytes.get(dot) != Some(&b'.') {
                break;
            }
            let Some((name_range, name)) = ident_after(self.text, dot + 1) else {
                break;
            };
            let mut end = name_range.end;
            let mut next = skip_whitespace(self.text, end);
            if self.text[next..].starts_with("::<") {
                match matching_close(self.text, next + 2) {
                    Some(close) => {
                        end = close;
                        next = skip_whitespace(self.text, close);
                    }
                    None => break,
                }
            }
            if bytes.get(next) == Some(&b'(') {
                end = matching_close(self.text, next).unwrap_or(self.text.len());
            }
            calls.push((name, dot..end));
            at = end;
        }
        calls
    }

    /// A location for a byte span of the file.
    pub fn location(&self, span: Range<usize>) -> Location {
        self.file.location(span)
    }

    /// The 1-based line of an offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.file.line_of(offset)
    }
}

/// Every balanced `{…}` block of blanked code, sorted by start.
fn brace_blocks(code: &str) -> Vec<Range<usize>> {
    let mut open = Vec::new();
    let mut blocks = Vec::new();
    for (i, byte) in code.bytes().enumerate() {
        match byte {
            b'{' => open.push(i),
            b'}' => {
                if let Some(start) = open.pop() {
                    blocks.push(start..i + 1);
                }
            }
            _ => {}
        }
    }
    blocks.sort_by_key(|b| b.start);
    blocks
}

/// Every `fn` with a body: the body is the first `{` after the keyword outside `(…)`, `[…]`
/// and `<…>` (a `;` there first means a declaration without a body).
fn functions(code: &str, blocks: &[Range<usize>]) -> Vec<Function> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for start in find_word(code, "fn") {
        let mut depth = 0usize;
        let mut i = start + 2;
        while i < bytes.len() {
            match bytes[i] {
                b'(' | b'[' | b'<' => depth += 1,
                b'>' if bytes[i - 1] == b'-' => {}
                b')' | b']' | b'>' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    if let Ok(index) = blocks.binary_search_by_key(&i, |b| b.start) {
                        out.push(Function {
                            signature: start..i,
                            body: blocks[index].clone(),
                        });
                    }
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile {
        SourceFile::new("build.rs".into(), "build.rs".into(), text.into())
    }

    #[test]
    fn comments_are_blanked_keeping_offsets_and_newlines() {
        let text = "a // SystemTime::now()\n/// doc\nb /* x /* nested */ y */ c\n//! inner\nd";
        let blanked = blank_comments_and_literals(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(
            blanked,
            "a                     \n       \nb                        c\n         \nd"
        );
    }

    #[test]
    fn string_contents_are_blanked_and_quotes_kept() {
        let text = r#"f("a \" b", b"x{", c"y")"#;
        assert_eq!(
            blank_comments_and_literals(text),
            r#"f("      ", b"  ", c" ")"#
        );
    }

    #[test]
    fn raw_strings_are_blanked() {
        let text = "r##\"a \"# b\"## + br\"}\" + r#raw_ident";
        assert_eq!(
            blank_comments_and_literals(text),
            "r##\"      \"## + br\" \" + r#raw_ident"
        );
    }

    #[test]
    fn char_literals_are_blanked_but_lifetimes_are_not() {
        let text =
            "fn f<'a>(x: &'a str) { let c = '{'; let q = '\\''; let b = b'\"'; 'l: loop {} }";
        let blanked = blank_comments_and_literals(text);
        assert_eq!(
            blanked,
            "fn f<'a>(x: &'a str) { let c = ' '; let q = '  '; let b = b' '; 'l: loop {} }"
        );
    }

    #[test]
    fn multibyte_text_keeps_byte_offsets() {
        let text = "let s = \"héllo\"; // ü\nlet c = 'é';";
        let blanked = blank_comments_and_literals(text);
        assert_eq!(blanked.len(), text.len());
        assert!(blanked.is_ascii());
        assert_eq!(blanked.find("let c"), text.find("let c"));
    }

    #[test]
    fn unterminated_literals_blank_to_the_end() {
        assert_eq!(blank_comments_and_literals("a \"bc\nd"), "a \"  \n ");
        assert_eq!(blank_comments_and_literals("a /* b"), "a     ");
    }

    #[test]
    fn words_respect_identifier_boundaries() {
        let code = "Utc::now(); MyUtc::now(); chrono::Utc::now_x(); rand::random(); getrandom()";
        assert_eq!(find_word(code, "Utc::now"), vec![0]);
        assert_eq!(
            find_word(code, "rand::"),
            vec![code.find("rand::").unwrap()]
        );
        assert_eq!(find_word(code, "rand"), find_word(code, "rand::"));
    }

    #[test]
    fn calls_leave_out_definitions() {
        let file = source("fn glob(p: &str) {}\nfn main() { glob (\"*.rs\"); let glob = 1; }");
        let code = Code::new(&file);
        let calls = code.find_calls("glob");
        assert_eq!(calls, vec![file.text.find("glob (").unwrap()]);
    }

    #[test]
    fn enclosing_function_is_the_innermost_body() {
        let text = "fn outer() { let a = 1; fn inner(x: [u8; 2]) -> u8 { a } }\nstatic S: u8 = 1;";
        let file = source(text);
        let code = Code::new(&file);
        let a_in_inner = text.find("{ a }").unwrap() + 2;
        assert_eq!(
            code.enclosing_function(a_in_inner),
            text.find("{ a }").unwrap()..text.find("{ a }").unwrap() + 5
        );
        let let_a = text.find("let a").unwrap();
        assert_eq!(
            code.enclosing_function(let_a).start,
            text.find("{ let").unwrap()
        );
        assert_eq!(code.enclosing_function(text.len() - 2), 0..text.len());
        assert!(code.signature_at(text.find("x:").unwrap()).is_some());
    }

    #[test]
    fn generic_arguments_are_counted_at_top_level() {
        let code = "HashMap<String, (u8, u8)> HashMap<K, Vec<V>, S> HashSet<T>";
        assert_eq!(generic_arg_count(code, 7), 2);
        let second = code.find("HashMap<K").unwrap() + 7;
        assert_eq!(generic_arg_count(code, second), 3);
        assert_eq!(generic_arg_count(code, code.rfind('<').unwrap()), 1);
    }

    #[test]
    fn method_chains_are_listed() {
        let file = source("m.iter().map(|(k, v)| (k, v)).collect::<Vec<_>>(); x");
        let code = Code::new(&file);
        let (range, names) = code.method_chain(1);
        assert_eq!(names, ["iter", "map", "collect"]);
        assert_eq!(
            &file.text[range],
            ".iter().map(|(k, v)| (k, v)).collect::<Vec<_>>()"
        );
    }

    #[test]
    fn use_items_are_recognised() {
        let text = "use rand::{Rng, thread_rng};\nfn main() { rand::random::<u8>(); }";
        let file = source(text);
        let code = Code::new(&file);
        assert!(code.in_use_item(text.find("rand").unwrap()));
        assert!(!code.in_use_item(text.rfind("rand").unwrap()));
    }
}
