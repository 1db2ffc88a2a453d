//! Workspace code that keeps a build path in the binary: `env!("CARGO_MANIFEST_DIR")`,
//! `env!("OUT_DIR")` and the like as values, which path remapping does not rewrite.

use syn::visit::Visit;

use super::{Fact, Outcome};
use crate::workspace::build_code::index::{Crate, Pos};

/// Variables cargo sets to absolute paths of the build machine.
const PATH_VARIABLES: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "OUT_DIR",
    "CARGO_TARGET_TMPDIR",
    "CARGO_WORKSPACE_DIR",
];

/// Macros whose path argument is read at compile time and not kept.
const INCLUDE_MACROS: &[&str] = &["include", "include_str", "include_bytes", "include_dir"];

/// Every `env!`/`option_env!` of a build path that is not the argument of an include macro.
pub(super) fn find(krate: &Crate) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (file, code) in krate.files.iter().enumerate() {
        let mut visitor = EnvPaths {
            file,
            found: Vec::new(),
        };
        visitor.visit_file(&code.ast);
        for (pos, macro_name, variable) in visitor.found {
            let at = format!("{}:{}", krate.path(pos.file), pos.line);
            facts.push(Fact {
                location: krate.location(pos),
                what: format!("keeps `{macro_name}!(\"{variable}\")`"),
                outcome: Some(Outcome::Reaches {
                    at,
                    how: "the binary as a string".to_string(),
                }),
            });
        }
    }
    facts
}

struct EnvPaths {
    file: usize,
    found: Vec<(Pos, &'static str, String)>,
}

impl Visit<'_> for EnvPaths {
    fn visit_macro(&mut self, mac: &syn::Macro) {
        let Some(name) = mac.path.segments.last().map(|s| s.ident.to_string()) else {
            return;
        };
        if INCLUDE_MACROS.contains(&name.as_str()) {
            return;
        }
        if name == "env" || name == "option_env" {
            if let Ok(lit) = mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::LitStr, syn::Token![,]>::parse_terminated,
            ) && let Some(first) = lit.first()
                && PATH_VARIABLES.contains(&first.value().as_str())
            {
                let macro_name = if name == "env" { "env" } else { "option_env" };
                let start = Pos::of(self.file, mac.path.span_start());
                let end = Pos::of(self.file, mac.delimiter.span().close());
                let pos = Pos {
                    end_line: end.end_line,
                    end_column: end.end_column,
                    ..start
                };
                self.found.push((pos, macro_name, first.value()));
            }
            return;
        }
        // Nested macros (`concat!(env!(…), …)`, `format!`, `println!`): their arguments.
        let args = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        );
        if let Ok(args) = args {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

/// The span of a path's first segment.
trait SpanStart {
    fn span_start(&self) -> proc_macro2::Span;
}

impl SpanStart for syn::Path {
    fn span_start(&self) -> proc_macro2::Span {
        self.segments
            .first()
            .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_files;
    use super::*;

    #[test]
    fn kept_build_paths_are_found_and_includes_pass() {
        let text = r#"
static ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
const SCHEMA: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.json"));
include!(concat!(env!("OUT_DIR"), "/generated.rs"));
fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}
fn version() -> &'static str { env!("CARGO_PKG_VERSION") }
#[cfg(test)]
mod tests {
    fn fixture() -> &'static str { env!("CARGO_MANIFEST_DIR") }
}
"#;
        let files = test_files("src/lib.rs", text, false);
        let facts = find(&Crate::new(&files));
        let lines: Vec<usize> = facts.iter().map(|f| f.location.line.unwrap()).collect();
        assert_eq!(lines, [2, 6]);
        assert_eq!(facts[0].what, "keeps `env!(\"CARGO_MANIFEST_DIR\")`");
    }
}
