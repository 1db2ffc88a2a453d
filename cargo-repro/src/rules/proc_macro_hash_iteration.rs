//! `proc-macro-hash-iteration`: a proc-macro iterates a std `HashMap`/`HashSet` while expanding.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::scan::{
    Code, SORT_WORDS, SORTED_COLLECTIONS, build_time_sources, find_word, generic_arg_count,
    ident_after, ident_before, skip_whitespace, skip_whitespace_back, with_package,
};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "proc-macro-hash-iteration",
    default_level: Level::Warn,
    summary: "a proc-macro iterates a HashMap or HashSet, so its expansion order can change",
    docs: r#"
### What it finds
Proc-macro crates (members and dependencies) that declare a std `HashMap` or `HashSet`
(`let x: HashMap<…>`, `let x = HashMap::new()`, `.collect::<HashMap<…>>()`, a struct field or
a function parameter) and then iterate it (`for … in &x`, `x.iter()`, `.keys()`, `.values()`,
`.into_iter()`, `.drain()`, …) in a function that generates tokens (`quote!`, `TokenStream`,
`ToTokens`, …) and does not sort afterwards. A field is followed through `self.field` and
through struct patterns (`Args { field, .. }`). Maps with a custom
hasher (`HashMap<K, V, S>`, `FxHashMap`), `IndexMap` and `BTreeMap` are left alone, as are
iterations that only count or test (`.any(…)`, `.count()`, …).

### Why it breaks reproducibility
std's hash maps seed their hasher randomly in every process, and rustc runs a proc-macro in a
new process for each build: the iteration order, and so the order of the generated items,
match arms or arguments, changes from one build to the next. The classic case is
i18n-embed-fl 0.9, whose `fl!` macro iterated a `HashMap` of arguments
(kellpossible/cargo-i18n#150).

### Example
```rust
let mut names: HashMap<String, usize> = HashMap::new();
// …
let arms = names.iter().map(|(name, index)| quote! { #name => #index, });
```

### Fix
Sort before emitting tokens, or keep the entries in a sorted map:
```rust
let mut entries: Vec<_> = names.iter().collect();
entries.sort();
```
or declare `names` as a `BTreeMap` (an `IndexMap` keeps insertion order). For a dependency,
upgrade to a version that does this.
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

/// Methods that iterate a map or set.
const ITER_METHODS: &[&str] = &[
    "iter",
    "iter_mut",
    "keys",
    "values",
    "values_mut",
    "into_iter",
    "into_keys",
    "into_values",
    "drain",
];

/// Methods whose result does not depend on the iteration order.
const ORDER_INSENSITIVE: &[&str] = &["any", "all", "count", "sum", "product", "max", "min"];

/// Words that show a function generates tokens (the macro's output).
const TOKEN_WORDS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "TokenStream",
    "TokenStream2",
    "TokenTree",
    "ToTokens",
    "to_tokens",
    "to_token_stream",
    "format_ident",
];

/// Constructors of a std map or set with the default (random) hasher.
const CONSTRUCTORS: &[&str] = &["new", "with_capacity", "default", "from", "from_iter"];

/// The std types whose iteration order is random.
const HASH_TYPES: &[&str] = &["HashMap", "HashSet"];

const HELP: &str = "sort the entries before generating tokens (collect them into a Vec and sort \
                    it), or use a BTreeMap/BTreeSet (IndexMap keeps insertion order)";

/// Where a binding can be iterated.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    /// A local or a parameter: this range of the declaring file.
    Local(Range<usize>),
    /// A struct field: any `.name` access in the crate.
    Field,
}

/// A binding, parameter or field declared with a std hash type.
#[derive(Clone, Debug)]
struct HashBinding {
    name: String,
    kind: &'static str,
    /// The offset of the name in its declaring file.
    declared_at: usize,
    /// Index of the declaring file in the crate's files.
    file: usize,
    scope: Scope,
}

/// An iteration of a binding: where it is in which file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Iteration {
    file: usize,
    span: Range<usize>,
}

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::ProcMacro]) {
        let codes: Vec<Code> = source.files.iter().map(Code::new).collect();
        for (binding, iteration) in unsorted_iterations(&codes) {
            let declared = &codes[binding.file];
            let code = &codes[iteration.file];
            let finding = Finding::new(
                RULE.id,
                format!(
                    "the proc-macro `{}` iterates the {} `{}`: the order, and so the macro's \
                     expansion, changes between rustc runs",
                    package.name, binding.kind, binding.name
                ),
                code.location(iteration.span.clone()),
            )
            .help(HELP)
            .note(format!(
                "`{}` is declared as a `{}` at {}:{}",
                binding.name,
                binding.kind,
                declared.file.display_path,
                declared.line_of(binding.declared_at)
            ));
            out.push(with_package(finding, package));
        }
    }
}

/// Every iteration of a hash binding of the crate that is not followed by a sort.
fn unsorted_iterations(codes: &[Code]) -> Vec<(HashBinding, Iteration)> {
    let bindings = hash_bindings(codes);
    let mut found = Vec::new();
    for binding in &bindings {
        for iteration in iterations_of(codes, binding) {
            let code = &codes[iteration.file];
            let at = iteration.span.start;
            if generates_tokens(code, at) && !is_sorted_later(code, at) {
                found.push((binding.clone(), iteration));
            }
        }
    }
    found.sort_by_key(|(_, iteration)| (iteration.file, iteration.span.start));
    found.dedup_by(|a, b| a.1 == b.1);
    found
}

/// Hash bindings of all files; a field name also declared with another type is left out.
fn hash_bindings(codes: &[Code]) -> Vec<HashBinding> {
    let mut bindings = Vec::new();
    let mut other_typed_names = BTreeSet::new();
    for (index, code) in codes.iter().enumerate() {
        for declaration in typed_declarations(code) {
            match hash_kind_of_type(code, declaration.type_start) {
                Some(kind) => bindings.push(binding_for(code, index, declaration.name, kind)),
                None if looks_like_type(code, declaration.type_start) => {
                    other_typed_names.insert(code.text[declaration.name].to_string());
                }
                None => {}
            }
        }
        for (name, kind) in inferred_declarations(code) {
            bindings.push(binding_for(code, index, name, kind));
        }
    }
    bindings.retain(|b| b.scope != Scope::Field || !other_typed_names.contains(&b.name));
    bindings
}

/// A `name: Type` declaration: a typed `let`, a parameter or a field.
struct TypedDeclaration {
    name: Range<usize>,
    type_start: usize,
}

/// Every single colon preceded by an identifier (`name: Type`), skipping `::` paths.
fn typed_declarations(code: &Code) -> Vec<TypedDeclaration> {
    let bytes = code.text.as_bytes();
    let mut out = Vec::new();
    for (i, &byte) in bytes.iter().enumerate() {
        let single_colon =
            byte == b':' && bytes.get(i + 1) != Some(&b':') && (i == 0 || bytes[i - 1] != b':');
        if !single_colon {
            continue;
        }
        if let Some((name, _)) = ident_before(code.text, i) {
            out.push(TypedDeclaration {
                name,
                type_start: skip_whitespace(code.text, i + 1),
            });
        }
    }
    out
}

/// True when the text at `start` reads as a type rather than a value (`name: value` in a
/// struct literal): a reference, tuple, slice or pointer, a primitive, or a path whose last
/// segment is capitalised.
fn looks_like_type(code: &Code, start: usize) -> bool {
    const PRIMITIVES: &[&str] = &[
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f32", "f64", "dyn", "impl", "fn",
    ];
    if code.text[start..].starts_with(['&', '(', '[', '*', '\'']) {
        return true;
    }
    last_path_segment(code, start).is_some_and(|(_, segment)| {
        segment.starts_with(|c: char| c.is_ascii_uppercase()) || PRIMITIVES.contains(&segment)
    })
}

/// `HashMap` or `HashSet` when the type at `start` is one with the default hasher.
fn hash_kind_of_type(code: &Code, start: usize) -> Option<&'static str> {
    let mut at = start;
    loop {
        at = skip_whitespace(code.text, at);
        let rest = &code.text[at..];
        if rest.starts_with('&') {
            at += 1;
        } else if rest.starts_with('\'') {
            at = ident_after(code.text, at + 1).map_or(at + 1, |(r, _)| r.end);
        } else if rest.starts_with("mut ") {
            at += 3;
        } else {
            break;
        }
    }
    let (name_end, last) = last_path_segment(code, at)?;
    let kind = hash_kind(code, last)?;
    let open = skip_whitespace(code.text, name_end);
    let default_arg_count = if kind == "HashMap" { 2 } else { 1 };
    let has_custom_hasher = code.text[open..].starts_with('<')
        && generic_arg_count(code.text, open) > default_arg_count;
    (!has_custom_hasher).then_some(kind)
}

/// The end and text of the last segment of the path starting at `start` (`a::b::C` → `C`).
fn last_path_segment<'c>(code: &'c Code, start: usize) -> Option<(usize, &'c str)> {
    let (mut range, mut name) = ident_after(code.text, start)?;
    while code.text[range.end..].starts_with("::") {
        match ident_after(code.text, range.end + 2) {
            Some(next) => (range, name) = next,
            None => break,
        }
    }
    Some((range.end, name))
}

/// The hash type named `name`, unless the file renames something else to it.
fn hash_kind(code: &Code, name: &str) -> Option<&'static str> {
    let kind = HASH_TYPES.iter().copied().find(|&k| k == name)?;
    let aliased = !code.find_word(&format!("as {kind}")).is_empty()
        || !code.find_word(&format!("type {kind}")).is_empty();
    (!aliased).then_some(kind)
}

/// `let x = HashMap::new()` and `let x = ….collect::<HashMap<…>>()`: the name and the kind.
fn inferred_declarations(code: &Code) -> Vec<(Range<usize>, &'static str)> {
    let mut out = Vec::new();
    for kind in HASH_TYPES {
        if hash_kind(code, kind).is_none() {
            continue;
        }
        for at in code.find_word(kind) {
            let after = at + kind.len();
            let constructed = code.text[after..].starts_with("::")
                && ident_after(code.text, after + 2)
                    .is_some_and(|(_, c)| CONSTRUCTORS.contains(&c));
            let collected =
                collect_turbofish_names(code, at) && hash_kind_of_type(code, at) == Some(kind);
            let name = if constructed {
                let_name_before_value(code, path_start(code, at))
            } else if collected {
                let_name_of_statement(code, at)
            } else {
                None
            };
            if let Some(name) = name {
                out.push((name, *kind));
            }
        }
    }
    out
}

/// True when the type at `at` is the argument of `collect::<…>` (`at` is inside the `<`).
fn collect_turbofish_names(code: &Code, at: usize) -> bool {
    let before = code.text[..path_start(code, at)].trim_end();
    before.ends_with("::<")
        && ident_before(code.text, before.len() - 3).is_some_and(|(_, w)| w == "collect")
}

/// Where the path ending with the segment at `at` starts (`std::collections::HashMap`).
fn path_start(code: &Code, at: usize) -> usize {
    let mut start = at;
    while code.text[..start].ends_with("::") {
        match ident_before(code.text, start - 2) {
            Some((range, _)) if range.end == start - 2 => start = range.start,
            _ => break,
        }
    }
    start
}

/// For a value starting at `value`, the name of `let [mut] name = value`.
fn let_name_before_value(code: &Code, value: usize) -> Option<Range<usize>> {
    let equals = skip_whitespace_back(code.text, value);
    let bytes = code.text.as_bytes();
    let is_assignment =
        equals > 1 && bytes[equals - 1] == b'=' && !b"=!<>+-*/%&|^".contains(&bytes[equals - 2]);
    if !is_assignment {
        return None;
    }
    let (name, _) = ident_before(code.text, equals - 1)?;
    is_let_binding(code, name.start).then_some(name)
}

/// For an offset inside a `let` statement, the bound name (`let [mut] name[: T] = …`).
fn let_name_of_statement(code: &Code, at: usize) -> Option<Range<usize>> {
    let bytes = code.text.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth == 0 => break,
            b'(' | b'[' | b'{' => depth -= 1,
            b';' if depth == 0 => break,
            _ => {}
        }
    }
    let (keyword, word) = ident_after(code.text, i + 1)?;
    if word != "let" {
        return None;
    }
    let (mut name, mut word) = ident_after(code.text, keyword.end)?;
    if word == "mut" {
        (name, word) = ident_after(code.text, name.end)?;
    }
    let _ = word;
    Some(name)
}

/// True when the name at `name_start` is bound by `let` or `let mut`.
fn is_let_binding(code: &Code, name_start: usize) -> bool {
    match ident_before(code.text, name_start) {
        Some((_, "let")) => true,
        Some((range, "mut")) => {
            ident_before(code.text, range.start).is_some_and(|(_, w)| w == "let")
        }
        _ => false,
    }
}

/// Builds the binding for a declared name, working out its scope.
fn binding_for(code: &Code, file: usize, name: Range<usize>, kind: &'static str) -> HashBinding {
    let text = &code.text[name.clone()];
    let scope = if is_let_binding(code, name.start) {
        let block = code.enclosing_block(name.start);
        Scope::Local(name.end..shadowed_at(code, text, name.end, block.end))
    } else if let Some(function) = code.signature_at(name.start) {
        let body = function.body.clone();
        Scope::Local(body.start..shadowed_at(code, text, body.start, body.end))
    } else {
        Scope::Field
    };
    HashBinding {
        name: text.to_string(),
        kind,
        declared_at: name.start,
        file,
        scope,
    }
}

/// Where a later `let name` rebinds the name (the end of that statement), or `end`.
fn shadowed_at(code: &Code, name: &str, from: usize, end: usize) -> usize {
    code.find_word(name)
        .into_iter()
        .filter(|&at| from <= at && at < end && is_let_binding(code, at))
        .map(|at| code.text[at..end].find(';').map_or(end, |p| at + p))
        .next()
        .unwrap_or(end)
}

/// Every place the binding is iterated in an order-sensitive way.
fn iterations_of(codes: &[Code], binding: &HashBinding) -> Vec<Iteration> {
    let places: Vec<(usize, Range<usize>)> = match &binding.scope {
        Scope::Local(range) => vec![(binding.file, range.clone())],
        Scope::Field => (0..codes.len())
            .map(|i| (i, 0..codes[i].text.len()))
            .collect(),
    };
    let field = binding.scope == Scope::Field;
    let mut out = Vec::new();
    for (file, range) in places {
        let code = &codes[file];
        for at in code.find_word(&binding.name) {
            if !range.contains(&at) || (file == binding.file && at == binding.declared_at) {
                continue;
            }
            let is_field_access = code.previous_byte(at) == Some(b'.');
            let is_path = code.text[..at].trim_end().ends_with("::");
            let names_the_binding = if field && !is_field_access {
                is_destructured_field(code, &binding.name, at)
            } else {
                is_field_access == field
            };
            if !names_the_binding || is_path {
                continue;
            }
            if let Some(span) = iteration_at(code, at, binding.name.len(), field) {
                out.push(Iteration { file, span });
            }
        }
    }
    out
}

/// True when, before `at` in its function, a struct pattern binds the field `name` to a local
/// of the same name (`Args { name, .. }`) and no `let name` rebinds it.
fn is_destructured_field(code: &Code, name: &str, at: usize) -> bool {
    let function = code.enclosing_function(at);
    let earlier: Vec<usize> = code
        .find_word(name)
        .into_iter()
        .filter(|&other| function.start <= other && other < at)
        .collect();
    let rebound = earlier.iter().any(|&other| is_let_binding(code, other));
    let destructured = earlier.iter().any(|&other| {
        matches!(code.previous_byte(other), Some(b'{' | b','))
            && matches!(code.next_byte(other + name.len()), Some(b'}' | b','))
    });
    destructured && !rebound
}

/// The span of an iteration of the name at `at`: `name.iter()` (and the other iterating
/// methods) or `for … in [&[mut]] name {`.
fn iteration_at(code: &Code, at: usize, len: usize, field: bool) -> Option<Range<usize>> {
    let after = at + len;
    let (chain, methods) = code.method_chain(after);
    if let Some(first) = methods.first() {
        if !ITER_METHODS.contains(first) || is_order_insensitive_chain(code, &chain, &methods) {
            return None;
        }
        let first_call_end = code.method_calls(after)[0].1.end;
        return Some(at..first_call_end);
    }
    let receiver_start = if field { receiver_start(code, at) } else { at };
    (is_for_loop_source(code, receiver_start) && code.next_byte(after) == Some(b'{'))
        .then_some(receiver_start..after)
}

/// True when the chain only counts or tests, or collects into another map or set.
fn is_order_insensitive_chain(code: &Code, chain: &Range<usize>, methods: &[&str]) -> bool {
    let text = &code.text[chain.clone()];
    methods.iter().any(|m| ORDER_INSENSITIVE.contains(m))
        || SORTED_COLLECTIONS
            .iter()
            .chain(HASH_TYPES)
            .any(|collection| !find_word(text, collection).is_empty())
}

/// For a field name at `at`, where its receiver starts (`self.a.b` → `self`).
fn receiver_start(code: &Code, at: usize) -> usize {
    let mut start = at;
    while code.previous_byte(start) == Some(b'.') {
        let dot = skip_whitespace_back(code.text, start) - 1;
        match ident_before(code.text, dot) {
            Some((range, _)) => start = range.start,
            None => break,
        }
    }
    start
}

/// True when the expression at `at` follows `in`, `in &` or `in &mut`.
fn is_for_loop_source(code: &Code, at: usize) -> bool {
    let mut before = skip_whitespace_back(code.text, at);
    if code.text[..before].ends_with("mut") {
        before = skip_whitespace_back(code.text, before - 3);
    }
    if code.text[..before].ends_with('&') {
        before -= 1;
    }
    ident_before(code.text, before).is_some_and(|(range, word)| {
        word == "in" && range.end == skip_whitespace_back(code.text, before)
    })
}

/// True when the function around `at` builds tokens (iterations that only feed error messages
/// or lookups are left alone).
fn generates_tokens(code: &Code, at: usize) -> bool {
    code.mentions_any(code.enclosing_function_item(at), TOKEN_WORDS)
}

/// True when the function around `at` sorts after it or uses a sorted collection.
fn is_sorted_later(code: &Code, at: usize) -> bool {
    let function = code.enclosing_function(at);
    code.mentions_any(at..function.end, SORT_WORDS)
        || code.mentions_any(function, SORTED_COLLECTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::SourceFile;

    fn found(text: &str) -> Vec<(String, usize)> {
        let file = SourceFile::new("src/lib.rs".into(), "src/lib.rs".into(), text.into());
        let codes = vec![Code::new(&file)];
        unsorted_iterations(&codes)
            .into_iter()
            .map(|(b, i)| (b.name, file.line_of(i.span.start)))
            .collect()
    }

    #[test]
    fn finds_iteration_of_typed_and_inferred_locals() {
        let text = "fn a() -> TokenStream {\n    let m: HashMap<String, u8> = make();\n    for (k, v) in &m {}\n}\n\
                    fn b() -> TokenStream {\n    let mut s = std::collections::HashSet::new();\n    s.insert(1);\n    \
                    let v: Vec<_> = s.iter().map(|x| x + 1).collect();\n}\n\
                    fn c(x: Vec<u8>) -> TokenStream {\n    let c = x.into_iter().map(|y| (y, y)).collect::<HashMap<_, _>>();\n    \
                    emit(c.keys());\n}";
        assert_eq!(
            found(text),
            [
                ("m".to_string(), 3),
                ("s".to_string(), 8),
                ("c".to_string(), 12)
            ]
        );
    }

    #[test]
    fn finds_iteration_of_fields_and_parameters() {
        let text = "struct S { names: HashMap<String, u8> }\nimpl S {\n    fn f(&self) {\n        \
                    for n in self.names.keys() { quote!(#n); }\n    }\n}\nfn g(p: &HashSet<u8>) {\n    for x in p { quote!(#x); }\n}";
        assert_eq!(
            found(text),
            [("names".to_string(), 4), ("p".to_string(), 8)]
        );
    }

    #[test]
    fn lookups_sorting_and_other_maps_pass() {
        let text = "fn a() -> TokenStream { let m: HashMap<u8, u8> = x(); m.get(&1); m.contains_key(&2); }\n\
                    fn b() -> TokenStream { let m = HashMap::new(); let mut v: Vec<_> = m.iter().collect(); v.sort(); }\n\
                    fn c() -> TokenStream { let m: BTreeMap<u8, u8> = x(); for k in m.keys() {} }\n\
                    fn d() -> TokenStream { let m: HashMap<u8, u8, S> = x(); for k in m.keys() {} }\n\
                    fn e() -> TokenStream { let m: FxHashMap<u8, u8> = x(); for k in m.keys() {} }\n\
                    fn f() -> TokenStream { let m = HashMap::with_hasher(s); for k in m.keys() {} }\n\
                    fn g() -> TokenStream { let m: HashSet<u8> = x(); if m.iter().any(|x| *x > 1) {} }\n\
                    fn h() -> TokenStream { let m: HashSet<u8> = x(); let b: BTreeSet<_> = m.into_iter().collect(); }";
        assert!(found(text).is_empty(), "{:?}", found(text));
    }

    #[test]
    fn a_field_name_declared_with_another_type_is_left_out() {
        let text = "struct A { items: HashSet<u8> }\nstruct B { items: Vec<u8> }\n\
                    fn f(b: &B) { for i in b.items.iter() {} }";
        assert!(found(text).is_empty());
    }

    #[test]
    fn fields_destructured_by_a_pattern_are_followed() {
        let text = "enum Args { Pairs { specified: HashMap<String, Expr> } }\n\
                    fn expand(args: Args) -> TokenStream {\n    match args {\n        \
                    Args::Pairs { specified } => {\n            for (k, v) in &specified {}\n        }\n    }\n}";
        assert_eq!(found(text), [("specified".to_string(), 5)]);
    }

    #[test]
    fn iterations_outside_token_generating_functions_pass() {
        let text = "fn check(args: &HashSet<String>) {\n    \
                    let list: Vec<_> = args.iter().cloned().collect();\n    emit_error!(\"{:?}\", list);\n}";
        assert!(found(text).is_empty());
    }

    #[test]
    fn shadowing_ends_the_scope() {
        let text = "fn a() {\n    let m: HashMap<u8, u8> = x();\n    let m: Vec<u8> = vec![];\n    \
                    for k in m.iter() {}\n}";
        assert!(found(text).is_empty());
    }

    #[test]
    fn renamed_imports_are_not_std_maps() {
        let text = "use rustc_hash::FxHashMap as HashMap;\nfn a() { let m: HashMap<u8, u8> = x(); for k in &m {} }";
        assert!(found(text).is_empty());
    }
}
