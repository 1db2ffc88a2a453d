//! `target-cpu-native`: code compiled for the CPU of the build machine.

use std::ops::Range;

use toml_edit::{Item, Value};

use crate::diag::{Finding, Level};
use crate::rules::Rule;
use crate::rules::heuristics::finding_for;
use crate::workspace::build_code::Outcome;
use crate::workspace::entry_points::{EntryPoint, Job, Word, in_job};
use crate::workspace::{BuildTimeKind, Source, TomlFile, Workspace};

pub static RULE: Rule = Rule {
    id: "target-cpu-native",
    default_level: Level::Deny,
    summary: "code is compiled for the cpu of the build machine",
    docs: r#"
### What it finds
`-C target-cpu=native`, `-march=native`, `-mcpu=native` or `-mtune=native` in:
- cargo configs: `[build] rustflags`, `[target.<triple or cfg>] rustflags` (strings or arrays)
  and `[env]` variables such as `RUSTFLAGS`, `CFLAGS` and `CXXFLAGS`;
- build entry points (Dockerfiles, CI workflows, justfiles, Makefiles, shell scripts), for
  example in `RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS` or `CFLAGS`;
- build scripts of every package in the graph, members and dependencies, read as they are
  compiled (test code and disabled features left out): those flags when they reach a
  compiler (`.flag("-march=native")`, `Command::arg`, `cargo:rustc-flags`, an environment
  variable set for the build); a string that only reaches an assertion is not reported.
  `.define("NAME", "native")` is a note: whether the C or CMake project turns `NAME` into a
  CPU flag depends on that project.

### Why it breaks reproducibility
`native` means "whatever CPU runs the compiler": the instruction set, and so the machine
code, changes with the build machine. Two builds of the same commit on different CI runners
give different binaries (and a binary that may crash with an illegal instruction elsewhere).

### Example
```toml
[build]
rustflags = ["-C", "target-cpu=native"]
```

### Fix
Name an explicit baseline that every build machine produces identically, such as
`-C target-cpu=x86-64-v2` (or `-march=x86-64-v2` for C), or drop the flag. For a dependency,
disable the feature that turns it on or patch its build script.
"#,
    heuristic: false,
    uses_graph: true,
    pre_commit: false,
    check,
};

/// The flags that select the build machine's CPU.
const NATIVE_FLAGS: &[&str] = &[
    "target-cpu=native",
    "target_cpu=native",
    "-march=native",
    "-mcpu=native",
    "-mtune=native",
];

const HELP: &str = "name an explicit baseline instead, such as `-C target-cpu=x86-64-v2` \
                    (or `-march=x86-64-v2` for C), or drop the flag";

fn check(workspace: &Workspace, out: &mut Vec<Finding>) {
    for config in &workspace.cargo_configs {
        check_config(config, out);
    }
    for entry in &workspace.entry_points {
        for (job, word) in native_words(entry) {
            for (range, flag) in native_flags_in(&entry.file.text, word.span.clone()) {
                let finding = Finding::new(
                    RULE.id,
                    format!("`{flag}` compiles for the CPU of whichever machine runs this build"),
                    entry.file.location(range),
                )
                .help(HELP);
                out.push(in_job(finding, job));
            }
        }
    }
    for source in &workspace.build_time_sources {
        if source.kind != BuildTimeKind::BuildScript {
            continue;
        }
        let Some(package) = workspace.graph.packages.get(source.package) else {
            continue;
        };
        for fact in &source.code.facts.native_flags {
            let consequence = match fact.outcome {
                Some(Outcome::Unknown { .. }) => {
                    ", which can make its C code target the CPU of the build machine"
                }
                _ => ": its C code is compiled for the CPU of the build machine",
            };
            let message = format!(
                "the build script of `{}` {}{consequence}",
                package.name, fact.what
            );
            let Some(mut finding) = finding_for(RULE.id, fact, message, "the flag", "a compiler")
            else {
                continue;
            };
            finding = finding.help(HELP);
            if package.source != Source::Workspace {
                finding = finding
                    .package(&package.name, &package.version)
                    .note("this is a dependency: disable the feature that turns the flag on, or patch the crate");
            }
            out.push(finding);
        }
    }
}

/// The words of an entry point that can pass a flag to a compiler: the arguments of its
/// commands and the values of the variables it sets (`RUSTFLAGS`, `CFLAGS`…), once each.
fn native_words(entry: &EntryPoint) -> Vec<(&Job, &Word)> {
    let mut out: Vec<(&Job, &Word)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (job, command) in entry.commands() {
        for word in command.args() {
            if seen.insert(word.span.start) {
                out.push((job, word));
            }
        }
    }
    for (job, var) in entry.env_settings() {
        if seen.insert(var.value.span.start) {
            out.push((job, &var.value));
        }
    }
    out
}

/// `rustflags` of `[build]` and `[target.*]`, and `*FLAGS` variables of `[env]`.
fn check_config(config: &TomlFile, out: &mut Vec<Finding>) {
    let mut places: Vec<(String, &Item)> = Vec::new();
    if let Some(item) = config.get(&["build", "rustflags"]) {
        places.push(("[build] rustflags".to_string(), item));
    }
    if let Some(targets) = config.get(&["target"]).and_then(Item::as_table_like) {
        for (target, table) in targets.iter() {
            if let Some(item) = table.get("rustflags") {
                places.push((format!("[target.{}] rustflags", toml_key(target)), item));
            }
        }
    }
    if let Some(env) = config.get(&["env"]).and_then(Item::as_table_like) {
        for (name, item) in env.iter() {
            if name.ends_with("FLAGS") {
                let value = item.get("value").unwrap_or(item);
                places.push((format!("[env] {name}"), value));
            }
        }
    }
    for (place, item) in places {
        for value in string_values(item) {
            let Some(span) = value.span() else {
                continue;
            };
            for (range, flag) in native_flags_in(&config.file.text, span) {
                out.push(
                    Finding::new(
                        RULE.id,
                        format!("`{flag}` in {place} compiles for the CPU of whichever machine runs the build"),
                        config.file.location(range),
                    )
                    .help(HELP),
                );
            }
        }
    }
}

/// A table key as written in TOML: bare when it can be, else in single quotes.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("'{key}'")
    }
}

/// The string values of an item: itself, or the elements of an array.
fn string_values(item: &Item) -> Vec<&Value> {
    match item.as_value() {
        Some(Value::Array(array)) => array.iter().filter(|v| v.is_str()).collect(),
        Some(value) if value.is_str() => vec![value],
        _ => Vec::new(),
    }
}

/// The byte ranges (in `text`) of native flags inside `span`.
fn native_flags_in(text: &str, span: Range<usize>) -> Vec<(Range<usize>, &'static str)> {
    let Some(slice) = text.get(span.clone()) else {
        return Vec::new();
    };
    let mut found: Vec<_> = NATIVE_FLAGS
        .iter()
        .flat_map(|flag| {
            slice
                .match_indices(flag)
                .map(|(at, _)| (span.start + at..span.start + at + flag.len(), *flag))
        })
        .collect();
    found.sort_by_key(|(range, _)| range.start);
    found
}

/// Native flags in the string literals of Rust code, and `.define("…", "native")`,
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_config_values() {
        let text = "[build]\nrustflags = [\"-C\", \"target-cpu=native\"]\n";
        let start = text.find("\"target").unwrap();
        let found = native_flags_in(text, start..start + 19);
        assert_eq!(found, [(start + 1..start + 18, "target-cpu=native")]);
        assert!(native_flags_in(text, 0..text.len() + 1).is_empty());
    }
}
