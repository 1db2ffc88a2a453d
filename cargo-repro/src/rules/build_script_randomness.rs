//! `build-script-randomness`: a build script or proc-macro draws random values at build time.

use std::collections::BTreeSet;

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::scan::{Code, build_time_sources, kind_name, with_package};
use crate::workspace::{BuildTimeKind, Workspace};

pub static RULE: Rule = Rule {
    id: "build-script-randomness",
    default_level: Level::Warn,
    summary: "a build script or proc-macro uses randomness at build time",
    docs: r#"
### What it finds
Build scripts and proc-macro crates (members and dependencies) that use a source of
randomness: the `rand` crate (`rand::…`, `thread_rng`), `getrandom`, `fastrand::…`,
`Uuid::new_v4`, a fresh `RandomState::new()` or the `const_random!` macro. Each use is
reported once per line; an import (`use rand::Rng;`) is reported only when nothing else in the
file matched.

### Why it breaks reproducibility
Whatever is random at build time (a generated key, a seed, a unique id, a hasher state baked
into a constant) is different on every build, and ends up in the binary.

### Example
```rust
// build.rs
fn main() {
    let seed: u64 = rand::random();
    println!("cargo:rustc-env=HASH_SEED={seed}");
}
```

### Fix
Derive the value from the input (a hash of the sources, the package version), or read it from
an environment variable with a fixed default, and print `cargo:rerun-if-env-changed` for it.
For a dependency, look for a feature that turns the randomness off (for example ahash's
`compile-time-rng` pulls in `const-random`).
"#,
    heuristic: true,
    uses_graph: true,
    pre_commit: false,
    check,
};

/// Sources of randomness, matched on identifier boundaries; a name ending in `!` is a macro.
const RANDOM_SOURCES: &[&str] = &[
    "rand::",
    "thread_rng",
    "getrandom",
    "fastrand::",
    "Uuid::new_v4",
    "RandomState::new",
    "const_random!",
];

const HELP: &str = "derive the value from the input (a hash of the sources, the package version) \
                    or read it from an environment variable with a fixed default";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    let kinds = [BuildTimeKind::BuildScript, BuildTimeKind::ProcMacro];
    for (package, source) in build_time_sources(workspace, &kinds) {
        let kind = kind_name(source.kind);
        for file in &source.files {
            let code = Code::new(file);
            for (at, name) in random_sources(&code) {
                let finding = Finding::new(
                    RULE.id,
                    format!(
                        "the {kind} of `{}` uses randomness at build time (`{name}`)",
                        package.name
                    ),
                    code.location(at..at + name.len()),
                )
                .help(HELP)
                .note(
                    "a value drawn at build time differs on every build and ends up in the binary",
                );
                out.push(with_package(finding, package));
            }
        }
    }
}

/// The first source of randomness on each line, leaving out imports unless nothing else matched.
fn random_sources(code: &Code) -> Vec<(usize, &'static str)> {
    let mut all: Vec<(usize, &'static str)> = RANDOM_SOURCES
        .iter()
        .flat_map(|name| {
            occurrences(code, name)
                .into_iter()
                .map(move |at| (at, *name))
        })
        .collect();
    all.sort_unstable();
    let (imports, uses): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|&(at, _)| code.in_use_item(at));
    let chosen = if uses.is_empty() { imports } else { uses };
    let mut lines = BTreeSet::new();
    chosen
        .into_iter()
        .filter(|&(at, _)| lines.insert(code.line_of(at)))
        .collect()
}

/// Offsets of a source: a path or function on identifier boundaries, or a macro call.
fn occurrences(code: &Code, name: &str) -> Vec<usize> {
    match name.strip_suffix('!') {
        Some(macro_name) => code
            .find_word(macro_name)
            .into_iter()
            .filter(|&at| code.text[at + macro_name.len()..].starts_with('!'))
            .collect(),
        None => code.find_word(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::SourceFile;

    fn sources(text: &str) -> Vec<(usize, &'static str)> {
        let file = SourceFile::new("build.rs".into(), "build.rs".into(), text.into());
        let code = Code::new(&file);
        random_sources(&code)
            .into_iter()
            .map(|(at, name)| (file.line_of(at), name))
            .collect()
    }

    #[test]
    fn finds_each_source_once_per_line() {
        let text = "use rand::Rng;\nfn main() {\n    let x = rand::thread_rng().gen::<u8>();\n    \
                    let id = uuid::Uuid::new_v4();\n    const K: u64 = const_random!(u64);\n    \
                    getrandom::getrandom(&mut buf);\n}";
        assert_eq!(
            sources(text),
            [
                (3, "rand::"),
                (4, "Uuid::new_v4"),
                (5, "const_random!"),
                (6, "getrandom")
            ]
        );
    }

    #[test]
    fn an_import_alone_is_reported() {
        assert_eq!(
            sources("use rand::random;\nfn main() { let x: u8 = random(); }"),
            [(1, "rand::")]
        );
    }

    #[test]
    fn lookalikes_comments_and_strings_pass() {
        let text = "// rand::random()\nfn main() { let s = \"thread_rng\"; let g = grand::x(); \
                    let operand::y = 1; println!(\"cargo:rustc-cfg=getrandom_backend\"); }";
        assert!(sources(text).is_empty());
    }
}
