//! `build-script-unsorted-readdir`: a build script lists a directory and uses it in filesystem order.

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::scan::{
    Code, SORT_WORDS, SORTED_COLLECTIONS, build_time_sources, matching_close, skip_whitespace,
    with_package,
};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-unsorted-readdir",
    default_level: Level::Warn,
    summary: "a build script lists a directory without sorting the entries",
    docs: r#"
### What it finds
Build scripts (of members and dependencies) that call `read_dir` (`fs::read_dir(…)` or
`path.read_dir()`), `WalkDir::new(…)` or `glob(…)` in a function that goes on to build
something from the entries (text, a list, a file, `cargo:rustc-…` flags; copying files or
printing `cargo:rerun-if-changed` does not count) and that neither sorts afterwards (`sort`, `sort_by`, `sort_unstable`, `sort_by_key`, `sort_by_file_name`, …) nor
collects into a `BTreeMap`, `BTreeSet` or `BinaryHeap`.

### Why it breaks reproducibility
Directories are listed in the order the filesystem keeps them, which depends on the filesystem
and on the order the files were created: a fresh checkout on another machine lists them
differently. Code generated from the listing (an `include!` of every file, a table of assets)
then comes out in another order, and the binary differs.

### Example
```rust
// build.rs
fn main() {
    let mut list = String::new();
    for entry in std::fs::read_dir("assets").unwrap() {
        let path = entry.unwrap().path();
        list.push_str(&format!("include_bytes!({:?}),\n", path));
    }
    std::fs::write(std::env::var("OUT_DIR").unwrap() + "/assets.rs", list).unwrap();
}
```

### Fix
Collect the entries and sort them before using them:
```rust
let mut paths: Vec<_> = std::fs::read_dir("assets")
    .unwrap()
    .map(|entry| entry.unwrap().path())
    .collect();
paths.sort();
```
With walkdir, call `WalkDir::new(dir).sort_by_file_name()`.
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

/// Calls that list a directory: `(word searched, name shown)`.
const LISTING_CALLS: &[(&str, &str)] = &[
    ("read_dir", "read_dir"),
    ("WalkDir::new", "WalkDir::new"),
    ("glob", "glob"),
    ("glob_with", "glob_with"),
];

/// Methods that consume a listing in a way that does not depend on its order.
const ORDER_INSENSITIVE: &[&str] = &[
    "count", "is_ok", "is_err", "any", "all", "is_some", "is_none",
];

/// Uses of entries whose result depends on their order (generated text, lists, link flags).
const ORDER_SENSITIVE_USES: &[&str] = &[
    "push",
    "push_str",
    "extend",
    "collect",
    "append",
    "insert",
    "write",
    "writeln",
    "write_all",
    "write_str",
    "format",
    "concat",
];

const HELP: &str = "collect the entries into a Vec and sort it before using them (with walkdir, \
                    `WalkDir::new(dir).sort_by_file_name()`)";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for (package, source) in build_time_sources(workspace, &[BuildTimeKind::BuildScript]) {
        for file in &source.files {
            let code = Code::new(file);
            for (at, name) in unsorted_listings(&code) {
                let finding = Finding::new(
                    RULE.id,
                    format!(
                        "the build script of `{}` lists a directory with `{name}` without sorting the entries",
                        package.name
                    ),
                    code.location(at..at + name.len()),
                )
                .help(HELP)
                .note(
                    "directory order depends on the filesystem and on the order files were \
                     created, so it differs between machines",
                );
                out.push(with_package(finding, package));
            }
        }
    }
}

/// Directory listings whose function neither sorts afterwards nor uses a sorted collection.
fn unsorted_listings(code: &Code) -> Vec<(usize, &'static str)> {
    let mut found: Vec<_> = LISTING_CALLS
        .iter()
        .flat_map(|&(word, name)| {
            code.find_calls(word)
                .into_iter()
                .map(move |at| (at, word, name))
        })
        .filter(|&(at, word, _)| {
            uses_order_later(code, at)
                && !is_sorted_later(code, at)
                && !is_order_insensitive(code, at + word.len())
        })
        .map(|(at, _, name)| (at, name))
        .collect();
    found.sort_unstable();
    found
}

/// True when the function around `at` goes on to build something whose result depends on the
/// order (text, a list, a file, `cargo:rustc-…` flags); copying files or printing
/// `cargo:rerun-if-changed` does not.
fn uses_order_later(code: &Code, at: usize) -> bool {
    let rest = at..code.enclosing_function(at).end;
    code.mentions_any(rest.clone(), ORDER_SENSITIVE_USES) || code.file.text[rest].contains("rustc-")
}

/// True when the function around `at` sorts after it, or uses a sorted collection anywhere.
fn is_sorted_later(code: &Code, at: usize) -> bool {
    let function = code.enclosing_function(at);
    code.mentions_any(at..function.end, SORT_WORDS)
        || code.mentions_any(function, SORTED_COLLECTIONS)
}

/// True when the listing is only counted or tested (`read_dir(d)?.count()`, `.is_ok()`).
fn is_order_insensitive(code: &Code, after_name: usize) -> bool {
    let call_end =
        matching_close(code.text, skip_whitespace(code.text, after_name)).unwrap_or(after_name);
    let chain_start = match code.next_byte(call_end) {
        Some(b'?') => skip_whitespace(code.text, call_end) + 1,
        _ => call_end,
    };
    let (_, methods) = code.method_chain(chain_start);
    methods.iter().any(|m| ORDER_INSENSITIVE.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::SourceFile;

    fn listings(text: &str) -> Vec<&'static str> {
        let file = SourceFile::new("build.rs".into(), "build.rs".into(), text.into());
        unsorted_listings(&Code::new(&file))
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    }

    #[test]
    fn finds_unsorted_listings() {
        let text = "fn main() {\n    for e in std::fs::read_dir(\"a\").unwrap() { s.push_str(e); }\n}\n\
                    fn walk(p: &Path) { for e in WalkDir::new(p) {} for f in p.read_dir().unwrap() { v.push(f) } }";
        assert_eq!(listings(text), ["read_dir", "WalkDir::new", "read_dir"]);
    }

    #[test]
    fn sorting_or_sorted_collections_pass() {
        let text = "fn a() { let mut v: Vec<_> = fs::read_dir(\"a\").unwrap().collect(); v.sort(); }\n\
                    fn b() { for e in WalkDir::new(\"b\").sort_by_file_name() {} }\n\
                    fn c() { let s: BTreeSet<_> = read_dir(\"c\").unwrap().collect(); }";
        assert!(listings(text).is_empty());
    }

    #[test]
    fn a_sort_before_the_listing_does_not_count() {
        let text = "fn a() { v.sort(); for e in fs::read_dir(\"a\").unwrap() { v.push(e) } }";
        assert_eq!(listings(text), ["read_dir"]);
    }

    #[test]
    fn copying_and_rerun_if_changed_pass() {
        let text = "fn copy(a: &Path, b: &Path) { for e in fs::read_dir(a).unwrap() { fs::copy(e, b); } }\n\
                    fn main() { for e in glob(\"*.ftl\").unwrap() { println!(\"cargo:rerun-if-changed={}\", e); } }";
        assert!(listings(text).is_empty());
    }

    #[test]
    fn link_flags_use_the_order() {
        let text = "fn main() { for e in fs::read_dir(\"lib\").unwrap() { println!(\"cargo:rustc-link-arg={}\", e); } }";
        assert_eq!(listings(text), ["read_dir"]);
    }

    #[test]
    fn counting_and_definitions_pass() {
        let text = "fn glob(p: &str) {}\nfn a() -> usize { fs::read_dir(\"a\")?.count() }\n\
                    fn b() -> bool { fs::read_dir(\"b\").is_ok() }";
        assert!(listings(text).is_empty());
    }
}
