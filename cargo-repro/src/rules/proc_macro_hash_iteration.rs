//! `proc-macro-hash-iteration`: a proc-macro iterates a std `HashMap`/`HashSet` while expanding.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::{build_time_sources, finding_for, with_package};
use crate::workspace::build_code::Fact;
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "proc-macro-hash-iteration",
    default_level: Level::Warn,
    summary: "a proc-macro iterates a HashMap or HashSet, so its expansion order can change",
    docs: r#"
### What it finds
Proc-macro crates (members and dependencies) that iterate a std `HashMap` or `HashSet` (a
local, parameter or struct field declared with that type, `HashMap::new()`,
`.collect::<HashMap<…>>()`; through `for … in &x`, `x.iter()`, `.keys()`, `.values()`,
`.into_iter()`, `.drain()`, …) where the order **reaches the expansion**. The code is read as
the compiler builds it: the crate's module tree, with `cfg` evaluated for the features the
graph enables (`#[cfg(test)]`, `#[test]` and disabled features are left out). The iterated
values are followed through locals, method chains, closures, loops, accumulators (`push`,
`extend`), struct literals and calls to functions of the same crate, in both directions.

It is a warning when the order gets into the tokens the macro returns or writes (the finding
names the line where it does). It is silent when the order cannot matter: the values are
sorted (`sort*`, `sorted`), collected into a `BTreeMap`, `BTreeSet` or another hash map,
reduced by an order-insensitive method (`len`, `count`, `any`, `all`, `sum`, `min`, `max`,
`contains`, `find`), only reach an error (`compile_error!`, `panic!`, `Err(…)`,
`syn::Error::new`), or one item is picked by a search. Maps with a fixed hasher
(`HashMap<K, V, S>`, `FxHashMap`) are left alone. When the values leave what the tool can
follow (stored in a field, returned to callers it cannot see), the finding is a note that
says where it lost them.

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

const HELP: &str = "sort the entries before generating tokens (collect them into a Vec and sort \
                    it), or use a BTreeMap/BTreeSet (IndexMap keeps insertion order)";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::ProcMacro]) {
        for finding in findings(&source.code.facts.hash_iterations, &package.name) {
            out.push(with_package(finding, package));
        }
    }
}

/// The findings for one proc-macro crate's hash iterations.
fn findings(facts: &[Fact], name: &str) -> Vec<Finding> {
    facts
        .iter()
        .filter_map(|fact| {
            let message = format!(
                "the proc-macro `{name}` {}: the order changes between rustc runs",
                fact.what
            );
            finding_for(RULE.id, fact, message, "the order", "the expansion")
        })
        .map(|finding| finding.help(HELP))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::build_code::facts::{compute, test_files};

    /// (line, level-ish) of each finding: "warn" when the order reaches the output, "note"
    /// when the tool could not tell.
    fn found(text: &str) -> Vec<(usize, &'static str)> {
        let files = test_files("src/lib.rs", text, true);
        let facts = compute(&files, BuildTimeKind::ProcMacro);
        findings(&facts.hash_iterations, "m")
            .into_iter()
            .map(|f| {
                (
                    f.location.line.unwrap(),
                    if f.uncertain { "note" } else { "warn" },
                )
            })
            .collect()
    }

    #[test]
    fn the_order_reaching_the_tokens_is_a_warning() {
        let text = r#"
#[proc_macro]
pub fn m(input: TokenStream) -> TokenStream {
    let names: HashMap<String, usize> = parse(input);
    let arms = names.iter().map(|(name, index)| quote! { #name => #index, });
    quote! { match x { #(#arms)* } }.into()
}
"#;
        assert_eq!(found(text), [(5, "warn")]);
    }

    #[test]
    fn a_for_loop_pushing_tokens_is_a_warning() {
        let text = r#"
fn expand(args: &HashMap<String, Expr>) -> TokenStream2 {
    let mut out = Vec::new();
    for (k, v) in args {
        out.push(quote! { #k: #v });
    }
    quote! { #(#out),* }
}
#[proc_macro]
pub fn fl(input: TokenStream) -> TokenStream { expand(&parse(input)).into() }
"#;
        assert_eq!(found(text), [(4, "warn")]);
    }

    #[test]
    fn to_tokens_writes_are_output() {
        let text = r#"
struct S { fields: HashSet<Ident> }
impl ToTokens for S {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        for f in self.fields.iter() {
            tokens.extend(quote! { #f });
        }
    }
}
"#;
        assert_eq!(found(text), [(5, "warn")]);
    }

    #[test]
    fn errors_lookups_sorting_and_reductions_pass() {
        let text = r#"
fn a(seen: &HashSet<String>) -> TokenStream {
    for name in seen {
        if name.is_empty() { return quote! { compile_error!("empty") }; }
        if bad(name) { return Err(syn::Error::new(span(), format!("bad {}", name))); }
    }
    quote! {}
}
fn b(m: HashMap<String, u8>) -> TokenStream {
    let mut v: Vec<_> = m.iter().collect();
    v.sort();
    quote! { #(#v)* }
}
fn c(m: HashMap<String, u8>) -> TokenStream {
    let n = m.keys().count();
    let any = m.values().any(|v| *v > 1);
    let sorted: BTreeMap<_, _> = m.iter().collect();
    quote! { #n #any #(#sorted)* }
}
fn d(m: HashMap<String, u8>) -> TokenStream {
    let mut index = HashMap::new();
    for (k, v) in &m { index.insert(v, k); }
    let x = index.get(&1);
    quote! { #x }
}
fn e(m: HashMap<String, u8>) -> TokenStream {
    let list: Vec<String> = m.keys().cloned().collect();
    let message = format!("unknown: {}", list.join(", "));
    panic!("{}", message);
}
fn f(m: &HashMap<String, u8>) -> Option<String> {
    for k in m.keys() { if k.starts_with("x") { return Some(k.clone()); } }
    None
}
"#;
        assert_eq!(found(text), []);
    }

    #[test]
    fn inserting_into_a_set_field_keeps_no_order() {
        let text = r#"
struct Meta { groups: HashSet<String>, skip: HashSet<String> }
fn expand(mut meta: Meta) -> TokenStream {
    for group in &meta.groups { meta.skip.insert(group.clone()); }
    quote! {}
}
"#;
        assert_eq!(found(text), []);
    }

    #[test]
    fn sorting_in_the_caller_is_followed() {
        let text = r#"
fn names(m: &HashMap<String, u8>) -> Vec<String> {
    m.keys().cloned().collect()
}
#[proc_macro]
pub fn g(input: TokenStream) -> TokenStream {
    let mut list = names(&parse(input));
    list.sort();
    quote! { #(#list)* }.into()
}
#[proc_macro]
pub fn h(input: TokenStream) -> TokenStream {
    let list = names(&parse(input));
    quote! { #(#list)* }.into()
}
"#;
        // Reached through `h`; `g` sorts.
        assert_eq!(found(text), [(3, "warn")]);
    }

    #[test]
    fn values_the_tool_cannot_follow_are_notes() {
        let text = r#"
struct Gen { items: Vec<String> }
impl Gen {
    fn add(&mut self, m: &HashMap<String, u8>) {
        for k in m.keys() { self.items.push(k.clone()); }
    }
}
"#;
        assert_eq!(found(text), [(5, "note")]);
    }

    #[test]
    fn test_code_and_fixed_hashers_pass() {
        let text = r#"
#[cfg(test)]
mod tests {
    fn t(m: HashMap<u8, u8>) -> TokenStream { let v: Vec<_> = m.iter().collect(); quote!(#(#v)*) }
}
fn a(m: FxHashMap<u8, u8>) -> TokenStream { let v: Vec<_> = m.iter().collect(); quote!(#(#v)*) }
fn b(m: HashMap<u8, u8, S>) -> TokenStream { let v: Vec<_> = m.iter().collect(); quote!(#(#v)*) }
"#;
        assert_eq!(found(text), []);
    }

    #[test]
    fn renamed_imports_are_not_std_maps() {
        let text = "use rustc_hash::FxHashMap as HashMap;
fn a(m: HashMap<u8, u8>) -> TokenStream { let v: Vec<_> = m.iter().collect(); quote!(#(#v)*) }";
        assert_eq!(found(text), []);
    }
}
