//! Random values drawn by build scripts and proc-macros.

use syn::Expr;

use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::{path_ends_with, path_text};

/// Calls that draw randomness, as path suffixes.
const RANDOM_CALLS: &[&str] = &[
    "rand::random",
    "thread_rng",
    "rand::rng",
    "getrandom::getrandom",
    "getrandom::fill",
    "getrandom::u32",
    "getrandom::u64",
    "Uuid::new_v4",
    "RandomState::new",
    "OsRng::default",
];

/// Words without which the crate has no source of this analysis (a cheap filter).
pub(super) const MENTIONS: &[&str] = &[
    "rand",
    "getrandom",
    "fastrand",
    "Uuid",
    "RandomState",
    "OsRng",
    "const_random",
];

/// Random draws; what the crate emits is `self.0`.
pub(super) struct Randomness(pub Output);

impl Sources for Randomness {
    fn output(&self) -> Output {
        self.0
    }

    fn at_expr(&self, expr: &Expr, _: &Scope) -> Option<String> {
        match expr {
            Expr::Call(call) => match &*call.func {
                Expr::Path(p)
                    if RANDOM_CALLS.iter().any(|s| path_ends_with(&p.path, s))
                        || p.path
                            .segments
                            .first()
                            .is_some_and(|s| s.ident == "fastrand") =>
                {
                    Some(format!(
                        "uses randomness at build time (`{}`)",
                        path_text(&p.path)
                    ))
                }
                _ => None,
            },
            Expr::Macro(m) if m.mac.path.is_ident("const_random") => {
                Some("uses randomness at build time (`const_random!`)".to_string())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{outcomes, run, test_files};
    use super::*;
    use crate::workspace::build_code::index::Crate;

    #[test]
    fn random_values_in_tokens_or_cargo_instructions_are_found() {
        let text = r#"
#[proc_macro]
pub fn const_random(input: TokenStream) -> TokenStream {
    let value: u64 = rand::random();
    quote!(#value).into()
}
fn temp_name() -> String { let n: u32 = fastrand::u32(..); format!("tmp{n}") }
"#;
        let files = test_files("src/lib.rs", text, true);
        let krate = Crate::new(&files);
        assert_eq!(
            outcomes(&run(&krate, &Randomness(Output::Tokens))),
            [(4, "warn"), (7, "note")]
        );
    }
}
