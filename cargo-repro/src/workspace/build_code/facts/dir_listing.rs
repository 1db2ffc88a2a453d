//! Build scripts listing a directory: the entries come in the filesystem's order.

use syn::Expr;

use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::path_ends_with;

/// Words without which the crate has no source of this analysis (a cheap filter).
pub(super) const MENTIONS: &[&str] = &["read_dir", "WalkDir"];

/// `fs::read_dir(…)`, `path.read_dir()` and `WalkDir::new(…)` (walkdir's `sort_by*` sorts;
/// `glob` sorts its results).
pub(super) struct DirListings;

impl Sources for DirListings {
    fn output(&self) -> Output {
        Output::BuildScript
    }

    fn at_expr(&self, expr: &Expr, _: &Scope) -> Option<String> {
        match expr {
            Expr::Call(call) => match &*call.func {
                Expr::Path(p) if path_ends_with(&p.path, "read_dir") => {
                    Some("lists a directory with `read_dir`".to_string())
                }
                Expr::Path(p) if path_ends_with(&p.path, "WalkDir::new") => {
                    Some("walks a directory with `WalkDir::new`".to_string())
                }
                _ => None,
            },
            Expr::MethodCall(call) if call.method == "read_dir" && call.args.is_empty() => {
                Some("lists a directory with `read_dir`".to_string())
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

    fn found(text: &str) -> Vec<(usize, &'static str)> {
        let files = test_files("build.rs", text, false);
        outcomes(&run(&Crate::new(&files), &DirListings))
    }

    #[test]
    fn a_listing_written_into_generated_code_is_found() {
        let text = r#"
fn main() {
    let mut list = String::new();
    for entry in std::fs::read_dir("assets").unwrap() {
        let path = entry.unwrap().path();
        list.push_str(&format!("include_bytes!({:?}),\n", path));
    }
    std::fs::write(out_dir().join("assets.rs"), list).unwrap();
}
"#;
        assert_eq!(found(text), [(4, "warn")]);
    }

    #[test]
    fn listings_passed_to_the_compiler_in_order_are_found() {
        let text = r#"
fn main() {
    let files: Vec<_> = fs::read_dir("src/c").unwrap().map(|e| e.unwrap().path()).collect();
    cc::Build::new().files(files).compile("x");
}
"#;
        assert_eq!(found(text), [(3, "warn")]);
    }

    #[test]
    fn sorted_copied_searched_and_rerun_listings_pass() {
        let text = r#"
fn main() {
    let mut paths: Vec<_> = fs::read_dir("a").unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    fs::write("out.rs", format!("{:?}", paths)).unwrap();
    for entry in fs::read_dir("b").unwrap() {
        let entry = entry.unwrap();
        println!("cargo:rerun-if-changed={}", entry.path().display());
        fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
    }
    let walked: Vec<_> = WalkDir::new("c").sort_by_file_name().into_iter().collect();
    fs::write("w.rs", format!("{:?}", walked)).unwrap();
    let n = fs::read_dir("d").unwrap().count();
    println!("cargo:rustc-env=N={}", n);
}
fn find_tool(dir: &Path) -> Option<PathBuf> {
    for entry in fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.file_name()? == "protoc" { return Some(path); }
    }
    None
}
"#;
        assert_eq!(found(text), []);
    }
}
