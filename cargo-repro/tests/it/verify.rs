//! `cargo repro verify` on fixtures that are and are not reproducible: the verdict, the exit
//! code, the culprit crate, the kind of difference, and the JSON format.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{
    committed_copy, fixtures, json, outside_dir, stderr, stdout, workspace_fixture,
};

/// A committed copy of `tests/fixtures/verify/NAME` (or of `workspaces/clean`), in a directory
/// of its own for the test `tag`.
pub(crate) fn checkout(name: &str, tag: &str) -> PathBuf {
    let dir = outside_dir(&format!("verify-{tag}"));
    let fixture = if name == "clean" {
        workspace_fixture("clean")
    } else {
        fixtures().join("verify").join(name)
    };
    let root = dir.join("ws");
    committed_copy(&fixture, &root);
    root
}

/// Runs `cargo repro ARGS --offline` in `dir` with a private, empty CARGO_HOME.
pub(crate) fn repro(dir: &Path, args: &[&str]) -> Output {
    repro_with(dir, args, &[])
}

/// [`repro`] with extra environment variables.
pub(crate) fn repro_with(dir: &Path, args: &[&str], env: crate::support::Env<'_>) -> Output {
    let cargo_home = dir.parent().unwrap().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-repro"))
        .envs(env.iter().copied())
        .arg("repro")
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_HOME", &cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_JOBS")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

fn verify_json(dir: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value, Output) {
    let mut args = vec!["verify", "--format", "json"];
    args.extend_from_slice(extra);
    let out = repro(dir, &args);
    let report = json(&out);
    (out.status.code(), report, out)
}

fn culprit<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["culprits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["crate"] == name)
        .unwrap_or_else(|| panic!("no culprit {name} in {report:#}"))
}

fn evidence(culprit: &serde_json::Value) -> String {
    culprit["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_clean_workspace_is_reproducible_with_every_artifact() {
    let dir = checkout("clean", "clean");
    let (code, report, out) = verify_json(&dir, &["--release-artifacts"]);
    assert_eq!(code, Some(0), "{report:#}\n{}", stderr(&out));
    assert_eq!(report["reproducible"], true);
    assert_eq!(
        report["variations"],
        serde_json::json!([
            "path",
            "cargo-home",
            "home",
            "tz",
            "locale",
            "umask",
            "jobs",
            "file-order"
        ])
    );
    let artifacts = report["artifacts"].as_array().unwrap();
    let names: Vec<&str> = artifacts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for expected in ["app", "SHA256SUMS"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(names.iter().any(|n| n.ends_with(".tar.gz")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".deb")), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with(".intoto.json")),
        "{names:?}"
    );
    for artifact in artifacts {
        let hashes = artifact["sha256"].as_array().unwrap();
        assert_eq!(hashes.len(), 2);
        assert_eq!(hashes[0], hashes[1], "{artifact:#}");
        assert_eq!(artifact["identical"], true);
    }
    assert!(report["culprits"].as_array().unwrap().is_empty());
    // The scratch checkouts are gone without --keep.
    assert!(!stdout(&out).contains('/'), "{}", stdout(&out));
}

#[test]
fn a_build_script_writing_the_time_is_the_culprit_with_a_timestamp() {
    let dir = checkout("timestamp", "timestamp");
    let (code, report, out) = verify_json(&dir, &[]);
    assert_eq!(code, Some(1), "{report:#}\n{}", stderr(&out));
    assert_eq!(report["reproducible"], false);
    let stamp = culprit(&report, "stamp");
    assert_eq!(stamp["unit"], "build-script-run", "{report:#}");
    assert_eq!(stamp["kind"], "timestamp", "{report:#}");
    let evidence = evidence(stamp);
    assert!(evidence.contains("OUT_DIR/built.rs"), "{evidence}");
    assert!(stamp["fix"].as_str().unwrap().contains("SOURCE_DATE_EPOCH"));
    assert_eq!(
        report["culprits"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    let consequences: Vec<&str> = report["consequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["crate"].as_str().unwrap())
        .collect();
    assert_eq!(consequences, ["app", "stamp"], "{report:#}");
    let app = &report["artifacts"][0];
    assert_eq!(
        (app["name"].as_str(), app["identical"].as_bool()),
        (Some("app"), Some(false))
    );
}

#[test]
fn a_proc_macro_iterating_a_hash_map_makes_its_consumer_the_culprit() {
    let dir = checkout("hashmap-macro", "hashmap");
    let (code, report, out) = verify_json(&dir, &[]);
    assert_eq!(code, Some(1), "{report:#}\n{}", stderr(&out));
    let app = culprit(&report, "app");
    assert_eq!(app["kind"], "proc-macro-expansion", "{report:#}");
    assert_eq!(app["macros"], serde_json::json!(["table-macro@0.1.0"]));
    let evidence = evidence(app);
    assert!(evidence.contains("table-macro@0.1.0"), "{evidence}");
    assert!(evidence.contains("proc-macro-hash-iteration"), "{evidence}");
    assert_eq!(
        report["culprits"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
}

#[test]
fn an_embedded_manifest_dir_differs_under_the_path_variation_only() {
    let dir = checkout("manifest-dir", "manifest-dir");
    let (code, report, out) = verify_json(&dir, &["--vary", "path"]);
    assert_eq!(code, Some(1), "{report:#}\n{}", stderr(&out));
    assert_eq!(report["variations"], serde_json::json!(["path"]));
    let app = culprit(&report, "app");
    assert_eq!(app["unit"], "bin");
    assert_eq!(app["kind"], "build-path", "{report:#}");
    assert!(evidence(app).contains("$WORKSPACE"), "{report:#}");

    let (code, report, out) = verify_json(
        &dir,
        &["--vary", "cargo-home,home,tz,locale,umask,jobs,file-order"],
    );
    assert_eq!(code, Some(0), "{report:#}\n{}", stderr(&out));
}

#[test]
fn human_output_names_the_culprit_without_absolute_paths() {
    let dir = checkout("manifest-dir", "human");
    let out = repro(&dir, &["verify", "--vary", "path"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("NOT REPRODUCIBLE: 1 of 1 compared outputs differ between 2 runs\n"),
        "{text}"
    );
    assert!(
        text.contains("culprit: app 0.1.0 (bin): build-path\n"),
        "{text}"
    );
    assert!(text.contains("  fix: "), "{text}");
    let temp = std::env::temp_dir().display().to_string();
    assert!(!text.contains(&temp), "{text}");
    assert!(!text.contains(&*dir.to_string_lossy()), "{text}");
}

#[test]
fn bisect_finds_the_variation_that_matters() {
    let dir = checkout("manifest-dir", "bisect");
    let (code, report, out) = verify_json(&dir, &["--vary", "tz,path,jobs", "--bisect"]);
    assert_eq!(code, Some(1), "{report:#}\n{}", stderr(&out));
    assert_eq!(
        report["bisect"]["cause"],
        serde_json::json!(["path"]),
        "{report:#}"
    );
    let trials = report["bisect"]["trials"].as_array().unwrap();
    assert_eq!(trials[0], "no variation: identical", "{report:#}");
}

#[test]
fn keep_leaves_the_runs_for_inspection() {
    let dir = outside_dir("verify-keep").join("ws");
    committed_copy(&fixtures().join("verify/manifest-dir"), &dir);
    let out = repro(&dir, &["verify", "--vary", "tz", "--keep"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let kept = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Kept the runs' checkouts and target directories in ")
        })
        .unwrap_or_else(|| panic!("{err}"));
    let kept = Path::new(kept);
    assert!(kept.join("run-1/target/release/app").is_file(), "{err}");
    assert!(kept.join("run-2/target/release/app").is_file(), "{err}");
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn a_rebuild_matches_its_published_sums_and_provenance_and_a_tampered_sum_does_not() {
    let dir = checkout("clean", "against");
    let out = repro(&dir, &["build", "--release-artifacts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let published = dir.join("target/repro-artifacts");
    let provenance = std::fs::read_dir(&published)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".intoto.json"))
        .unwrap();

    for against in [published.join("SHA256SUMS"), provenance.clone()] {
        let (code, report, out) = verify_json(&dir, &["--against", against.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{report:#}\n{}", stderr(&out));
        assert_eq!(report["reproducible"], true);
        assert!(
            report["artifacts"].as_array().unwrap().len() >= 2,
            "{report:#}"
        );
    }

    // A release whose published tarball is not what this checkout builds.
    let elsewhere = dir.parent().unwrap().join("published");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let sums = std::fs::read_to_string(published.join("SHA256SUMS")).unwrap();
    let tarball_line = sums.lines().find(|l| l.ends_with(".tar.gz")).unwrap();
    let (hash, name) = tarball_line.split_once("  ").unwrap();
    let tampered = sums.replace(hash, &"0".repeat(64));
    std::fs::write(elsewhere.join("SHA256SUMS"), tampered).unwrap();
    let out = repro(
        &dir,
        &[
            "verify",
            "--against",
            elsewhere.join("SHA256SUMS").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("NOT REPRODUCIBLE: 1 of"), "{text}");
    assert!(text.contains(&format!("DIFFERS {name}")), "{text}");
}

#[test]
fn bad_input_is_an_operational_error() {
    let dir = checkout("manifest-dir", "bad-input");
    let out = repro(&dir, &["verify", "--runs", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = repro(&dir, &["verify", "--against", "missing/SHA256SUMS"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read SHA256SUMS"),
        "{}",
        stderr(&out)
    );

    std::fs::write(dir.join("app/src/main.rs"), "fn main() { broken }\n").unwrap();
    let out = repro(&dir, &["verify", "--allow-unpinned"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: the build of run 1 failed"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}
