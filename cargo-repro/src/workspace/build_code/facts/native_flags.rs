//! Build scripts passing native-CPU flags (`-march=native`, `target-cpu=native`) to a compiler.

use syn::Expr;
use syn::visit::Visit;

use super::{Fact, Outcome, run};
use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::{Crate, Pos};

/// The flags that select the build machine's CPU.
pub(super) const NATIVE_FLAGS: &[&str] = &[
    "target-cpu=native",
    "target_cpu=native",
    "-march=native",
    "-mcpu=native",
    "-mtune=native",
];

/// Words without which the crate has no source of this analysis (a cheap filter).
pub(super) const MENTIONS: &[&str] = &["native"];

/// String literals holding a native flag.
struct NativeLiterals;

impl Sources for NativeLiterals {
    fn output(&self) -> Output {
        Output::BuildScript
    }

    fn at_expr(&self, expr: &Expr, _: &Scope) -> Option<String> {
        let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = expr
        else {
            return None;
        };
        let value = s.value();
        NATIVE_FLAGS
            .iter()
            .find(|flag| value.contains(*flag))
            .map(|flag| format!("passes `{flag}`"))
    }
}

/// Native flags that reach a compiler, and `.define(NAME, "native")` (whose effect depends on
/// whether the C or CMake project reads `NAME`: unknown).
pub(super) fn find(krate: &Crate) -> Vec<Fact> {
    let mut facts: Vec<Fact> = run(krate, &NativeLiterals)
        .into_iter()
        .filter(|f| f.outcome.is_some())
        .collect();
    for (file, code) in krate.files.iter().enumerate() {
        let mut defines = Defines {
            file,
            found: Vec::new(),
        };
        defines.visit_file(&code.ast);
        for (pos, name) in defines.found {
            let location = krate.location(pos);
            let at = format!("{}:{}", krate.path(pos.file), pos.line);
            facts.push(Fact {
                location,
                what: format!("defines `{name}=native`"),
                outcome: Some(Outcome::Unknown {
                    at,
                    why: format!(
                        "whether the C or CMake project turns `{name}` into a CPU flag depends on \
                         that project"
                    ),
                }),
            });
        }
    }
    facts
}

struct Defines {
    file: usize,
    found: Vec<(Pos, String)>,
}

impl Visit<'_> for Defines {
    fn visit_expr_method_call(&mut self, call: &syn::ExprMethodCall) {
        if call.method == "define"
            && let (Some(name), Some(value)) = (call.args.first(), call.args.iter().nth(1))
            && let Some(value) = string_of(value)
            && value == "native"
        {
            let name = string_of(name).unwrap_or_else(|| "…".to_string());
            self.found
                .push((Pos::of(self.file, call.method.span()), name));
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

fn string_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        Expr::Call(call) => call.args.first().and_then(string_of),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{outcomes, test_files};
    use super::*;

    #[test]
    fn flags_given_to_a_compiler_are_found_and_test_strings_pass() {
        let text = r#"
fn main() {
    cc::Build::new().file("a.c").flag("-march=native").compile("a");
    let mut cfg = cmake::Config::new("x");
    cfg.define("ARCH", "native");
    println!("cargo:rustc-flags=-C target-cpu=native");
    let s = "-march=native";
    assert_eq!(parse(s), 1);
}
#[test]
fn t() { cc::Build::new().flag("-mcpu=native"); }
"#;
        let files = test_files("build.rs", text, false);
        let facts = find(&Crate::new(&files));
        assert_eq!(outcomes(&facts), [(3, "warn"), (6, "warn"), (5, "note")]);
    }
}
