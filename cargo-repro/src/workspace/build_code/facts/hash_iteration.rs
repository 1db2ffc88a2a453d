//! Proc-macros iterating std `HashMap`s and `HashSet`s, whose order changes with every rustc run.

use syn::Expr;

use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::Collection;

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

/// Words without which the crate has no source of this analysis (a cheap filter; the
/// analysis itself reads the syntax tree).
pub(super) const MENTIONS: &[&str] = &["HashMap", "HashSet"];

/// The iterations of std hash collections.
pub(super) struct HashIterations;

impl HashIterations {
    fn describe(scope: &Scope, collection: &Expr) -> Option<String> {
        (scope.collection(collection) == Collection::Hash).then(|| {
            format!(
                "iterates `{}`, a std HashMap or HashSet",
                scope.name_of(collection)
            )
        })
    }
}

impl Sources for HashIterations {
    fn output(&self) -> Output {
        Output::Tokens
    }

    fn at_expr(&self, expr: &Expr, scope: &Scope) -> Option<String> {
        match expr {
            Expr::MethodCall(call) if ITER_METHODS.iter().any(|m| call.method == m) => {
                HashIterations::describe(scope, &call.receiver)
            }
            _ => None,
        }
    }

    fn at_for(&self, iterable: &Expr, scope: &Scope) -> Option<String> {
        match iterable {
            Expr::Path(_) | Expr::Reference(_) | Expr::Field(_) => {
                HashIterations::describe(scope, iterable)
            }
            _ => None,
        }
    }
}
