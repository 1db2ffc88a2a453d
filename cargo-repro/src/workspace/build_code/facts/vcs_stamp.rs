//! Build scripts that stamp the build with version-control state: `git rev-parse`, `git
//! describe`, `git log` and the like, git2/gix repositories, or CI variables naming the commit.

use syn::Expr;

use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::{path_ends_with, path_text};

/// Environment variables CI systems set to the commit or ref being built.
const VCS_VARIABLES: &[&str] = &[
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_SHA",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_TAG",
    "BUILDKITE_COMMIT",
    "CIRCLE_SHA1",
    "TRAVIS_COMMIT",
    "GIT_COMMIT",
    "GIT_HASH",
    "SOURCE_VERSION",
];

/// Words without which the crate has no source of this analysis (a cheap filter).
pub(super) const MENTIONS: &[&str] = &[
    "git",
    "Repository",
    "gix",
    "GITHUB_",
    "CI_COMMIT",
    "BUILDKITE",
    "CIRCLE_SHA1",
    "TRAVIS_COMMIT",
    "GIT_",
    "SOURCE_VERSION",
];

/// Reads of version-control state.
pub(super) struct VcsStamps;

impl Sources for VcsStamps {
    fn output(&self) -> Output {
        Output::BuildScript
    }

    fn at_expr(&self, expr: &Expr, _: &Scope) -> Option<String> {
        let Expr::Call(call) = expr else {
            return None;
        };
        let Expr::Path(func) = &*call.func else {
            return None;
        };
        let path = &func.path;
        let first = call.args.first().and_then(string_of);
        if path_ends_with(path, "Command::new") && first.as_deref() == Some("git") {
            return Some("runs `git`".to_string());
        }
        if path_ends_with(path, "env::var") || path_ends_with(path, "env::var_os") {
            let name = first?;
            return VCS_VARIABLES
                .contains(&name.as_str())
                .then(|| format!("reads `{name}`"));
        }
        let text = path_text(path);
        let opens_repository = [
            "Repository::open",
            "Repository::discover",
            "gix::open",
            "gix::discover",
        ]
        .iter()
        .any(|suffix| path_ends_with(path, suffix));
        opens_repository.then(|| format!("opens the repository with `{text}`"))
    }
}

fn string_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{outcomes, run, test_files};
    use super::*;
    use crate::workspace::build_code::index::Crate;

    fn found(text: &str) -> Vec<(usize, &'static str)> {
        let files = test_files("build.rs", text, false);
        outcomes(&run(&Crate::new(&files), &VcsStamps))
    }

    #[test]
    fn commits_given_to_the_build_are_found() {
        let text = r#"
use std::process::Command;
fn main() {
    let out = Command::new("git").args(["rev-parse", "--short", "HEAD"]).output().unwrap();
    let hash = String::from_utf8(out.stdout).unwrap();
    println!("cargo:rustc-env=GIT_HASH={}", hash.trim());
    let sha = std::env::var("GITHUB_SHA").unwrap_or_default();
    std::fs::write(out_dir().join("sha.rs"), format!("pub const SHA: &str = {sha:?};")).unwrap();
}
"#;
        assert_eq!(found(text), [(4, "warn"), (7, "warn")]);
    }

    #[test]
    fn git_used_only_to_watch_files_passes() {
        let text = r#"
fn main() {
    let top = std::process::Command::new("git").args(["rev-parse", "--git-dir"]).output();
    if let Ok(out) = top {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    let ci = std::env::var("GITHUB_SHA").is_ok();
    println!("cargo:warning=ci={ci}");
}
"#;
        assert_eq!(found(text), []);
    }
}
