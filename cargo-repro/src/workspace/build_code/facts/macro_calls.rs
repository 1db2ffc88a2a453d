//! Where a crate's compiled code invokes given macros (`const_random!`): the entries of the
//! known-crates database about a macro crate apply only where a dependent calls the macro.

use syn::visit::Visit;

use crate::diag::Location;
use crate::workspace::build_code::CodeFile;
use crate::workspace::build_code::index::{Crate, Pos};

/// The places the files invoke one of `macros` (by the last segment of the macro's path).
pub fn find(files: &[CodeFile], macros: &[String]) -> Vec<Location> {
    let krate = Crate::new(files);
    let mut out = Vec::new();
    for (file, code) in files.iter().enumerate() {
        let mut calls = Calls {
            file,
            macros,
            found: Vec::new(),
        };
        calls.visit_file(&code.ast);
        out.extend(calls.found.into_iter().map(|pos| krate.location(pos)));
    }
    out
}

struct Calls<'a> {
    file: usize,
    macros: &'a [String],
    found: Vec<Pos>,
}

impl Visit<'_> for Calls<'_> {
    fn visit_macro(&mut self, mac: &syn::Macro) {
        if let Some(last) = mac.path.segments.last()
            && self.macros.iter().any(|m| last.ident == m)
        {
            self.found.push(Pos::of(self.file, last.ident.span()));
        }
        // Calls nested in other macros' arguments (`vec![const_random!(u8)]`).
        let args = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        );
        match args {
            Ok(args) => {
                for arg in &args {
                    self.visit_expr(arg);
                }
            }
            // Item-like bodies (`cfg_if! { if #[cfg(…)] { … } }`): any call in them counts,
            // since the tool does not evaluate their conditions.
            Err(_) => self.scan_tokens(mac.tokens.clone()),
        }
    }
}

impl Calls<'_> {
    fn scan_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                proc_macro2::TokenTree::Ident(ident)
                    if self.macros.iter().any(|m| ident == m)
                        && matches!(trees.get(i + 1), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '!') =>
                {
                    self.found.push(Pos::of(self.file, ident.span()));
                }
                proc_macro2::TokenTree::Group(group) => self.scan_tokens(group.stream()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_files;
    use super::*;

    #[test]
    fn calls_that_cfg_leaves_out_are_not_found() {
        let text = r#"
#[cfg(not(feature = "std"))]
fn seed() -> u64 { const_random::const_random!(u64) }
#[cfg(feature = "std")]
fn seed() -> u64 { 0 }
fn other() -> [u8; 2] { [0, const_random!(u8)] }
cfg_if::cfg_if! {
    if #[cfg(feature = "compile-time-rng")] { const R: u64 = const_random!(u64); } else { const R: u64 = 0; }
}
"#;
        let files = test_files("src/lib.rs", text, false);
        let found = find(&files, &["const_random".to_string()]);
        let lines: Vec<usize> = found.iter().map(|l| l.line.unwrap()).collect();
        // No feature is enabled in `test_files`: the `not(std)` call is compiled.
        assert_eq!(lines, [3, 6, 8]);
    }
}
