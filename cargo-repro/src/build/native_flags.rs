//! Finds flags that compile for the build machine's CPU (`-march=native`, `-mcpu=native`,
//! `target-cpu=native`) in what a build leaves behind: cargo's verbose log and the captured
//! output of every build script.
//!
//! `cargo build --verbose` shows the rustc and build-script command lines, but not the
//! commands a build script runs: the `cc` crate logs each compiler command on the script's
//! stdout (`running: "cc" "-O3" … "-march=native" …`), which cargo shows only with `-vv` and
//! only for scripts that ran in this build. Cargo keeps that stdout in the file `output` next
//! to the script's `OUT_DIR`, and reports the `OUT_DIR` in a `build-script-executed` message
//! for every script of the build, run now or earlier: reading those files covers both.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cargo_metadata::Message;

use crate::workspace::scrub_paths;

/// The flags that select the build machine's CPU.
const NATIVE_FLAGS: &[&str] = &["-march=native", "-mcpu=native", "target-cpu=native"];

/// The lines of cargo's verbose output that pass a CPU-native flag (trimmed, with absolute
/// paths replaced by `$WORKSPACE`, `$CARGO_HOME` and `~`).
///
/// `-C target-cpu=native` and `-Ctarget-cpu=native` both contain `target-cpu=native`.
pub fn scan_native_flags(log: &str, root: &Path, cargo_home: &Path) -> Vec<String> {
    log.lines()
        .filter(|line| NATIVE_FLAGS.iter().any(|flag| line.contains(flag)))
        .map(|line| scrub_paths(line.trim(), root, cargo_home))
        .collect()
}

/// The lines of the build scripts' captured output that pass a CPU-native flag, each as
/// `build script of NAME@VERSION: LINE` (scrubbed as in [`scan_native_flags`]), sorted by
/// package; `messages` is cargo's JSON output. A script whose output file is missing or
/// unreadable (cargo failed before writing it) is skipped.
pub fn scan_build_script_outputs(messages: &[u8], root: &Path, cargo_home: &Path) -> Vec<String> {
    build_script_outputs(messages)
        .into_iter()
        .flat_map(|(output, package)| {
            let text = std::fs::read(&output)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            scan_native_flags(&text, root, cargo_home)
                .into_iter()
                .map(move |line| format!("build script of {package}: {line}"))
        })
        .collect()
}

/// The `output` file of each build script in cargo's messages, with its package's
/// `NAME@VERSION`, sorted and deduplicated by package, then path.
fn build_script_outputs(messages: &[u8]) -> Vec<(PathBuf, String)> {
    let by_package: BTreeSet<(String, PathBuf)> = Message::parse_stream(messages)
        .filter_map(Result::ok)
        .filter_map(|message| match message {
            Message::BuildScriptExecuted(script) => Some(script),
            _ => None,
        })
        .filter_map(|script| {
            let output = script.out_dir.parent()?.join("output").into_std_path_buf();
            Some((package_label(&script.package_id.repr), output))
        })
        .collect();
    by_package
        .into_iter()
        .map(|(package, output)| (output, package))
        .collect()
}

/// `NAME@VERSION` from a cargo package id spec (`path+file:///w/app#1.0.0`,
/// `registry+https://…#serde@1.0.0`); an id in another form is returned as it is.
fn package_label(id: &str) -> String {
    match id.rsplit_once('#') {
        Some((_, fragment)) if fragment.contains('@') => fragment.to_string(),
        Some((url, version)) => {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            let name = path
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(path);
            format!("{name}@{version}")
        }
        None => id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::test_support::ScratchDir;

    #[test]
    fn native_flags_are_found_in_every_form_and_scrubbed() {
        let log = "   Compiling tiny v0.1.0 (/w/tiny)\n\
                   \x20    Running `rustc --crate-name tiny /w/tiny/src/main.rs -C target-cpu=native`\n\
                   \x20    Running `rustc --crate-name b -Ctarget-cpu=native`\n\
                   [c 0.1.0] running: \"cc\" \"-march=native\" \"/h/.cargo/registry/x.c\"\n\
                   \x20    Running `rustc -mcpu=native`\n\
                   \x20    Running `rustc -C target-cpu=x86-64-v2`\n";
        let found = scan_native_flags(log, Path::new("/w/tiny"), Path::new("/h/.cargo"));
        assert_eq!(
            found,
            [
                "Running `rustc --crate-name tiny $WORKSPACE/src/main.rs -C target-cpu=native`",
                "Running `rustc --crate-name b -Ctarget-cpu=native`",
                "[c 0.1.0] running: \"cc\" \"-march=native\" \"$CARGO_HOME/registry/x.c\"",
                "Running `rustc -mcpu=native`",
            ]
        );
    }

    #[test]
    fn package_ids_become_name_and_version() {
        assert_eq!(package_label("path+file:///w/app#1.0.0"), "app@1.0.0");
        assert_eq!(package_label("path+file:///w/dir#app@1.0.0"), "app@1.0.0");
        assert_eq!(
            package_label("registry+https://github.com/rust-lang/crates.io-index#cc@1.2.0"),
            "cc@1.2.0"
        );
        assert_eq!(
            package_label("git+https://example.com/o/repo?branch=main#0.3.0"),
            "repo@0.3.0"
        );
        assert_eq!(
            package_label("app 1.0.0 (path+file:///w/app)"),
            "app 1.0.0 (path+file:///w/app)"
        );
    }

    #[test]
    fn build_script_output_files_are_read_and_labelled() {
        let scratch = ScratchDir::new("native-flags");
        let build = scratch.path().join("target/release/build");
        for (script, output) in [
            (
                "nat-1",
                "cargo:rerun-if-changed=build.rs\nrunning: \"cc\" \"-O3\" \"-march=native\" \"-c\" \"/w/x.c\"\nexit status: 0\n",
            ),
            ("plain-2", "running: \"cc\" \"-O3\" \"-c\" \"y.c\"\n"),
        ] {
            std::fs::create_dir_all(build.join(script).join("out")).unwrap();
            std::fs::write(build.join(script).join("output"), output).unwrap();
        }
        let message = |id: &str, script: &str| {
            let out_dir = build.join(script).join("out");
            format!(
                "{{\"reason\":\"build-script-executed\",\"package_id\":\"{id}\",\"linked_libs\":[],\"linked_paths\":[],\"cfgs\":[],\"env\":[],\"out_dir\":{:?}}}\n",
                out_dir.display().to_string()
            )
        };
        let messages = [
            message("path+file:///w/plain#0.2.0", "plain-2"),
            message("path+file:///w/nat#0.1.0", "nat-1"),
            message("path+file:///w/gone#0.1.0", "gone-3"),
        ]
        .concat();
        let found =
            scan_build_script_outputs(messages.as_bytes(), Path::new("/w"), Path::new("/h"));
        assert_eq!(
            found,
            [
                "build script of nat@0.1.0: running: \"cc\" \"-O3\" \"-march=native\" \"-c\" \"$WORKSPACE/x.c\""
            ]
        );
    }
}
