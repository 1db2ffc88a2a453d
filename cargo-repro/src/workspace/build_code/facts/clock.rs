//! Build scripts reading the wall clock.

use syn::Expr;

use crate::workspace::build_code::flow::{Output, Scope, Sources};
use crate::workspace::build_code::index::{path_ends_with, path_text};

/// Wall-clock reads, as path suffixes.
const CLOCK_CALLS: &[&str] = &[
    "SystemTime::now",
    "Utc::now",
    "Local::now",
    "OffsetDateTime::now_utc",
    "OffsetDateTime::now_local",
    "Timestamp::now",
    "Zoned::now",
];

/// Words without which the crate has no source of this analysis (a cheap filter).
pub(super) const MENTIONS: &[&str] = &["now"];

/// Calls that read the current time.
pub(super) struct ClockReads;

impl Sources for ClockReads {
    fn output(&self) -> Output {
        Output::BuildScript
    }

    fn at_expr(&self, expr: &Expr, _: &Scope) -> Option<String> {
        let Expr::Call(call) = expr else {
            return None;
        };
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        CLOCK_CALLS
            .iter()
            .any(|suffix| path_ends_with(&p.path, suffix))
            .then(|| format!("reads the current time with `{}`", path_text(&p.path)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{outcomes, run, test_files};
    use super::*;
    use crate::workspace::build_code::index::Crate;

    fn found(text: &str) -> Vec<(usize, &'static str)> {
        let files = test_files("build.rs", text, false);
        outcomes(&run(&Crate::new(&files), &ClockReads))
    }

    #[test]
    fn a_time_given_to_cargo_is_found_and_timing_passes() {
        let text = r#"
fn main() {
    let now = chrono::Utc::now();
    println!("cargo:rustc-env=BUILD_DATE={}", now.format("%Y-%m-%d"));
    let start = std::time::SystemTime::now();
    compile();
    eprintln!("took {:?}", start.elapsed());
    let t = time::OffsetDateTime::now_utc();
    write_stamp(t);
}
fn write_stamp(t: OffsetDateTime) {
    std::fs::write("stamp.rs", format!("const T: i64 = {};", t.unix_timestamp())).unwrap();
}
"#;
        assert_eq!(found(text), [(3, "warn"), (8, "warn")]);
    }

    #[test]
    fn a_time_only_pre_releases_get_is_a_note() {
        let text = r#"
fn main() {
    let version = if is_pre_release() {
        format!("{} built on {}", env!("CARGO_PKG_VERSION"), build_date())
    } else {
        env!("CARGO_PKG_VERSION").to_string()
    };
    std::fs::write("version.txt", version).unwrap();
}
fn is_pre_release() -> bool { cargo_version().ends_with("-pre") }
fn cargo_version() -> String { std::env::var("CARGO_PKG_VERSION").unwrap() }
fn build_date() -> String { chrono::Local::now().format("%Y-%m-%d").to_string() }
"#;
        assert_eq!(found(text), [(12, "note")]);
    }
}
